//! Names and ids from paths, queries and bodies: user names, image, person and face ids,
//! labels, words, email addresses.
#![no_main]

use domain::{FaceId, ImageId, PersonId, UserName, normalize_label, normalize_word};

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = UserName::parse(text);
    let _ = ImageId::parse(text);
    let _ = PersonId::parse(text);
    let _ = FaceId::parse(text);
    let _ = normalize_label(text);
    let _ = normalize_word(text);
    let _ = domain::accounts::check_email(text);
});
