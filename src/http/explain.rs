//! Errors a person can act on, for a JSON body that does not fit its type. serde stops at the
//! first problem and words it in Rust's terms (`expected struct Attendance`, `premature end of
//! input`); when it refuses a body, the body is walked again against the type's own OpenAPI
//! schema (the one the document publishes) so that every missing, mistyped, unknown or
//! out-of-range member is named at once, with the form that was expected. The schema is only
//! consulted after serde has refused the body, so it can never refuse what the code accepts.

use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::FieldError;

/// The expected form of an instant, as every error about one says it.
pub const INSTANT_FORM: &str = "an RFC 3339 instant with an offset, e.g. 2024-03-14T10:00:00+05:00";
/// The expected form of a date.
pub const DATE_FORM: &str = "a date as YYYY-MM-DD, e.g. 2024-03-14";
/// The years an instant may fall in (the contract's 1900–2100).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// Every problem of `value` against the schema of `T`, with JSON paths (`items[3].count`).
pub fn problems<T: ToSchema>(value: &Value) -> Vec<FieldError> {
    let root = serde_json::to_value(T::schema()).unwrap_or(Value::Null);
    let mut named = Vec::new();
    T::schemas(&mut named);
    let mut defs = Map::new();
    for (name, schema) in named {
        defs.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    let mut out = Vec::new();
    Walker { defs: &defs }.check(&root, value, "", &mut out, 0);
    out
}

struct Walker<'a> {
    defs: &'a Map<String, Value>,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(expected: &str, v: &Value) -> bool {
    let actual = json_type(v);
    actual == expected || (expected == "number" && actual == "integer")
}

impl Walker<'_> {
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        let mut s = schema;
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
                Some(name) => match self.defs.get(name) {
                    Some(next) => s = next,
                    None => return s,
                },
                None => return s,
            }
        }
        s
    }

    /// What a value of this schema looks like, in words.
    fn expected(&self, schema: &Value) -> String {
        let s = self.resolve(schema);
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            let list: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
            return format!("one of: {}", list.join(", "));
        }
        if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
            let words: Vec<String> = branches
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) != Some("null"))
                .map(|b| self.expected(b))
                .collect();
            return words.join(" or ");
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect(),
            _ => vec![],
        };
        let format = s.get("format").and_then(Value::as_str);
        let words: Vec<String> = types
            .iter()
            .map(|t| match (*t, format) {
                ("string", Some("date-time")) => INSTANT_FORM.to_string(),
                ("string", Some("date")) => DATE_FORM.to_string(),
                ("string", _) => "text".into(),
                ("integer", _) => "a whole number".into(),
                ("number", _) => "a number".into(),
                ("boolean", _) => "true or false".into(),
                ("array", _) => match s.get("items") {
                    Some(items) => format!("a list of {}", self.expected(items)),
                    None => "a list".into(),
                },
                ("object", _) => "an object".into(),
                (other, _) => other.to_string(),
            })
            .collect();
        if words.is_empty() { "a value".into() } else { words.join(" or ") }
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<FieldError>, depth: usize) {
        if depth > 32 {
            return;
        }
        let s = self.resolve(schema);
        if let Some(branches) = s.get("oneOf").and_then(Value::as_array) {
            let mut best: Option<Vec<FieldError>> = None;
            for b in branches {
                let mut errs = Vec::new();
                self.check(b, value, path, &mut errs, depth + 1);
                if errs.is_empty() {
                    return;
                }
                if self.resolve(b).get("type").and_then(Value::as_str) != Some("null") {
                    best.get_or_insert(errs);
                }
            }
            out.extend(best.unwrap_or_default());
            return;
        }
        if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
            for p in parts {
                self.check(p, value, path, out, depth + 1);
            }
            return;
        }
        if let Some(values) = s.get("enum").and_then(Value::as_array) {
            if !values.contains(value) {
                out.push(FieldError::new(path, "enum", format!("must be {}", self.expected(s))));
            }
            return;
        }
        let types: Vec<&str> = match s.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return,
        };
        if !types.iter().any(|t| type_matches(t, value)) {
            out.push(FieldError::new(path, "type", format!("expected {}", self.expected(s))));
            return;
        }
        match value {
            Value::String(text) => match s.get("format").and_then(Value::as_str) {
                Some("date-time") => {
                    if let Some(e) = instant_problem(path, text) {
                        out.push(e);
                    }
                }
                Some("date") if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() => {
                    out.push(FieldError::new(path, "format", format!("expected {DATE_FORM}")));
                }
                _ => {}
            },
            Value::Number(n) if types.contains(&"integer") => {
                let (lo, hi) = match s.get("format").and_then(Value::as_str) {
                    Some("int32") => (i32::MIN as i64, i32::MAX as i64),
                    Some("int64") => (i64::MIN, i64::MAX),
                    _ => (i64::MIN, i64::MAX),
                };
                let minimum = s.get("minimum").and_then(Value::as_i64).unwrap_or(lo);
                if n.as_i64().is_none_or(|v| v < minimum || v > hi) {
                    out.push(FieldError::new(path, "range", format!("must be a whole number from {minimum} to {hi}")));
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{path}[{i}]"), out, depth + 1);
                    }
                }
            }
            Value::Object(members) => self.check_object(s, members, path, out, depth),
            _ => {}
        }
    }

    fn check_object(
        &self,
        s: &Value,
        members: &Map<String, Value>,
        path: &str,
        out: &mut Vec<FieldError>,
        depth: usize,
    ) {
        let empty = Map::new();
        let properties = s.get("properties").and_then(Value::as_object).unwrap_or(&empty);
        if let Some(required) = s.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                if !members.contains_key(name) {
                    let expected = properties.get(name).map(|p| self.expected(p)).unwrap_or_else(|| "a value".into());
                    out.push(FieldError::new(join(path, name), "required", format!("is required: {expected}")));
                }
            }
        }
        let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
        for (name, member) in members {
            match properties.get(name) {
                Some(p) => self.check(p, member, &join(path, name), out, depth + 1),
                None if closed => {
                    let mut known: Vec<&str> = properties.keys().map(String::as_str).collect();
                    known.sort_unstable();
                    out.push(FieldError::new(
                        join(path, name),
                        "unknown_field",
                        format!("is not a field here; the fields are: {}", known.join(", ")),
                    ));
                }
                None => {}
            }
        }
    }
}

/// The problem with an instant's text, if any: its form, or a year outside 1900–2100.
pub fn instant_problem(path: &str, text: &str) -> Option<FieldError> {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Err(_) => Some(FieldError::new(path, "format", format!("expected {INSTANT_FORM}"))),
        Ok(t) => {
            use chrono::Datelike;
            let year = t.with_timezone(&chrono::Utc).year();
            (!YEARS.contains(&year)).then(|| {
                FieldError::new(path, "range", format!("must fall in the years {} to {}", YEARS.start(), YEARS.end()))
            })
        }
    }
}

/// serde's own words for a problem, without the implementation's type names or parser internals,
/// for the rare refusal the schema walk does not explain.
pub fn humanize(message: &str) -> String {
    let mut m = match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    };
    if let Some(i) = m.find("expected struct ") {
        m.replace_range(i.., "expected an object");
    }
    for (rust, words) in [
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected i16", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
    ] {
        m = m.replace(rust, words);
    }
    for chrono_words in [
        "premature end of input",
        "input contains invalid characters",
        "trailing input",
        "input is out of range",
        "input is not enough for unique date and time",
    ] {
        if m.contains(chrono_words) {
            return format!("expected {INSTANT_FORM}");
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(serde::Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: i32,
    }

    #[derive(serde::Deserialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Colour {
        Red,
        Green,
    }

    #[derive(serde::Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        colour: Colour,
        #[schema(value_type = String, format = DateTime)]
        at: String,
        inner: Inner,
        items: Vec<Inner>,
        note: Option<String>,
    }

    fn by_field(errors: &[FieldError]) -> Vec<(String, String)> {
        let mut v: Vec<_> = errors.iter().map(|e| (e.field.clone(), e.code.clone())).collect();
        v.sort();
        v
    }

    #[test]
    fn every_problem_is_named_at_once_with_the_expected_form() {
        let errors = problems::<Outer>(&json!({
            "colour": "blue", "at": "2026-12-01", "inner": 45, "items": [{"count": 1}, {"count": "x"}],
            "extra": true, "note": null
        }));
        assert_eq!(
            by_field(&errors),
            vec![
                ("at".into(), "format".into()),
                ("colour".into(), "enum".into()),
                ("extra".into(), "unknown_field".into()),
                ("inner".into(), "type".into()),
                ("items[1].count".into(), "type".into()),
                ("name".into(), "required".into()),
            ]
        );
        let message = |f: &str| errors.iter().find(|e| e.field == f).unwrap().message.clone();
        assert_eq!(message("colour"), "must be one of: red, green");
        assert_eq!(message("at"), format!("expected {INSTANT_FORM}"));
        assert_eq!(message("inner"), "expected an object");
        assert!(message("name").starts_with("is required"));
    }

    #[test]
    fn instants_outside_1900_to_2100_are_out_of_range() {
        assert_eq!(instant_problem("at", "1899-12-31T23:00:00Z").unwrap().code, "range");
        assert_eq!(instant_problem("at", "2101-01-01T12:00:00+05:00").unwrap().code, "range");
        assert!(instant_problem("at", "2100-12-31T23:59:59Z").is_none());
        assert_eq!(instant_problem("at", "0000-01-01T00:00:00Z").unwrap().code, "range");
    }

    #[test]
    fn serde_words_lose_their_rust_types() {
        assert_eq!(
            humanize("invalid type: integer `45`, expected struct Attendance at line 1 column 3"),
            "invalid type: integer `45`, expected an object"
        );
        assert_eq!(humanize("premature end of input"), format!("expected {INSTANT_FORM}"));
        assert_eq!(
            humanize("invalid type: string \"x\", expected i32"),
            "invalid type: string \"x\", expected a whole number"
        );
    }
}
