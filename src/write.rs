//! The one write path: every change to the registry — an HTTP write, a login, the first start's
//! admin, the demonstration data — runs in [`transaction`]. It opens the write transaction, hands
//! the work a [`Tx`], refuses to commit work that wrote no audit entry (unless it says why), and
//! passes the typed [`Change`]s the work recorded to [`on_commit`], inside the same transaction.

use serde_json::Value;

use crate::audit::{self, Actor, store as audit_store};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::store::{self, DbConnection};
use crate::version::Versioned;

pub use crate::change::Change;

/// A write transaction in progress: its connection, who is writing, and what it has recorded.
/// Only [`transaction`] makes one.
pub struct Tx<'a> {
    conn: &'a mut DbConnection,
    pub actor: &'a Actor,
    request_id: &'a str,
    changes: Vec<Change>,
    unaudited: Option<&'static str>,
}

impl<'a> Tx<'a> {
    /// The transaction's connection, for the stores.
    pub fn conn(&mut self) -> &mut DbConnection {
        self.conn
    }

    /// Appends the audit entry of `change`, with `details` (see [`crate::audit::changes`]).
    pub fn record(&mut self, change: Change, details: Value) -> Result<(), ApiError> {
        let actor = self.actor;
        self.record_by(actor, change, details)
    }

    /// [`Tx::record`] for an actor learned inside the transaction (a login's account).
    pub fn record_by(&mut self, actor: &Actor, change: Change, details: Value) -> Result<(), ApiError> {
        let request_id = (!self.request_id.is_empty()).then_some(self.request_id);
        audit_store::append(
            self.conn,
            &audit_store::NewEntry {
                actor,
                action: change.action,
                entity: change.entity,
                entity_id: change.id.as_deref(),
                request_id,
                changes: details,
            },
        )?;
        self.changes.push(change);
        Ok(())
    }

    /// [`Tx::record`] of a change with no version.
    pub fn audit(
        &mut self,
        action: &'static str,
        entity: &'static str,
        entity_id: Option<&str>,
        details: Value,
    ) -> Result<(), ApiError> {
        self.record(Change::new(action, entity, entity_id), details)
    }

    /// Lets this transaction commit with no audit entry, saying why: it changed nothing, or what
    /// it changed is bookkeeping whose cause is audited elsewhere (a refresh token's rotation).
    pub fn without_entry(&mut self, why: &'static str) {
        self.unaudited = Some(why);
    }

    /// The changes recorded so far.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }
}

/// Runs `work` in one write transaction for `actor` and commits it when it succeeds, wrote an
/// audit entry (or said why not) and [`on_commit`] succeeds; otherwise rolls it back.
/// `request_id` is the request's (empty for the command line).
pub fn transaction<T>(
    conn: &mut DbConnection,
    actor: &Actor,
    request_id: &str,
    work: impl FnOnce(&mut Tx<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let (value, queued) = store::write_tx(conn, |conn| {
        let mut tx = Tx { conn, actor, request_id, changes: Vec::new(), unaudited: None };
        let value = work(&mut tx)?;
        if tx.changes.is_empty() && tx.unaudited.is_none() {
            return Err(ApiError::internal(anyhow::anyhow!(
                "a write transaction recorded no audit entry and gave no reason; it was rolled back"
            )));
        }
        let queued = on_commit(tx.conn, &tx.changes)?;
        Ok((value, queued))
    })?;
    if queued {
        // Committed: this instance's delivery worker need not wait for its next look.
        crate::webhooks::wake::wake();
    }
    Ok(value)
}

/// Called once per write, inside its transaction, just before it commits, with every change it
/// recorded: what hangs on a committed change is written from here, so it commits or rolls back
/// with the change itself. Today that is the webhooks' outbox; answers whether it queued messages.
fn on_commit(conn: &mut DbConnection, changes: &[Change]) -> Result<bool, ApiError> {
    crate::webhooks::outbox::enqueue(conn, changes)
}

/// The conditional change of one record, in the order every `PATCH` and `DELETE` follows: the
/// record as found (404 when it is not), `guard` (who may change it), then `If-Match` (412 when it
/// names another version).
pub fn current<R: Versioned>(
    found: Option<R>,
    if_match: &IfMatch,
    guard: impl FnOnce(&R) -> Result<(), ApiError>,
) -> Result<R, ApiError> {
    let record = found.ok_or(ApiError::NotFound)?;
    guard(&record)?;
    if_match.check(record.version())?;
    Ok(record)
}

/// What a write conditional on the version it read returned: `None` (or `false`) when another
/// write changed the record first, which is a 412.
pub fn written<T>(row: Option<T>) -> Result<T, ApiError> {
    row.ok_or(ApiError::PreconditionFailed)
}

impl Tx<'_> {
    /// Records the creation of `after`, every field from null.
    pub fn created<R: Versioned>(
        &mut self,
        action: &'static str,
        entity: &'static str,
        id: &str,
        after: &R,
    ) -> Result<(), ApiError> {
        let change = Change::new(action, entity, Some(id)).at(after.version()).with_record(after);
        self.record(change, audit::changes(None::<&R>, Some(after)))
    }

    /// Records the change of `before` into `after`, field by field.
    pub fn updated<R: Versioned>(
        &mut self,
        action: &'static str,
        entity: &'static str,
        id: &str,
        before: &R,
        after: &R,
    ) -> Result<(), ApiError> {
        let details = audit::changes(Some(before), Some(after));
        self.record(Change::new(action, entity, Some(id)).at(after.version()).with_record(after), details)
    }

    /// Records the removal of `before`, after the write that removed it (`removed`: 412 when
    /// another write changed it first).
    pub fn removed<R: Versioned>(
        &mut self,
        action: &'static str,
        entity: &'static str,
        id: &str,
        before: &R,
        removed: bool,
    ) -> Result<(), ApiError> {
        written(removed.then_some(()))?;
        self.record(Change::new(action, entity, Some(id)), audit::changes(Some(before), None::<&R>))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::departments::store::{self as departments, NewDepartment};
    use crate::store::{PoolSettings, StoreUrl};
    use std::time::Duration;

    fn sqlite() -> (tempfile::TempDir, crate::store::conn::PooledConn) {
        let dir = tempfile::tempdir().unwrap();
        let url = StoreUrl::Sqlite { path: dir.path().join("t.db").to_string_lossy().into_owned() };
        let settings = PoolSettings {
            max_size: 1,
            checkout_timeout: Duration::from_secs(2),
            sqlite_busy_timeout: Duration::from_secs(2),
        };
        let pool = store::build_pool(&url, &settings).unwrap();
        let mut conn = pool.get().unwrap();
        store::run_migrations(&mut conn).unwrap();
        (dir, conn)
    }

    fn insert(tx: &mut Tx<'_>, code: &str) -> String {
        let row = departments::insert(tx.conn(), &NewDepartment::unit(code, "а", "б", None)).unwrap();
        row.id
    }

    #[test]
    fn a_write_with_no_audit_entry_is_rolled_back() {
        let (_dir, mut conn) = sqlite();
        let result = transaction(&mut conn, &Actor::system(), "", |tx| Ok(insert(tx, "silent")));
        assert!(matches!(result, Err(ApiError::Internal(_))), "{result:?}");
        assert!(departments::find_by_code(&mut conn, "silent").unwrap().is_none());
    }

    #[test]
    fn an_audited_write_commits_and_hands_on_its_changes() {
        let (_dir, mut conn) = sqlite();
        let changes = transaction(&mut conn, &Actor::system(), "", |tx| {
            let id = insert(tx, "audited");
            tx.record(Change::new("department.create", "department", Some(&id)).at(1), Value::Null)?;
            Ok(tx.changes().to_vec())
        })
        .unwrap();
        let row = departments::find_by_code(&mut conn, "audited").unwrap().expect("committed");
        assert_eq!(changes, vec![Change::new("department.create", "department", Some(&row.id)).at(1)]);
    }

    /// Only the store, this module and idempotency's own lease open a write transaction: every
    /// other write goes through [`transaction`], so none escapes its audit entry.
    #[test]
    fn nothing_else_opens_a_write_transaction() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    if text.lines().any(|l| !l.trim_start().starts_with("//") && l.contains("write_tx(")) {
                        found.push(path.to_string_lossy().into_owned());
                    }
                }
            }
        }
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        walk(&src, &mut found);
        let allowed = ["src/store/conn.rs", "src/write.rs", "src/http/idempotency.rs"];
        let others: Vec<&String> = found.iter().filter(|f| !allowed.iter().any(|a| f.ends_with(a))).collect();
        assert!(found.iter().any(|f| f.ends_with("src/write.rs")), "the scan found the write path itself");
        assert!(others.is_empty(), "write transactions opened outside the write path: {others:?}");
    }
}
