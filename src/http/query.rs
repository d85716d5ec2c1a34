//! Query strings, read as `actix_web::web::Query` would but with errors a person can act on: the
//! parameter is named, a missing one is said to be required, an enum's allowed values are listed,
//! and text that no store should keep (NUL, control characters, bidirectional overrides) is refused
//! before any handler sees it (422 naming the parameter: it parses, and breaks a rule).

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::{Ready, ready};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::http::explain;
use crate::text::{self, Allowed};

/// A parsed query string.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()).map(Query))
    }
}

/// Parses a query string into `T`.
pub fn parse<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if text::has_forbidden(&name, Allowed::Line) {
            return Err(ApiError::bad_request(format!(
                "a query parameter's name {}",
                text::forbidden_message(Allowed::Line)
            )));
        }
        // 422, not 400: the parameter parses, its text breaks a rule (as for a body's member).
        if text::has_forbidden(&value, Allowed::Line) {
            return Err(ApiError::field(
                name.into_owned(),
                text::FORBIDDEN_CODE,
                text::forbidden_message(Allowed::Line),
            ));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize::<_, T>(de).map_err(|e| {
        let name = e.path().to_string();
        let message = e.into_inner().to_string();
        if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            return ApiError::bad_request(format!("the query parameter {missing} is required"));
        }
        if let Some(rest) = message.strip_prefix("unknown variant `")
            && let Some((_, allowed)) = rest.split_once(", expected ")
        {
            // serde says "one of `a`, `b`, `c`", "`a` or `b`" or "`a`".
            let allowed = allowed.trim_start_matches("one of ").replace(" or ", ", ").replace('`', "");
            return ApiError::bad_request(format!("the query parameter {name} must be one of: {allowed}"));
        }
        if message.contains("invalid digit") || message.contains("cannot parse integer") {
            return ApiError::bad_request(format!("the query parameter {name} must be a whole number"));
        }
        if message.contains("provided string was not `true` or `false`") {
            return ApiError::bad_request(format!("the query parameter {name} must be true or false"));
        }
        ApiError::bad_request(format!("the query parameter {name} does not parse: {}", explain::humanize(&message)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(rename_all = "snake_case")]
    #[allow(dead_code)]
    enum Format {
        Json,
        Csv,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Q {
        plan_id: String,
        format: Option<Format>,
        limit: Option<u32>,
    }

    fn detail(e: ApiError) -> String {
        match e {
            ApiError::BadRequest(d) => d.to_string(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn each_kind_of_bad_parameter_is_named_in_words() {
        assert_eq!(detail(parse::<Q>("format=csv").unwrap_err()), "the query parameter plan_id is required");
        assert_eq!(
            detail(parse::<Q>("plan_id=x&format=pdf").unwrap_err()),
            "the query parameter format must be one of: json, csv"
        );
        assert_eq!(
            detail(parse::<Q>("plan_id=x&limit=ten").unwrap_err()),
            "the query parameter limit must be a whole number"
        );
        for bad in ["plan_id=%00abc", "plan_id=a%E2%80%AEb"] {
            match parse::<Q>(bad).unwrap_err() {
                ApiError::Validation(v) => {
                    assert_eq!((v[0].field.as_str(), v[0].code.as_str()), ("plan_id", "invalid_characters"))
                }
                other => panic!("expected a 422, got {other:?}"),
            }
        }
        assert!(parse::<Q>("plan_id=%D2%9B%D0%B0%D0%B7%D0%B0%D2%9B&format=json").is_ok());
    }
}
