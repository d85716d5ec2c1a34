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

use crate::error::{ApiError, FieldError};

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

fn is_json(media: &str) -> bool {
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// Reads the whole body, refusing it past the configured limit.
pub async fn read_limited(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, ApiError> {
    let limit = req.app_data::<BodyLimit>().map(|l| l.0).unwrap_or(1 << 20);
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request(format!("the body could not be read: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON into `T`, telling a syntax error (400) from a value that does not fit (422 with
/// the field's path).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the body is empty; a JSON object is expected"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    let field = if path == "." { String::new() } else { path };
                    let message = strip_position(&inner.to_string());
                    let code = if message.starts_with("unknown field") {
                        "unknown_field"
                    } else if message.starts_with("missing field") {
                        "required"
                    } else {
                        "type"
                    };
                    // For a missing field the path names its parent; for an unknown one, itself.
                    let field = if code == "required" {
                        join_path(&field, message.split('`').nth(1).unwrap_or(""))
                    } else {
                        field
                    };
                    Err(ApiError::Validation(vec![FieldError::new(field, code, message)]))
                }
                _ => Err(ApiError::bad_request(format!("the body is not valid JSON: {inner}"))),
            }
        }
    }
}

fn join_path(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (_, true) => parent.to_string(),
        (true, false) => child.to_string(),
        (false, false) => format!("{parent}.{child}"),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// A JSON body of type `T` with its raw bytes. Accepts `application/json` and any `+json` type
/// (such as `application/merge-patch+json`).
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
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
            let raw = read_limited(&req, &mut payload).await?;
            let value = parse_json(&raw)?;
            Ok(JsonBody { value, raw })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[derive(serde::Deserialize, Debug)]
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
    fn broken_json_is_a_bad_request() {
        assert!(matches!(parse_json::<Outer>(br#"{"name": "#), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse_json::<Outer>(b""), Err(ApiError::BadRequest(_))));
    }
}
