//! Liveness, readiness and metrics.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem};
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::metrics::{Metrics, PoolState, WebhookQueue};
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
    // The outbox is read from the store; while the store is down the rest still answers.
    let queue = state.store.run(|conn| Ok(crate::webhooks::store::queue(conn)?)).await.ok().map(|(pending, oldest)| {
        let oldest_age = oldest.map(|t| (crate::store::now() - t).to_std().unwrap_or_default()).unwrap_or_default();
        WebhookQueue { pending, oldest_age }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render(pool_state(state.store.pool()), queue)))
}

fn pool_state(pool: &crate::store::Pool) -> PoolState {
    let state = pool.state();
    PoolState { connections: state.connections, idle: state.idle_connections, max: pool.max_size() }
}

/// Who may scrape: with a token configured, whoever presents it; without one, only a loopback
/// peer. `peer` must be the TCP peer, never a forwarded address a client can write.
pub fn check_access(token: Option<&Secret>, authorization: Option<&str>, peer: Option<IpAddr>) -> Result<(), ApiError> {
    match token {
        Some(token) => {
            let presented = authorization.and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
            if equal_in_constant_time(presented.as_bytes(), token.expose()) {
                Ok(())
            } else {
                Err(ApiError::unauthorized("invalid_token", "the metrics need the metrics bearer token"))
            }
        }
        None if peer.is_some_and(|ip| ip.to_canonical().is_loopback()) => Ok(()),
        None => Err(ApiError::forbidden("the metrics answer loopback peers only unless ADAL_METRICS_TOKEN is set")),
    }
}

/// Compares digests, so neither the position of the first difference nor the token's length
/// shows in the time taken.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    Sha256::digest(a).ct_eq(&Sha256::digest(b)).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_token_only_loopback_peers_may_scrape() {
        let remote: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped_loopback: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(check_access(None, None, Some("127.0.0.1".parse().unwrap())).is_ok());
        assert!(check_access(None, None, Some("::1".parse().unwrap())).is_ok());
        assert!(check_access(None, None, Some(mapped_loopback)).is_ok());
        assert!(matches!(check_access(None, None, Some(remote)), Err(ApiError::Forbidden(_))));
        assert!(matches!(check_access(None, None, None), Err(ApiError::Forbidden(_))));
    }

    #[test]
    fn with_a_token_the_peer_does_not_matter_and_the_token_does() {
        let token = Secret::new(b"scrape-token-0123456789".to_vec());
        let remote: IpAddr = "203.0.113.7".parse().unwrap();
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(check_access(Some(&token), Some("Bearer scrape-token-0123456789"), Some(remote)).is_ok());
        for wrong in [None, Some("Bearer scrape-token-012345678"), Some("scrape-token-0123456789"), Some("Bearer ")] {
            assert!(matches!(check_access(Some(&token), wrong, Some(local)), Err(ApiError::Unauthorized { .. })));
        }
    }
}
