//! The outbox: every committed change that a subscription wants becomes a message, written in the
//! change's own transaction (`write::on_commit`), so a committed change is always delivered and a
//! rolled-back one never is. The message's body is rendered here, once: the record as its `GET`
//! answered after the change.

use std::collections::HashMap;

use chrono::SecondsFormat;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::model::{EventType, types_of};
use super::store::{self, NewMessage};
use crate::auth::Scope;
use crate::change::Change;
use crate::error::ApiError;
use crate::store::schema::events as e;
use crate::store::{DbConnection, to_utc};

/// One message before it is addressed: its type, the record it is about, its data, and the
/// departments it concerns (a subscription's principal receives it only when one of them is within
/// its reach; none: every principal that reads the type).
struct News {
    event_type: EventType,
    subject: String,
    data: Value,
    departments: Vec<String>,
}

/// The departments a record names: an event's lead and partners, a plan's department, an item's
/// responsible department, a department itself.
fn departments_of(data: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["lead_department_id", "department_id", "responsible_department_id"] {
        if let Some(d) = data[key].as_str() {
            out.push(d.to_string());
        }
    }
    if let Some(partners) = data["partner_department_ids"].as_array() {
        out.extend(partners.iter().filter_map(|p| p.as_str().map(str::to_string)));
    }
    out
}

/// A deleted record as a message tells of it.
fn tombstone(id: &str, updated_at: chrono::NaiveDateTime) -> Value {
    json!({"id": id, "deleted": true, "updated_at": to_utc(updated_at).to_rfc3339_opts(SecondsFormat::Micros, true)})
}

/// An event as its `GET` answers now, with its number of named attendees (a count, never who).
fn event_with_attendees(conn: &mut DbConnection, id: &str) -> Result<Option<Value>, ApiError> {
    let Some(event) = crate::events::store::find(conn, id)? else {
        return Ok(None);
    };
    let mut data = serde_json::to_value(event).map_err(ApiError::internal)?;
    data["attendees_count"] = json!(crate::attendees::store::count_for_event(conn, id)?);
    Ok(Some(data))
}

/// What `change` tells subscribers, if anything.
fn news(conn: &mut DbConnection, change: &Change) -> Result<Vec<News>, ApiError> {
    let id = change.id.as_deref().unwrap_or_default();
    let record = || change.record.clone().unwrap_or(Value::Null);
    let one = |event_type, entity: &str, data: Value| {
        let mut departments = departments_of(&data);
        if entity == "department" {
            departments.push(id.to_string());
        }
        vec![News { event_type, subject: format!("{entity}:{id}"), data, departments }]
    };
    Ok(match (change.entity, change.action) {
        ("event", "event.create") => one(EventType::EventCreated, "event", record()),
        ("event", "event.update") => one(EventType::EventUpdated, "event", record()),
        ("event", "attendance.record") => one(EventType::EventAttendanceRecorded, "event", record()),
        ("event", "event.verify") => one(EventType::EventVerified, "event", record()),
        ("event", "evidence.add" | "evidence.remove") => one(EventType::EventUpdated, "event", record()),
        ("event", "event.delete") => {
            let (at, lead): (chrono::NaiveDateTime, String) =
                e::table.find(id).select((e::updated_at, e::lead_department_id)).first(conn)?;
            let mut departments = crate::events::store::partner_ids(conn, id)?;
            departments.push(lead);
            vec![News {
                event_type: EventType::EventDeleted,
                subject: format!("event:{id}"),
                data: tombstone(id, at),
                departments,
            }]
        }
        ("event", "attendees.add") => match event_with_attendees(conn, id)? {
            Some(data) => one(EventType::EventAttendeesChanged, "event", data),
            None => Vec::new(),
        },
        ("attendee", _) => {
            let mut out = Vec::new();
            for event in &change.events {
                if let Some(data) = event_with_attendees(conn, event)? {
                    out.push(News {
                        event_type: EventType::EventAttendeesChanged,
                        subject: format!("event:{event}"),
                        departments: departments_of(&data),
                        data,
                    });
                }
            }
            out
        }
        ("plan", _) => one(EventType::PlanChanged, "plan", record()),
        ("plan_item", _) if change.record.is_some() => one(EventType::PlanItemChanged, "plan_item", record()),
        ("plan_item", _) => one(EventType::PlanItemChanged, "plan_item", tombstone(id, crate::store::now())),
        ("department", _) => one(EventType::DepartmentChanged, "department", record()),
        _ => Vec::new(),
    })
}

/// Whether a subscription's principal may read what a message of `event_type` carries: events,
/// plans and departments are all `events:read`, and every reader of an event reads the same record.
fn may_read(scopes: crate::auth::ScopeSet, event_type: EventType) -> bool {
    event_type == EventType::WebhookTest || scopes.contains(Scope::EventsRead)
}

/// The message body, as delivered.
pub fn body(event_type: EventType, data: &Value) -> String {
    let timestamp = to_utc(crate::store::now()).to_rfc3339_opts(SecondsFormat::Micros, true);
    json!({"type": event_type.as_str(), "timestamp": timestamp, "data": data}).to_string()
}

/// A new message id, the `webhook-id` of every attempt.
pub fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// A pending message for `subscription_id`, due now.
pub fn message(subscription_id: &str, event_type: EventType, subject: String, body: String) -> NewMessage {
    let now = crate::store::now();
    NewMessage {
        id: message_id(),
        subscription_id: subscription_id.to_string(),
        event_type: event_type.as_str().to_string(),
        subject,
        body,
        status: store::PENDING,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
    }
}

/// Writes the messages `changes` give rise to; answers whether the transaction queued any (here,
/// or a test message or a redelivery of its own). A deactivated
/// account's or client's subscriptions are switched off in the same transaction.
pub fn enqueue(conn: &mut DbConnection, changes: &[Change]) -> Result<bool, ApiError> {
    for change in changes {
        if matches!(change.action, "account.deactivate" | "client.deactivate")
            && let Some(owner) = &change.id
        {
            for id in store::active_owned(conn, owner)? {
                store::disable(conn, &id, "its principal was deactivated")?;
            }
        }
    }
    let mut subscriptions = None;
    let mut owners: HashMap<String, Option<(crate::auth::ScopeSet, crate::auth::Reach)>> = HashMap::new();
    let mut messages = Vec::new();
    for change in changes {
        // The common case, a write with no subscriber, costs one indexed read and renders nothing.
        let subs = match &subscriptions {
            Some(s) => s,
            None => subscriptions.insert(store::active(conn)?),
        };
        if subs.is_empty() {
            break;
        }
        for news in news(conn, change)? {
            let mut body_text = None;
            for (id, owner, types) in subs.iter() {
                let wanted = types.is_empty() || types_of(types).contains(&news.event_type);
                if !wanted {
                    continue;
                }
                let owner_state = match owners.get(owner) {
                    Some(s) => s.clone(),
                    None => {
                        let s = crate::auth::store::principal_state(conn, owner)?.map(|p| (p.scopes, p.reach));
                        owners.insert(owner.clone(), s.clone());
                        s
                    }
                };
                let Some((owner_scopes, reach)) = owner_state else { continue };
                if !may_read(owner_scopes, news.event_type) {
                    continue;
                }
                // Only what its principal may read: a district's system hears of its district.
                let concerned: Vec<&str> = news.departments.iter().map(String::as_str).collect();
                if !concerned.is_empty() && !reach.covers_any(conn, &concerned)? {
                    continue;
                }
                let text = body_text.get_or_insert_with(|| body(news.event_type, &news.data));
                messages.push(message(id, news.event_type, news.subject.clone(), text.clone()));
            }
        }
    }
    store::insert_messages(conn, &messages)?;
    let queued_by_the_write = changes.iter().any(|c| matches!(c.action, "webhook.test" | "webhook.redeliver"));
    Ok(!messages.is_empty() || queued_by_the_write)
}
