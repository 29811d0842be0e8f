//! Whose data a call may reach. Every read and write of a tenant's account, photos and records goes
//! through stores handed out for that one tenant: on AWS their credentials are scoped to the
//! tenant's keys (`aws_adapters::tenancy`), so a bug that names another user's key is refused
//! by AWS, not only by the code that should not have named it.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::Result;
use crate::model::UserName;
use crate::{ImageStore, PhotoStore, UserStore};

/// One tenant's stores: its account's items (profile, sessions, request allowance), its image
/// records and its photo objects.
#[derive(Clone)]
pub struct TenantData {
    /// The stack-wide items of the users table (the token key, the ops credential, sign-in
    /// throttles, the ops search) are not here: they are reached with the process's own access.
    pub account: Arc<dyn UserStore>,
    pub images: Arc<dyn ImageStore>,
    pub photos: Arc<dyn PhotoStore>,
}

impl std::fmt::Debug for TenantData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TenantData")
    }
}

/// Hands out the stores of one tenant.
#[async_trait]
pub trait Tenancy: Send + Sync {
    async fn data_of(&self, user: &UserName) -> Result<TenantData>;
}

/// The same stores for every tenant, where nothing below the code separates tenants: the
/// in-memory stores of fast tests, and tools that run with the operator's own credentials.
pub struct SharedData(pub TenantData);

impl SharedData {
    pub fn new(account: Arc<dyn UserStore>, images: Arc<dyn ImageStore>, photos: Arc<dyn PhotoStore>) -> Arc<Self> {
        Arc::new(Self(TenantData { account, images, photos }))
    }
}

#[async_trait]
impl Tenancy for SharedData {
    async fn data_of(&self, _: &UserName) -> Result<TenantData> {
        Ok(self.0.clone())
    }
}
