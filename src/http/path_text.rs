//! Path segments are text entering the registry too: a path whose decoded form carries NUL, another
//! control character or a bidirectional override names no record, so it is a 404 before any
//! handler or store sees it (PostgreSQL would refuse the NUL with an error, SQLite would look it up).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use percent_encoding::percent_decode_str;

use crate::error::ApiError;
use crate::text::{self, Allowed};

/// Whether a request path, once percent-decoded, is text the registry accepts.
pub fn acceptable(path: &str) -> bool {
    match percent_decode_str(path).decode_utf8() {
        Ok(decoded) => !text::has_forbidden(&decoded, Allowed::Line),
        Err(_) => false,
    }
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !acceptable(req.path()) {
        return Ok(req.error_response(ApiError::NotFound).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn a_path_with_an_encoded_control_or_bidi_character_is_not_acceptable() {
        assert!(acceptable("/api/v1/events/0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e"));
        assert!(acceptable("/api/v1/events/%D2%9B"));
        assert!(!acceptable("/api/v1/events/abc%00"));
        assert!(!acceptable("/api/v1/events/%0Aabc"));
        assert!(!acceptable("/api/v1/departments/x%E2%80%AE"));
        assert!(!acceptable("/api/v1/events/%FF"));
    }
}
