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
use domain::{AccountStatus, UserName, UserRecord};

/// What every call of a suspended account gets, sign-in included.
pub fn suspended() -> Error {
    Error::Forbidden { code: "suspended", message: "the account is suspended; contact the service's operators".into() }
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

/// The signed-in user, taken from the bearer token only (never from the body, query or path).
#[derive(Debug, Clone)]
pub struct CurrentUser(pub UserRecord);

impl CurrentUser {
    pub fn name(&self) -> &UserName {
        &self.0.user_name
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(parts)?;
        let now = OffsetDateTime::now_utc();
        let claims = state.tokens.verify(token, now)?;
        let revoked = || Error::Unauthenticated("the token is invalid or expired; sign in again".into());
        let user_name = UserName::parse(&claims.user_name).map_err(|_| revoked())?;
        let user = state.users.get(&user_name).await?.ok_or_else(revoked)?;
        if user.token_generation != claims.generation {
            return Err(revoked().into());
        }
        match user.status {
            AccountStatus::Active => {}
            AccountStatus::Suspended => return Err(suspended().into()),
            // A move copies what it reads: nothing may change under it.
            AccountStatus::Moving if !parts.method.is_safe() => {
                return Err(Error::Conflict {
                    code: "moving",
                    message: "the account is being moved to another tier; it is read-only until the move ends".into(),
                }
                .into());
            }
            AccountStatus::Moving => {}
        }
        if let Some(limits) = &state.config.settings.requests {
            state.users.admit_request(&user.user_name, limits, now).await?;
        }
        Ok(CurrentUser(user))
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
