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
    let route = res.request().match_pattern().unwrap_or_else(|| "(unmatched)".to_string());
    let elapsed = started.elapsed();
    if let Some(m) = metrics {
        m.observe_request(method.as_str(), &route, status.as_u16(), elapsed);
    }
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status = status.as_u16(),
            ms = elapsed.as_secs_f64() * 1000.0,
            "served"
        )
    });
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    Ok(res)
}
