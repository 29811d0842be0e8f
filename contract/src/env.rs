//! Environment variables the template sets on the functions, and the runtime reads.

pub const TIER: &str = "SMART_ALBUM_TIER";
/// The stack's name: a tier's pooled stack, or a tenant's dedicated one.
pub const STACK_NAME: &str = "SMART_ALBUM_STACK_NAME";
pub const USERS_TABLE: &str = "SMART_ALBUM_USERS_TABLE";
pub const IMAGES_TABLE: &str = "SMART_ALBUM_IMAGES_TABLE";
pub const PHOTO_BUCKET: &str = "SMART_ALBUM_PHOTO_BUCKET";
pub const NEW_USER_TOPIC_ARN: &str = "SMART_ALBUM_NEW_USER_TOPIC_ARN";
pub const NEW_IMAGE_TOPIC_ARN: &str = "SMART_ALBUM_NEW_IMAGE_TOPIC_ARN";
pub const ANALYSIS_QUEUE_URL: &str = "SMART_ALBUM_ANALYSIS_QUEUE_URL";
pub const KEY_ARN: &str = "SMART_ALBUM_KEY_ARN";
/// The role whose tenant-scoped sessions reach a tenant's data (`aws_adapters::tenancy`).
pub const TENANT_ACCESS_ROLE_ARN: &str = "SMART_ALBUM_TENANT_ACCESS_ROLE_ARN";
/// [`crate::TierSettings`] as JSON.
pub const TIER_SETTINGS: &str = "SMART_ALBUM_TIER_SETTINGS";

/// Every variable [`crate::StackConfig`] needs, in the order it reads them.
pub const STACK_CONFIG: [&str; 11] = [
    TIER,
    STACK_NAME,
    USERS_TABLE,
    IMAGES_TABLE,
    PHOTO_BUCKET,
    NEW_USER_TOPIC_ARN,
    NEW_IMAGE_TOPIC_ARN,
    ANALYSIS_QUEUE_URL,
    KEY_ARN,
    TENANT_ACCESS_ROLE_ARN,
    TIER_SETTINGS,
];

/// lambda_http's switch that keeps the REST API stage (`/prod`) out of the request path the
/// router sees; without it every route answers 404 behind API Gateway. Set on the API function.
pub const IGNORE_STAGE_IN_PATH: &str = "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH";
