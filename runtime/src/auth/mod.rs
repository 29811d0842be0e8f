//! Authentication: signed expiring bearer tokens. (Passwords, their rules and Argon2id hashes,
//! live in `domain::password`, and the ops credential in `domain::ops`: the deployer provisions
//! accounts and credentials too.)

pub use domain::password;
pub mod token;
