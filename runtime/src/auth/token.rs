//! Bearer tokens: `v1.<payload>.<mac>`, where the payload names the user, the user's token
//! generation and the expiry, and the mac is HMAC-SHA256 under the stack's token key.
//!
//! The token key is 32 random bytes made by KMS (GenerateDataKey under the tier key) the first
//! time any process needs it, and stored only encrypted, in the users table. Each process
//! decrypts it once at start. Changing a password or deleting the account bumps or removes the
//! user's generation, which invalidates every token issued before.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use crate::error::{Error, Result};
use domain::UserStore;

type HmacSha256 = Hmac<Sha256>;

/// How long a token is valid.
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(12);

/// The users-table system value holding the encrypted token key.
const TOKEN_KEY_NAME: &str = "token-key";

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub user_name: String,
    pub generation: u64,
    pub expires_at: OffsetDateTime,
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

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    /// A token for `user_name` at `generation`, valid until the returned instant.
    pub fn issue(&self, user_name: &str, generation: u64, now: OffsetDateTime) -> (String, OffsetDateTime) {
        let expires_at = now + TOKEN_LIFETIME;
        let payload = format!("{user_name}:{generation}:{}", expires_at.unix_timestamp());
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        (format!("v1.{payload}.{signature}"), expires_at)
    }

    /// The claims of a genuine, unexpired token. Every failure is the same 401, so that a
    /// caller learns nothing about why.
    pub fn verify(&self, token: &str, now: OffsetDateTime) -> Result<Claims> {
        let invalid = || Error::Unauthenticated("the token is invalid or expired; sign in again".into());
        let mut parts = token.split('.');
        let (Some("v1"), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(invalid());
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| invalid())?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature).map_err(|_| invalid())?;
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).map_err(|_| invalid())?).map_err(|_| invalid())?;
        let mut fields = payload.split(':');
        let (Some(user_name), Some(generation), Some(expires), None) = (fields.next(), fields.next(), fields.next(), fields.next()) else {
            return Err(invalid());
        };
        let expires_at =
            expires.parse::<i64>().ok().and_then(|seconds| OffsetDateTime::from_unix_timestamp(seconds).ok()).ok_or_else(invalid)?;
        if expires_at <= now {
            return Err(invalid());
        }
        Ok(Claims { user_name: user_name.to_owned(), generation: generation.parse().map_err(|_| invalid())?, expires_at })
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

    #[test]
    fn a_token_round_trips_and_expires() {
        let signer = TokenSigner::new([7; 32]);
        let (token, expires_at) = signer.issue("alice", 3, now());
        let claims = signer.verify(&token, now()).unwrap();
        assert_eq!(claims, Claims { user_name: "alice".into(), generation: 3, expires_at });
        assert!(signer.verify(&token, expires_at).is_err(), "an expired token was accepted");
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let signer = TokenSigner::new([7; 32]);
        let (token, _) = signer.issue("alice", 3, now());
        let (_, payload_and_mac) = token.split_once('.').unwrap();
        let (_, mac) = payload_and_mac.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode(format!("bob:3:{}", now().unix_timestamp() + 3600));
        assert!(signer.verify(&format!("v1.{forged_payload}.{mac}"), now()).is_err());
        assert!(TokenSigner::new([8; 32]).verify(&token, now()).is_err(), "another key's token");
        for garbage in ["", "v1", "v1..", "v2.a.b", "v1.a.b.c", &token.replace("v1.", "v1.x")] {
            assert!(signer.verify(garbage, now()).is_err(), "{garbage:?}");
        }
    }

    proptest::proptest! {
        /// Whatever a caller sends as a token is refused or accepted, never a panic; a forged
        /// one (any text) is never accepted.
        #[test]
        fn any_bearer_text_is_refused_cleanly(token in ".{0,200}") {
            proptest::prop_assert!(TokenSigner::new([7; 32]).verify(&token, now()).is_err());
        }

        #[test]
        fn issued_tokens_round_trip(name in "[a-z][a-z0-9_-]{2,31}", generation in 0u64..u64::MAX) {
            let signer = TokenSigner::new([9; 32]);
            let (token, _) = signer.issue(&name, generation, now());
            let claims = signer.verify(&token, now()).unwrap();
            proptest::prop_assert_eq!((claims.user_name, claims.generation), (name, generation));
        }
    }
}
