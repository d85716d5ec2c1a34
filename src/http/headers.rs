//! Response headers every answer owes the browser that may be reading it: `nosniff` everywhere,
//! `no-store` where a token, a secret or personal data is in the body, and a framing-proof
//! `Content-Security-Policy` on HTML pages. `HEAD` is answered as `GET` without the body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;

/// The policy of an HTML page that sets none of its own. The Swagger UI page loads only its own
/// scripts and styles, and its inline styles and `data:` images (the vendored bundle's icons).
pub const HTML_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Route templates whose answers hold a token, a secret or personal data, so no cache (a
/// browser's, a proxy's) may keep them: the token endpoint and the rest of `auth` (the caller's
/// account), accounts (people's names), clients (a create and a rotation return `client_secret`),
/// attendees and their erasure, and evidence (photos of people, and the names of their files). A
/// template, not a path, so an id in the path cannot dodge it.
const NO_STORE_ROUTES: [&str; 6] = [
    "/api/v1/auth/",
    "/api/v1/accounts",
    "/api/v1/clients",
    "/api/v1/attendees/",
    "/api/v1/events/{id}/attendees",
    "/api/v1/events/{id}/evidence",
];

/// Whether the answer on a route template must carry `Cache-Control: no-store`.
pub fn is_no_store(route: &str) -> bool {
    NO_STORE_ROUTES.iter().any(|prefix| route.starts_with(prefix))
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let no_store = res.request().match_pattern().is_some_and(|route| is_no_store(&route));
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    let headers = res.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if no_store {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if html {
        // A page that brings its own policy (the console) keeps it.
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(HTML_CSP));
        }
        if !headers.contains_key(header::X_FRAME_OPTIONS) {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
    }
    Ok(res)
}

/// Serves `HEAD` with the `GET` route: the same status and headers. The connection's codec saw
/// the request as `HEAD` before this runs and sends no body for it, so only the routing sees `GET`.
pub async fn head_as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_store_covers_secrets_and_people_and_not_the_rest() {
        for route in [
            "/api/v1/auth/token",
            "/api/v1/auth/me",
            "/api/v1/accounts",
            "/api/v1/accounts/{id}",
            "/api/v1/clients",
            "/api/v1/clients/{id}/secret",
            "/api/v1/attendees/erasure",
            "/api/v1/events/{id}/attendees",
            "/api/v1/events/{id}/attendees/{attendee_id}",
        ] {
            assert!(is_no_store(route), "{route}");
        }
        for route in ["/api/v1/events", "/api/v1/events/{id}", "/api/v1/departments", "/health/live", "/metrics"] {
            assert!(!is_no_store(route), "{route}");
        }
    }
}
