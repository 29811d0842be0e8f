//! `/sessions`: sign in with a user name and password, get a bearer token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppState;
use super::extract::JsonBody;
use crate::auth::password;
use super::error::ApiResult;
use crate::error::Error;
use crate::store::{UserName, UserRecord, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub user_name: String,
    pub password: String,
}

/// A bearer token and when it stops working.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub token: String,
    pub token_type: &'static str,
    /// RFC 3339.
    pub expires_at: String,
}

impl SessionView {
    pub fn issue(state: &AppState, user: &UserRecord) -> Self {
        let (token, expires_at) = state
            .tokens
            .issue(user.user_name.as_str(), user.token_generation, OffsetDateTime::now_utc());
        Self {
            token,
            token_type: "Bearer",
            expires_at: rfc3339(expires_at),
        }
    }
}

/// Sign in.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionView), (status = 401, description = "wrong user name or password")))]
pub async fn sign_in(State(state): State<AppState>, JsonBody(body): JsonBody<SignIn>) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let refused = || Error::Unauthenticated("wrong user name or password".into());
    // An unknown or malformed name costs a hash verification too, so timing tells nothing.
    let user = match UserName::parse(body.user_name.trim()) {
        Ok(name) => state.users.get(&name).await?,
        Err(_) => None,
    };
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    if !password::verify(body.password, hash).await {
        return Err(refused().into());
    }
    let user = user.ok_or_else(refused)?;
    Ok((StatusCode::CREATED, Json(SessionView::issue(&state, &user))))
}
