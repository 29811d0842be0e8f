//! Links: a collection shared with anyone who has the URL, no account needed. The URL's secret
//! is 32 random bytes (256 bits); only its SHA-256 is stored (a random secret of that size
//! needs no slow hash, and a lookup needs the same digest every time), so the secret shows
//! once, when the link is made. A link may expire, ask for a password (kept as an Argon2id
//! hash, its guesses throttled like sign-ins) and allow downloading the originals.
//!
//! The owner's data keeps the link (listed with the collection, deleted with it); a stack-wide
//! item keyed by the secret's digest says whose collection a secret opens ([`LinkTarget`]).
//! Every request through a link reads the owner's side again, so a deleted link, collection or
//! account refuses the next request whatever the stack-wide item says.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use crate::error::{Error, Result};
use crate::model::{CollectionId, LinkId, UserName, random_bytes};

/// The longest a link may be made to last; without `expires_in_days` it lasts until deleted.
pub const MAX_EXPIRY_DAYS: u32 = 365;
/// A link's password: at least this many characters (its guesses are throttled), at most
/// [`crate::password::MAX_PASSWORD_CHARS`].
pub const MIN_LINK_PASSWORD_CHARS: usize = 8;
/// A link's secret: 43 URL-safe characters (32 bytes, base64url without padding).
const SECRET_CHARS: usize = 43;
/// How long the stack-wide item of an expired link is kept, so that its URL answers 410
/// `link_expired` rather than 404 for a while (the store's TTL removes it after).
pub const KEPT_AFTER_EXPIRY: Duration = Duration::days(30);

/// A link's secret, as its URL carries it. Never logged: its `Debug` shows nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct LinkSecret(String);

impl std::fmt::Debug for LinkSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkSecret(<secret>)")
    }
}

impl LinkSecret {
    /// A new secret from the operating system's random source.
    pub fn generate() -> Result<Self> {
        Ok(Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)))
    }

    /// A secret as a URL names it; anything that cannot be one is no link (404, like a deleted
    /// one: a caller learns nothing from the shape).
    pub fn parse(raw: &str) -> Result<Self> {
        let shaped = raw.len() == SECRET_CHARS && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if shaped { Ok(Self(raw.to_owned())) } else { Err(no_link()) }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What is stored and looked up: the SHA-256 of the secret, in hex.
    pub fn digest(&self) -> String {
        Sha256::digest(self.0.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// The refusal of a secret that opens nothing (never made, deleted, or its collection gone).
pub fn no_link() -> Error {
    Error::NotFound("no such link: it was deleted, or never existed".into())
}

/// A link to a collection, as its owner's data keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub id: LinkId,
    pub owner: UserName,
    pub collection: CollectionId,
    /// [`LinkSecret::digest`] of its secret: what deleting it removes from the stack-wide items.
    pub secret_digest: String,
    pub created_at: OffsetDateTime,
    /// `None`: until deleted.
    pub expires_at: Option<OffsetDateTime>,
    /// An Argon2id hash, when a password is asked.
    pub password_hash: Option<String>,
    /// Whether the originals (with their EXIF) may be downloaded through it.
    pub allow_download: bool,
}

impl Link {
    /// Whether it has expired at `now`: 410 `link_expired` then.
    pub fn check_expiry(&self, now: OffsetDateTime) -> Result<()> {
        match self.expires_at {
            Some(expires_at) if expires_at <= now => {
                Err(Error::Gone { code: "link_expired", message: "this link has expired; ask whoever shared it for a new one".into() })
            }
            _ => Ok(()),
        }
    }

    /// Where its stack-wide item points.
    pub fn target(&self) -> LinkTarget {
        LinkTarget { owner: self.owner.clone(), collection: self.collection, link: self.id }
    }

    /// Until when the stack-wide item is kept: [`KEPT_AFTER_EXPIRY`] past its expiry.
    pub fn kept_until(&self) -> Option<OffsetDateTime> {
        self.expires_at.map(|expires_at| expires_at + KEPT_AFTER_EXPIRY)
    }
}

/// What a secret opens: the stack-wide item, keyed by the secret's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkTarget {
    pub owner: UserName,
    pub collection: CollectionId,
    pub link: LinkId,
}

/// When a link made at `now` to last `days` days expires: 1 to [`MAX_EXPIRY_DAYS`], or never.
pub fn expiry(now: OffsetDateTime, days: Option<u32>) -> Result<Option<OffsetDateTime>> {
    match days {
        None => Ok(None),
        Some(days @ 1..=MAX_EXPIRY_DAYS) => Ok(Some(crate::whole_seconds(now + Duration::days(i64::from(days))))),
        Some(_) => Err(Error::invalid("invalid_expiry", format!("expires_in_days is 1 to {MAX_EXPIRY_DAYS} (or left out: no expiry)"))),
    }
}

/// The rules of a link's password: [`MIN_LINK_PASSWORD_CHARS`] to 128 characters.
pub fn check_password(password: &str) -> Result<()> {
    let length = password.chars().count();
    if !(MIN_LINK_PASSWORD_CHARS..=crate::password::MAX_PASSWORD_CHARS).contains(&length) {
        return Err(Error::invalid(
            "invalid_password",
            format!("a link's password has {MIN_LINK_PASSWORD_CHARS} to {} characters", crate::password::MAX_PASSWORD_CHARS),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_url_safe_and_stored_only_as_their_digest() {
        let (a, b) = (LinkSecret::generate().unwrap(), LinkSecret::generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), SECRET_CHARS);
        assert_eq!(LinkSecret::parse(a.expose()).unwrap(), a);
        assert_eq!(a.digest().len(), 64);
        assert!(!a.digest().contains(a.expose()));
        assert_eq!(a.digest(), LinkSecret::parse(a.expose()).unwrap().digest());
        assert!(!format!("{a:?}").contains(a.expose()));
        for bad in ["", "short", &format!("{}!", &a.expose()[1..]), &format!("{}a", a.expose()), "../../etc/passwd"] {
            assert!(matches!(LinkSecret::parse(bad), Err(Error::NotFound(_))), "{bad:?}");
        }
    }

    #[test]
    fn a_link_expires_after_its_days_and_its_item_is_kept_a_while_longer() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(expiry(now, None).unwrap(), None);
        let expires_at = expiry(now, Some(7)).unwrap().unwrap();
        assert_eq!(expires_at - now, Duration::days(7));
        for bad in [0, MAX_EXPIRY_DAYS + 1] {
            assert!(matches!(expiry(now, Some(bad)), Err(Error::Invalid { code: "invalid_expiry", .. })));
        }
        let link = Link {
            id: LinkId::new(),
            owner: UserName::parse("ann").unwrap(),
            collection: CollectionId::new(),
            secret_digest: String::new(),
            created_at: now,
            expires_at: Some(expires_at),
            password_hash: None,
            allow_download: false,
        };
        assert!(link.check_expiry(expires_at - Duration::seconds(1)).is_ok());
        assert!(matches!(link.check_expiry(expires_at), Err(Error::Gone { code: "link_expired", .. })));
        assert_eq!(link.kept_until(), Some(expires_at + KEPT_AFTER_EXPIRY));
        assert!(Link { expires_at: None, ..link }.check_expiry(now + Duration::days(10_000)).is_ok());
    }

    #[test]
    fn link_passwords_are_bounded() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(129)).is_err());
    }
}
