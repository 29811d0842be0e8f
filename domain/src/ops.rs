//! The ops credential: one random secret per stack, provisioned by `deployer ops-credential`,
//! sent as `Authorization: Bearer sao_...`. Only its SHA-256 is stored (a 256-bit random secret
//! needs no slow hash); comparison is constant-time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::UserStore;
use crate::error::{Error, Result};
use crate::model::random_bytes;

/// Ops secrets start with this, so that they are never mistaken for user tokens.
pub const OPS_SECRET_PREFIX: &str = "sao_";

/// The users-table system value holding the credential's SHA-256.
pub const OPS_CREDENTIAL_NAME: &str = "ops-credential";

/// A new secret to hand to ops once, and the digest to store.
pub fn new_secret() -> Result<(String, Vec<u8>)> {
    let secret = format!("{OPS_SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()?));
    let digest = Sha256::digest(secret.as_bytes()).to_vec();
    Ok((secret, digest))
}

/// Whether `secret` is the stack's ops credential.
pub async fn check(users: &dyn UserStore, secret: &str) -> Result<()> {
    let refused = || Error::Forbidden { code: "forbidden", message: "this endpoint needs the stack's ops credential".into() };
    if !secret.starts_with(OPS_SECRET_PREFIX) {
        return Err(refused());
    }
    let stored = users.system_value(OPS_CREDENTIAL_NAME).await?.ok_or_else(refused)?;
    let presented = Sha256::digest(secret.as_bytes());
    if bool::from(stored.as_slice().ct_eq(presented.as_slice())) { Ok(()) } else { Err(refused()) }
}
