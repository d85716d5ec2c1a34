//! Versions as ETags (and the reads answered with one), and the `If-Match` precondition that
//! `PATCH`, `DELETE` and attendance require (RFC 9110: 428 without it, 412 when it names another
//! version).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use crate::error::ApiError;
use crate::store::{DbConnection, Store};
use crate::version::Versioned;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// The 200 answering a record as it is, its version the ETag.
pub fn tagged(record: &impl Versioned) -> HttpResponse {
    HttpResponse::Ok().insert_header(("etag", etag(record.version()))).json(record)
}

/// The `GET` of one record: the row `find` reads, answered as `T` with its version as the ETag;
/// 404 when it finds none.
pub async fn read_one<R, T>(
    store: &Store,
    find: impl FnOnce(&mut DbConnection) -> Result<Option<R>, ApiError> + Send + 'static,
) -> Result<HttpResponse, ApiError>
where
    R: Send + 'static,
    T: From<R> + Versioned,
{
    let row = store.run(move |conn| find(conn)?.ok_or(ApiError::NotFound)).await?;
    Ok(tagged(&T::from(row)))
}

/// What the client's `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Versions(Vec<i64>),
}

impl IfMatch {
    /// Reads `If-Match`; missing is a 428, unreadable is a 400.
    pub fn required(req: &HttpRequest) -> Result<IfMatch, ApiError> {
        let Some(value) = req.headers().get(header::IF_MATCH) else {
            return Err(ApiError::PreconditionRequired);
        };
        let text = value.to_str().map_err(|_| ApiError::bad_request("If-Match is not ASCII"))?;
        Self::parse(text)
    }

    /// Parses `*` or a comma-separated list of entity tags (RFC 9110 §8.8.3). A tag is read up to
    /// its closing quote, since a comma may sit inside one (`"a,b"`).
    pub fn parse(text: &str) -> Result<IfMatch, ApiError> {
        let bad = || ApiError::bad_request("If-Match must hold quoted ETags such as \"3\"");
        let text = text.trim_matches([' ', '\t']);
        if text == "*" {
            return Ok(IfMatch::Any);
        }
        let mut versions = Vec::new();
        let mut rest = text;
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let (weak, tagged) = match rest.strip_prefix("W/") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let inner_and_rest = tagged.strip_prefix('"').ok_or_else(bad)?;
            let close = inner_and_rest.find('"').ok_or_else(bad)?;
            let inner = &inner_and_rest[..close];
            rest = &inner_and_rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with([' ', '\t', ',']) {
                return Err(bad());
            }
            // A weak tag never matches under If-Match's strong comparison.
            if !weak && let Ok(v) = inner.parse() {
                versions.push(v);
            }
        }
        Ok(IfMatch::Versions(versions))
    }

    /// 412 unless the record's current version is one the client named.
    pub fn check(&self, current: i64) -> Result<(), ApiError> {
        match self {
            IfMatch::Any => Ok(()),
            IfMatch::Versions(v) if v.contains(&current) => Ok(()),
            IfMatch::Versions(_) => Err(ApiError::PreconditionFailed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_accepts_a_list_and_the_star() {
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
        assert_eq!(IfMatch::parse("\"2\", \"3\"").unwrap(), IfMatch::Versions(vec![2, 3]));
        assert!(IfMatch::parse("\"3\"").unwrap().check(3).is_ok());
        assert!(matches!(IfMatch::parse("\"2\"").unwrap().check(3), Err(ApiError::PreconditionFailed)));
        assert!(matches!(IfMatch::parse("W/\"3\"").unwrap().check(3), Err(ApiError::PreconditionFailed)));
        assert!(matches!(IfMatch::parse("3"), Err(ApiError::BadRequest(_))));
        assert!(matches!(IfMatch::parse("W/3"), Err(ApiError::BadRequest(_))));
        assert!(matches!(IfMatch::parse("\"3\"x"), Err(ApiError::BadRequest(_))));
    }

    #[test]
    fn a_comma_inside_an_etag_does_not_split_it() {
        assert_eq!(IfMatch::parse("\"a,b\", \"4\"").unwrap(), IfMatch::Versions(vec![4]));
        assert_eq!(IfMatch::parse("W/\"x, y\" ,\"\",\"5\"").unwrap(), IfMatch::Versions(vec![5]));
    }
}
