//! Bearer tokens as any client may send them.
#![no_main]

use std::sync::LazyLock;

use runtime::auth::token::TokenSigner;

static SIGNER: LazyLock<TokenSigner> = LazyLock::new(|| TokenSigner::new([7; 32]));

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = SIGNER.verify(text, time::OffsetDateTime::UNIX_EPOCH);
});
