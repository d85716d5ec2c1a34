//! Department routes: list and read for any principal; create, change and deactivate for admins.

use crate::http::query::Query;
use actix_web::web::{Data, Path};
use actix_web::{HttpRequest, HttpResponse, get, patch, post};
use serde::Deserialize;
use utoipa::IntoParams;

use super::domain;
use super::model::{DepartmentCreate, DepartmentPatch, DepartmentResponse};
use super::store;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::http::doc::{
    BadQuery, BodyTooLarge, InvalidFields, JsonBodyRefusals, NeedsAdmin, NoSuchDepartment, ParamOutOfRange,
    Preconditioned,
};
use crate::http::etag::read_one;
use crate::http::merge_patch::MergePatch;
use crate::http::page::{self, Page};
use crate::http::write::{JsonWrite, Outcome};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1–200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Only active (or only inactive) departments.
    pub active: Option<bool>,
    /// The children of this department.
    pub parent_id: Option<String>,
    /// This department and everything below it (its whole subtree).
    pub ancestor_id: Option<String>,
}

/// List departments
///
/// The departments within the caller's reach (the subtree of its department's nearest
/// `administration`; everything for admins, and for everyone while the registry has no
/// administration), ordered by `code`.
#[utoipa::path(
    tag = "departments",
    operation_id = "list_departments",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of departments", body = Page<DepartmentResponse>),
        BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = [])),
)]
#[get("")]
pub async fn list(
    req: HttpRequest,
    state: Data<AppState>,
    principal: Principal,
    query: Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let (limit, after): (i64, Option<String>) = page::requested(q.limit, q.cursor.as_deref())?;
    let filter = store::Filter {
        active: q.active,
        parent_id: q.parent_id,
        ancestor_id: q.ancestor_id,
        within: principal.reach.root().map(str::to_string),
    };
    let rows = state.store.run(move |conn| Ok(store::list(conn, &filter, after.as_deref(), limit + 1)?)).await?;
    let page = page::paginate(rows, limit, |r| r.code.clone(), DepartmentResponse::from);
    Ok(page::respond(&req, &page))
}

/// Read a department
///
/// Within the caller's reach; 404 outside it.
#[utoipa::path(
    tag = "departments",
    operation_id = "read_department",
    params(("id" = String, Path, description = "Department id")),
    responses(
        (status = 200, description = "The department", body = DepartmentResponse, headers(("ETag" = String, description = "The version"))),
        NoSuchDepartment,
    ),
    security(("bearer" = [])),
)]
#[get("/{id}")]
pub async fn read(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    read_one::<_, DepartmentResponse>(&state.store, move |conn| {
        principal.reach.require_any(conn, &[&id])?;
        Ok(store::find(conn, &id)?)
    })
    .await
}

/// Create a department
///
/// Under `parent_id` (at most 6 levels: 422 `parent_id` `depth`), as a `unit` unless `kind` says
/// `administration` (an akimat, whose principals read its subtree).
#[utoipa::path(
    tag = "departments",
    operation_id = "create_department",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request replays the first answer")),
    request_body(content = DepartmentCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = DepartmentResponse,
            headers(("Location" = String, description = "The new department"), ("ETag" = String, description = "The version"))),
        (status = 409, description = "The code is taken, or a retry races its original", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or the key reused for another request", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefusals, NeedsAdmin, BodyTooLarge,
    ),
    security(("bearer" = ["admin"])),
)]
#[post("")]
pub async fn create(principal: Principal, new: JsonWrite<DepartmentCreate>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let input = new.body.value.normalised()?;
    new.write
        .perform(principal.actor(), &new.body.raw, move |tx| {
            let d = domain::create(tx, &input)?;
            Ok(Outcome::created(format!("/api/v1/departments/{}", d.id), d.version, &d))
        })
        .await
}

/// Change or deactivate a department
///
/// JSON Merge Patch (RFC 7386) of `code`, `name_kk`, `name_ru`, `name_en`, `kind`, `parent_id`
/// and `active` (`{"active": false}` deactivates). A new `parent_id` moves the department with
/// everything below it (audited as `department.move`); at most 6 levels, never under itself (422
/// `parent_id`, `depth` or `cycle`). Requires `If-Match` with the current ETag.
#[utoipa::path(
    tag = "departments",
    operation_id = "update_department",
    params(
        ("id" = String, Path, description = "Department id"),
        Preconditioned,
    ),
    request_body(content = DepartmentPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = DepartmentResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "The code is taken, or a retry races its original", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The department changed since it was read", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match is missing", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefusals, NeedsAdmin, InvalidFields, NoSuchDepartment,
    ),
    security(("bearer" = ["admin"])),
)]
#[patch("/{id}")]
pub async fn update(principal: Principal, change: MergePatch) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let if_match = change.precondition()?;
    change.perform(principal.actor(), if_match, |tx, id, if_match, patch| domain::update(tx, id, if_match, patch)).await
}
