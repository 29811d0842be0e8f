//! The OpenAPI document as served: utoipa's, generated from the handlers, completed here with
//! what the handler annotations cannot say, once rather than on every handler:
//! - the answers every operation can give besides its own (what the signed-in-user, body and
//!   query extractors answer), each error with the one error body;
//! - the real formats of ids and labels in paths, and the rules JSON Schema can state across
//!   fields (a new password needs the current one; a person patch changes something).
//!
//! Clients and `schemathesis` (tests/tests/schema.rs) rely on it: a request the document allows
//! is served, one it forbids is refused.

use serde_json::{Map, Value, json};

use crate::config::TierSettings;
use crate::photo;

/// An image or person id: a ULID as the API writes it (Crockford base 32, upper case; the
/// first character at most 7).
const ULID_PATTERN: &str = "^[0-7][0-9A-HJKMNP-TV-Z]{25}$";
/// A face id: its image's id, a dash, its index.
const FACE_ID_PATTERN: &str = "^[0-7][0-9A-HJKMNP-TV-Z]{25}-[0-9]{1,9}$";
/// A label as the user may type it (letters, digits, spaces, `-`, `'`; case and repeated
/// spaces do not matter). Letters outside ASCII are accepted too: this states the ASCII ones.
const LABEL_PATTERN: &str = "^ *[A-Za-z0-9'-][A-Za-z0-9' -]*$";

/// A user name (`UserName::parse`).
const USER_NAME_PATTERN: &str = "^[a-z][a-z0-9_-]{2,31}$";
/// An email address as sign-up checks it: something, `@`, a domain with a dot, no spaces.
const EMAIL_PATTERN: &str = r"^\s*[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*\s*$";
/// A first or last name: printable characters, not only spaces (it is trimmed).
const NAME_PATTERN: &str = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$";

/// The account fields' formats, in every body that has them: (field, pattern, most characters).
const ACCOUNT_FIELDS: [(&str, &str, u32); 4] = [
    ("user_name", USER_NAME_PATTERN, 32),
    ("email", EMAIL_PATTERN, 254),
    ("first_name", NAME_PATTERN, 100),
    ("last_name", NAME_PATTERN, 100),
];

/// Completes `document` (utoipa's, as JSON) for a stack whose tier has `settings`.
pub fn complete(document: &mut Value, settings: &TierSettings) {
    document["components"]["schemas"]["Error"] = error_schema();
    let Some(paths) = document["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for (method, operation) in item.iter_mut() {
            if let Some(operation) = operation.as_object_mut() {
                describe_parameters(path, operation);
                add_common_answers(method, operation);
            }
        }
    }
    let schemas = &mut document["components"]["schemas"];
    for body in ["SignUp", "UpdateAccount"] {
        for (field, pattern, max_length) in ACCOUNT_FIELDS {
            if let Some(property) = schemas[body]["properties"].get_mut(field) {
                property["pattern"] = json!(pattern);
                property["maxLength"] = json!(max_length);
            }
        }
    }
    // A new password comes with the current one, and the current one only with a new one.
    let given = |field: &str| json!({"properties": {field: {"type": "string"}}, "required": [field]});
    schemas["UpdateAccount"]["allOf"] = json!([
        {"if": given("new_password"), "then": given("current_password")},
        {"if": given("current_password"), "then": given("new_password")},
    ]);
    schemas["PersonPatch"]["minProperties"] = json!(1);
    for field in ["name", "hidden"] {
        if let Some(types) = schemas["PersonPatch"]["properties"][field]["type"].as_array_mut() {
            types.retain(|kind| kind != "null");
        }
    }
    schemas["MergeRequest"]["properties"]["from"]["items"]["pattern"] = json!(ULID_PATTERN);
    let photo_types: Vec<&str> = photo::SUPPORTED.iter().map(|(content_type, _)| *content_type).collect();
    schemas["StartUpload"]["properties"]["content_type"]["enum"] = json!(photo_types);
    schemas["StartUpload"]["properties"]["size"]["maximum"] = json!(settings.quotas.max_photo_bytes);
    schemas["FaceAssignment"]["properties"]["person_id"]["pattern"] = json!(ULID_PATTERN);
    // Every request body refuses fields it does not know.
    let bodies: Vec<String> = document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|operation| operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str())
        .filter_map(|reference| reference.rsplit('/').next().map(str::to_owned))
        .collect();
    for body in bodies {
        document["components"]["schemas"][&body]["additionalProperties"] = json!(false);
    }
    // A photo upload's body is the photo's bytes, in any of the supported types.
    if let Some(upload) = document["paths"]["/images"]["post"]["requestBody"].as_object_mut() {
        let binary = json!({"schema": {"type": "string", "format": "binary"}});
        upload["content"] = photo_types.iter().map(|content_type| (content_type.to_string(), binary.clone())).collect();
    }
}

fn describe_parameters(path: &str, operation: &mut Map<String, Value>) {
    let Some(parameters) = operation.get_mut("parameters").and_then(Value::as_array_mut) else { return };
    for parameter in parameters.iter_mut().filter(|parameter| parameter["in"] == "query") {
        // A query string has no null: an optional parameter is absent.
        if let Some(types) = parameter["schema"]["type"].as_array_mut() {
            types.retain(|kind| kind != "null");
        }
        if parameter["name"] == "limit" {
            parameter["schema"] = json!({"type": "integer", "minimum": 1, "maximum": 100});
        }
        // One value, written once (`?limit=5`); repeated ones (`?label=a&label=b`) explode.
        if parameter["schema"]["type"] != "array" {
            parameter["explode"] = json!(false);
        }
    }
    for parameter in parameters.iter_mut().filter(|parameter| parameter["in"] == "path") {
        let pattern = match (parameter["name"].as_str(), path) {
            (Some("id"), path) if path.starts_with("/faces/") => FACE_ID_PATTERN,
            (Some("id"), _) => ULID_PATTERN,
            (Some("label"), _) => LABEL_PATTERN,
            _ => continue,
        };
        parameter["schema"]["pattern"] = json!(pattern);
        if pattern == LABEL_PATTERN {
            parameter["schema"]["maxLength"] = json!(64);
        }
    }
}

fn add_common_answers(method: &str, operation: &mut Map<String, Value>) {
    let signed_in = operation.get("security").and_then(Value::as_array).is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.contains_key("requestBody");
    let takes_input = has_body
        || operation
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|parameters| parameters.iter().any(|parameter| parameter["in"] == "path" || parameter["in"] == "query"));
    let responses = operation.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    let mut add = |status: &str, description: &str| {
        responses.entry(status).or_insert_with(|| json!({"description": description}));
    };
    if takes_input {
        add("400", "the request breaks a rule of this operation; `error.code` names it");
    }
    if has_body {
        add("413", "the body is larger than this operation takes");
    }
    if signed_in {
        add("401", "not signed in: no token, or an invalid or expired one");
        add("403", "the account is suspended (`suspended`)");
        if method != "get" {
            add("409", "the account is being moved to another tier and is read-only (`moving`)");
        }
        add("429", "over the tier's request limits for one user (`rate_limited`, `daily_quota_exceeded`)");
        responses["429"]["headers"] = json!({"Retry-After": {
            "description": "seconds to wait before the next request is admitted",
            "schema": {"type": "integer", "minimum": 1}
        }});
    }
    for (status, response) in responses.iter_mut() {
        if status.starts_with(['4', '5']) && response.get("content").is_none() {
            response["content"] = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
        }
    }
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "stable and machine-readable: what clients branch on"},
                "message": {"type": "string", "description": "for people"},
                "person_id": {"type": "string", "description": "with `name_taken`: the person that has the name"}
            }
        }}
    })
}
