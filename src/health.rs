//! Liveness, readiness and metrics.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::metrics::{Metrics, check_access};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Process is up
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up", body = Health)), security(()))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Storage is reachable
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "The store answers", body = Health),
        (status = 503, description = "The store does not answer", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
#[get("/health/ready")]
pub async fn ready(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.store.run(|conn| conn.batch_execute("SELECT 1").map_err(|e| ApiError::Unavailable(e.to_string()))).await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok" }))
}

/// Prometheus metrics
///
/// With `ADAL_METRICS_TOKEN` set, a scrape presents it as `Authorization: Bearer <token>` (it is
/// not a JWT). Without it, only a loopback peer (the TCP peer, not `X-Forwarded-For`) is
/// answered. Labels are bounded: a non-standard method is `other`, a path matching no route
/// `unmatched`.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain"),
        (status = 401, description = "ADAL_METRICS_TOKEN is set and the request does not present it", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "ADAL_METRICS_TOKEN is unset and the peer is not loopback", body = Problem, content_type = "application/problem+json"),
    ),
    security(()),
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: Data<AppState>,
    metrics: Data<Metrics>,
) -> Result<HttpResponse, ApiError> {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    check_access(state.config.metrics_token.as_ref(), authorization, req.peer_addr().map(|a| a.ip()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(state.store.pool())))
}
