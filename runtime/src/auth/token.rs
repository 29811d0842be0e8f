//! Bearer tokens: PASETO v4.local (`pasetors`), encrypted and authenticated under the stack's
//! token key. The payload names the account (its user name and immutable id), the session, the
//! account's token generation and the expiry; the API checks each against the store on every
//! request, so a token stops working when its session ends (sign-out), when the generation
//! moves (a password change, a suspension, a move, the removal) or when the account is another
//! one with the same name.
//!
//! Why PASETO v4.local rather than JWT: one fixed algorithm (XChaCha20 + BLAKE2b-MAC), so there
//! is no algorithm header to confuse and no `none`; the payload is encrypted, so a token shows
//! nothing of the account to whoever holds it; and the key is the same 32 random bytes as
//! before. Tokens of the earlier hand-written `v1.` format are refused: everyone signs in again
//! once after the upgrade.
//!
//! The token key is 32 random bytes made by KMS (GenerateDataKey under the tier key) the first
//! time any process needs it, and stored only encrypted, in the users table. Each process
//! decrypts it once at start.

use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::{LocalToken, V4};
use pasetors::{Local, version4};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use domain::{AccountId, LinkId, SessionId, UserName, UserStore};

/// How long a token is valid.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(12);

/// The users-table system value holding the encrypted token key.
const TOKEN_KEY_NAME: &str = "token-key";

/// Bound into every token (PASETO's implicit assertion): a token made with the same key for
/// another purpose is refused.
const PURPOSE: &[u8] = b"smart-album session";

/// How long a link's session lasts once its password was given.
pub const LINK_SESSION_LIFETIME: time::Duration = time::Duration::hours(12);

/// The implicit assertion of a link's session token: neither kind of token passes for the
/// other.
const LINK_PURPOSE: &[u8] = b"smart-album link session";

/// A link session's payload: the link whose password was given, and the expiry.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkPayload {
    lid: String,
    /// Unix seconds.
    exp: i64,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user_name: UserName,
    pub account_id: AccountId,
    pub session: SessionId,
    pub generation: u64,
    pub expires_at: OffsetDateTime,
}

/// The payload as it is encrypted (JSON, as PASETO asks).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    sub: String,
    aid: String,
    sid: String,
    generation: u64,
    /// Unix seconds.
    exp: i64,
}

/// Issues and checks tokens with one key.
#[derive(Clone)]
pub struct TokenSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSigner { key: <secret> }")
    }
}

impl TokenSigner {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    /// The stack's signer: decrypts the stored key, creating it on first use.
    pub async fn load(users: &dyn UserStore, kms: &aws_sdk_kms::Client, key_arn: &str) -> Result<Self> {
        let context = ("purpose", "smart-album-token-signing");
        if let Some(ciphertext) = users.system_value(TOKEN_KEY_NAME).await? {
            return Self::decrypt(kms, ciphertext, context).await;
        }
        let generated = kms
            .generate_data_key()
            .key_id(key_arn)
            .number_of_bytes(32)
            .encryption_context(context.0, context.1)
            .send()
            .await
            .map_err(aws_adapters::aws_error("KMS GenerateDataKey for the token key"))?;
        let (Some(plaintext), Some(ciphertext)) = (generated.plaintext, generated.ciphertext_blob) else {
            return Err(Error::Internal("GenerateDataKey returned no key".into()));
        };
        if users.put_system_value_if_absent(TOKEN_KEY_NAME, ciphertext.as_ref()).await? {
            Ok(Self::new(to_key(plaintext.as_ref())?))
        } else {
            // Another process stored its key first: everyone uses that one.
            let stored = users.system_value(TOKEN_KEY_NAME).await?.ok_or_else(|| Error::Internal("the token key vanished".into()))?;
            Self::decrypt(kms, stored, context).await
        }
    }

    async fn decrypt(kms: &aws_sdk_kms::Client, ciphertext: Vec<u8>, context: (&str, &str)) -> Result<Self> {
        let decrypted = kms
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(ciphertext))
            .encryption_context(context.0, context.1)
            .send()
            .await
            .map_err(aws_adapters::aws_error("KMS Decrypt of the token key"))?;
        let plaintext = decrypted.plaintext.ok_or_else(|| Error::Internal("Decrypt returned no plaintext".into()))?;
        Ok(Self::new(to_key(plaintext.as_ref())?))
    }

    fn key(&self) -> Result<SymmetricKey<V4>> {
        SymmetricKey::<V4>::from(&self.key).map_err(|err| Error::Internal(format!("the token key: {err}")))
    }

    /// A token for one new session of the account at its `generation`, valid for
    /// [`TOKEN_LIFETIME`] from `now`.
    pub fn issue(
        &self,
        user_name: &UserName,
        account_id: AccountId,
        session: SessionId,
        generation: u64,
        now: OffsetDateTime,
    ) -> Result<(String, OffsetDateTime)> {
        let expires_at = domain::whole_seconds(now + TOKEN_LIFETIME);
        let payload = Payload {
            sub: user_name.to_string(),
            aid: account_id.to_string(),
            sid: session.to_string(),
            generation,
            exp: expires_at.unix_timestamp(),
        };
        let payload = serde_json::to_vec(&payload).map_err(|err| Error::Internal(format!("a token payload: {err}")))?;
        let token = LocalToken::encrypt(&self.key()?, &payload, None, Some(PURPOSE))
            .map_err(|err| Error::Internal(format!("cannot make a token: {err}")))?;
        Ok((token, expires_at))
    }

    /// The claims of a genuine, unexpired token. Every failure is the same 401, so that a
    /// caller learns nothing about why.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<Claims> {
        let invalid = || Error::Unauthenticated("the token is invalid or expired; sign in again".into());
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| invalid())?;
        let trusted = version4::LocalToken::decrypt(&self.key()?, &untrusted, None, Some(PURPOSE)).map_err(|_| invalid())?;
        let payload: Payload = serde_json::from_str(trusted.payload()).map_err(|_| invalid())?;
        let expires_at = OffsetDateTime::from_unix_timestamp(payload.exp).map_err(|_| invalid())?;
        if expires_at <= now {
            return Err(invalid());
        }
        Ok(Claims {
            user_name: payload.sub.parse().map_err(|_| invalid())?,
            account_id: AccountId::parse(&payload.aid).map_err(|_| invalid())?,
            session: SessionId::parse(&payload.sid).map_err(|_| invalid())?,
            generation: payload.generation,
            expires_at,
        })
    }
}

impl TokenSigner {
    /// A token saying that link `link`'s password was given, valid for
    /// [`LINK_SESSION_LIFETIME`] from `now`. The link is checked on every request anyway: a
    /// deleted link refuses its sessions' tokens at once.
    pub fn issue_link(&self, link: LinkId, now: OffsetDateTime) -> Result<(String, OffsetDateTime)> {
        let expires_at = domain::whole_seconds(now + LINK_SESSION_LIFETIME);
        let payload = serde_json::to_vec(&LinkPayload { lid: link.to_string(), exp: expires_at.unix_timestamp() })
            .map_err(|err| Error::Internal(format!("a link token payload: {err}")))?;
        let token = LocalToken::encrypt(&self.key()?, &payload, None, Some(LINK_PURPOSE))
            .map_err(|err| Error::Internal(format!("cannot make a link token: {err}")))?;
        Ok((token, expires_at))
    }

    /// Whether `token` is an unexpired session of link `link`; one 401 `password_required` for
    /// every failure.
    pub fn verify_link(&self, token: &str, link: LinkId, now: OffsetDateTime) -> Result<()> {
        let invalid = || Error::Unauthenticated("this link asks for its password: POST it to the link's sessions".into());
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| invalid())?;
        let trusted = version4::LocalToken::decrypt(&self.key()?, &untrusted, None, Some(LINK_PURPOSE)).map_err(|_| invalid())?;
        let payload: LinkPayload = serde_json::from_str(trusted.payload()).map_err(|_| invalid())?;
        let expires_at = OffsetDateTime::from_unix_timestamp(payload.exp).map_err(|_| invalid())?;
        if expires_at <= now || payload.lid != link.to_string() {
            return Err(invalid());
        }
        Ok(())
    }
}

fn to_key(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes.try_into().map_err(|_| Error::Internal(format!("the token key has {} bytes, not 32", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn alice() -> UserName {
        "alice".parse().unwrap()
    }

    #[test]
    fn a_token_round_trips_and_expires() {
        let signer = TokenSigner::new([7; 32]);
        let (account_id, session) = (AccountId::new(), SessionId::new());
        let (token, expires_at) = signer.issue(&alice(), account_id, session, 3, now()).unwrap();
        assert!(token.starts_with("v4.local."), "{token}");
        let claims = signer.verify(&token, now()).unwrap();
        assert_eq!(claims, Claims { user_name: alice(), account_id, session, generation: 3, expires_at });
        assert_eq!(expires_at, now() + TOKEN_LIFETIME);
        assert!(signer.verify(&token, expires_at).is_err(), "an expired token was accepted");
    }

    #[test]
    fn tampered_foreign_or_old_format_tokens_are_refused() {
        let signer = TokenSigner::new([7; 32]);
        let (token, _) = signer.issue(&alice(), AccountId::new(), SessionId::new(), 3, now()).unwrap();
        assert!(TokenSigner::new([8; 32]).verify(&token, now()).is_err(), "another key's token");
        // Any one character changed in the body.
        let mut bytes = token.clone().into_bytes();
        let last = bytes.len() - 5;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(signer.verify(&String::from_utf8(bytes).unwrap(), now()).is_err());
        // A token of the same key for another purpose.
        let other = LocalToken::encrypt(&signer.key().unwrap(), br#"{"sub":"alice"}"#, None, Some(b"other")).unwrap();
        assert!(signer.verify(&other, now()).is_err());
        // The hand-written format of before (v1.<payload>.<mac>).
        for garbage in ["", "v1", "v1..", "v1.YWxpY2U6MzoxODAwMDAzNjAw.bWFj", "v4.local.", "v4.public.abc", &format!("{token}.extra")] {
            assert!(signer.verify(garbage, now()).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn a_link_token_opens_its_own_link_only_and_is_no_session_token() {
        let signer = TokenSigner::new([7; 32]);
        let link = LinkId::new();
        let (token, expires_at) = signer.issue_link(link, now()).unwrap();
        assert_eq!(expires_at, now() + LINK_SESSION_LIFETIME);
        assert!(signer.verify_link(&token, link, now()).is_ok());
        assert!(signer.verify_link(&token, LinkId::new(), now()).is_err(), "another link's");
        assert!(signer.verify_link(&token, link, expires_at).is_err(), "expired");
        assert!(signer.verify(&token, now()).is_err(), "a link token passed for a session");
        let (session, _) = signer.issue(&alice(), AccountId::new(), SessionId::new(), 1, now()).unwrap();
        assert!(signer.verify_link(&session, link, now()).is_err(), "a session token passed for a link's");
    }

    proptest::proptest! {
        /// Whatever a caller sends as a token is refused, never a panic.
        #[test]
        fn any_bearer_text_is_refused_cleanly(token in ".{0,200}") {
            proptest::prop_assert!(TokenSigner::new([7; 32]).verify(&token, now()).is_err());
        }

        #[test]
        fn issued_tokens_round_trip(name in "[a-z][a-z0-9_-]{2,31}", generation in 0u64..u64::MAX) {
            let signer = TokenSigner::new([9; 32]);
            let name: UserName = name.parse().unwrap();
            let (token, _) = signer.issue(&name, AccountId::new(), SessionId::new(), generation, now()).unwrap();
            let claims = signer.verify(&token, now()).unwrap();
            proptest::prop_assert_eq!((claims.user_name, claims.generation), (name, generation));
        }
    }
}
