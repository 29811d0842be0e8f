//! The domain's traits on AWS: users and images in DynamoDB ([`DynamoUsers`],
//! [`DynamoImages`]: the key design is in docs/architecture.md, the names the template and these
//! stores both spell come from the `contract` crate), photo objects in S3 ([`S3Photos`]),
//! events to SNS ([`SnsEvents`]), Rekognition's face collections
//! ([`RekognitionCollections`]); and what every process sets up once: the SDK's configuration
//! from the standard chain ([`sdk`]), the stack's configuration read off a deployed function
//! ([`stack`]), logging ([`logging`]).

mod dynamo;
pub mod events;
pub mod images;
mod links;
pub mod logging;
pub mod photos;
pub mod rekognition;
pub mod sdk;
mod sign_ins;
pub mod stack;
pub mod tenancy;
pub mod users;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use domain::Error;

pub use events::SnsEvents;
pub use images::DynamoImages;
pub use photos::S3Photos;
pub use rekognition::{IndexedFace, RekognitionCollections};
pub use tenancy::TenantAccess;
pub use users::DynamoUsers;

/// The one conversion of an AWS SDK error into the domain's: what was being done, and the
/// service's error code and message when it sent one, otherwise the SDK's full context (a
/// connection or parsing failure). Details go to the log, never to a client.
pub fn aws_error<E>(action: impl Into<String>) -> impl FnOnce(E) -> Error
where
    E: std::error::Error + ProvideErrorMetadata,
{
    let action = action.into();
    move |err| {
        let message = match (err.code(), err.message()) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            _ => DisplayErrorContext(&err).to_string(),
        };
        Error::Aws { action, message }
    }
}
