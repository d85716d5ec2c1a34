//! Attendee queries. The IIN never reaches the store: only its keyed hash and last two digits.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{AttendeeResponse, Gender};
use crate::store::schema::attendees as a;
use crate::store::{DbConnection, to_utc};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct AttendeeRow {
    pub id: String,
    pub event_id: String,
    pub full_name: String,
    pub iin_last2: Option<String>,
    pub birth_year: Option<i32>,
    pub gender: Option<Gender>,
    pub organisation: Option<String>,
    pub created_at: NaiveDateTime,
}

impl From<AttendeeRow> for AttendeeResponse {
    fn from(r: AttendeeRow) -> Self {
        AttendeeResponse {
            id: r.id,
            event_id: r.event_id,
            full_name: r.full_name,
            iin_last2: r.iin_last2,
            birth_year: r.birth_year,
            gender: r.gender,
            organisation: r.organisation,
            created_at: to_utc(r.created_at),
        }
    }
}

/// One attendee as written.
pub struct NewRow {
    pub id: String,
    pub full_name: String,
    pub iin_hash: Option<String>,
    pub iin_last2: Option<String>,
    pub birth_year: Option<i32>,
    pub gender: Option<Gender>,
    pub organisation: Option<String>,
}

/// Rows per INSERT: 9 values a row stays well under SQLite's and PostgreSQL's bound-parameter
/// limits (32766 and 65535), which a 10,000-row sheet in one statement would exceed.
const CHUNK: usize = 500;

pub fn insert(conn: &mut DbConnection, event_id: &str, rows: &[NewRow], now: NaiveDateTime) -> QueryResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    a::id.eq(&r.id),
                    a::event_id.eq(event_id),
                    a::full_name.eq(&r.full_name),
                    a::iin_hash.eq(&r.iin_hash),
                    a::iin_last2.eq(&r.iin_last2),
                    a::birth_year.eq(r.birth_year),
                    a::gender.eq(r.gender.map(Gender::as_str)),
                    a::organisation.eq(&r.organisation),
                    a::created_at.eq(now),
                )
            })
            .collect();
        crate::insert_many!(conn, a::table, &values)?;
    }
    Ok(())
}

/// How many attendees an event has.
pub fn count_for_event(conn: &mut DbConnection, event_id: &str) -> QueryResult<i64> {
    a::table.filter(a::event_id.eq(event_id)).count().get_result(conn)
}

/// Which of `hashes` already belong to an attendee of the event.
pub fn existing_hashes(conn: &mut DbConnection, event_id: &str, hashes: &[&str]) -> QueryResult<HashSet<String>> {
    let mut found = HashSet::new();
    // In chunks, for the same bound-parameter limits as the insert.
    for chunk in hashes.chunks(CHUNK) {
        let rows: Vec<Option<String>> =
            a::table.filter(a::event_id.eq(event_id).and(a::iin_hash.eq_any(chunk))).select(a::iin_hash).load(conn)?;
        found.extend(rows.into_iter().flatten());
    }
    Ok(found)
}

pub fn find_in_event(conn: &mut DbConnection, event_id: &str, id: &str) -> QueryResult<Option<AttendeeRow>> {
    a::table.filter(a::event_id.eq(event_id).and(a::id.eq(id))).select(AttendeeRow::as_select()).first(conn).optional()
}

/// By id, which is a UUID v7 and so follows the order they were added in.
pub fn by_ids(conn: &mut DbConnection, ids: &[&str]) -> QueryResult<Vec<AttendeeRow>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        out.extend(
            a::table.filter(a::id.eq_any(chunk)).select(AttendeeRow::as_select()).order(a::id.asc()).load(conn)?,
        );
    }
    Ok(out)
}

/// A page of an event's attendees after the id `after`, in the order they were added.
pub fn list(conn: &mut DbConnection, event_id: &str, after: Option<&str>, limit: i64) -> QueryResult<Vec<AttendeeRow>> {
    let mut q = a::table.filter(a::event_id.eq(event_id)).select(AttendeeRow::as_select()).into_boxed();
    if let Some(after) = after {
        q = q.filter(a::id.gt(after.to_string()));
    }
    q.order(a::id.asc()).limit(limit).load(conn)
}

pub fn delete(conn: &mut DbConnection, event_id: &str, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(a::table.filter(a::event_id.eq(event_id).and(a::id.eq(id)))).execute(conn)? > 0)
}

/// Removes every attendee row of the person with this IIN hash; answers the events they were on.
pub fn erase(conn: &mut DbConnection, iin_hash: &str) -> QueryResult<Vec<String>> {
    let mut events: Vec<String> = a::table.filter(a::iin_hash.eq(iin_hash)).select(a::event_id).load(conn)?;
    diesel::delete(a::table.filter(a::iin_hash.eq(iin_hash))).execute(conn)?;
    events.sort();
    Ok(events)
}
