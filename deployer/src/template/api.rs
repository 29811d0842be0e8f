//! The REST API: `ANY /` and `ANY /{proxy+}` proxied to the API function, stage `prod`.
//!
//! The tier's request limits are per tenant, and API Gateway cannot tell tenants apart without
//! an API key per user (a usage plan's throttle and quota apply per key): the API function
//! counts each signed-in user's requests in the users table instead (`domain::requests`), the
//! same code on AWS and in `smart-album serve`. The stage is left to the account's throttle.

use serde::Serialize;

use super::{Expr, Resource, ResourceKind, STAGE_NAME, functions, ids};
use crate::config::TierConfig;

/// Photo uploads go through the proxy as binary bodies (base64 in the Lambda event).
const BINARY_MEDIA_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp", "application/octet-stream"];

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestApi {
    pub name: Expr,
    pub description: &'static str,
    pub endpoint_configuration: EndpointConfiguration,
    pub binary_media_types: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    pub types: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiResource {
    pub rest_api_id: Expr,
    pub parent_id: Expr,
    pub path_part: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Method {
    pub rest_api_id: Expr,
    pub resource_id: Expr,
    pub http_method: &'static str,
    /// The runtime authenticates every request itself (bearer tokens).
    pub authorization_type: &'static str,
    pub integration: Integration,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    pub integration_http_method: &'static str,
    pub uri: Expr,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    pub rest_api_id: Expr,
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    pub stage_name: &'static str,
    pub rest_api_id: Expr,
    pub deployment_id: Expr,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method_settings: Vec<MethodSetting>,
    /// X-Ray traces of every request through the stage.
    pub tracing_enabled: bool,
    pub access_log_setting: AccessLogSetting,
}

/// Who called what and how it went, one JSON line per request, to the stack's log group.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSetting {
    pub destination_arn: Expr,
    pub format: String,
}

/// The access log line: the caller's address and the request, never a header (the
/// Authorization header above all), a query string, a body or the path itself: a link's path
/// holds its secret (`/shared/{secret}`), so the line has the resource (`/{proxy+}`) and the
/// function's own log line names the route (`/shared/{secret}`, never the value).
pub const ACCESS_LOG_FIELDS: &[(&str, &str)] = &[
    ("request_id", "$context.requestId"),
    ("extended_request_id", "$context.extendedRequestId"),
    ("time", "$context.requestTime"),
    ("source_ip", "$context.identity.sourceIp"),
    ("method", "$context.httpMethod"),
    ("resource", "$context.resourcePath"),
    ("protocol", "$context.protocol"),
    ("status", "$context.status"),
    ("response_bytes", "$context.responseLength"),
    ("latency_ms", "$context.responseLatency"),
    ("integration_latency_ms", "$context.integrationLatency"),
    ("user_agent", "$context.identity.userAgent"),
];

/// [`ACCESS_LOG_FIELDS`] as the JSON object API Gateway fills in.
pub fn access_log_format() -> String {
    let fields: serde_json::Map<String, serde_json::Value> =
        ACCESS_LOG_FIELDS.iter().map(|(name, variable)| ((*name).to_owned(), serde_json::Value::from(*variable))).collect();
    serde_json::Value::Object(fields).to_string()
}

/// Settings of every method of the stage (`/*`, `*`): its throttling.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodSetting {
    pub resource_path: &'static str,
    pub http_method: &'static str,
    pub throttling_rate_limit: u32,
    pub throttling_burst_limit: u32,
}

/// Why the proxy methods have no API Gateway authorizer.
const OPEN_METHOD: &[(&str, &str)] = &[(
    "CKV_AWS_59",
    "Sign-up, sign-in and the gallery are public; every other route checks the bearer token (PASETO, session, account) in the function, which answers 401 without one",
)];

fn proxy_method(resource_id: Expr) -> Method {
    Method {
        rest_api_id: Expr::reference(ids::REST_API),
        resource_id,
        http_method: "ANY",
        authorization_type: "NONE",
        integration: Integration {
            kind: "AWS_PROXY",
            integration_http_method: "POST",
            uri: Expr::sub(format!(
                "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{}.Arn}}/invocations",
                ids::API_FUNCTION
            )),
        },
    }
}

pub fn resources(config: &TierConfig) -> Vec<(&'static str, Resource)> {
    let method_settings = config
        .stage
        .map(|stage| MethodSetting {
            resource_path: "/*",
            http_method: "*",
            throttling_rate_limit: stage.rate_limit.0,
            throttling_burst_limit: stage.burst_limit.0,
        })
        .into_iter()
        .collect();
    vec![
        (ids::ACCESS_LOGS, functions::log_group(config, Expr::sub(format!("/aws/apigateway/${{AWS::StackName}}/{STAGE_NAME}/access")))),
        (
            ids::REST_API,
            Resource::new(ResourceKind::RestApi(RestApi {
                name: Expr::sub("${AWS::StackName}"),
                description: "Smart Album HTTP API",
                endpoint_configuration: EndpointConfiguration { types: vec!["REGIONAL"] },
                binary_media_types: BINARY_MEDIA_TYPES.to_vec(),
            })),
        ),
        (
            ids::PROXY_RESOURCE,
            Resource::new(ResourceKind::ApiResource(ApiResource {
                rest_api_id: Expr::reference(ids::REST_API),
                parent_id: Expr::get_att(ids::REST_API, "RootResourceId"),
                path_part: "{proxy+}",
            })),
        ),
        (
            ids::ROOT_METHOD,
            Resource::new(ResourceKind::Method(proxy_method(Expr::get_att(ids::REST_API, "RootResourceId")))).not_applicable(OPEN_METHOD),
        ),
        (
            ids::PROXY_METHOD,
            Resource::new(ResourceKind::Method(proxy_method(Expr::reference(ids::PROXY_RESOURCE)))).not_applicable(OPEN_METHOD),
        ),
        (
            ids::DEPLOYMENT,
            Resource::new(ResourceKind::Deployment(Deployment {
                rest_api_id: Expr::reference(ids::REST_API),
                description: "Proxy of every path to the API function",
            }))
            .depends_on(&[ids::ROOT_METHOD, ids::PROXY_METHOD]),
        ),
        (
            ids::STAGE,
            Resource::new(ResourceKind::Stage(Stage {
                stage_name: STAGE_NAME,
                rest_api_id: Expr::reference(ids::REST_API),
                deployment_id: Expr::reference(ids::DEPLOYMENT),
                method_settings,
                tracing_enabled: true,
                access_log_setting: AccessLogSetting { destination_arn: Expr::arn_of(ids::ACCESS_LOGS), format: access_log_format() },
            }))
            .not_applicable(&[(
                "CKV_AWS_120",
                "Answers are per user and carry tokens and presigned URLs (Cache-Control: no-store): none may be cached",
            )]),
        ),
    ]
}
