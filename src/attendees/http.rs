//! Attendee routes: add a batch or a whole sign-in sheet, list, remove one, erase a person.
//!
//! Attendees carry no ETag and need no `If-Match`: they are added and removed, never changed, and
//! a removal names its row by id. Every unsafe request accepts `Idempotency-Key`.

use actix_web::web::{self, Path};
use actix_web::{HttpResponse, delete, get, post};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::domain;
use super::iin::{Iin, keyed_digest};
use super::model::{
    AddedAttendees, AttendeeBatch, AttendeeResponse, ErasureRequest, ErasureResponse, MAX_BATCH, NewAttendee, RawRow,
    check_rows,
};
use super::sheet;
use super::store::{self, NewRow};
use crate::auth::{Principal, Scope};
use crate::config::Secret;
use crate::error::{ApiError, FieldError, Problem};
use crate::http::body;
use crate::http::doc::{BodyTooLarge, JsonBodyRefusals, NoSuchEvent, RetryRace};
use crate::http::page::{List, Page, Unfiltered};
use crate::http::write::{ChildRemoval, JsonWrite, Outcome, WriteRequest};

const PROBLEM: &str = "application/problem+json";
const CSV: &str = "text/csv";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn list_location(event_id: &str) -> String {
    format!("/api/v1/events/{event_id}/attendees")
}

fn type_error(field: String, message: &str) -> FieldError {
    FieldError::new(field, "type", message)
}

/// A JSON batch as rows of text. Values are converted by hand rather than by serde, whose
/// messages quote the offending value — which could be an IIN sent as a number.
fn rows_from_json(bytes: &[u8]) -> Result<Vec<(String, RawRow)>, ApiError> {
    let value = body::parse_value(bytes)?;
    body::check_text(&value)?;
    let Value::Object(mut top) = value else {
        return Err(ApiError::field("", "type", "expected an object {\"attendees\": [...]}"));
    };
    let mut errors: Vec<FieldError> = top
        .keys()
        .filter(|k| k.as_str() != "attendees")
        .map(|k| FieldError::new(k.clone(), "unknown_field", "unknown field; expected attendees"))
        .collect();
    let items = match top.remove("attendees") {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(ApiError::field("attendees", "type", "must be an array of attendees")),
        None => return Err(ApiError::field("attendees", "required", "missing field `attendees`")),
    };
    if items.is_empty() {
        errors.push(FieldError::new("attendees", "length", "add at least one attendee"));
    } else if items.len() > MAX_BATCH {
        errors.push(FieldError::new(
            "attendees",
            "length",
            format!("at most {MAX_BATCH} attendees in one batch; send a sign-in sheet or several batches"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let path = format!("attendees[{i}]");
        let row = match item {
            Value::Object(map) => raw_row(&path, map),
            _ => RawRow { unreadable: vec![type_error(path.clone(), "must be an object")], ..RawRow::default() },
        };
        rows.push((path, row));
    }
    Ok(rows)
}

fn raw_row(path: &str, map: Map<String, Value>) -> RawRow {
    let mut row = RawRow::default();
    let mut errors = Vec::new();
    for (key, value) in map {
        let field = format!("{path}.{key}");
        let slot = match key.as_str() {
            "full_name" => &mut row.full_name,
            "iin" => &mut row.iin,
            "birth_year" => &mut row.birth_year,
            "gender" => &mut row.gender,
            "organisation" => &mut row.organisation,
            _ => {
                errors.push(FieldError::new(
                    field,
                    "unknown_field",
                    "unknown field; expected full_name, iin, birth_year, gender or organisation",
                ));
                continue;
            }
        };
        match (key.as_str(), value) {
            (_, Value::Null) => {}
            ("birth_year", Value::Number(n)) if n.is_i64() => *slot = n.as_i64().map(|y| y.to_string()),
            ("birth_year", _) => errors.push(type_error(field, "must be an integer year")),
            (_, Value::String(s)) => *slot = Some(s),
            ("iin", _) => errors.push(type_error(field, "must be a string of 12 digits")),
            (_, _) => errors.push(type_error(field, "must be a string")),
        }
    }
    row.unreadable = errors;
    row
}

/// The body's rows, checked: by JSON, CSV or XLSX according to its media type (415 for others).
fn parse_upload(media: &str, bytes: &[u8]) -> Result<Vec<NewAttendee>, ApiError> {
    let rows = match media {
        CSV => sheet::from_csv(bytes)?,
        XLSX => sheet::from_xlsx(bytes)?,
        _ => rows_from_json(bytes)?,
    };
    check_rows(&rows).map_err(ApiError::Validation)
}

/// A row as written: a fresh id (UUID v7, so the sheet's order is kept) and the IIN turned into
/// its keyed hash and last two digits.
fn to_row(a: &NewAttendee, key: &Secret) -> (String, NewRow) {
    (
        a.path.clone(),
        NewRow {
            id: crate::store::new_id(),
            full_name: a.full_name.clone(),
            iin_hash: a.iin.as_ref().map(|i| i.hash(key)),
            iin_last2: a.iin.as_ref().map(Iin::last2),
            birth_year: a.birth_year,
            gender: a.gender,
            organisation: a.organisation.clone(),
        },
    )
}

/// The fingerprint an idempotent retry is recognised by. The body may hold IINs, and an unkeyed
/// hash of a small body (one name and IIN) could be reversed by trying every IIN, so the stored
/// fingerprint is made from the body's keyed digest instead.
fn keyed_fingerprint(key: &Secret, media: &str, bytes: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(media.len() + 1 + bytes.len());
    input.extend_from_slice(media.as_bytes());
    input.push(b'\n');
    input.extend_from_slice(bytes);
    keyed_digest(key, &input).into_bytes()
}

/// Add attendees
///
/// All or nothing: every row is added, or none is and the problem's `errors` name each refused
/// row and why. The body is one of:
///
/// - `application/json`: `{"attendees": [...]}`, 1 to 1000; errors name `attendees[i].field`.
/// - `text/csv`: a sign-in sheet, UTF-8 with or without BOM, `,` or `;` separated (taken from the
///   header line).
/// - `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`: a sign-in sheet, its
///   first worksheet.
///
/// A sheet holds at most 10,000 rows. Its header (the first line, or the first non-empty row of
/// a workbook) names the columns, in any case and spacing: full name `Аты-жөні` / `ФИО` /
/// `full_name` (required), IIN `ЖСН` / `ИИН` / `iin`, birth year `Туған жылы` / `Год рождения` /
/// `birth_year`, gender `Жынысы` / `Пол` / `gender`, organisation `Ұйым` / `Организация` /
/// `organisation`; other columns are ignored, and so are blank lines. Errors name `rows[i].field`,
/// where `rows[0]` is the line after the header; problems with the sheet as a whole name `sheet`.
///
/// An IIN is checked (birth date, century digit, control digit) and never stored nor returned:
/// only a keyed hash, which recognises the same person on every event, and its last two digits.
/// The same IIN twice on one event is refused, within the upload or against those already added.
/// Only for an event that has started and is not cancelled, by its lead or a partner department
/// (or an admin). When the attendees would outnumber the event's recorded attendance (or none is
/// recorded), the attendance total becomes their number with basis `sign_in_sheet`, the event is
/// `held` and its version moves on.
#[utoipa::path(
    tag = "attendees",
    operation_id = "add_attendees",
    params(
        ("id" = String, Path, description = "Event id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe: the same key and body replays the first answer"),
    ),
    request_body(
        description = "A JSON batch, or a whole sign-in sheet as CSV or XLSX",
        content(
            (AttendeeBatch = "application/json"),
            (String = "text/csv", example = json!("№;Аты-жөні;ЖСН;Туған жылы;Жынысы;Ұйым\n1;Айгүл Нұрланқызы;<12 digits>;1990;әйел;Жастар орталығы\n")),
            (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ),
    ),
    responses(
        (status = 201, description = "Every row added", body = AddedAttendees,
            headers(("Location" = String, description = "The event's attendee list"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Needs attendees:write, and the lead or a partner department", body = Problem, content_type = PROBLEM),
        (status = 415, description = "Neither JSON, CSV nor XLSX", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Nothing added: the rows refused and why, or the sheet, or the event (not started, cancelled)", body = Problem, content_type = PROBLEM,
            example = json!({
                "type": "https://adal.example/problems/validation", "title": "Validation failed", "status": 422,
                "detail": "2 fields are invalid", "instance": "/api/v1/events/0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71/attendees",
                "request_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e",
                "errors": [
                    {"field": "rows[7].iin", "code": "control_digit", "message": "the IIN's control digit does not match; check it for a typo"},
                    {"field": "rows[12].full_name", "code": "required", "message": "a full name is required"}
                ]
            })),
        RetryRace, BodyTooLarge, NoSuchEvent,
    ),
    security(("bearer" = ["attendees:write"])),
)]
#[post("/{id}/attendees")]
pub async fn add(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AttendeesWrite)?;
    let media = match body::media_type(&write.req) {
        Some(m) if m == CSV || m == XLSX => m,
        Some(m) if m == "application/json" || (m.starts_with("application/") && m.ends_with("+json")) => m,
        _ => {
            return Err(ApiError::UnsupportedMediaType(format!("expected application/json, {CSV} or {XLSX}").into()));
        }
    };
    let raw = body::read_limited(&write.req, &mut payload.into_inner()).await?;
    let fingerprint = keyed_fingerprint(&write.state.iin_key, &media, &raw);
    // Parsing and hashing a sheet is CPU work: off the async workers, and before the write
    // transaction so its lock is not held for it. Its errors wait until the event and the
    // caller's right to it are checked, so a caller without that right learns nothing else.
    let app = write.state.clone();
    let parsed = web::block(move || -> Result<Vec<(String, NewRow)>, ApiError> {
        let rows = parse_upload(&media, &raw)?;
        Ok(rows.iter().map(|r| to_row(r, &app.iin_key)).collect())
    })
    .await
    .map_err(|e| ApiError::internal(anyhow::anyhow!("blocking task failed: {e}")))?;
    let id = id.into_inner();
    write
        .perform(principal.actor(), &fingerprint, move |tx| {
            let added = domain::add(tx, &principal, &id, parsed)?;
            Ok(Outcome::created_unversioned(list_location(&id), &added))
        })
        .await
}

/// List an event's attendees
///
/// In the order they were added, by cursor. Names and personal fields are shown only to the
/// event's lead and partner departments (and admins); the IIN never, only its last two digits.
#[utoipa::path(
    tag = "attendees",
    operation_id = "list_attendees",
    params(("id" = String, Path, description = "Event id"), List<Unfiltered>),
    responses(
        (status = 200, description = "A page of attendees", body = Page<AttendeeResponse>),
        (status = 400, description = "The cursor is not one this list returned", body = Problem, content_type = PROBLEM),
        (status = 403, description = "Needs attendees:read, and the lead or a partner department", body = Problem, content_type = PROBLEM),
        (status = 422, description = "limit outside 1–200", body = Problem, content_type = PROBLEM),
        NoSuchEvent,
    ),
    security(("bearer" = ["attendees:read"])),
)]
#[get("/{id}/attendees")]
pub async fn list(principal: Principal, id: Path<String>, query: List<Unfiltered>) -> Result<HttpResponse, ApiError> {
    principal.require(Scope::AttendeesRead)?;
    let id = id.into_inner();
    query
        .answer(
            move |conn, _, after: Option<String>, n| {
                domain::event_for(conn, &principal, &id)?;
                Ok(store::list(conn, &id, after.as_deref(), n)?)
            },
            |r| r.id.clone(),
            AttendeeResponse::from,
        )
        .await
}

/// Remove an attendee
///
/// Removes one attendee of the event. The event's recorded attendance stays as it is (it may
/// exceed the attendees on record). Attendees have no ETag; no `If-Match` is needed.
#[utoipa::path(
    tag = "attendees",
    operation_id = "remove_attendee",
    params(
        ("id" = String, Path, description = "Event id"),
        ("attendee_id" = String, Path, description = "Attendee id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Needs attendees:write, and the lead or a partner department", body = Problem, content_type = PROBLEM),
        (status = 404, description = "No such event, or no such attendee of it", body = Problem, content_type = PROBLEM),
        RetryRace,
    ),
    security(("bearer" = ["attendees:write"])),
)]
#[delete("/{id}/attendees/{attendee_id}")]
pub async fn remove(removal: ChildRemoval) -> Result<HttpResponse, ApiError> {
    removal.perform(domain::remove).await
}

/// The erasure body as parsed: the IIN kept as any JSON value, so a number sent by mistake is
/// refused by a message that does not quote it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureBody {
    pub iin: Value,
}

/// Erase a person
///
/// Removes every attendee row of the person with this IIN, on every event, and answers how many
/// there were (0 when none). The IIN travels in the body only and is not kept. Admin only.
/// Reports stay as they were: events' recorded attendance totals are not lowered by an erasure,
/// though the erased person no longer counts among an event's named attendees.
#[utoipa::path(
    tag = "attendees",
    operation_id = "erase_person",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = ErasureRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Erased", body = ErasureResponse),
        (status = 403, description = "Needs admin", body = Problem, content_type = PROBLEM),
        (status = 422, description = "Not a valid IIN", body = Problem, content_type = PROBLEM,
            example = json!({
                "type": "https://adal.example/problems/validation", "title": "Validation failed", "status": 422,
                "detail": "iin: the IIN's control digit does not match; check it for a typo",
                "instance": "/api/v1/attendees/erasure", "request_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e",
                "errors": [{"field": "iin", "code": "control_digit", "message": "the IIN's control digit does not match; check it for a typo"}]
            })),
        JsonBodyRefusals, RetryRace, BodyTooLarge,
    ),
    security(("bearer" = ["admin"])),
)]
#[post("/erasure")]
pub async fn erase(principal: Principal, asked: JsonWrite<ErasureBody>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let JsonWrite { write, body } = asked;
    let iin = match &body.value.iin {
        Value::String(s) => Iin::parse(s).map_err(|e| ApiError::field("iin", e.code(), e.message()))?,
        _ => return Err(ApiError::field("iin", "type", "must be a string of 12 digits")),
    };
    let hash = iin.hash(&write.state.iin_key);
    let fingerprint = keyed_fingerprint(&write.state.iin_key, "application/json", &body.raw);
    write.perform(principal.actor(), &fingerprint, move |tx| Ok(Outcome::ok(None, &domain::erase(tx, &hash)?))).await
}
