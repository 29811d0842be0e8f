//! `/users`: sign up, the signed-in user's account, and the ops search by name prefix.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiResult;
use super::extract::{CurrentUser, JsonBody, OpsCaller, QueryParams, Source};
use super::sessions::{SessionView, check_password};
use super::{AppState, paging};
use crate::auth::password;
use crate::error::Error;
use axum::body::Bytes;
use domain::accounts::{self, AccountData, MAX_NAME_CHARS, NewAccount};
use domain::sign_ins::{Guessed, SourceAction};
use domain::{AccountChange, Precondition, TenantData, UserName, UserRecord, rfc3339};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    /// 3-32 characters: lower-case letters, digits, `-`, `_`, starting with a letter.
    pub user_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// 10-128 characters, not containing the user name.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// A new password (10-128 characters, not containing the user name); needs
    /// `current_password`, and signs out every other session.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: Option<String>,
    pub current_password: Option<String>,
}

/// A user as the API shows it: never a password or hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub user_name: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// RFC 3339.
    pub registration_date: String,
    pub tier: String,
}

impl UserView {
    fn of(user: &UserRecord, tier: &str) -> Self {
        Self {
            user_name: user.user_name.to_string(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            registration_date: rfc3339(user.registration_date),
            tier: tier.to_owned(),
        }
    }
}

/// The account after an update; a new token when the password changed (the old ones stop working).
#[derive(Debug, Serialize, ToSchema)]
pub struct UpdatedAccount {
    pub user: UserView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserSearch {
    /// The start of the user names wanted (at least one character).
    pub prefix: String,
    /// 1-100, default 20.
    #[serde(default, deserialize_with = "super::extract::limit_value")]
    pub limit: Option<usize>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    pub next_cursor: Option<String>,
}

/// Sign up (the original `/users/create`). The new user is published to NewUser.
/// At most the tier's `per_source.sign_ups_per_hour` attempts from one address (429
/// `too_many_from_source` past them).
#[utoipa::path(post, path = "/users", tag = "users", request_body = SignUp,
    responses((status = 201, body = UserView), (status = 400, description = "invalid fields"), (status = 409, description = "user name taken"),
        (status = 429, description = "`too_many_from_source`: too many sign-ups from this address this hour")))]
pub async fn sign_up(
    State(state): State<AppState>,
    source: Source,
    JsonBody(body): JsonBody<SignUp>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    source.count(&state, SourceAction::SignUp).await?;
    let account = NewAccount { user_name: &body.user_name, email: &body.email, first_name: &body.first_name, last_name: &body.last_name };
    let user = account.record(body.password, None).await?;
    let account = state.tenants.data_of(&user.user_name).await?.account;
    accounts::create(account.as_ref(), state.events.as_ref(), &user, &state.config.tier).await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&user, &state.config.tier))))
}

/// The signed-in user.
#[utoipa::path(get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, description = "not signed in")))]
pub async fn me(State(state): State<AppState>, user: CurrentUser) -> Json<UserView> {
    Json(UserView::of(&user.account, &state.config.tier))
}

/// Change names, email or password (the original `/users/update`).
#[utoipa::path(put, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = UpdateAccount,
    responses((status = 200, body = UpdatedAccount), (status = 400, description = "invalid fields"), (status = 401, description = "not signed in, or wrong current password")))]
pub async fn update_me(
    State(state): State<AppState>,
    source: Source,
    CurrentUser { account: current, data }: CurrentUser,
    JsonBody(body): JsonBody<UpdateAccount>,
) -> ApiResult<Json<UpdatedAccount>> {
    let mut updated = current.clone();
    let profile_changed = body.email.is_some() || body.first_name.is_some() || body.last_name.is_some();
    if let Some(email) = &body.email {
        updated.email = accounts::check_email(email)?;
    }
    if let Some(first_name) = &body.first_name {
        updated.first_name = accounts::check_text("first_name", first_name, MAX_NAME_CHARS)?;
    }
    if let Some(last_name) = &body.last_name {
        updated.last_name = accounts::check_text("last_name", last_name, MAX_NAME_CHARS)?;
    }
    // Every check before the first write, so that a refused request changes nothing.
    let mut new_hash = None;
    if let Some(new_password) = body.new_password {
        let current_password = body
            .current_password
            .ok_or_else(|| Error::invalid("current_password_required", "changing the password needs current_password"))?;
        let hash = Some(current.password_hash.clone());
        if !check_password(&state, Guessed::Account(&current.user_name), current_password, hash, &source).await? {
            return Err(Error::Unauthenticated("current_password is wrong".into()).into());
        }
        password::check_rules(&new_password, current.user_name.as_str())?;
        new_hash = Some(password::hash(new_password).await?);
    } else if body.current_password.is_some() {
        return Err(Error::invalid("invalid_request", "current_password is only needed with new_password").into());
    }
    let unchanged = Precondition::At { generation: current.token_generation };
    if profile_changed {
        let change = AccountChange::Profile {
            email: updated.email.clone(),
            first_name: updated.first_name.clone(),
            last_name: updated.last_name.clone(),
        };
        data.account.change(&current.user_name, &change, unchanged).await?;
    }
    let mut session = None;
    if let Some(hash) = new_hash {
        let change = AccountChange::Password { hash };
        data.account.change(&current.user_name, &change, unchanged).await?;
        change.apply(&mut updated);
        tracing::info!(security = "password_changed", user = %current.user_name, source = source.as_str(), "every other session ended");
        session = Some(SessionView::start(&state, data.account.as_ref(), &updated).await?);
    }
    Ok(Json(UpdatedAccount { user: UserView::of(&updated, &state.config.tier), session }))
}

/// What deleting the account asks for: the password again, so that a stolen token alone
/// cannot erase an account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    pub password: Option<String>,
}

/// Delete the account with every photo, object and index entry (the original `/users/delete`).
/// Needs the account's password in the body.
#[utoipa::path(delete, path = "/users/me", tag = "users", security(("bearer" = [])), request_body = DeleteAccount,
    responses((status = 204, description = "deleted, with everything of it"), (status = 401, description = "not signed in, or a wrong password"),
        (status = 403, description = "`password_required`: send {\"password\": ...}")))]
pub async fn delete_me(
    State(state): State<AppState>,
    source: Source,
    CurrentUser { account: current, data }: CurrentUser,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let required = || Error::Forbidden {
        code: "password_required",
        message: "deleting the account needs its password: send {\"password\": ...}".into(),
    };
    let body: DeleteAccount = if body.iter().all(u8::is_ascii_whitespace) {
        DeleteAccount { password: None }
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| Error::invalid("invalid_request", format!("the body is not {{\"password\": ...}}: {err}")))?
    };
    let password = body.password.ok_or_else(required)?;
    if !check_password(&state, Guessed::Account(&current.user_name), password, Some(current.password_hash.clone()), &source).await? {
        return Err(Error::Unauthenticated("the password is wrong".into()).into());
    }
    domain::collections::unshare(&current.user_name, state.tenants.as_ref()).await?;
    account_data(&state, &data).remove(&current).await?;
    tracing::info!(security = "account_deleted", user = %current.user_name, source = source.as_str(), "every session ended");
    Ok(StatusCode::NO_CONTENT)
}

/// Ops: users whose name starts with a prefix (the original `/users/search`). Needs the
/// stack's ops credential (`deployer ops-credential`), not a user token.
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), params(UserSearch),
    responses((status = 200, body = UserPage), (status = 403, description = "not the ops credential")))]
pub async fn search_users(
    State(state): State<AppState>,
    _ops: OpsCaller,
    QueryParams(query): QueryParams<UserSearch>,
) -> ApiResult<Json<UserPage>> {
    let prefix = query.prefix.trim().to_lowercase();
    let valid = !prefix.is_empty()
        && prefix.len() <= 32
        && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(Error::invalid("invalid_prefix", "prefix has 1 to 32 characters of a user name").into());
    }
    let limit = paging::page_limit(query.limit)?;
    let after = query.cursor.as_deref().map(UserName::parse).transpose()?;
    let page = state.users.search_prefix(&prefix, limit, after.as_ref()).await?;
    Ok(Json(UserPage {
        items: page.items.iter().map(|user| UserView::of(user, &state.config.tier)).collect(),
        next_cursor: page.next.map(|name| name.to_string()),
    }))
}

/// The stores an account's data lives in.
fn account_data<'a>(state: &'a AppState, data: &'a TenantData) -> AccountData<'a> {
    AccountData {
        users: data.account.as_ref(),
        images: data.images.as_ref(),
        photos: data.photos.as_ref(),
        collections: state.collections.as_ref(),
        links: state.users.as_ref(),
    }
}
