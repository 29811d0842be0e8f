//! Accounts: the rules every new account follows, whoever creates it (sign-up in the API, or
//! ops with `deployer tenant create`), and the removal of everything of one (`DELETE /users/me`,
//! `deployer tenant remove`). One implementation, so the two ways cannot drift apart.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::model::{AccountId, AccountStatus, PasswordOrigin, UserName, UserRecord, random_bytes, whole_seconds};
use crate::{Events, FaceCollections, ImageStore, LinkDirectory, NewUserEvent, PhotoStore, UserStore, password};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;

/// What a new account is made of, as given (untrimmed, unchecked).
#[derive(Debug, Clone, Copy)]
pub struct NewAccount<'a> {
    pub user_name: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
}

impl NewAccount<'_> {
    /// The account's record, every rule checked and the password hashed; `one_time` gives how
    /// long a password ops hand over works (it must be changed at the first sign-in).
    pub async fn record(&self, password: String, one_time: Option<time::Duration>) -> Result<UserRecord> {
        let user_name = UserName::parse(self.user_name.trim())?;
        let email = check_email(self.email)?;
        let first_name = check_text("first_name", self.first_name, MAX_NAME_CHARS)?;
        let last_name = check_text("last_name", self.last_name, MAX_NAME_CHARS)?;
        password::check_rules(&password, user_name.as_str())?;
        let now = whole_seconds(OffsetDateTime::now_utc());
        let origin = match one_time {
            Some(lifetime) => PasswordOrigin::OneTime { expires_at: now + lifetime },
            None => PasswordOrigin::Chosen,
        };
        Ok(UserRecord {
            user_name,
            account_id: AccountId::new(),
            email,
            first_name,
            last_name,
            password_hash: password::hash(password).await?,
            registration_date: now,
            token_generation: 1,
            status: AccountStatus::Active,
            password: origin,
            last_sign_in: None,
        })
    }
}

/// One write to an account: only the fields it names change, under its [`Precondition`], so
/// that two writers never undo each other (a sign-in cannot put back a status ops just set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChange {
    /// A successful sign-in, seen at this instant.
    SignedIn {
        at: OffsetDateTime,
    },
    Profile {
        email: String,
        first_name: String,
        last_name: String,
    },
    /// A new password hash: every earlier session ends, and a one-time password is spent.
    Password {
        hash: String,
    },
    /// Ops give a new one-time password (the user lost theirs, or the first one expired): every
    /// session ends.
    OneTimePassword {
        hash: String,
        expires_at: OffsetDateTime,
    },
    /// Ops set the status: every session ends (a suspended or moving account keeps none).
    Status {
        to: AccountStatus,
    },
    /// Every session ends (before the account is removed).
    EndSessions,
}

/// What must still hold of the stored account for an [`AccountChange`] to apply; otherwise
/// the store refuses with `Conflict` `concurrent_change` ([`Error::account_changed`]) and changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Nothing that ends sessions happened since it was read at this generation, and it is active.
    ActiveAt { generation: u64 },
    /// Nothing that ends sessions happened since it was read at this generation.
    At { generation: u64 },
    /// It has this status (ops' changes: a move must not resume a suspended account).
    Status(AccountStatus),
    /// It exists.
    Exists,
}

impl Precondition {
    pub fn holds(self, stored: &UserRecord) -> bool {
        match self {
            Precondition::ActiveAt { generation } => stored.token_generation == generation && stored.status == AccountStatus::Active,
            Precondition::At { generation } => stored.token_generation == generation,
            Precondition::Status(status) => stored.status == status,
            Precondition::Exists => true,
        }
    }
}

impl AccountChange {
    /// Whether it ends every session of the account (its token generation goes up by one).
    pub fn ends_sessions(&self) -> bool {
        matches!(
            self,
            AccountChange::Password { .. }
                | AccountChange::OneTimePassword { .. }
                | AccountChange::Status { .. }
                | AccountChange::EndSessions
        )
    }

    /// The account after the change (what the stores write, each in its own way).
    pub fn apply(&self, user: &mut UserRecord) {
        match self {
            AccountChange::SignedIn { at } => user.last_sign_in = Some(*at),
            AccountChange::Profile { email, first_name, last_name } => {
                user.email.clone_from(email);
                user.first_name.clone_from(first_name);
                user.last_name.clone_from(last_name);
            }
            AccountChange::Password { hash } => {
                user.password_hash.clone_from(hash);
                user.password = PasswordOrigin::Chosen;
            }
            AccountChange::OneTimePassword { hash, expires_at } => {
                user.password_hash.clone_from(hash);
                user.password = PasswordOrigin::OneTime { expires_at: *expires_at };
            }
            AccountChange::Status { to } => user.status = *to,
            AccountChange::EndSessions => {}
        }
        if self.ends_sessions() {
            user.token_generation += 1;
        }
    }
}

/// Stores a new account (`Conflict` `user_name_taken` when the name is taken) and publishes it
/// to the stack's NewUser topic.
pub async fn create(users: &dyn UserStore, events: &dyn Events, user: &UserRecord, tier: &str) -> Result<()> {
    users.create(user).await?;
    events
        .new_user(&NewUserEvent {
            user_name: user.user_name.as_str(),
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
            tier,
            registration_date: user.registration_date,
        })
        .await
}

/// A trimmed value of 1 to `max` printable characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(Error::invalid("invalid_field", format!("{field} must have 1 to {max} printable characters")));
    }
    Ok(value.to_owned())
}

pub fn check_email(value: &str) -> Result<String> {
    let email = check_text("email", value, MAX_EMAIL_CHARS)?;
    let valid = match email.split_once('@') {
        Some((local, domain)) => !local.is_empty() && domain.contains('.') && !domain.contains('@') && !email.contains(char::is_whitespace),
        None => false,
    };
    if valid { Ok(email) } else { Err(Error::invalid("invalid_email", "email is not an email address")) }
}

/// A random password for ops to hand over once: 24 URL-safe characters (144 bits), drawn again
/// in the rare case that it contains the user name (about 1 in 1,500 for a 3-letter name).
pub fn one_time_password(user_name: &str) -> Result<String> {
    loop {
        let password = URL_SAFE_NO_PAD.encode(random_bytes::<18>()?);
        if password::check_rules(&password, user_name).is_ok() {
            return Ok(password);
        }
    }
}

/// What a removal took away.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Removed {
    pub photos: u64,
    pub bytes: u64,
    /// Objects in the bucket: photos, face crops and anything else under the user's prefix.
    pub objects: usize,
    /// Items of the images table: records, index entries, faces, persons, albums, counters.
    pub items: usize,
}

/// The stores an account's data lives in.
#[derive(Clone, Copy)]
pub struct AccountData<'a> {
    pub users: &'a dyn UserStore,
    pub images: &'a dyn ImageStore,
    pub photos: &'a dyn PhotoStore,
    pub collections: &'a dyn FaceCollections,
    /// The stack-wide side of links, reached with the process's own access.
    pub links: &'a dyn LinkDirectory,
}

impl AccountData<'_> {
    /// Removes the account with every photo, object, item and face collection. Every token is
    /// revoked first, so no upload can race with the removal.
    pub async fn remove(&self, current: &UserRecord) -> Result<Removed> {
        self.users
            .change(&current.user_name, &AccountChange::EndSessions, Precondition::At { generation: current.token_generation })
            .await?;
        let removed = self.remove_data(&current.user_name).await?;
        self.users.delete(&current.user_name).await?;
        Ok(removed)
    }

    /// Everything of the user but the account itself.
    pub async fn remove_data(&self, user: &UserName) -> Result<Removed> {
        let usage = self.images.usage(user).await?;
        // The secrets of the user's links open nothing once their owner's side is gone; their
        // stack-wide items go first, so that none is left behind.
        for collection in self.images.collections(user).await? {
            for link in self.images.collection_links(user, collection.id).await? {
                self.links.delete_link_target(&link.secret_digest).await?;
            }
        }
        let items = self.images.delete_all(user).await?;
        let objects = self.photos.delete_prefix(&user_prefix(user)).await?;
        self.collections.delete_user(user).await?;
        Ok(Removed { photos: usage.photos, bytes: usage.bytes, objects, items })
    }
}

/// Every account whose name starts with `prefix` (all when empty), in name order, through the
/// users table's name index: one Query per initial, as every user name starts with a letter.
pub async fn users_with_prefix(users: &dyn UserStore, prefix: &str) -> Result<Vec<UserRecord>> {
    let initials: Vec<String> = match prefix {
        "" => ('a'..='z').map(String::from).collect(),
        prefix => vec![prefix.to_owned()],
    };
    let mut found = Vec::new();
    for initial in initials {
        let mut after = None;
        loop {
            let page = users.search_prefix(&initial, 100, after.as_ref()).await?;
            found.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    Ok(found)
}

/// The prefix of every object of the user in the stack's bucket.
pub fn user_prefix(user: &UserName) -> String {
    format!("{user}/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_pass_the_rules_and_differ() {
        let first = one_time_password("ann").unwrap();
        let second = one_time_password("ann").unwrap();
        assert_ne!(first, second);
        assert_eq!(first.len(), 24);
        password::check_rules(&first, "ann").unwrap();
    }

    #[cfg(feature = "memory")]
    #[tokio::test]
    async fn a_sign_in_read_before_a_suspension_cannot_undo_it() {
        use crate::memory::MemoryUsers;
        let users = MemoryUsers::default();
        let account = NewAccount { user_name: "sia", email: "sia@example.org", first_name: "S", last_name: "A" };
        let user = account.record("a long enough passphrase".into(), None).await.unwrap();
        users.create(&user).await.unwrap();
        // The sign-in read the account (active, generation 1); ops suspend it meanwhile.
        let read = users.get(&user.user_name).await.unwrap().unwrap();
        users
            .change(&user.user_name, &AccountChange::Status { to: AccountStatus::Suspended }, Precondition::Status(AccountStatus::Active))
            .await
            .unwrap();
        let signed_in = AccountChange::SignedIn { at: OffsetDateTime::now_utc() };
        let refused = users.change(&user.user_name, &signed_in, Precondition::ActiveAt { generation: read.token_generation }).await;
        assert!(matches!(refused, Err(Error::Conflict { code: "concurrent_change", .. })), "{refused:?}");
        let stored = users.get(&user.user_name).await.unwrap().unwrap();
        assert_eq!((stored.status, stored.token_generation, stored.last_sign_in), (AccountStatus::Suspended, 2, None));
        // A profile change does not touch the generation; a password change does.
        let profile = AccountChange::Profile { email: "new@example.org".into(), first_name: "S".into(), last_name: "A".into() };
        users.change(&user.user_name, &profile, Precondition::At { generation: 2 }).await.unwrap();
        users.change(&user.user_name, &AccountChange::Password { hash: "h".into() }, Precondition::At { generation: 2 }).await.unwrap();
        let stored = users.get(&user.user_name).await.unwrap().unwrap();
        assert_eq!((stored.email.as_str(), stored.token_generation, stored.status), ("new@example.org", 3, AccountStatus::Suspended));
        assert_eq!(stored.account_id, user.account_id, "the account id changed");
    }

    #[test]
    fn emails_and_names_are_checked() {
        assert!(check_email("ann@example.org").is_ok());
        for bad in ["", "ann", "@example.org", "ann@example", "a b@example.org", "a@b@c.org"] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_text("first_name", "  Ann ", 10).unwrap(), "Ann");
        assert!(check_text("first_name", "Ann\u{7}", 10).is_err());
        assert!(check_text("first_name", &"x".repeat(11), 10).is_err());
    }
}
