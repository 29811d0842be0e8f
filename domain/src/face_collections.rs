//! What a face engine keeps outside the tables and the bucket (Rekognition's face collections,
//! in `aws_adapters::rekognition`), removed with a photo's faces and with the account.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::UserName;

/// What a user's faces need kept beside the tables and the bucket, and removed with them.
#[async_trait]
pub trait FaceCollections: Send + Sync {
    /// Removes faces (the engine's ids) of a deleted photo from the user's collection.
    async fn delete_faces(&self, user: &UserName, engine_ids: &[String]) -> Result<()>;
    /// Removes the user's collection: the account is deleted.
    async fn delete_user(&self, user: &UserName) -> Result<()>;
}

/// Tiers whose faces are the built-in engine's keep nothing outside the table.
pub struct NoCollections;

#[async_trait]
impl FaceCollections for NoCollections {
    async fn delete_faces(&self, _: &UserName, _: &[String]) -> Result<()> {
        Ok(())
    }

    async fn delete_user(&self, _: &UserName) -> Result<()> {
        Ok(())
    }
}
