//! Request bodies: the content type checked (415), the size limited (413), the JSON parsed with the
//! failing field's path (400 when it does not parse, 422 when a value is of the wrong kind), and
//! the raw bytes kept so an idempotent retry can be recognised.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{ApiError, FieldError};
use crate::http::explain;
use crate::text::{self, Allowed};

/// The largest body accepted, from `ADAL_BODY_LIMIT`; set as app data.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The media type of the request, lowercased and without parameters.
pub fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

pub fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Reads the whole body, refusing it past the configured limit.
pub async fn read_limited(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, ApiError> {
    let limit = req.app_data::<BodyLimit>().map(|l| l.0).unwrap_or(1 << 20);
    read_up_to(req, payload, limit).await
}

/// Reads the whole body, refusing it past `limit` bytes (at once when `Content-Length` says so).
/// A declared length is allocated once, so a large body is held in memory once, not regrown.
pub async fn read_up_to(req: &HttpRequest, payload: &mut Payload, limit: usize) -> Result<Bytes, ApiError> {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON text: a syntax error (or nothing at all) is a 400.
pub fn parse_value(bytes: &[u8]) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body is empty; a JSON object is expected"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
}

/// Reads a parsed body as `T`. When it does not fit, the answer is one 422 naming every member that
/// is missing, mistyped, unknown or out of range, with the form expected (`explain`), never the
/// implementation's type names.
pub fn from_value<T: DeserializeOwned + ToSchema>(value: Value) -> Result<T, ApiError> {
    typed(serde_path_to_error::deserialize::<_, T>(&value), &value, Vec::new())
}

/// Reads the body's own bytes as `T` (so a member given twice is refused, as serde refuses it),
/// reporting in one 422 the refused characters found before (`earlier`) with every problem of
/// the value.
fn from_bytes<T: DeserializeOwned + ToSchema>(
    bytes: &[u8],
    value: &Value,
    earlier: Vec<FieldError>,
) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    typed(serde_path_to_error::deserialize::<_, T>(de), value, earlier)
}

fn typed<T: ToSchema, E: std::fmt::Display>(
    result: Result<T, serde_path_to_error::Error<E>>,
    value: &Value,
    earlier: Vec<FieldError>,
) -> Result<T, ApiError> {
    match result {
        Ok(v) if earlier.is_empty() => Ok(v),
        Ok(_) => {
            let mut errors = earlier;
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(ApiError::Validation(errors))
        }
        Err(e) => {
            let mut errors = earlier;
            errors.extend(explain::problems::<T>(value));
            if errors.iter().all(|e| e.code == text::FORBIDDEN_CODE) {
                // The schema found nothing serde refused: report serde's own finding, in words.
                let path = e.path().to_string();
                let message = explain::humanize(&e.into_inner().to_string());
                let field = if path == "." { String::new() } else { path };
                let (field, code) = if message.starts_with("unknown field") {
                    (field, "unknown_field")
                } else if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    (join_path(&field, name), "required")
                } else {
                    (field, "type")
                };
                errors.push(FieldError::new(field, code, message));
            }
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            Err(ApiError::Validation(errors))
        }
    }
}

/// Parses JSON into `T`, telling a syntax error (400) from a value that does not fit (422 with
/// every field's path).
pub fn parse_json<T: DeserializeOwned + ToSchema>(bytes: &[u8]) -> Result<T, ApiError> {
    from_value(parse_value(bytes)?)
}

/// Members whose text may hold line breaks and tabs.
const MULTI_LINE: [&str; 2] = ["description", "note"];
/// Members holding a password or secret: only NUL is refused there.
const SECRET: [&str; 4] = ["password", "current_password", "new_password", "client_secret"];

/// Refuses text that no store should keep (`text::has_forbidden`) anywhere in a JSON body, naming
/// every member that carries it. Only what the body sets is judged, so a merge patch never trips
/// over a value stored before the rule.
pub fn check_text(value: &Value) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    walk_text(value, "", None, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

fn walk_text(value: &Value, path: &str, key: Option<&str>, out: &mut Vec<FieldError>) {
    match value {
        Value::String(s) => {
            let allowed = match key {
                Some(k) if SECRET.contains(&k) => Allowed::Secret,
                Some(k) if MULTI_LINE.contains(&k) => Allowed::MultiLine,
                _ => Allowed::Line,
            };
            if text::has_forbidden(s, allowed) {
                out.push(FieldError::new(path, text::FORBIDDEN_CODE, text::forbidden_message(allowed)));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_text(item, &format!("{path}[{i}]"), key, out);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                if text::has_forbidden(name, Allowed::Line) {
                    out.push(FieldError::new(
                        path,
                        text::FORBIDDEN_CODE,
                        "a member's name must not contain control characters or bidirectional overrides",
                    ));
                    continue;
                }
                walk_text(member, &join_path(path, name), Some(name), out);
            }
        }
        _ => {}
    }
}

fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (_, true) => parent.to_string(),
        (true, false) => child.to_string(),
        (false, false) => format!("{parent}.{child}"),
    }
}

/// A JSON body of type `T` with its raw bytes. Accepts `application/json` and any `+json` type
/// (such as `application/merge-patch+json`).
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            match media_type(&req) {
                Some(m) if is_json(&m) => {}
                Some(m) => {
                    return Err(ApiError::UnsupportedMediaType(format!("expected application/json, got {m}").into()));
                }
                None => {
                    return Err(ApiError::UnsupportedMediaType("expected Content-Type: application/json".into()));
                }
            }
            JsonBody::parse(read_limited(&req, &mut payload).await?)
        })
    }
}

impl<T: DeserializeOwned + ToSchema> JsonBody<T> {
    /// A body already read, of a JSON media type, checked as the extractor checks it.
    pub fn parse(raw: Bytes) -> Result<Self, ApiError> {
        let parsed = parse_value(&raw)?;
        let refused = match check_text(&parsed) {
            Ok(()) => Vec::new(),
            Err(ApiError::Validation(errors)) => errors,
            Err(other) => return Err(other),
        };
        let value = from_bytes(&raw, &parsed, refused)?;
        Ok(JsonBody { value, raw })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, utoipa::ToSchema, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[derive(serde::Deserialize, utoipa::ToSchema, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        items: Vec<Inner>,
    }

    fn field_of(e: ApiError) -> (String, String) {
        match e {
            ApiError::Validation(v) => (v[0].field.clone(), v[0].code.clone()),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_wrong_type_names_the_json_path() {
        let e = parse_json::<Outer>(br#"{"name":"a","items":[{"count":1},{"count":"x"}]}"#).unwrap_err();
        assert_eq!(field_of(e), ("items[1].count".into(), "type".into()));
    }

    #[test]
    fn an_unknown_field_is_named() {
        let e = parse_json::<Outer>(br#"{"name":"a","items":[],"version":3}"#).unwrap_err();
        assert_eq!(field_of(e), ("version".into(), "unknown_field".into()));
    }

    #[test]
    fn a_missing_field_is_named() {
        let e = parse_json::<Outer>(br#"{"items":[{}]}"#).unwrap_err();
        assert_eq!(field_of(e), ("items[0].count".into(), "required".into()));
    }

    #[test]
    fn every_missing_field_is_named_at_once() {
        match parse_json::<Outer>(br#"{"items":[{}, {"count": "x"}]}"#).unwrap_err() {
            ApiError::Validation(v) => {
                let fields: Vec<&str> = v.iter().map(|e| e.field.as_str()).collect();
                assert_eq!(fields, ["items[0].count", "items[1].count", "name"]);
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn forbidden_text_is_named_wherever_it_is_and_passwords_refuse_only_nul() {
        let body = serde_json::json!({"name": "a\u{0}", "description": "line\nnext", "organisers": [{"full_name": "x\u{202e}"}],
                                      "password": "tab\there", "new_password": "nul\u{0}"});
        match check_text(&body).unwrap_err() {
            ApiError::Validation(v) => {
                let mut fields: Vec<&str> = v.iter().map(|e| e.field.as_str()).collect();
                fields.sort();
                assert_eq!(fields, ["name", "new_password", "organisers[0].full_name"]);
                assert!(v.iter().all(|e| e.code == "invalid_characters"));
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn broken_json_is_a_bad_request() {
        assert!(matches!(parse_json::<Outer>(br#"{"name": "#), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_json::<Outer>(b""), Err(ApiError::BadRequest(_))));
    }
}
