//! Versions as ETags, and the `If-Match` precondition that `PATCH`, `DELETE` and attendance
//! require (RFC 9110: 428 without it, 412 when it names another version).

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::ApiError;

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
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

    pub fn parse(text: &str) -> Result<IfMatch, ApiError> {
        let text = text.trim();
        if text == "*" {
            return Ok(IfMatch::Any);
        }
        let mut versions = Vec::new();
        for tag in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            // A weak tag never matches under If-Match's strong comparison.
            if tag.starts_with("W/") {
                continue;
            }
            let inner = tag
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .ok_or_else(|| ApiError::bad_request("If-Match must hold quoted ETags such as \"3\""))?;
            if let Ok(v) = inner.parse() {
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
    }
}
