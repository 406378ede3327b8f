//! The bytes a receiver gets: `{"data": ..., "type": ...}` with sorted keys at every depth and
//! no whitespace. These exact bytes are signed and sent.

use serde_json::{Map, Value};

pub fn body(event_type: &str, data: &Map<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"{\"data\":");
    write_object(data, &mut out);
    out.extend_from_slice(b",\"type\":");
    write_sorted(&Value::String(event_type.to_owned()), &mut out);
    out.push(b'}');
    out
}

/// Writes JSON with object keys sorted, whatever order the map keeps them in.
fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => write_object(map, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        scalar => write_scalar(scalar, out),
    }
}

fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (i, (key, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_scalar(&Value::String(key.clone()), out);
        out.push(b':');
        write_sorted(value, out);
    }
    out.push(b'}');
}

fn write_scalar(value: &Value, out: &mut Vec<u8>) {
    // Serializing a string, number, bool or null into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
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
