//! Liveness, readiness and metrics.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use crate::metrics::Metrics;
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
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition", body = String, content_type = "text/plain")),
    security(()),
)]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>, metrics: Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(metrics.render(state.store.pool()))
}
