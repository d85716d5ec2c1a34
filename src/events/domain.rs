//! The rules of events: who may change one, its references, the status machine, when attendance
//! may be recorded, and that the recorded total never falls below the named attendees.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::model::{Attendance, EventInput, EventResponse, EventStatus, VerificationInput};
use super::store::{self, EventData};
use crate::auth::Principal;
use crate::departments::store as departments;
use crate::error::{ApiError, FieldError};
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::store::DbConnection;
use crate::write::{self, Tx};

/// 422 naming each reference that does not exist: the lead, the partners, the plan item.
/// `links_changed`: the write sets `plan_item_id` or changes the lead or partners, so the plan
/// item's rule is checked again (links made before the rule stay until such a write).
pub(crate) fn check_references(
    conn: &mut DbConnection,
    input: &EventInput,
    lead: &str,
    lead_changed: bool,
    links_changed: bool,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if lead_changed && !departments::exists_active(conn, lead)? {
        errors.push(FieldError::new("lead_department_id", "exists", "no such active department"));
    }
    for (i, p) in input.partner_department_ids.iter().enumerate() {
        let field = format!("partner_department_ids[{i}]");
        if p == lead {
            errors.push(FieldError::new(field, "lead", "the lead department is not its own partner"));
        } else if departments::find(conn, p)?.is_none() {
            errors.push(FieldError::new(field, "exists", "no such department"));
        }
    }
    if let Some(item) = &input.plan_item_id {
        match crate::plans::store::item_responsible(conn, item)? {
            None => errors.push(FieldError::new("plan_item_id", "exists", "no such plan item")),
            Some(responsible) if links_changed => {
                let mut taking_part =
                    std::iter::once(lead).chain(input.partner_department_ids.iter().map(String::as_str));
                let mut responsible_takes_part = false;
                for d in taking_part.by_ref() {
                    if d == responsible || departments::ancestors(conn, d)?.contains(&responsible) {
                        responsible_takes_part = true;
                        break;
                    }
                }
                if !responsible_takes_part {
                    errors.push(FieldError::new(
                        "plan_item_id",
                        "not_responsible",
                        "this plan item belongs to a department that neither leads nor partners in the event \
                         (nor is above one that does)",
                    ));
                }
            }
            Some(_) => {}
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors)) }
}

fn data<'a>(input: &'a EventInput, lead: &'a str, status: EventStatus) -> EventData<'a> {
    EventData {
        title: &input.title,
        description: &input.description,
        kind: input.kind,
        format: input.format,
        starts_at: input.starts_at.with_timezone(&Utc).naive_utc(),
        ends_at: input.ends_at.with_timezone(&Utc).naive_utc(),
        venue: input.venue.as_deref(),
        audiences: &input.audiences,
        lead_department_id: lead,
        partner_department_ids: &input.partner_department_ids,
        plan_item_id: input.plan_item_id.as_deref(),
        organisers: &input.organisers,
        planned_participants: input.planned_participants,
        status,
    }
}

/// Attendance may be recorded only for an event that has started and is not cancelled.
pub(crate) fn check_attendance_allowed(
    starts_at: DateTime<Utc>,
    status: EventStatus,
    field: &str,
) -> Result<(), ApiError> {
    if status == EventStatus::Cancelled {
        return Err(ApiError::field("status", "cancelled", "attendance cannot be recorded for a cancelled event"));
    }
    if starts_at > Utc::now() {
        return Err(ApiError::field(
            field,
            "not_started",
            "attendance can be recorded only once the event has started",
        ));
    }
    Ok(())
}

/// The status machine: `planned` ↔ `cancelled` freely; only recording attendance makes an event
/// `held` (never a create or a patch), and a held event stays held. `from` is `None` for a create.
pub fn transition(from: Option<EventStatus>, to: EventStatus) -> Result<EventStatus, ApiError> {
    match (from, to) {
        (Some(a), b) if a == b => Ok(b),
        (Some(EventStatus::Held), _) => Err(ApiError::field("status", "held", "a held event stays held")),
        (_, EventStatus::Held) => {
            Err(ApiError::field("status", "held", "an event becomes held by recording its attendance"))
        }
        (_, b) => Ok(b),
    }
}

/// 422 when the recorded `total` is below the `named` attendees on record.
pub fn check_total(total: i32, named: i64) -> Result<(), ApiError> {
    if i64::from(total) < named {
        return Err(ApiError::field(
            "total",
            "attendees",
            format!("must be at least {named}, the attendees on record"),
        ));
    }
    Ok(())
}

/// The event's recorded total once it has `named` attendees: raised to `named` when it was lower
/// (or unrecorded), so it never falls below them. Returns the total before and after.
pub fn cover_named(
    tx: &mut Tx<'_>,
    event: &EventResponse,
    named: i64,
    now: chrono::NaiveDateTime,
) -> Result<(Option<i32>, i32), ApiError> {
    let before = event.attendance.as_ref().map(|a| a.total);
    match before {
        Some(t) if i64::from(t) >= named => Ok((before, t)),
        _ => {
            let total = named as i32;
            if !store::raise_attendance(tx.conn(), &event.id, event.version, total, now)? {
                return Err(ApiError::conflict("the event changed meanwhile; retry"));
            }
            Ok((before, total))
        }
    }
}

/// The live event `id`, if the principal may see it: its lead or a partner is within the
/// principal's reach. Outside it the event is not found, as if it did not exist.
pub fn find_visible(
    conn: &mut DbConnection,
    principal: &Principal,
    id: &str,
) -> Result<Option<EventResponse>, ApiError> {
    let Some(event) = store::find(conn, id)? else {
        return Ok(None);
    };
    let mut departments = vec![event.lead_department_id.as_str()];
    departments.extend(event.partner_department_ids.iter().map(String::as_str));
    Ok(principal.reach.covers_any(conn, &departments)?.then_some(event))
}

/// 403 unless the principal acts for the event's lead department (or is an admin).
fn require_lead(principal: &Principal, event: &EventResponse) -> Result<(), ApiError> {
    principal.require_department([event.lead_department_id.as_str()], "lead department")
}

/// 403 unless the principal acts for the event's lead or a partner department (or is an admin).
pub fn require_taking_part(principal: &Principal, event: &EventResponse) -> Result<(), ApiError> {
    let mut departments = vec![event.lead_department_id.as_str()];
    departments.extend(event.partner_department_ids.iter().map(String::as_str));
    principal.require_department(departments, "lead or a partner department")
}

/// 403 when the principal's department leads or partners in the event: its figures are checked
/// by someone who did not produce them (an admin included).
fn require_independent(principal: &Principal, event: &EventResponse) -> Result<(), ApiError> {
    let own = &principal.department_id;
    if &event.lead_department_id == own || event.partner_department_ids.contains(own) {
        return Err(ApiError::forbidden(
            "your department leads or partners in this event; a department that took no part in it verifies it",
        ));
    }
    Ok(())
}

/// Records a verifier's finding on a held event.
pub fn verify(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    if_match: &IfMatch,
    input: &VerificationInput,
) -> Result<EventResponse, ApiError> {
    let found = find_visible(tx.conn(), principal, id)?;
    let before = write::current(found, if_match, |e| require_independent(principal, e))?;
    if before.status != EventStatus::Held {
        return Err(ApiError::field(
            "status",
            "not_held",
            "only a held event is verified: its attendance must be recorded first",
        ));
    }
    let now = crate::store::now();
    let set = store::set_verification(
        tx.conn(),
        id,
        before.version,
        input.status,
        &principal.id,
        input.note.as_deref(),
        now,
    )?;
    let after = written_again(tx, id, set)?;
    tx.updated("event.verify", "event", id, &before, &after)?;
    Ok(after)
}

/// An event to create, checked against the caller before any store work.
pub struct NewEvent {
    input: EventInput,
    lead: String,
    status: EventStatus,
    created_by: String,
}

impl NewEvent {
    /// The lead defaults to the caller's department, and only an admin names another; a create
    /// carrying attendance must be of an event that has started.
    pub fn check(principal: &Principal, input: EventInput) -> Result<Self, ApiError> {
        let lead = input.lead_department_id.clone().unwrap_or_else(|| principal.department_id.clone());
        principal.require_department([lead.as_str()], "admin (for another department's event)")?;
        let status = transition(None, input.status.unwrap_or(EventStatus::Planned))?;
        if input.attendance.is_some() {
            check_attendance_allowed(input.starts_at.with_timezone(&Utc), status, "attendance")?;
        }
        Ok(NewEvent { input, lead, status, created_by: principal.id.clone() })
    }
}

pub fn create(tx: &mut Tx<'_>, new: &NewEvent) -> Result<EventResponse, ApiError> {
    let NewEvent { input, lead, status, created_by } = new;
    check_references(tx.conn(), input, lead, true, input.plan_item_id.is_some())?;
    let id = crate::store::new_id();
    let now = crate::store::now();
    store::insert(tx.conn(), &id, &data(input, lead, *status), input.attendance.as_ref(), created_by, now)?;
    let event = store::find(tx.conn(), &id)?.ok_or(ApiError::NotFound)?;
    tx.created("event.create", "event", &id, &event)?;
    Ok(event)
}

/// A patch (an object: `MergePatch::precondition` checked it) may not set attendance: that is its
/// own route.
pub fn check_patch(patch: &Value) -> Result<(), ApiError> {
    if patch.get("attendance").is_some() {
        return Err(ApiError::field(
            "attendance",
            "route",
            "attendance is recorded with PUT /api/v1/events/{id}/attendance",
        ));
    }
    Ok(())
}

pub fn update(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    if_match: &IfMatch,
    patch: &Value,
) -> Result<EventResponse, ApiError> {
    let found = find_visible(tx.conn(), principal, id)?;
    let before = write::current(found, if_match, |e| require_lead(principal, e))?;
    let previous = before.editable();
    let next = merge_patch::patched(&previous, patch)?.normalised().map_err(ApiError::Validation)?;
    let lead = next
        .lead_department_id
        .clone()
        .ok_or_else(|| ApiError::field("lead_department_id", "required", "an event needs a lead department"))?;
    let lead_changed = lead != before.lead_department_id;
    if lead_changed && !principal.is_admin() {
        return Err(ApiError::forbidden("only an admin may hand an event to another department"));
    }
    let status = transition(Some(before.status), next.status.unwrap_or(before.status))?;
    if status == EventStatus::Held && next.starts_at.with_timezone(&Utc) > Utc::now() {
        return Err(ApiError::field("starts_at", "held", "a held event cannot start in the future"));
    }
    let partners = |i: &EventInput| {
        let mut p = i.partner_department_ids.clone();
        p.sort();
        p
    };
    // Setting plan_item_id (even to the link it has) checks it; so does moving the event.
    let links_changed = patch.get("plan_item_id").is_some() || lead_changed || partners(&next) != partners(&previous);
    check_references(tx.conn(), &next, &lead, lead_changed, links_changed)?;
    // A patch that changes nothing writes nothing: it must not undo a verification either.
    let unchanged = status == before.status && serde_json::to_value(&next).ok() == serde_json::to_value(&previous).ok();
    if unchanged {
        tx.without_entry("a patch that changes nothing writes nothing");
        return Ok(before);
    }
    let updated = store::update(tx.conn(), id, before.version, &data(&next, &lead, status), crate::store::now())?;
    let after = written_again(tx, id, updated)?;
    tx.updated("event.update", "event", id, &before, &after)?;
    Ok(after)
}

/// The event as a conditional write left it (412 when another write came first).
fn written_again(tx: &mut Tx<'_>, id: &str, written: bool) -> Result<EventResponse, ApiError> {
    write::written(written.then_some(()))?;
    store::find(tx.conn(), id)?.ok_or(ApiError::NotFound)
}

pub fn remove(tx: &mut Tx<'_>, principal: &Principal, id: &str, if_match: &IfMatch) -> Result<(), ApiError> {
    let found = find_visible(tx.conn(), principal, id)?;
    let before = write::current(found, if_match, |e| require_lead(principal, e))?;
    let removed = store::soft_delete(tx.conn(), id, before.version, crate::store::now())?;
    tx.removed("event.delete", "event", id, &before, removed)
}

pub fn record_attendance(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    if_match: &IfMatch,
    attendance: &Attendance,
) -> Result<EventResponse, ApiError> {
    let found = find_visible(tx.conn(), principal, id)?;
    let before = write::current(found, if_match, |e| require_taking_part(principal, e))?;
    check_attendance_allowed(before.starts_at, before.status, "starts_at")?;
    check_total(attendance.total, crate::attendees::store::count_for_event(tx.conn(), id)?)?;
    if before.status == EventStatus::Held && before.attendance.as_ref() == Some(attendance) {
        // The same attendance again (a client's second send): nothing changes, nothing is undone.
        tx.without_entry("the attendance recorded is the attendance sent");
        return Ok(before);
    }
    let set = store::set_attendance(tx.conn(), id, before.version, attendance, crate::store::now())?;
    let after = written_again(tx, id, set)?;
    tx.updated("attendance.record", "event", id, &before, &after)?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_machine_moves_only_between_planned_and_cancelled() {
        use EventStatus::*;
        for (from, to) in [(None, Planned), (None, Cancelled), (Some(Planned), Cancelled), (Some(Cancelled), Planned)] {
            assert_eq!(transition(from, to).unwrap(), to);
        }
        assert_eq!(transition(Some(Held), Held).unwrap(), Held);
        for (from, to) in [(None, Held), (Some(Planned), Held), (Some(Held), Planned), (Some(Held), Cancelled)] {
            assert!(matches!(transition(from, to), Err(ApiError::Validation(_))), "{from:?} → {to:?}");
        }
    }
}
