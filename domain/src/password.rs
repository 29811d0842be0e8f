//! Passwords: the rules, and Argon2id hashes (never stored or logged in any other form).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

use crate::error::{Error, Result};

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The rules (length over composition, as NIST SP 800-63B advises): 10 to 128 characters,
/// not containing the user name.
pub fn check_rules(password: &str, user_name: &str) -> Result<()> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(Error::invalid("weak_password", format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(Error::invalid("invalid_password", format!("a password has at most {MAX_PASSWORD_CHARS} characters")));
    }
    if password.to_lowercase().contains(&user_name.to_lowercase()) {
        return Err(Error::invalid("weak_password", "a password must not contain the user name"));
    }
    Ok(())
}

/// An Argon2id hash in PHC string form. Slow on purpose: callers run it off the async threads.
pub async fn hash(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| Error::Internal(format!("hashing a password: {err}")))
    })
    .await
    .map_err(|err| Error::Internal(format!("hashing task: {err}")))?
}

/// Whether `password` matches `hash`. A `None` hash (unknown user) still costs one
/// verification, so that response times do not reveal which user names exist.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = hash.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else { return false };
        let matches = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        matches && stored != DUMMY_HASH
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password nobody knows, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0XmmlZSkBVnGfrj7JFiSYP3WmqNQPv0qTrHPgU1lLuk";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify_only_the_right_password() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains("correct horse"));
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify("anything at all".into(), None).await);
    }

    #[test]
    fn rules_are_enforced() {
        assert!(check_rules("short", "alice").is_err());
        assert!(check_rules("alice-is-long-enough", "alice").is_err());
        assert!(check_rules(&"x".repeat(129), "alice").is_err());
        assert!(check_rules("a sound passphrase", "alice").is_ok());
    }
}
