//! Plan and plan item routes: read with `events:read`, manage with `plans:write` (coordinators and
//! admins).

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::domain;
use super::model::{ItemInput, ItemPatch, ItemResponse, PlanInput, PlanPatch, PlanResponse};
use super::store::{self, ItemRow};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::body::JsonBody;
use crate::http::doc::{
    BadQuery, IfMatchRefusals, InvalidFields, JsonBodyRefusals, NeedsEventsRead, NeedsPlansWrite, NoSuchPlan,
    NoSuchPlanItem, ParamOutOfRange, Preconditioned, RetryRace,
};
use crate::http::etag::{IfMatch, tagged};
use crate::http::merge_patch::MergePatch;
use crate::http::page::{self, List, Page};
use crate::http::write::{JsonWrite, Outcome, WriteRequest};
use crate::state::AppState;

const PROBLEM: &str = "application/problem+json";

/// Today in the registry's time zone: the day an item's due date is compared with.
pub fn today(state: &AppState) -> NaiveDate {
    Utc::now().with_timezone(&state.config.timezone).date_naive()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanFilter {
    pub year: Option<i32>,
    pub department_id: Option<String>,
}

/// List plans
///
/// The plans of departments within the caller's reach, and of the administrations above it
/// (whose lines its departments carry).
#[utoipa::path(
    tag = "plans",
    operation_id = "list_plans",
    params(List<PlanFilter>),
    responses(
        (status = 200, description = "A page of plans, by year", body = Page<PlanResponse>),
        NeedsEventsRead, BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("")]
pub async fn list(principal: Principal, query: List<PlanFilter>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    query
        .answer(
            move |conn, q, after: Option<(i32, String)>, n| {
                let within = principal.reach.root();
                Ok(store::list_plans(conn, q.year, q.department_id.as_deref(), within, after, n)?)
            },
            |r| (r.year, r.id.clone()),
            PlanResponse::from,
        )
        .await
}

/// Read a plan
#[utoipa::path(
    tag = "plans",
    operation_id = "read_plan",
    params(("id" = String, Path, description = "Plan id")),
    responses(
        (status = 200, description = "The plan", body = PlanResponse, headers(("ETag" = String, description = "The version"))),
        NeedsEventsRead, NoSuchPlan,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("/{id}")]
pub async fn read(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    let id = id.into_inner();
    let row = state.store.run(move |conn| domain::visible_plan(conn, &principal.reach, &id)).await?;
    Ok(tagged(&PlanResponse::from(row)))
}

/// Create a plan
///
/// The owning department defaults to the caller's.
#[utoipa::path(
    tag = "plans",
    operation_id = "create_plan",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = PlanInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = PlanResponse,
            headers(("Location" = String, description = "The new plan"), ("ETag" = String, description = "The version"))),
        JsonBodyRefusals, NeedsPlansWrite, RetryRace, InvalidFields,
    ),
    security(("bearer" = ["plans:write"])),
)]
#[post("")]
pub async fn create(principal: Principal, new: JsonWrite<PlanInput>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PlansWrite)?;
    let input = new.body.value.normalised()?;
    let department = input.department_id.clone().unwrap_or_else(|| principal.department_id.clone());
    new.write
        .perform(principal.actor(), &new.body.raw, move |tx| {
            let plan = domain::create(tx, &principal.reach, &input, &department)?;
            Ok(Outcome::created(format!("/api/v1/plans/{}", plan.id), plan.version, &plan))
        })
        .await
}

/// Change a plan
#[utoipa::path(
    tag = "plans",
    operation_id = "update_plan",
    params(
        ("id" = String, Path, description = "Plan id"),
        Preconditioned,
    ),
    request_body(content = PlanPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = PlanResponse, headers(("ETag" = String, description = "The new version"))),
        JsonBodyRefusals, IfMatchRefusals, NeedsPlansWrite, InvalidFields, NoSuchPlan,
    ),
    security(("bearer" = ["plans:write"])),
)]
#[patch("/{id}")]
pub async fn update(principal: Principal, change: MergePatch) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PlansWrite)?;
    let if_match = change.precondition()?;
    let actor = principal.actor();
    change
        .perform(actor, if_match, move |tx, id, if_match, patch| {
            domain::update(tx, &principal.reach, id, if_match, patch)
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// Only items this department is responsible for.
    pub responsible_department_id: Option<String>,
}

/// List a plan's items
///
/// In number order (`1.2` before `1.10`), each with its progress and derived status.
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, description = "Plan id"), List<ItemFilter>),
    responses(
        (status = 200, description = "A page of items", body = Page<ItemResponse>),
        NeedsEventsRead, BadQuery, NoSuchPlan, ParamOutOfRange,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("/{id}/items")]
pub async fn list_items(
    principal: Principal,
    id: Path<String>,
    query: List<ItemFilter>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    let List { req, state, page: asked, filter: q } = query;
    // Items are few per plan and ordered by their numbers, so the cursor is a position.
    let (limit, offset) = asked.requested::<usize>()?;
    let offset = offset.unwrap_or(0);
    let id = id.into_inner();
    let today = today(&state);
    let (items, total) = state
        .store
        .run(move |conn| {
            domain::visible_plan(conn, &principal.reach, &id)?;
            let mut rows = store::items_of(conn, &id, q.responsible_department_id.as_deref())?;
            if let Some(root) = principal.reach.root() {
                // A plan from above shows the lines of departments within reach, and their progress.
                let within: std::collections::HashSet<String> =
                    crate::departments::store::subtree_with_depth(conn, root)?.into_iter().map(|(d, _)| d).collect();
                rows.retain(|r| within.contains(&r.responsible_department_id));
            }
            let total = rows.len();
            let rows: Vec<ItemRow> = rows.into_iter().skip(offset).take(limit as usize).collect();
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let progress = store::progress(conn, &ids, store::all_time())?;
            let items = rows
                .into_iter()
                .map(|r| {
                    let (held, participants) = progress.get(&r.id).copied().unwrap_or((0, 0));
                    ItemResponse::new(r, held, participants, today)
                })
                .collect::<Vec<_>>();
            Ok((items, total))
        })
        .await?;
    let next = offset + items.len();
    let page = Page { items, next_cursor: (next < total).then(|| page::encode_cursor(&next)) };
    Ok(page::respond(&req, &page))
}

/// Read a plan item
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, description = "Plan id"), ("item_id" = String, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item with its progress", body = ItemResponse, headers(("ETag" = String, description = "The version"))),
        NeedsEventsRead, NoSuchPlanItem,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("/{id}/items/{item_id}")]
pub async fn read_item(
    state: Data<AppState>,
    principal: Principal,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    let (plan_id, item_id) = path.into_inner();
    let today = today(&state);
    let item = state
        .store
        .run(move |conn| {
            domain::visible_plan(conn, &principal.reach, &plan_id)?;
            let row = store::find_item(conn, &plan_id, &item_id)?.ok_or(ApiError::NotFound)?;
            principal.reach.require_any(conn, &[&row.responsible_department_id])?;
            domain::item_response(conn, row, today)
        })
        .await?;
    Ok(tagged(&item))
}

/// Add an item to a plan
#[utoipa::path(
    tag = "plans",
    params(("id" = String, Path, description = "Plan id"), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = ItemInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ItemResponse,
            headers(("Location" = String, description = "The new item"), ("ETag" = String, description = "The version"))),
        (status = 409, description = "The number is taken in this plan", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, NeedsPlansWrite, InvalidFields, NoSuchPlan,
    ),
    security(("bearer" = ["plans:write"])),
)]
#[post("/{id}/items")]
pub async fn create_item(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
    body: JsonBody<ItemInput>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PlansWrite)?;
    let input = body.value.normalised()?;
    let plan_id = id.into_inner();
    let today = today(&write.state);
    write
        .perform(principal.actor(), &body.raw, move |tx| {
            let item = domain::create_item(tx, &principal.reach, &plan_id, &input, today)?;
            Ok(Outcome::created(format!("/api/v1/plans/{plan_id}/items/{}", item.id), item.version, &item))
        })
        .await
}

/// Change a plan item
#[utoipa::path(
    tag = "plans",
    params(
        ("id" = String, Path, description = "Plan id"),
        ("item_id" = String, Path, description = "Item id"),
        Preconditioned,
    ),
    request_body(content = ItemPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ItemResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "The number is taken in this plan", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, IfMatchRefusals, NeedsPlansWrite, InvalidFields, NoSuchPlanItem,
    ),
    security(("bearer" = ["plans:write"])),
)]
#[patch("/{id}/items/{item_id}")]
pub async fn update_item(principal: Principal, change: MergePatch<(String, String)>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PlansWrite)?;
    let if_match = change.precondition()?;
    let today = today(&change.write.state);
    let actor = principal.actor();
    change
        .perform(actor, if_match, move |tx, (plan_id, item_id), if_match, patch| {
            domain::update_item(tx, &principal.reach, (plan_id.as_str(), item_id.as_str()), if_match, patch, today)
        })
        .await
}

/// Remove a plan item
///
/// Only an item no event links to (409 otherwise: unlink the events first).
#[utoipa::path(
    tag = "plans",
    params(
        ("id" = String, Path, description = "Plan id"),
        ("item_id" = String, Path, description = "Item id"),
        Preconditioned,
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "Events link to the item", body = Problem, content_type = PROBLEM),
        IfMatchRefusals, NeedsPlansWrite, NoSuchPlanItem,
    ),
    security(("bearer" = ["plans:write"])),
)]
#[delete("/{id}/items/{item_id}")]
pub async fn delete_item(
    principal: Principal,
    write: WriteRequest,
    path: Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::PlansWrite)?;
    let if_match = IfMatch::required(&write.req)?;
    let (plan_id, item_id) = path.into_inner();
    let today = today(&write.state);
    write
        .perform(principal.actor(), b"", move |tx| {
            domain::delete_item(tx, &principal.reach, (&plan_id, &item_id), &if_match, today)?;
            Ok(Outcome::no_content())
        })
        .await
}
