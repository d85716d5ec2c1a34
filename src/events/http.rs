//! Event routes: list, read, create, change, delete and record attendance.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::domain;
use super::model::{
    Attendance, Audience, DeletedEvent, EventInput, EventKind, EventListItem, EventPatch, EventResponse, EventStatus,
    Flag, VerificationInput, VerificationStatus,
};
use super::store::{self, Filter, Sort};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, Problem};
use crate::http::body::JsonBody;
use crate::http::doc::{
    BadQuery, BodyTooLarge, IfMatchRefusals, JsonBodyRefusals, NeedsEventsRead, NoSuchEvent, Preconditioned, RetryRace,
};
use crate::http::etag::{IfMatch, tagged};
use crate::http::merge_patch::MergePatch;
use crate::http::page::{self, List, Page};
use crate::http::write::{JsonWrite, Outcome, WriteRequest};
use crate::state::AppState;
use crate::store::to_utc;
use crate::time::parse_period;

fn location(id: &str) -> String {
    format!("/api/v1/events/{id}")
}

const PROBLEM: &str = "application/problem+json";

/// Create an event
///
/// The lead department defaults to the caller's; only an admin may name another. A create may
/// carry `attendance` for an event that has already started, so a past event is logged in one
/// request; it is then `held`.
#[utoipa::path(
    tag = "events",
    operation_id = "create_event",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and request replays the first answer")),
    request_body(content = EventInput, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = EventResponse,
            headers(("Location" = String, description = "The new event"), ("ETag" = String, description = "The version"))),
        (status = 403, description = "Needs events:write, or leads for another department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule is broken; each field is named", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, RetryRace, BodyTooLarge,
    ),
    security(("bearer" = ["events:write"])),
)]
#[post("")]
pub async fn create(principal: Principal, new: JsonWrite<EventInput>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsWrite)?;
    let input = new.body.value.normalised().map_err(ApiError::Validation)?;
    let event = domain::NewEvent::check(&principal, input)?;
    new.write
        .perform(principal.actor(), &new.body.raw, move |tx| {
            let event = domain::create(tx, &event)?;
            Ok(Outcome::created(location(&event.id), event.version, &event))
        })
        .await
}

/// Change an event
///
/// JSON Merge Patch (RFC 7386) of the editable fields. `status` may move `planned` ↔
/// `cancelled`; only recording attendance makes an event `held`. Only the lead department (or an
/// admin) may change an event, and only an admin may hand it to another department. Requires
/// `If-Match`.
#[utoipa::path(
    tag = "events",
    operation_id = "update_event",
    params(
        ("id" = String, Path, description = "Event id"),
        Preconditioned,
    ),
    request_body(content = EventPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = EventResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 403, description = "Not the lead department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule is broken", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, IfMatchRefusals, RetryRace, NoSuchEvent,
    ),
    security(("bearer" = ["events:write"])),
)]
#[patch("/{id}")]
pub async fn update(principal: Principal, change: MergePatch) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsWrite)?;
    let if_match = change.precondition()?;
    domain::check_patch(&change.body.value)?;
    let actor = principal.actor();
    change
        .perform(actor, if_match, move |tx, id, if_match, patch| domain::update(tx, &principal, id, if_match, patch))
        .await
}

/// Delete an event
///
/// Marks the event deleted: it leaves lists and reports, and stays in the audit log; a sync walk
/// with `include_deleted=true` reports it. Only the lead department (or an admin). Requires
/// `If-Match`.
#[utoipa::path(
    tag = "events",
    operation_id = "delete_event",
    params(
        ("id" = String, Path, description = "Event id"),
        Preconditioned,
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not the lead department", body = Problem, content_type = PROBLEM),
        IfMatchRefusals, RetryRace, NoSuchEvent,
    ),
    security(("bearer" = ["events:write"])),
)]
#[delete("/{id}")]
pub async fn remove(principal: Principal, write: WriteRequest, id: Path<String>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsWrite)?;
    let if_match = IfMatch::required(&write.req)?;
    let id = id.into_inner();
    write
        .perform(principal.actor(), b"", move |tx| {
            domain::remove(tx, &principal, &id, &if_match)?;
            Ok(Outcome::no_content())
        })
        .await
}

/// Record attendance
///
/// How many came, how the number was obtained (`basis`) and by audience. Only for an event that
/// has started and is not cancelled; recording it makes the event `held`. The total may not be
/// below the event's named attendees. The lead and partner departments (and admins) may record
/// it. Requires `If-Match` with the event's ETag.
#[utoipa::path(
    tag = "events",
    params(
        ("id" = String, Path, description = "Event id"),
        ("If-Match" = String, Header, description = "The event's ETag last read"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    request_body(content = Attendance, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; the event as it now is", body = EventResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 403, description = "Neither lead nor partner department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "A rule is broken (not started, cancelled, counts, total below the attendees)", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, IfMatchRefusals, RetryRace, NoSuchEvent,
    ),
    security(("bearer" = ["attendees:write"])),
)]
#[put("/{id}/attendance")]
pub async fn record_attendance(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
    body: JsonBody<Attendance>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AttendeesWrite)?;
    let if_match = IfMatch::required(&write.req)?;
    let attendance = body.value;
    let errors = attendance.check("");
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let id = id.into_inner();
    write
        .perform(principal.actor(), &body.raw, move |tx| {
            Ok(Outcome::changed(&domain::record_attendance(tx, &principal, &id, &if_match, &attendance)?))
        })
        .await
}

/// Verify an event
///
/// The policy department's finding on a held event: `verified`, or `rejected` with a note saying
/// what is wrong. Needs `events:verify`, from a department that neither leads nor partners in the
/// event (admins included), and `If-Match` with the event's ETag; the finding changes the event's
/// version. Any later change to the event — its fields, attendance, attendees, evidence, lead or
/// partners — returns it to `unverified`, and the audit trail says so. Finding it again needs the
/// new ETag.
#[utoipa::path(
    tag = "events",
    operation_id = "verify_event",
    params(
        ("id" = String, Path, description = "Event id"),
        ("If-Match" = String, Header, description = "The event's ETag last read"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    request_body(content = VerificationInput, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; the event as it now is", body = EventResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 403, description = "Needs events:verify, from a department that takes no part in the event", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Not held yet, or a rejection without a note", body = Problem, content_type = PROBLEM),
        JsonBodyRefusals, IfMatchRefusals, RetryRace, NoSuchEvent,
    ),
    security(("bearer" = ["events:verify"])),
)]
#[put("/{id}/verification")]
pub async fn verify(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
    body: JsonBody<VerificationInput>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsVerify)?;
    let if_match = IfMatch::required(&write.req)?;
    let input = body.value.normalised().map_err(ApiError::Validation)?;
    let id = id.into_inner();
    write
        .perform(principal.actor(), &body.raw, move |tx| {
            Ok(Outcome::changed(&domain::verify(tx, &principal, &id, &if_match, &input)?))
        })
        .await
}

/// Read an event
#[utoipa::path(
    tag = "events",
    operation_id = "read_event",
    params(("id" = String, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event", body = EventResponse, headers(("ETag" = String, description = "The version"))),
        (status = 404, description = "No such event (or deleted)", body = Problem, content_type = PROBLEM),
        NeedsEventsRead,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("/{id}")]
pub async fn read(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    let id = id.into_inner();
    let event =
        state.store.read(move |conn| domain::find_visible(conn, &principal, &id)?.ok_or(ApiError::NotFound)).await?;
    Ok(tagged(&event))
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
pub enum SortParam {
    #[serde(rename = "starts_at")]
    StartsAt,
    #[serde(rename = "-starts_at")]
    StartsAtDesc,
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "updated_at")]
    UpdatedAt,
}

impl SortParam {
    fn sort(self) -> Sort {
        match self {
            SortParam::StartsAt => Sort::StartsAt,
            SortParam::StartsAtDesc => Sort::StartsAtDesc,
            SortParam::CreatedAt => Sort::CreatedAt,
            SortParam::CreatedAtDesc => Sort::CreatedAtDesc,
            SortParam::UpdatedAt => Sort::UpdatedAt,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// First local day (YYYY-MM-DD, inclusive, in the registry's time zone), on `starts_at`.
    pub from: Option<String>,
    /// Last local day (inclusive), on `starts_at`.
    pub to: Option<String>,
    /// Events this department, or any department below it, leads or partners in (as reports
    /// count them).
    pub department_id: Option<String>,
    /// With `department_id`: `false` for that department alone (default `true`).
    pub include_descendants: Option<bool>,
    pub kind: Option<EventKind>,
    pub audience: Option<Audience>,
    pub status: Option<EventStatus>,
    pub plan_item_id: Option<String>,
    /// Case-insensitive text in the title, description, venue or organisers' names (Kazakh and
    /// Russian letters included; `%` and `_` are literal).
    pub q: Option<String>,
    /// Default `-starts_at`.
    #[param(inline)]
    pub sort: Option<SortParam>,
    /// With `sort=updated_at`: what changed at or after this instant (RFC 3339), oldest first.
    pub updated_since: Option<String>,
    /// Also list deleted events, as `{"id", "deleted": true, "updated_at"}`.
    pub include_deleted: Option<bool>,
    /// Events carrying this flag now.
    pub flag: Option<Flag>,
    /// `true`: events carrying any flag; `false`: events carrying none.
    pub flagged: Option<bool>,
    /// Events whose verification is this.
    pub verification: Option<VerificationStatus>,
}

/// List events
///
/// The events within the caller's reach (led or partnered by a department in it), filtered,
/// sorted, by cursor. Keeping a copy in step: `sort=updated_at&updated_since=…` lists
/// what changed since, oldest first, and `include_deleted=true` adds deletion markers.
#[utoipa::path(
    tag = "events",
    operation_id = "list_events",
    params(List<EventFilter>),
    responses(
        (status = 200, description = "A page of events", body = Page<EventListItem>),
        (status = 422, description = "A parameter breaks a rule (limit, from after to)", body = Problem, content_type = PROBLEM),
        NeedsEventsRead, BadQuery,
    ),
    security(("bearer" = ["events:read"])),
)]
#[get("")]
pub async fn list(principal: Principal, query: List<EventFilter>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::EventsRead)?;
    let List { req, state, page: asked, filter: q } = query;
    let limit = page::limit(asked.limit)?;
    let (from, to) = parse_period(q.from.as_deref(), q.to.as_deref(), state.config.timezone)?;
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::field("from", "order", "must not be after to"));
    }
    let updated_since = q
        .updated_since
        .as_deref()
        .map(|v| match crate::http::explain::instant_problem("updated_since", v) {
            Some(problem) if problem.code == "range" => Err(ApiError::Validation(vec![problem])),
            _ => DateTime::parse_from_rfc3339(v).map(|t| t.with_timezone(&Utc).naive_utc()).map_err(|_| {
                ApiError::bad_request(format!("updated_since must be {}", crate::http::explain::INSTANT_FORM))
            }),
        })
        .transpose()?;
    let sort_param = q.sort.unwrap_or(SortParam::StartsAtDesc);
    let sort = sort_param.sort();
    let after = match asked.cursor.as_deref() {
        None => None,
        Some(c) => {
            let (cursor_sort, micros, id): (SortParam, i64, String) = page::decode_cursor(c)?;
            if cursor_sort != sort_param {
                return Err(ApiError::field("cursor", "sort", "belongs to another sort order"));
            }
            let key = DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| ApiError::field("cursor", "unknown", "is not a cursor this list returned"))?;
            Some((key.naive_utc(), id))
        }
    };
    let filter = Filter {
        from,
        to,
        department_id: q.department_id,
        descendants: q.include_descendants.unwrap_or(true),
        kind: q.kind,
        audience: q.audience,
        status: q.status,
        plan_item_id: q.plan_item_id,
        search: q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string),
        updated_since,
        include_deleted: q.include_deleted.unwrap_or(false),
        flag: q.flag,
        flagged: q.flagged,
        verification: q.verification,
        within: principal.reach.root().map(str::to_string),
    };
    let (rows, events) = state
        .store
        .run(move |conn| {
            let rows = store::list(conn, &filter, sort, after, limit + 1)?;
            let live: Vec<store::EventRow> =
                rows.iter().take(limit as usize).filter(|r| r.deleted_at.is_none()).cloned().collect();
            let events = store::hydrate(live)?;
            Ok((rows, events))
        })
        .await?;
    let mut events = events.into_iter();
    let key = |r: &store::EventRow| -> (SortParam, i64, String) {
        (sort_param, sort.key(r).and_utc().timestamp_micros(), r.id.clone())
    };
    let page = page::paginate(rows, limit, key, |r| match r.deleted_at {
        Some(_) => EventListItem::Deleted(DeletedEvent { id: r.id, deleted: true, updated_at: to_utc(r.updated_at) }),
        None => EventListItem::Event(Box::new(events.next().expect("one event per live row, in order"))),
    });
    Ok(page::respond(&req, &page))
}
