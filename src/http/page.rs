//! Keyset pagination: `limit` (1–200, default 50), an opaque `cursor` naming the last row seen, and
//! `{"items", "next_cursor"}` with a `Link: rel="next"` header when there is more.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::error::ApiError;

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The page size asked for: 422 outside 1–200.
pub fn limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::field("limit", "range", format!("must be 1 to {MAX_LIMIT}"))),
    }
}

/// Encodes the position after the last row of a page.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

/// Decodes a cursor; one that was not made here is a 400.
pub fn decode_cursor<K: DeserializeOwned>(cursor: &str) -> Result<K, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        // What a cursor decodes to reaches the store: its text must be text the registry accepts
        // (PostgreSQL refuses a NUL with an error), like any other text that enters.
        .filter(|value| !carries_forbidden(value))
        .and_then(|value| serde_json::from_value(value).ok())
        // 422, not 400: any string is a well-formed cursor; this one names no position we issued.
        .ok_or_else(|| ApiError::field("cursor", "unknown", "is not a cursor this list returned"))
}

fn carries_forbidden(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(s) => crate::text::has_forbidden(s, crate::text::Allowed::Line),
        serde_json::Value::Array(items) => items.iter().any(carries_forbidden),
        serde_json::Value::Object(members) => members.values().any(carries_forbidden),
        _ => false,
    }
}

/// The page a list request asks for: its size (`limit`) and, from `cursor`, the key it starts
/// after, checked in that order.
pub fn requested<K: DeserializeOwned>(limit: Option<i64>, cursor: Option<&str>) -> Result<(i64, Option<K>), ApiError> {
    Ok((self::limit(limit)?, cursor.map(decode_cursor).transpose()?))
}

/// Cuts a fetched `limit + 1` rows to a page, making the cursor from the last row kept.
pub fn paginate<R, T, K: Serialize>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> K,
    map: impl FnMut(R) -> T,
) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more { rows.last().map(|r| encode_cursor(&key(r))) } else { None };
    Page { items: rows.into_iter().map(map).collect(), next_cursor }
}

/// The 200 answer for a page, with `Link: <…>; rel="next"` when there is more.
pub fn respond<T: Serialize>(req: &HttpRequest, page: &Page<T>) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &page.next_cursor {
        let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        pairs.retain(|(k, _)| k != "cursor");
        pairs.push(("cursor".into(), cursor.clone()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        res.insert_header((header::LINK, format!("<{}?{}>; rel=\"next\"", req.path(), query)));
    }
    res.json(page)
}
