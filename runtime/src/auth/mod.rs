//! Authentication: signed expiring bearer tokens. (Passwords, their rules and Argon2id hashes,
//! live in `store::password`, and the ops credential in `store::ops`: the deployer provisions
//! accounts and credentials too.)

pub use store::password;
pub mod token;
