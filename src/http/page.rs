//! Keyset pagination: `limit` (1–200, default 50), an opaque `cursor` naming the last row seen, and
//! `{"items", "next_cursor"}` with a `Link: rel="next"` header when there is more. A list route
//! takes [`List`], its page and its own filters, and answers with [`List::answer`].

use std::fmt;
use std::marker::PhantomData;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::{Ready, ready};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, ToSchema};

use crate::error::ApiError;
use crate::http::query;
use crate::state::AppState;
use crate::store::DbConnection;

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

/// The page a list's query string asks for: `limit` and `cursor`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// [`requested`]: the page size, then the key the page starts after.
    pub fn requested<K: DeserializeOwned>(&self) -> Result<(i64, Option<K>), ApiError> {
        requested(self.limit, self.cursor.as_deref())
    }
}

/// The filters of a list that has none besides its page.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Unfiltered {}

/// A list request: the page its query string asks for, the list's own filters `F` from the same
/// query string, the request, which the answer's `Link` is made from, and the application's state.
/// The query string is read in one pass, as one struct holding `limit`, `cursor` and `F`'s fields
/// would be (the first parameter that does not parse is the one named); the document lists
/// `limit` and `cursor` first, then `F`'s parameters.
pub struct List<F> {
    pub req: HttpRequest,
    pub state: Data<AppState>,
    pub page: PageQuery,
    pub filter: F,
}

impl<F> List<F> {
    /// Answers one page: the page asked for is checked, then `fetch` reads, with the filters, at
    /// most `limit` rows after the cursor's key (it is given `limit + 1`, so a row more tells there
    /// is a next page), and each row kept is answered as `map` makes it, the next cursor being the
    /// last one's `key`.
    pub async fn answer<K, R, T>(
        self,
        fetch: impl FnOnce(&mut DbConnection, F, Option<K>, i64) -> Result<Vec<R>, ApiError> + Send + 'static,
        key: impl Fn(&R) -> K,
        map: impl FnMut(R) -> T,
    ) -> Result<HttpResponse, ApiError>
    where
        F: Send + 'static,
        K: Serialize + DeserializeOwned + Send + 'static,
        R: Send + 'static,
        T: Serialize,
    {
        let List { req, state, page, filter } = self;
        let (limit, after) = page.requested()?;
        let rows = state.store.run(move |conn| fetch(conn, filter, after, limit + 1)).await?;
        Ok(respond(&req, &paginate(rows, limit, key, map)))
    }
}

impl<F: DeserializeOwned> FromRequest for List<F> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state =
            req.app_data::<Data<AppState>>().cloned().expect("the application state is registered in startup.rs");
        let parsed = query::parse::<Paged<F>>(req.query_string());
        ready(parsed.map(|Paged(page, filter)| List { req: req.clone(), state, page, filter }))
    }
}

impl<F: IntoParams> IntoParams for List<F> {
    fn into_params(parameter_in_provider: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = PageQuery::into_params(&parameter_in_provider);
        params.extend(F::into_params(parameter_in_provider));
        params
    }
}

/// A query string read as the page and the filters `F`: `limit` and `cursor` are taken as they
/// come, every other parameter goes to `F` (so `F`'s fields keep their types and their errors).
struct Paged<F>(PageQuery, F);

impl<'de, F: Deserialize<'de>> Deserialize<'de> for Paged<F> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(PagedVisitor(PhantomData))
    }
}

struct PagedVisitor<F>(PhantomData<F>);

impl<'de, F: Deserialize<'de>> Visitor<'de> for PagedVisitor<F> {
    type Value = Paged<F>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("query parameters")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Paged<F>, A::Error> {
        let mut taker = PageTaker { map, limit: None, cursor: None };
        let filter = F::deserialize(MapAccessDeserializer::new(&mut taker))?;
        Ok(Paged(PageQuery { limit: taker.limit.flatten(), cursor: taker.cursor.flatten() }, filter))
    }
}

/// The parameters of a query string, less `limit` and `cursor`, which it keeps.
struct PageTaker<A> {
    map: A,
    limit: Option<Option<i64>>,
    cursor: Option<Option<String>>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for PageTaker<A> {
    type Error = A::Error;

    fn next_key_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, A::Error> {
        while let Some(name) = self.map.next_key::<String>()? {
            // As a derived struct does: a repeated parameter is refused before its value is read.
            match name.as_str() {
                "limit" if self.limit.is_some() => return Err(de::Error::duplicate_field("limit")),
                "cursor" if self.cursor.is_some() => return Err(de::Error::duplicate_field("cursor")),
                "limit" => self.limit = Some(self.map.next_value()?),
                "cursor" => self.cursor = Some(self.map.next_value()?),
                _ => return seed.deserialize(name.into_deserializer()).map(Some),
            }
        }
        Ok(None)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    enum Colour {
        #[serde(rename = "red")]
        Red,
        #[serde(rename = "blue")]
        Blue,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Filter {
        active: Option<bool>,
        colour: Option<Colour>,
        year: Option<i32>,
        name: Option<String>,
    }

    /// The same fields in one struct, as list queries were read before the page was shared.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Whole {
        limit: Option<i64>,
        cursor: Option<String>,
        active: Option<bool>,
        colour: Option<Colour>,
        year: Option<i32>,
        name: Option<String>,
    }

    #[test]
    fn a_page_and_its_filters_read_as_one_struct_would() {
        for q in [
            "",
            "limit=5",
            "limit=5&cursor=abc&active=true&colour=red&year=2024&name=x",
            "name=x&limit=10&cursor=c&other=1",
            "limit=ten",
            "limit=",
            "limit=1&limit=2",
            "cursor=a&cursor=b",
            "year=x&limit=ten",
            "limit=ten&year=x",
            "colour=green&active=maybe",
            "active=maybe&limit=5",
            "active=true&active=false",
            "limit=99999999999999999999",
            "unknown=1&cursor=%E2%80%AE",
            "year=2024&year=2025&limit=1",
        ] {
            let whole = query::parse::<Whole>(q).map(|w| {
                format!("{:?} {:?} {:?} {:?} {:?} {:?}", w.limit, w.cursor, w.active, w.colour, w.year, w.name)
            });
            let paged = query::parse::<Paged<Filter>>(q).map(|Paged(p, f)| {
                format!("{:?} {:?} {:?} {:?} {:?} {:?}", p.limit, p.cursor, f.active, f.colour, f.year, f.name)
            });
            assert_eq!(format!("{paged:?}"), format!("{whole:?}"), "for {q:?}");
        }
    }
}
