//! The deployed stacks a tenant can live in, connected to their data through the same stores
//! the runtime uses: every tier's pooled stack and its dedicated (silo) stacks.

use std::sync::Arc;

use aws_adapters::{DynamoImages, DynamoUsers, S3Photos, SnsEvents};
use domain::accounts::AccountData;
use domain::{FaceCollections, UserName, UserRecord, UserStore};

use crate::apply;
use crate::aws::Clients;
use crate::config::{StackId, StacksDir, TierConfig, TierName};
use crate::error::{Error, Result};
use crate::template::ids;

/// One deployed stack and its stores.
pub struct TenantStack {
    pub id: StackId,
    pub name: String,
    pub tier: TierConfig,
    pub bucket: String,
    pub users: DynamoUsers,
    pub images: DynamoImages,
    pub photos: S3Photos,
    pub events: SnsEvents,
    pub collections: Arc<dyn FaceCollections>,
}

impl TenantStack {
    /// The stack's stores, from its resources; `None` when it is not deployed.
    pub async fn connect(clients: &Clients, id: StackId, tier: TierConfig) -> Result<Option<Self>> {
        let name = id.stack_name();
        match apply::describe(clients, &name).await? {
            Some(info) if !info.is_review_only() => {}
            _ => return Ok(None),
        }
        let resources = apply::physical_ids(clients, &name).await?;
        let resource = |logical: &str| {
            resources
                .get(logical)
                .cloned()
                .ok_or_else(|| Error::Tenant(format!("stack {name} has no {logical} (is it still being created? see `deployer status`)")))
        };
        let bucket = resource(ids::BUCKET)?;
        Ok(Some(Self {
            users: DynamoUsers::new(clients.dynamodb.clone(), resource(ids::USERS_TABLE)?),
            images: DynamoImages::new(clients.dynamodb.clone(), resource(ids::IMAGES_TABLE)?),
            photos: S3Photos::new(clients.s3.clone(), &bucket),
            events: SnsEvents::new(clients.sns.clone(), resource(ids::NEW_USER_TOPIC)?, resource(ids::NEW_IMAGE_TOPIC)?),
            collections: aws_adapters::rekognition::of_stack(&tier.settings(), clients.rekognition.clone(), &name),
            bucket,
            id,
            name,
            tier,
        }))
    }

    pub fn tier_name(&self) -> &TierName {
        &self.tier.tier
    }

    pub fn account_data(&self) -> AccountData<'_> {
        AccountData {
            users: &self.users,
            images: &self.images,
            photos: &self.photos,
            collections: self.collections.as_ref(),
            links: &self.users,
        }
    }

    /// The user's account here, if any.
    pub async fn user(&self, user: &UserName) -> Result<Option<UserRecord>> {
        Ok(self.users.get(user).await?)
    }
}

/// Every deployed stack of the tiers in `stacks` (or of `only` when given), pooled and dedicated.
pub async fn deployed(clients: &Clients, stacks: &StacksDir, only: Option<&TierName>) -> Result<Vec<TenantStack>> {
    let tiers = match only {
        Some(tier) => vec![tier.clone()],
        None => stacks.tiers()?,
    };
    let dedicated = apply::dedicated_stacks(clients).await?;
    let mut deployed = Vec::new();
    for tier in tiers {
        let config = stacks.load(&tier)?;
        let mut ids = vec![StackId::pooled(tier.clone())];
        ids.extend(dedicated.iter().filter(|id| id.tier == tier).cloned());
        for id in ids {
            if let Some(stack) = TenantStack::connect(clients, id, config.clone()).await? {
                deployed.push(stack);
            }
        }
    }
    Ok(deployed)
}

/// The one stack that holds `user`, with the account. An unknown user, or one in two stacks
/// (a move that did not finish), is a clear error.
pub async fn holding<'a>(stacks: &'a [TenantStack], user: &UserName) -> Result<(&'a TenantStack, UserRecord)> {
    let mut found = holders(stacks.iter(), user).await?;
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Error::Tenant(format!("no deployed stack has a user {user} (looked in: {})", names(stacks)))),
        _ => Err(Error::Tenant(format!(
            "user {user} is in more than one stack ({}): a move did not finish; run the same \
             `deployer tenant move` again to finish it",
            found.iter().map(|(stack, record)| format!("{} ({})", stack.name, record.status)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The stacks among `stacks` that have an account `user`, with it.
pub async fn holders<'a>(stacks: impl Iterator<Item = &'a TenantStack>, user: &UserName) -> Result<Vec<(&'a TenantStack, UserRecord)>> {
    let mut found = Vec::new();
    for stack in stacks {
        if let Some(record) = stack.user(user).await? {
            found.push((stack, record));
        }
    }
    Ok(found)
}

fn names(stacks: &[TenantStack]) -> String {
    if stacks.is_empty() {
        "no stack is deployed".into()
    } else {
        stacks.iter().map(|stack| stack.name.as_str()).collect::<Vec<_>>().join(", ")
    }
}
