//! The per-request context: the request id (echoed from `X-Request-Id` or made here), the path for
//! problem `instance`, a tracing span around the whole request, and the one access log line.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestCtx {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CTX: RequestCtx;
}

/// The current request's context, when called while serving one.
pub fn current() -> Option<RequestCtx> {
    CTX.try_with(Clone::clone).ok()
}

/// The current request id, or an empty string outside a request.
pub fn request_id() -> String {
    current().map(|c| c.request_id).unwrap_or_default()
}

fn acceptable_client_id(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Milliseconds to two decimals: finer is noise, and the raw float prints as
/// `0.09137100000000001`. Dividing a whole number by 100 gives the double nearest to it, which
/// prints with at most two decimals.
fn round_ms(elapsed: std::time::Duration) -> f64 {
    (elapsed.as_secs_f64() * 100_000.0).round() / 100.0
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_client_id(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ctx = RequestCtx { request_id: request_id.clone(), path: req.path().to_string() };
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %request_id);
    let metrics = req.app_data::<actix_web::web::Data<crate::metrics::Metrics>>().cloned();

    let result = CTX.scope(ctx, next.call(req)).instrument(span.clone()).await;
    let mut res = result?;
    let status = res.status();
    let route = res.request().match_pattern().unwrap_or_else(|| crate::metrics::UNMATCHED_ROUTE.to_string());
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe_request(crate::metrics::method_label(&method), &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = status.as_u16(),
            ms = round_ms(elapsed),
            "served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn durations_are_logged_to_two_decimals() {
        assert_eq!(super::round_ms(Duration::from_nanos(91_371)).to_string(), "0.09");
        assert_eq!(super::round_ms(Duration::from_nanos(1_004_409_901)).to_string(), "1004.41");
        assert_eq!(super::round_ms(Duration::from_micros(290)).to_string(), "0.29");
    }
}
