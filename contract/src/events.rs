//! What the runtime publishes to the stack's topics.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A new user, as published to NewUser (no secrets).
#[derive(Debug, Clone, Serialize)]
pub struct NewUserEvent<'a> {
    pub user_name: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub tier: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub registration_date: OffsetDateTime,
}

/// A new photo, as published to NewImage (what the analyzer needs to find it). The analyzer
/// reads the object's key from the image record, never from this message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NewImageEvent {
    pub user_name: String,
    pub image_id: String,
    pub object_key: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Message")]
    message: String,
}

impl NewImageEvent {
    /// The event in a queue message's body: SNS's envelope, or the event itself (raw delivery).
    pub fn from_message_body(body: &str) -> Result<Self, serde_json::Error> {
        match serde_json::from_str::<SnsEnvelope>(body) {
            Ok(envelope) => serde_json::from_str(&envelope.message),
            Err(_) => serde_json::from_str(body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_from_sns_envelopes_and_raw_bodies() {
        let event = NewImageEvent {
            user_name: "alice".into(),
            image_id: "01JAAAAAAAAAAAAAAAAAAAAAAA".into(),
            object_key: "alice/01JAAAAAAAAAAAAAAAAAAAAAAA".into(),
            content_type: "image/png".into(),
            size: 3,
        };
        let raw = serde_json::to_string(&event).unwrap();
        let envelope = serde_json::json!({"Type": "Notification", "Message": raw}).to_string();
        assert_eq!(NewImageEvent::from_message_body(&raw).unwrap(), event);
        assert_eq!(NewImageEvent::from_message_body(&envelope).unwrap(), event);
        assert!(NewImageEvent::from_message_body("poison").is_err());
        assert!(NewImageEvent::from_message_body(r#"{"Message": "poison"}"#).is_err());
    }

    proptest::proptest! {
        /// Any queue message body, however malformed, is an event or an error: never a panic.
        #[test]
        fn any_message_body_parses_or_fails_cleanly(body in ".{0,300}") {
            let _ = NewImageEvent::from_message_body(&body);
            let envelope = serde_json::json!({"Type": "Notification", "Message": body}).to_string();
            let _ = NewImageEvent::from_message_body(&envelope);
        }
    }
}
