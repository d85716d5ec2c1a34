//! The chain's arithmetic: RFC 8785 canonical JSON and the SHA-256 of each entry.

use serde_json::Value;
use sha2::{Digest, Sha256};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// RFC 8785 canonical JSON. Object keys sort by their UTF-16 code units; strings escape only what
/// JSON requires (ECMAScript's `JSON.stringify` rules, which serde_json's escaping matches);
/// numbers here are integers, which print as themselves.
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => out.push_str(&i.to_string()),
            (_, Some(u), _) => out.push_str(&u.to_string()),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                out.push_str(&(f as i64).to_string())
            }
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// The entry's hash: lowercase hex SHA-256 of its canonical JSON without `hash`.
pub fn hash(entry_without_hash: &Value) -> String {
    hex::encode(Sha256::digest(canonical(entry_without_hash).as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_keeps_text_as_is() {
        let v = json!({"b": 1, "a": {"z": null, "y": [true, "Әділдік\n"]}, "\u{fb33}": 2, "\u{1f600}": 3});
        // U+1F600 encodes as a surrogate pair (D83D…), which sorts before U+FB33 in UTF-16 code
        // units although after it in code points.
        assert_eq!(
            canonical(&v),
            "{\"a\":{\"y\":[true,\"Әділдік\\n\"],\"z\":null},\"b\":1,\"\u{1f600}\":3,\"\u{fb33}\":2}"
        );
    }

    #[test]
    fn rfc_8785_sample_sorts_as_specified() {
        // From RFC 8785 §3.2.3: property sorting by UTF-16 code units.
        let v = json!({"\u{20ac}": "Euro Sign", "\r": "Carriage Return", "\u{fb33}": "Hebrew Letter Dalet With Dagesh",
                       "1": "One", "\u{1f600}": "Emoji: Grinning Face", "\u{0080}": "Control", "\u{00f6}": "Latin Small Letter O With Diaeresis"});
        let c = canonical(&v);
        let order: Vec<usize> = ["\\r", "1", "\u{0080}", "\u{00f6}", "\u{20ac}", "\u{1f600}", "\u{fb33}"]
            .iter()
            .map(|k| c.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{c}");
    }
}
