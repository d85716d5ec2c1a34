//! What a committed write changed, as the write path records it and the webhooks' outbox reads
//! it; its own module, so the outbox that the write path calls need not import the write path.

use serde::Serialize;
use serde_json::Value;

/// What a committed write changed, as the webhooks' outbox reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub entity: &'static str,
    pub id: Option<String>,
    pub action: &'static str,
    /// The record's version after the change, when it has one.
    pub version: Option<i64>,
    /// The record as its `GET` answers after the change, when the write had it in hand.
    pub record: Option<Value>,
    /// The events whose attendees the change touched, when its entity is not the event itself
    /// (an attendee removed, a person erased).
    pub events: Vec<String>,
}

impl Change {
    pub fn new(action: &'static str, entity: &'static str, id: Option<&str>) -> Self {
        Change { entity, id: id.map(str::to_string), action, version: None, record: None, events: Vec::new() }
    }

    pub fn at(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    pub fn with_record<R: Serialize>(mut self, record: &R) -> Self {
        self.record = serde_json::to_value(record).ok();
        self
    }

    /// The events whose attendees this change touched.
    pub fn about_events(mut self, events: Vec<String>) -> Self {
        self.events = events;
        self
    }
}
