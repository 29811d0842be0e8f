//! `/sessions`: sign in with a user name and password, get a bearer token naming a new
//! session; sign out, ending that session.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::AppState;
use super::error::ApiResult;
use super::extract::{JsonBody, SignedIn, Source, moving, suspended};
use crate::auth::password;
use crate::error::Error;
use domain::sign_ins::{self, Guessed, SourceAction};
use domain::{AccountChange, AccountStatus, Precondition, SessionId, UserName, UserRecord, UserStore, rfc3339};

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
    /// Starts a new session of the account as it now is (its generation) and issues its token.
    pub async fn start(state: &AppState, account: &dyn UserStore, user: &UserRecord) -> Result<Self, Error> {
        let session = SessionId::new();
        let (token, expires_at) =
            state.tokens.issue(&user.user_name, user.account_id, session, user.token_generation, OffsetDateTime::now_utc())?;
        account.start_session(&user.user_name, session, expires_at).await?;
        Ok(Self { token, token_type: "Bearer", expires_at: rfc3339(expires_at) })
    }
}

/// Checks a password given for `guessed` (a sign-in, a signed-in user confirming a change, a
/// link's password), throttled per name or link ([`domain::sign_ins`]): while it waits, 429
/// `too_many_sign_ins` before the password is looked at; a wrong one counts a failure (and is
/// logged with the source), a right one forgets the failures. `hash` is the account's (or
/// link's), `None` for a name without one, which costs a verification too, so that timing
/// tells nothing.
pub async fn check_password(
    state: &AppState,
    guessed: Guessed<'_>,
    given: String,
    hash: Option<String>,
    source: &Source,
) -> Result<bool, Error> {
    let now_ms = domain::epoch_ms(OffsetDateTime::now_utc());
    let failures = state.users.failures(guessed).await?;
    if let Some(wait) = failures.and_then(|failures| failures.wait(now_ms)) {
        tracing::warn!(security = "sign_in_refused_while_locked", user = %guessed, source = source.as_str(), "sign-in refused");
        return Err(sign_ins::locked(wait));
    }
    if password::verify(given, hash).await {
        if failures.is_some() {
            state.users.clear_failures(guessed).await?;
        }
        return Ok(true);
    }
    let failures = state.users.add_failure(guessed, now_ms).await?;
    tracing::warn!(security = "sign_in_failed", user = %guessed, source = source.as_str(), failures = failures.count, "wrong password");
    if let Some(wait) = failures.wait(now_ms) {
        tracing::warn!(security = "sign_in_locked", user = %guessed, source = source.as_str(), seconds = wait.as_secs(), "sign-ins of the name wait");
    }
    Ok(false)
}

/// Sign in. An account ops provisioned with a one-time password first answers 403
/// `password_change_required`; the same request with `new_password` added sets it and signs in.
/// After 5 wrong passwords for a name its sign-ins wait (429 `too_many_sign_ins`, with
/// `Retry-After` doubling from 30 s up to 15 minutes), the right password included; one
/// address may try the tier's `per_source.sign_ins_per_hour` (429 `too_many_from_source`).
#[utoipa::path(post, path = "/sessions", tag = "sessions", request_body = SignIn,
    responses((status = 201, body = SessionView), (status = 400, description = "invalid new password"),
        (status = 401, description = "wrong user name or password"),
        (status = 403, description = "`suspended`; `password_change_required`: send new_password too; `one_time_password_expired`"),
        (status = 409, description = "`concurrent_change`: ops changed the account during the sign-in; sign in again"),
        (status = 429, description = "`too_many_sign_ins` (this name) or `too_many_from_source` (this address): wait Retry-After")))]
pub async fn sign_in(
    State(state): State<AppState>,
    source: Source,
    JsonBody(body): JsonBody<SignIn>,
) -> ApiResult<(StatusCode, Json<SessionView>)> {
    let refused = || Error::Unauthenticated("wrong user name or password".into());
    source.count(&state, SourceAction::SignIn).await?;
    let Ok(name) = UserName::parse(body.user_name.trim()) else {
        // No account can have this name: the same verification's time, and no failure to count.
        let _ = password::verify(body.password, None).await;
        return Err(refused().into());
    };
    // The name's own account items only, before anyone is authenticated.
    let account = state.tenants.data_of(&name).await?.account;
    let user = account.get(&name).await?;
    let hash = user.as_ref().map(|user| user.password_hash.clone());
    if !check_password(&state, Guessed::Account(&name), body.password, hash, &source).await? {
        return Err(refused().into());
    }
    let mut user = user.ok_or_else(refused)?;
    match user.status {
        AccountStatus::Active => {}
        AccountStatus::Suspended => return Err(suspended().into()),
        AccountStatus::Moving => return Err(moving().into()),
    }
    if user.password.one_time_until().is_some_and(|until| until <= OffsetDateTime::now_utc()) {
        return Err(Error::Forbidden {
            code: "one_time_password_expired",
            message: "this one-time password has expired; ask the service's operators for a new one".into(),
        }
        .into());
    }
    match (user.password.is_one_time(), body.new_password) {
        (true, None) => {
            return Err(Error::Forbidden {
                code: "password_change_required",
                message: "this password was given once: send the same request with new_password to choose your own".into(),
            }
            .into());
        }
        (true, Some(new_password)) => {
            password::check_rules(&new_password, user.user_name.as_str())?;
            let change = AccountChange::Password { hash: password::hash(new_password).await? };
            account.change(&user.user_name, &change, Precondition::ActiveAt { generation: user.token_generation }).await?;
            change.apply(&mut user);
        }
        (false, Some(_)) => {
            return Err(Error::invalid(
                "invalid_request",
                "new_password is only for a first sign-in with a one-time password; change a password with PUT /users/me",
            )
            .into());
        }
        (false, None) => {}
    }
    // Only what the sign-in changes is written, and only if nothing that ends sessions (a
    // suspension, a move, a password change) came since the account was read: otherwise the
    // sign-in fails rather than start a session ops have just ended.
    let signed_in = AccountChange::SignedIn { at: domain::whole_seconds(OffsetDateTime::now_utc()) };
    account.change(&user.user_name, &signed_in, Precondition::ActiveAt { generation: user.token_generation }).await?;
    signed_in.apply(&mut user);
    Ok((StatusCode::CREATED, Json(SessionView::start(&state, account.as_ref(), &user).await?)))
}

/// Sign out: the session of this token ends at once, server-side (the token stops working
/// everywhere); the account's other sessions go on.
#[utoipa::path(delete, path = "/sessions/current", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "signed out"), (status = 401, description = "not signed in")))]
pub async fn sign_out(source: Source, signed_in: SignedIn) -> ApiResult<StatusCode> {
    signed_in.data.account.end_session(&signed_in.user.user_name, signed_in.session).await?;
    tracing::info!(security = "session_ended", user = %signed_in.user.user_name, source = source.as_str(), "signed out");
    Ok(StatusCode::NO_CONTENT)
}
