//! Webhook request and response types and their rules.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::store::{DeliveryRow, SubscriptionRow};
use crate::error::FieldError;
use crate::store::to_utc;
use crate::text;

crate::events::model::wire_enum!(
    /// What a message tells of. `event.verified` tells of a verifier's finding, `verified` or
    /// `rejected` (the event's `verification.status` says which); evidence added or removed is an
    /// `event.updated`.
    EventType {
        EventCreated = "event.created",
        EventUpdated = "event.updated",
        EventDeleted = "event.deleted",
        EventAttendanceRecorded = "event.attendance_recorded",
        EventAttendeesChanged = "event.attendees_changed",
        EventVerified = "event.verified",
        PlanChanged = "plan.changed",
        PlanItemChanged = "plan_item.changed",
        DepartmentChanged = "department.changed",
        WebhookTest = "webhook.test",
    }
);

/// What a subscriber receives: the body of every delivery, `POST`ed as JSON and signed as Standard
/// Webhooks.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"type": "event.updated", "timestamp": "2024-03-14T10:00:00.000000Z",
    "data": {"id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d72", "title": "Сыбайлас жемқорлыққа қарсы мәдениет: дөңгелек үстел", "version": 3}}))]
pub struct WebhookMessage {
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// When the change committed.
    pub timestamp: DateTime<Utc>,
    /// The record as its `GET` answered the subscription's principal when the change committed
    /// (an event with `attendees_count` for `event.attendees_changed`); for a deletion
    /// `{"id", "deleted": true, "updated_at"}`; for `webhook.test` `{"subscription_id"}`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// The most subscriptions one principal may hold.
pub const MAX_SUBSCRIPTIONS: i64 = 20;
const MAX_DESCRIPTION: usize = 500;

/// The stored form of a type filter: space-separated, empty for every type.
pub fn types_text(types: &[EventType]) -> String {
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(" ")
}

pub fn types_of(text: &str) -> Vec<EventType> {
    text.split_whitespace().filter_map(EventType::parse).collect()
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71", "url": "https://edo.akimat.kz/adal/webhooks",
    "event_types": ["event.created", "event.updated"], "description": "The akimat's document system",
    "active": true, "disabled_reason": null, "principal_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d70",
    "version": 1, "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"
}))]
pub struct SubscriptionResponse {
    pub id: String,
    pub url: String,
    /// The types delivered; empty for every type.
    pub event_types: Vec<EventType>,
    pub description: String,
    pub active: bool,
    /// Why the registry disabled it: the endpoint answered 410, deliveries failed for five days,
    /// or its principal was deactivated. Null while active, or when its manager switched it off.
    pub disabled_reason: Option<String>,
    /// The account or client that manages it: deliveries carry only what this principal may read.
    pub principal_id: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SubscriptionRow> for SubscriptionResponse {
    fn from(r: SubscriptionRow) -> Self {
        SubscriptionResponse {
            id: r.id,
            url: r.url,
            event_types: types_of(&r.event_types),
            description: r.description,
            active: r.active,
            disabled_reason: r.disabled_reason,
            principal_id: r.owner_id,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

impl crate::version::Versioned for SubscriptionResponse {
    fn version(&self) -> i64 {
        self.version
    }
}

/// A subscription with its signing secret: the answer to a create or a rotation, the only time the
/// secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriptionWithSecret {
    #[serde(flatten)]
    pub subscription: SubscriptionResponse,
    /// `whsec_` + base64 of 32 random bytes, shown once; a replayed answer omits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://edo.akimat.kz/adal/webhooks", "event_types": ["event.created"],
    "description": "The akimat's document system"}))]
pub struct SubscriptionCreate {
    /// An absolute `https` URL whose host is a public address (`http` and private addresses only
    /// inside `ADAL_WEBHOOK_ALLOWED_NETWORKS`); at most 2000 characters.
    pub url: String,
    /// The types to deliver; empty or absent for every type.
    #[serde(default)]
    pub event_types: Vec<EventType>,
    /// At most 500 characters.
    #[serde(default)]
    pub description: String,
}

/// A subscription's changeable fields, as a merge patch leaves them.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionUpdate {
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: String,
    pub active: bool,
}

impl SubscriptionUpdate {
    pub fn from_current(s: &SubscriptionResponse) -> Self {
        SubscriptionUpdate {
            url: s.url.clone(),
            event_types: s.event_types.clone(),
            description: s.description.clone(),
            active: s.active,
        }
    }
}

/// A merge patch for a subscription. Setting `active` to true again clears `disabled_reason`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"active": true}))]
#[allow(dead_code)]
pub struct SubscriptionPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// The description, cleaned, or a 422 naming it.
pub fn description(text: &str) -> Result<String, FieldError> {
    let clean = text::clean(text);
    if clean.chars().count() > MAX_DESCRIPTION {
        return Err(FieldError::new("description", "length", format!("must be at most {MAX_DESCRIPTION} characters")));
    }
    Ok(clean)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"since": "2024-03-14T00:00:00+05:00"}))]
pub struct RedeliverRequest {
    /// Messages created at or after this instant that gave up are queued again.
    pub since: DateTime<FixedOffset>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RedeliverResponse {
    /// How many messages were queued again.
    pub queued: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestResponse {
    /// The `webhook-id` the test message is delivered with.
    pub message_id: String,
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryResponse {
    pub id: String,
    /// The message's `webhook-id`.
    pub message_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// 1 for the first attempt at this message.
    pub attempt: i32,
    /// `delivered`, `failed` (retried at `next_attempt_at`, or given up when that is null) or
    /// `refused` (the address is not one webhooks may reach).
    pub status: String,
    /// The endpoint's HTTP status; null when none came (a timeout, a refused connection).
    pub response_status: Option<i32>,
    pub duration_ms: i64,
    /// What went wrong, when something did.
    pub error: Option<String>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

impl From<DeliveryRow> for DeliveryResponse {
    fn from(r: DeliveryRow) -> Self {
        DeliveryResponse {
            id: r.id,
            message_id: r.message_id,
            event_type: r.event_type,
            attempt: r.attempt,
            status: r.status,
            response_status: r.response_status,
            duration_ms: r.duration_ms,
            error: r.error,
            next_attempt_at: r.next_attempt_at.map(to_utc),
            at: to_utc(r.at),
        }
    }
}
