//! Page cursors as any client may send them back.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = runtime::api::paging::decode_cursor(Some(text));
});
