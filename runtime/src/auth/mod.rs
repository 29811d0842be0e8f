//! Authentication: Argon2id password hashes and signed expiring bearer tokens. (The ops
//! credential lives in `store::ops`: the deployer provisions it.)

pub mod password;
pub mod token;
