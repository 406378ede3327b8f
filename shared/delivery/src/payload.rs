//! The bytes a receiver gets: `{"data": ..., "type": ...}` with sorted keys at every depth and
//! no whitespace. These exact bytes are signed and sent.

use serde::Serialize;
use serde_json::{Map, Value};

/// Fields in key order. serde_json's `Map` is a `BTreeMap` (no `preserve_order` feature in
/// this workspace), so `data` comes out with its keys sorted at every depth too; the tests
/// below hold both.
#[derive(Serialize)]
struct Body<'a> {
    data: &'a Map<String, Value>,
    #[serde(rename = "type")]
    event_type: &'a str,
}

pub fn body(event_type: &str, data: &Map<String, Value>) -> Vec<u8> {
    // Serializing string-keyed JSON into a Vec cannot fail.
    serde_json::to_vec(&Body { data, event_type }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_depth_without_whitespace() {
        let data = json!({"z": 1, "a": {"y": [{"b": 2, "a": 1}], "x": null}, "m": "é\"q"});
        let bytes = body("call.graded", data.as_object().unwrap());
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            r#"{"data":{"a":{"x":null,"y":[{"a":1,"b":2}]},"m":"é\"q","z":1},"type":"call.graded"}"#
        );
    }

    #[test]
    fn the_body_parses_back_to_the_same_event() {
        let data = json!({"call_id": "c_1", "n": [1, 2.5, -3], "ok": true});
        let parsed: Value =
            serde_json::from_slice(&body("web.tool", data.as_object().unwrap())).unwrap();
        assert_eq!(parsed, json!({"data": data, "type": "web.tool"}));
    }
}
