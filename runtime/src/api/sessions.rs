//! `/sessions`: sign in with a user name and password, get a bearer token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiResult;
use super::extract::{JsonBody, suspended};
use crate::auth::password;
use crate::error::Error;
use domain::{AccountStatus, UserName, UserRecord, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub user_name: String,
    pub password: String,
    /// Only for an account provisioned with a one-time password (the first sign-in answered
    /// 403 `password_change_required`): the new password, under the usual rules.
    pub new_password: Option<String>,
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
        let (token, expires_at) = state.tokens.issue(user.user_name.as_str(), user.token_generation, OffsetDateTime::now_utc());
        Self { token, token_type: "Bearer", expires_at: rfc3339(expires_at) }
    }
}

/// Sign in. An account ops provisioned with a one-time password first answers 403
/// `password_change_required`; the same request with `new_password` added sets it and signs in.
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionView), (status = 400, description = "invalid new password"),
        (status = 401, description = "wrong user name or password"),
        (status = 403, description = "`suspended`, or `password_change_required`: send new_password too")))]
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
    if user.status == AccountStatus::Suspended {
        return Err(suspended().into());
    }
    let mut signed_in = user.clone();
    signed_in.last_sign_in = Some(OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| OffsetDateTime::now_utc()));
    match (user.password_change_required, body.new_password) {
        (true, None) => {
            return Err(Error::Forbidden {
                code: "password_change_required",
                message: "this password was given once: send the same request with new_password to choose your own".into(),
            }
            .into());
        }
        (true, Some(new_password)) => {
            password::check_rules(&new_password, user.user_name.as_str())?;
            signed_in.password_hash = password::hash(new_password).await?;
            signed_in.password_change_required = false;
            signed_in.token_generation += 1;
            state.users.update(&signed_in, user.token_generation).await?;
        }
        (false, Some(_)) => {
            return Err(Error::invalid(
                "invalid_request",
                "new_password is only for a first sign-in with a one-time password; change a password with PUT /users/me",
            )
            .into());
        }
        // Only when the sign-in was seen; a racing change of the account wins.
        (false, None) => match state.users.update(&signed_in, user.token_generation).await {
            Ok(()) | Err(Error::Conflict { .. }) => {}
            Err(err) => return Err(err.into()),
        },
    }
    Ok((StatusCode::CREATED, Json(SessionView::issue(&state, &signed_in))))
}
