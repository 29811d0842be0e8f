//! Authentication: Argon2id password hashes, signed expiring bearer tokens, and the ops
//! credential.

pub mod ops;
pub mod password;
pub mod token;
