//! Request extractors whose every rejection is one of our JSON errors: JSON bodies, query
//! strings, the signed-in user and the ops caller.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, RawQuery};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::AppState;
use super::error::ApiError;
use crate::error::{Error, Result};
use domain::ops;
use domain::{AccountStatus, SessionId, TenantData, UserName, UserRecord};

/// What every call of a suspended account gets, sign-in included.
pub fn suspended() -> Error {
    Error::Forbidden { code: "suspended", message: "the account is suspended; contact the service's operators".into() }
}

/// What a sign-in or a call of an account being moved between stacks gets: the move ended its
/// sessions, and the account signs in again on the target stack when the move is done.
pub fn moving() -> Error {
    Error::Conflict { code: "moving", message: "the account is being moved to another tier; sign in again when the move is done".into() }
}

/// A JSON body; malformed JSON, wrong types, missing or unknown fields are 400s.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct JsonBody<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError(match rejection {
            JsonRejection::JsonSyntaxError(err) => {
                Error::invalid("invalid_json", format!("the body is not valid JSON: {}", err.body_text()))
            }
            JsonRejection::JsonDataError(err) => Error::invalid("invalid_request", err.body_text()),
            JsonRejection::MissingJsonContentType(_) => {
                Error::invalid("invalid_request", "send the body as Content-Type: application/json")
            }
            JsonRejection::BytesRejection(err) => Error::TooLarge(format!("the body cannot be read: {}", err.body_text())),
            other => Error::invalid("invalid_request", other.body_text()),
        })
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError(Error::invalid("invalid_query", rejection.body_text()))
    }
}

/// Query parameters, including repeated ones (`?label=a&label=b`) into a `Vec`.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let RawQuery(query) = RawQuery::from_request_parts(parts, state)
            .await
            .map_err(|_| Error::invalid("invalid_query", "the query string cannot be read"))?;
        serde_html_form::from_str(query.as_deref().unwrap_or(""))
            .map(QueryParams)
            .map_err(|err| Error::invalid("invalid_query", format!("invalid query string: {err}")).into())
    }
}

/// Tells a field sent as null (`Some(None)`: clear it, or a new person) from one not sent
/// (`None`), with `#[serde(default, deserialize_with = "present")]`.
pub fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    use serde::Deserialize;
    Option::<String>::deserialize(deserializer).map(Some)
}

/// A page's `limit` as sent: a number. An empty `limit=` is refused like any other non-number
/// (the document says `limit` is an integer), not taken for "no limit given".
pub fn limit_value<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    let text = <String as serde::Deserialize>::deserialize(deserializer)?;
    text.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("limit must be a number from 1 to 100, got {text:?}")))
}

fn bearer(parts: &Parts) -> Result<&str> {
    let missing = || Error::Unauthenticated("sign in first: send Authorization: Bearer <token> (POST /sessions)".into());
    let header = parts.headers.get(AUTHORIZATION).ok_or_else(missing)?;
    let value = header.to_str().map_err(|_| missing())?;
    let (scheme, credential) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || credential.trim().is_empty() {
        return Err(missing());
    }
    Ok(credential.trim())
}

/// The bearer token sent, if any, unchecked: what a link's session sends (a link without a
/// password needs none).
#[derive(Debug)]
pub struct BearerToken(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(BearerToken(bearer(parts).ok().map(str::to_owned)))
    }
}

/// Where the API is reached, as this request reached it (`https://<domain>/<stage>` behind API
/// Gateway, `http://<host>` from `smart-album serve`): what a link's URL starts with.
#[derive(Debug)]
pub struct PublicBase(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PublicBase {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        use lambda_http::request::RequestContext;
        if let Some(RequestContext::ApiGatewayV1(context)) = parts.extensions.get::<RequestContext>()
            && let (Some(domain), Some(stage)) = (&context.domain_name, &context.stage)
        {
            return Ok(PublicBase(format!("https://{domain}/{stage}")));
        }
        let host = parts
            .headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .filter(|host| !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)));
        Ok(PublicBase(host.map(|host| format!("http://{host}")).unwrap_or_default()))
    }
}

/// A signed-in caller: the account and the session its bearer token names, taken from the
/// token only (never from the body, query or path). The token must be genuine and unexpired,
/// its session open, and the account the same one (its immutable id) at the same generation.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user: UserRecord,
    pub session: SessionId,
    /// The account's images and photos, with access scoped to the account.
    pub data: TenantData,
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let now = OffsetDateTime::now_utc();
        let claims = state.tokens.verify(token, now)?;
        let revoked = || Error::Unauthenticated("the token is invalid or expired; sign in again".into());
        // The token is genuine: the account it names is the tenant whose access is used.
        let data = state.tenants.data_of(&claims.user_name).await?;
        let (user, open) =
            tokio::try_join!(data.account.get(&claims.user_name), data.account.session_is_open(&claims.user_name, claims.session, now))?;
        let user = user.ok_or_else(revoked)?;
        if !open || user.account_id != claims.account_id {
            return Err(revoked().into());
        }
        // Before the generation, which a suspension or a move also changes: the caller learns why.
        match user.status {
            AccountStatus::Active => {}
            AccountStatus::Suspended => return Err(suspended().into()),
            AccountStatus::Moving => return Err(moving().into()),
        }
        if user.token_generation != claims.generation {
            return Err(revoked().into());
        }
        if let Some(limits) = &state.config.settings.requests {
            data.account.admit_request(&user.user_name, limits, now).await?;
        }
        Ok(SignedIn { user, session: claims.session, data })
    }
}

/// The signed-in user (see [`SignedIn`]), for handlers that do not need the session.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub account: UserRecord,
    /// The account's images and photos, with access scoped to the account.
    pub data: TenantData,
}

impl CurrentUser {
    pub fn name(&self) -> &UserName {
        &self.account.user_name
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let SignedIn { user, data, .. } = SignedIn::from_request_parts(parts, state).await?;
        Ok(CurrentUser { account: user, data })
    }
}

/// A caller holding the stack's ops credential.
#[derive(Debug, Clone, Copy)]
pub struct OpsCaller;

impl FromRequestParts<AppState> for OpsCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = bearer(parts)?;
        ops::check(state.users.as_ref(), secret).await?;
        Ok(OpsCaller)
    }
}

/// Where a request comes from: API Gateway's `sourceIp` in Lambda, the peer's address under
/// `smart-album serve`; `None` where neither is known (a router driven in-process by tests),
/// which per-source limits then leave alone. Never a client-sent header such as
/// `X-Forwarded-For`, which anyone can write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        use lambda_http::request::RequestContext;
        if let Some(RequestContext::ApiGatewayV1(context)) = parts.extensions.get::<RequestContext>() {
            return Ok(Source(context.identity.source_ip.clone()));
        }
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Source(peer.map(|peer| peer.0.ip().to_string())))
    }
}

impl Source {
    /// Counts one `action` of this source against the tier's limits; 429 once its hour is used up.
    pub async fn count(&self, state: &AppState, action: domain::sign_ins::SourceAction) -> Result<()> {
        let Some(source) = &self.0 else { return Ok(()) };
        let limits = &state.config.settings.per_source;
        let now_ms = domain::epoch_ms(OffsetDateTime::now_utc());
        if state.users.count_from_source(source, action, now_ms, action.limit(limits)).await? {
            return Ok(());
        }
        tracing::warn!(security = "source_limited", action = action.as_str(), source = %source, "too many from one source");
        Err(domain::sign_ins::source_exhausted(action, limits, now_ms))
    }

    /// How the security log names it.
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("unknown")
    }
}
