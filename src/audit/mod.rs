//! The audit trail: every write appends an entry in its own transaction, and the entries form a
//! SHA-256 hash chain over their RFC 8785 (JCS) canonical JSON that anyone can re-verify.

pub mod chain;
pub mod http;
pub mod store;

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Account,
    Client,
    /// The command line or the server itself (first start, seeding).
    System,
    /// An unauthenticated caller (a failed login).
    Anonymous,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Account => "account",
            ActorKind::Client => "client",
            ActorKind::System => "system",
            ActorKind::Anonymous => "anonymous",
        }
    }
}

/// Who performs a write, as the audit log records it.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<String>,
    pub kind: ActorKind,
    pub department_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { id: None, kind: ActorKind::System, department_id: None }
    }

    pub fn anonymous() -> Self {
        Actor { id: None, kind: ActorKind::Anonymous, department_id: None }
    }

    /// Whose idempotency keys these are: a key is only ever matched against its own principal's.
    pub fn idempotency_scope(&self) -> String {
        format!("{}:{}", self.kind.as_str(), self.id.as_deref().unwrap_or("-"))
    }
}

const REDACTED: &str = "[redacted]";

fn is_sensitive(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password") || k.contains("secret") || k.contains("token") || k == "iin" || k.ends_with("_hash")
}

fn redact(key: &str, value: &Value) -> Value {
    if is_sensitive(key) && !value.is_null() {
        return Value::String(REDACTED.into());
    }
    match value {
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), redact(k, v))).collect()),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact("", v)).collect()),
        other => other.clone(),
    }
}

/// Fields that change on every write and say nothing of what changed.
const BOOKKEEPING: [&str; 3] = ["version", "updated_at", "created_at"];

/// The changed fields of a record, `{"field": {"from": …, "to": …}}`, with secrets and personal
/// data redacted. `before` is `None` for a create and `after` is `None` for a delete.
pub fn changes(before: Option<&impl Serialize>, after: Option<&impl Serialize>) -> Value {
    let as_map = |v: Option<Value>| match v {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let before = as_map(before.and_then(|b| serde_json::to_value(b).ok()));
    let after = as_map(after.and_then(|a| serde_json::to_value(a).ok()));
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = Map::new();
    for key in keys {
        if BOOKKEEPING.contains(&key.as_str()) {
            continue;
        }
        let from = before.get(key).cloned().unwrap_or(Value::Null);
        let to = after.get(key).cloned().unwrap_or(Value::Null);
        if from != to {
            let mut change = Map::new();
            change.insert("from".into(), redact(key, &from));
            change.insert("to".into(), redact(key, &to));
            out.insert(key.clone(), Value::Object(change));
        }
    }
    Value::Object(out)
}

/// Free-form details of an entry that is not a record's change (a login, a revocation).
pub fn details(value: Value) -> Value {
    redact("", &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_list_only_changed_fields_and_redact_secrets() {
        let before = json!({"name": "a", "password_hash": "x", "version": 1, "same": 2});
        let after = json!({"name": "b", "password_hash": "y", "version": 2, "same": 2});
        assert_eq!(
            changes(Some(&before), Some(&after)),
            json!({"name": {"from": "a", "to": "b"}, "password_hash": {"from": "[redacted]", "to": "[redacted]"}})
        );
    }

    #[test]
    fn a_create_has_every_field_from_null() {
        let after = json!({"code": "x", "client_secret": "s"});
        assert_eq!(
            changes(None::<&Value>, Some(&after)),
            json!({"client_secret": {"from": null, "to": "[redacted]"}, "code": {"from": null, "to": "x"}})
        );
    }
}
