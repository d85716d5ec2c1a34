//! Audit entries in the store: the append (serialised by the write transaction it runs in), the
//! filtered list and the walk that verifies the chain.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::Actor;
use super::chain::{self, GENESIS};
use crate::store::schema::audit_log as al;
use crate::store::{self, DbConnection};

pub struct NewEntry<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub changes: Value,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = al)]
pub struct EntryRow {
    pub seq: i64,
    pub at: NaiveDateTime,
    pub actor_id: Option<String>,
    pub actor_kind: String,
    pub department_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
    pub changes: String,
    pub prev_hash: String,
    pub hash: String,
}

/// One audit entry as the API shows it and as the chain hashes it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "seq": 42, "at": "2024-03-14T05:00:00.123456Z",
    "actor_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e", "actor_kind": "account",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "action": "department.update",
    "entity": "department", "entity_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d70",
    "request_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71",
    "changes": {"name_kk": {"from": "Ішкі саясат бөлімі", "to": "Ішкі саясат басқармасы"}},
    "prev_hash": "9f2c…", "hash": "1b7e…"
}))]
pub struct AuditEntry {
    pub seq: i64,
    /// RFC 3339 UTC with exactly six fractional digits, as hashed.
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_kind: String,
    pub department_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub changes: Value,
    pub prev_hash: String,
    pub hash: String,
}

pub fn format_at(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

impl From<EntryRow> for AuditEntry {
    fn from(r: EntryRow) -> Self {
        AuditEntry {
            seq: r.seq,
            at: format_at(r.at),
            actor_id: r.actor_id,
            actor_kind: r.actor_kind,
            department_id: r.department_id,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            request_id: r.request_id,
            changes: serde_json::from_str(&r.changes).unwrap_or(Value::Null),
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// The hashed content of an entry: every field but `hash`.
fn hashed_fields(e: &AuditEntry) -> Value {
    json!({
        "seq": e.seq, "at": e.at, "actor_id": e.actor_id, "actor_kind": e.actor_kind,
        "department_id": e.department_id, "action": e.action, "entity": e.entity,
        "entity_id": e.entity_id, "request_id": e.request_id, "changes": e.changes,
        "prev_hash": e.prev_hash,
    })
}

/// Appends one entry after the chain's head. Must run inside a write transaction
/// (`store::write_tx`), which makes appends serial on both stores.
pub fn append(conn: &mut DbConnection, new: &NewEntry<'_>) -> QueryResult<i64> {
    let head: Option<(i64, String)> =
        al::table.select((al::seq, al::hash)).order(al::seq.desc()).first(conn).optional()?;
    let (seq, prev_hash) = match head {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    let at = store::now();
    let mut entry = AuditEntry {
        seq,
        at: format_at(at),
        actor_id: new.actor.id.clone(),
        actor_kind: new.actor.kind.as_str().to_string(),
        department_id: new.actor.department_id.clone(),
        action: new.action.to_string(),
        entity: new.entity.to_string(),
        entity_id: new.entity_id.map(str::to_string),
        request_id: new.request_id.map(str::to_string),
        changes: new.changes.clone(),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = chain::hash(&hashed_fields(&entry));
    diesel::insert_into(al::table)
        .values((
            al::seq.eq(entry.seq),
            al::at.eq(at),
            al::actor_id.eq(&entry.actor_id),
            al::actor_kind.eq(&entry.actor_kind),
            al::department_id.eq(&entry.department_id),
            al::action.eq(&entry.action),
            al::entity.eq(&entry.entity),
            al::entity_id.eq(&entry.entity_id),
            al::request_id.eq(&entry.request_id),
            al::changes.eq(chain::canonical(&entry.changes)),
            al::prev_hash.eq(&entry.prev_hash),
            al::hash.eq(&entry.hash),
        ))
        .execute(conn)?;
    Ok(seq)
}

#[derive(Debug, Default)]
pub struct Filter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<String>,
    pub action: Option<String>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub after_seq: Option<i64>,
}

pub fn list(conn: &mut DbConnection, f: &Filter, limit: i64) -> QueryResult<Vec<EntryRow>> {
    let mut q = al::table.select(EntryRow::as_select()).into_boxed();
    if let Some(v) = &f.entity {
        q = q.filter(al::entity.eq(v));
    }
    if let Some(v) = &f.entity_id {
        q = q.filter(al::entity_id.eq(v));
    }
    if let Some(v) = &f.actor_id {
        q = q.filter(al::actor_id.eq(v));
    }
    if let Some(v) = &f.action {
        q = q.filter(al::action.eq(v));
    }
    if let Some(v) = f.from {
        q = q.filter(al::at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(al::at.lt(v));
    }
    if let Some(v) = f.after_seq {
        q = q.filter(al::seq.gt(v));
    }
    q.order(al::seq.asc()).limit(limit).load(conn)
}

/// What a walk of the chain found.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({"ok": true, "entries": 1280, "first_bad_seq": null}))]
pub struct VerifyReport {
    pub ok: bool,
    pub entries: i64,
    /// The first entry whose hash, link or sequence number does not hold; null when all hold.
    pub first_bad_seq: Option<i64>,
}

/// Walks the whole chain in order, in batches, recomputing every hash and link.
pub fn verify(conn: &mut DbConnection) -> QueryResult<VerifyReport> {
    const BATCH: i64 = 2000;
    let mut expected_prev = GENESIS.to_string();
    let mut expected_seq = 1;
    let mut entries = 0;
    loop {
        let rows: Vec<EntryRow> = al::table
            .select(EntryRow::as_select())
            .filter(al::seq.ge(expected_seq))
            .order(al::seq.asc())
            .limit(BATCH)
            .load(conn)?;
        let done = (rows.len() as i64) < BATCH;
        for row in rows {
            entries += 1;
            let seq = row.seq;
            let stored_changes_ok = serde_json::from_str::<Value>(&row.changes).is_ok();
            let entry = AuditEntry::from(row);
            let ok = seq == expected_seq
                && stored_changes_ok
                && entry.prev_hash == expected_prev
                && chain::hash(&hashed_fields(&entry)) == entry.hash;
            if !ok {
                let total: i64 = al::table.count().get_result(conn)?;
                return Ok(VerifyReport { ok: false, entries: total, first_bad_seq: Some(expected_seq.min(seq)) });
            }
            expected_prev = entry.hash;
            expected_seq += 1;
        }
        if done {
            return Ok(VerifyReport { ok: true, entries, first_bad_seq: None });
        }
    }
}
