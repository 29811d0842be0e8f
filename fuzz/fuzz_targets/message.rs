//! Queue message bodies: a NewImage event raw or in an SNS envelope.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &str| {
    let _ = contract::NewImageEvent::from_message_body(body);
});
