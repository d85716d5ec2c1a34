//! Audit routes: the filtered log and the chain's verification. Nothing here changes an entry.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Deserialize;
use utoipa::IntoParams;

use super::store::{self, AuditEntry, Filter, VerifyReport};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::doc::BadQuery;
use crate::http::page::{self, List, Page};
use crate::state::AppState;
use crate::time::parse_period;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// `department`, `account`, `client`, `event`, …
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    /// `ENTITY.VERB`, such as `department.update`.
    pub action: Option<String>,
    /// A date (local day, inclusive) or an RFC 3339 instant.
    pub from: Option<String>,
    /// A date (local day, inclusive) or an RFC 3339 instant (exclusive).
    pub to: Option<String>,
}

/// Read the audit log
///
/// Entries in chain order (`seq` ascending), filtered. The trail is read whole, by principals who
/// read the whole registry (admins, or anyone while it has no administration): one whose reach is
/// one administration's subtree gets 403.
#[utoipa::path(
    tag = "audit",
    operation_id = "list_audit_entries",
    params(List<AuditFilter>),
    responses(
        (status = 200, description = "A page of entries", body = Page<AuditEntry>),
        (status = 403, description = "Needs audit:read, and the whole registry within reach", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter breaks a rule", body = Problem, content_type = "application/problem+json"),
        BadQuery,
    ),
    security(("bearer" = ["audit:read"])),
)]
#[get("")]
pub async fn list(principal: Principal, query: List<AuditFilter>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AuditRead)?;
    principal.reach.require_all()?;
    let List { req, state, page: asked, filter: q } = query;
    let limit = page::limit(asked.limit)?;
    let (from, to) = parse_period(q.from.as_deref(), q.to.as_deref(), state.config.timezone)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err(ApiError::field("from", "order", "must not be after to"));
    }
    let filter = Filter {
        entity: q.entity,
        entity_id: q.entity_id,
        actor_id: q.actor_id,
        action: q.action,
        from,
        to,
        after_seq: asked.cursor.as_deref().map(page::decode_cursor).transpose()?,
    };
    let rows = state.store.run(move |conn| Ok(store::list(conn, &filter, limit + 1)?)).await?;
    let page = page::paginate(rows, limit, |r| r.seq, AuditEntry::from);
    Ok(page::respond(&req, &page))
}

/// Verify the audit chain
///
/// Walks every entry, recomputing each hash and link.
#[utoipa::path(
    tag = "audit",
    responses(
        (status = 200, description = "What the walk found", body = VerifyReport),
        (status = 403, description = "Needs audit:read, and the whole registry within reach", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["audit:read"])),
)]
#[get("/verify")]
pub async fn verify(state: Data<AppState>, principal: Principal) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AuditRead)?;
    principal.reach.require_all()?;
    let report = state.store.run(|conn| Ok(store::verify(conn)?)).await?;
    Ok(HttpResponse::Ok().json(report))
}
