//! The rules of evidence: the lead and partner departments add and remove it, verifiers and
//! admins read it too, an event holds at most 20 pieces, a verified event's evidence stays, and
//! every change is audited under the event with the file's SHA-256 — and returns a checked event
//! to `unverified`.

use actix_web::web::Bytes;
use serde_json::{Value, json};

use super::model::{EvidenceKind, EvidenceResponse, FileType, LinkInput, MAX_PER_EVENT};
use super::store::{self, EvidenceRow};
use crate::audit;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::events::domain::require_taking_part;
use crate::events::model::{EventResponse, VerificationStatus};
use crate::events::store as events;
use crate::store::DbConnection;
use crate::write::{Change, Tx};

/// A file as received: its type (sniffed from its bytes), the bytes and their SHA-256.
pub struct NewFile {
    pub kind: EvidenceKind,
    pub file_type: FileType,
    pub bytes: Bytes,
    pub sha256: String,
    pub filename: Option<String>,
}

pub enum NewEvidence {
    File(NewFile),
    Link(LinkInput),
}

fn live_event(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<EventResponse, ApiError> {
    crate::events::domain::find_visible(conn, principal, id)?.ok_or(ApiError::NotFound)
}

/// The event, if the principal may read its evidence: its lead and partner departments (with
/// `attendees:read`), admins, and verifiers (`events:verify`) within their reach, who must see
/// what they check.
/// Photos show people, so nobody else does.
pub fn readable_event(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<EventResponse, ApiError> {
    let event = live_event(conn, principal, id)?;
    if principal.is_admin() || principal.scopes.contains(Scope::EventsVerify) {
        return Ok(event);
    }
    principal.require(Scope::AttendeesRead)?;
    require_taking_part(principal, &event)?;
    Ok(event)
}

/// The event, if the principal may change its evidence: its lead or a partner department (or an
/// admin), with `attendees:write` (checked by the route).
fn writable_event(conn: &mut DbConnection, principal: &Principal, id: &str) -> Result<EventResponse, ApiError> {
    let event = live_event(conn, principal, id)?;
    require_taking_part(principal, &event)?;
    Ok(event)
}

/// The audit details of an evidence change, with the verification it undid.
fn details(mut changes: Value, before: &EventResponse, after: &EventResponse) -> Value {
    if before.verification.status != after.verification.status {
        changes["verification"] = json!({"from": before.verification.status, "to": after.verification.status});
    }
    audit::details(changes)
}

fn recount(tx: &mut Tx<'_>, id: &str, delta: i32) -> Result<EventResponse, ApiError> {
    if !events::evidence_changed(tx.conn(), id, delta, crate::store::now())? {
        return Err(ApiError::NotFound);
    }
    events::find(tx.conn(), id)?.ok_or(ApiError::NotFound)
}

pub fn add(
    tx: &mut Tx<'_>,
    principal: &Principal,
    event_id: &str,
    new: NewEvidence,
) -> Result<EvidenceResponse, ApiError> {
    let before = writable_event(tx.conn(), principal, event_id)?;
    if before.evidence_count >= MAX_PER_EVENT {
        return Err(ApiError::field(
            "evidence",
            "limit",
            format!("an event holds at most {MAX_PER_EVENT} pieces of evidence; remove one first"),
        ));
    }
    let id = crate::store::new_id();
    let (row, bytes, changes) = match new {
        NewEvidence::File(f) => {
            let changes = json!({
                "evidence_id": id, "kind": f.kind, "media_type": f.file_type.media_type(),
                "size": f.bytes.len(), "sha256": f.sha256,
            });
            let row = EvidenceRow {
                id: id.clone(),
                event_id: event_id.to_string(),
                kind: f.kind.as_str().to_string(),
                media_type: Some(f.file_type.media_type().to_string()),
                size: Some(f.bytes.len() as i64),
                sha256: Some(f.sha256),
                filename: f.filename,
                url: None,
                created_at: crate::store::now(),
                created_by: principal.id.clone(),
            };
            (row, f.bytes, changes)
        }
        NewEvidence::Link(l) => {
            let url = l.url.trim().to_string();
            let changes = json!({"evidence_id": id, "kind": l.kind, "url": url});
            let row = EvidenceRow {
                id: id.clone(),
                event_id: event_id.to_string(),
                kind: l.kind.as_str().to_string(),
                media_type: None,
                size: None,
                sha256: None,
                filename: None,
                url: Some(url),
                created_at: crate::store::now(),
                created_by: principal.id.clone(),
            };
            (row, Bytes::new(), changes)
        }
    };
    store::insert(tx.conn(), &row, &bytes)?;
    let after = recount(tx, event_id, 1)?;
    let change = Change::new("evidence.add", "event", Some(event_id)).at(after.version).with_record(&after);
    tx.record(change, details(changes, &before, &after))?;
    Ok(EvidenceResponse::from(row))
}

pub fn remove(tx: &mut Tx<'_>, principal: &Principal, event_id: &str, id: &str) -> Result<(), ApiError> {
    let before = writable_event(tx.conn(), principal, event_id)?;
    let row = store::find(tx.conn(), event_id, id)?.ok_or(ApiError::NotFound)?;
    if before.verification.status == VerificationStatus::Verified {
        // A rule of the event's state, not a race: 422, so a client's outbox does not retry it.
        return Err(ApiError::field(
            "verification",
            "verified",
            "the event is verified, and the evidence it was verified on stays; ask the verifier to reject it first",
        ));
    }
    store::delete(tx.conn(), id)?;
    let after = recount(tx, event_id, -1)?;
    let changes = json!({"evidence_id": id, "kind": row.kind, "sha256": row.sha256, "url": row.url});
    let change = Change::new("evidence.remove", "event", Some(event_id)).at(after.version).with_record(&after);
    tx.record(change, details(changes, &before, &after))
}
