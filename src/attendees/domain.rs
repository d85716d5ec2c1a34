//! The rules of named attendees: only the lead and partner departments see or change an event's
//! attendees, only once it has started and is not cancelled, a person at most once per event, at
//! most the event's limit, and the recorded total raised to cover them. The audit trail keeps
//! counts only, never names or IINs.

use serde_json::json;

use super::model::{AddedAttendees, AttendeeResponse, ErasureResponse};
use super::store::{self, NewRow};
use crate::audit;
use crate::auth::Principal;
use crate::error::{ApiError, FieldError};
use crate::events::domain::{self as events, check_attendance_allowed};
use crate::events::model::{EventResponse, MAX_PARTICIPANTS, VerificationStatus};
use crate::events::store as event_store;
use crate::store::DbConnection;
use crate::write::{self, Tx};

/// The live event, if the principal acts for its lead or a partner department (or is an admin):
/// only they see or change its attendees.
pub fn event_for(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<EventResponse, ApiError> {
    let event = events::find_visible(conn, principal, id)?.ok_or(ApiError::NotFound)?;
    events::require_taking_part(principal, &event)?;
    Ok(event)
}

/// Adds the parsed rows (each with the path that names it in errors) to the event `id`. `parsed`
/// is the upload's parse: its errors are answered only once the caller's right to the event is
/// checked, so a caller without that right learns nothing else.
pub fn add(
    tx: &mut Tx<'_>,
    principal: &Principal,
    id: &str,
    parsed: Result<Vec<(String, NewRow)>, ApiError>,
) -> Result<AddedAttendees, ApiError> {
    let event = event_for(tx.conn(), principal, id)?;
    check_attendance_allowed(event.starts_at, event.status, "starts_at")?;
    let rows = parsed?;
    let hashes: Vec<&str> = rows.iter().filter_map(|(_, r)| r.iin_hash.as_deref()).collect();
    let existing = store::existing_hashes(tx.conn(), id, &hashes)?;
    let errors: Vec<FieldError> = rows
        .iter()
        .filter(|(_, r)| r.iin_hash.as_ref().is_some_and(|h| existing.contains(h)))
        .map(|(path, _)| {
            FieldError::new(format!("{path}.iin"), "duplicate", "this person is already an attendee of the event")
        })
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let before = store::count_for_event(tx.conn(), id)?;
    let count = before + rows.len() as i64;
    if count > i64::from(MAX_PARTICIPANTS) {
        return Err(ApiError::field(
            "attendees",
            "range",
            format!("an event has at most {MAX_PARTICIPANTS} attendees; it has {before}"),
        ));
    }
    let now = crate::store::now();
    let new_rows: Vec<NewRow> = rows.into_iter().map(|(_, r)| r).collect();
    store::insert(tx.conn(), id, &new_rows, now)?;
    let (total_before, total_after) = events::cover_named(tx, &event, count, now)?;
    // Counts only: the audit trail is kept for ever and must not hold names or IINs.
    let mut changes = json!({"added": new_rows.len(), "attendees": {"from": before, "to": count}});
    let raised = total_before != Some(total_after);
    if raised {
        changes["attendance_total"] = json!({"from": total_before, "to": total_after});
    }
    // A checked event's attendees changed: it is checked no longer (raising the total did that).
    let unverified = if raised {
        event.verification.status != VerificationStatus::Unverified
    } else {
        event_store::unverify(tx.conn(), id, now)?
    };
    if unverified {
        changes["verification"] = json!({"from": event.verification.status, "to": "unverified"});
    }
    tx.audit("attendees.add", "event", Some(id), audit::details(changes))?;
    let ids: Vec<&str> = new_rows.iter().map(|r| r.id.as_str()).collect();
    let attendees: Vec<AttendeeResponse> =
        store::by_ids(tx.conn(), &ids)?.into_iter().map(AttendeeResponse::from).collect();
    Ok(AddedAttendees { added: attendees.len(), attendees })
}

pub fn remove(tx: &mut Tx<'_>, principal: &Principal, id: &str, attendee_id: &str) -> Result<(), ApiError> {
    let event = event_for(tx.conn(), principal, id)?;
    if !store::delete(tx.conn(), id, attendee_id)? {
        return Err(ApiError::NotFound);
    }
    let after = store::count_for_event(tx.conn(), id)?;
    let mut changes = json!({"event_id": id, "attendees": {"from": after + 1, "to": after}});
    // A checked event's attendees changed: it is checked no longer.
    if event_store::unverify(tx.conn(), id, crate::store::now())? {
        changes["verification"] = json!({"from": event.verification.status, "to": "unverified"});
    }
    let change =
        write::Change::new("attendees.remove", "attendee", Some(attendee_id)).about_events(vec![id.to_string()]);
    tx.record(change, audit::details(changes))
}

/// Removes every attendee row of the person whose IIN hashes to `hash`.
pub fn erase(tx: &mut Tx<'_>, hash: &str) -> Result<ErasureResponse, ApiError> {
    let event_ids = store::erase(tx.conn(), hash)?;
    let erased = event_ids.len();
    // Their attendees changed: a checked event is checked no longer.
    let now = crate::store::now();
    let mut unverified = Vec::new();
    for id in &event_ids {
        if event_store::unverify(tx.conn(), id, now)? {
            unverified.push(id.clone());
        }
    }
    // Only the count and where: the person's identity must not outlive the erasure.
    let details = audit::details(json!({"erased": erased, "event_ids": event_ids, "unverified": unverified}));
    tx.record(write::Change::new("attendees.erase", "attendee", None).about_events(event_ids), details)?;
    Ok(ErasureResponse { erased })
}
