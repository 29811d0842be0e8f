//! Uploaded bytes: sniffing, dimensions, EXIF (`POST /images`, `/complete`).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let _ = runtime::photo::inspect(bytes);
});
