//! The reports' aggregates, computed by the store. The SQL is the same on SQLite and PostgreSQL:
//! months and days are turned into UTC bounds in Rust (SQLite has no tz database), and the few
//! values placed in the SQL are made here, never taken from a request as text (instants formatted
//! from chrono values, department ids re-printed from parsed UUIDs).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::store::DbConnection;

/// Which events a report counts: those starting within `[from, to)` (UTC bounds of local days),
/// not deleted, and — with a department — those it leads or partners in.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub department: Option<uuid::Uuid>,
}

/// An instant as a SQL literal both stores compare correctly with their stored timestamps
/// (SQLite keeps `YYYY-MM-DD HH:MM:SS[.ffffff]` text, which sorts as the instants do).
fn lit(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.f"))
}

impl Scope {
    fn events_where(&self) -> String {
        let mut w =
            format!("e.deleted_at IS NULL AND e.starts_at >= {} AND e.starts_at < {}", lit(self.from), lit(self.to));
        if let Some(d) = self.department {
            w.push_str(&format!(
                " AND (e.lead_department_id = '{d}' OR e.id IN (SELECT p.event_id FROM event_partners p WHERE p.department_id = '{d}'))"
            ));
        }
        w
    }
}

#[derive(Debug, QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

#[derive(Debug, QueryableByName)]
struct ByStatus {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    basis: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
}

/// `(count, sum)` by key.
pub type Counts = HashMap<String, (i64, i64)>;

fn grouped(conn: &mut DbConnection, sql: String) -> QueryResult<Counts> {
    let rows: Vec<Grouped> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.key.map(|k| (k, (r.n, r.total)))).collect())
}

/// A status and an attendance basis, with the count of events and their participants.
pub type StatusCounts = ((String, Option<String>), (i64, i64));

/// Events by status and attendance basis.
pub fn by_status(conn: &mut DbConnection, s: &Scope) -> QueryResult<Vec<StatusCounts>> {
    let sql = format!(
        "SELECT e.status AS status, e.attendance_basis AS basis, COUNT(*) AS n, \
         CAST(COALESCE(SUM(e.attendance_total), 0) AS BIGINT) AS total \
         FROM events e WHERE {} GROUP BY e.status, e.attendance_basis",
        s.events_where()
    );
    let rows: Vec<ByStatus> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().map(|r| ((r.status, r.basis), (r.n, r.total))).collect())
}

/// Held events and their participants by a column of the event (`lead_department_id`, `kind`).
pub fn held_by(conn: &mut DbConnection, s: &Scope, column: &'static str) -> QueryResult<Counts> {
    grouped(
        conn,
        format!(
            "SELECT e.{column} AS key, COUNT(*) AS n, CAST(COALESCE(SUM(e.attendance_total), 0) AS BIGINT) AS total \
             FROM events e WHERE {} AND e.status = 'held' GROUP BY e.{column}",
            s.events_where()
        ),
    )
}

/// Held events each department partners in.
pub fn partnered(conn: &mut DbConnection, s: &Scope) -> QueryResult<Counts> {
    grouped(
        conn,
        format!(
            "SELECT ep.department_id AS key, COUNT(*) AS n, CAST(0 AS BIGINT) AS total \
             FROM event_partners ep JOIN events e ON e.id = ep.event_id \
             WHERE {} AND e.status = 'held' GROUP BY ep.department_id",
            s.events_where()
        ),
    )
}

/// Held events naming each audience, and the sum of their breakdown counts for it.
pub fn by_audience(conn: &mut DbConnection, s: &Scope) -> QueryResult<(Counts, Counts)> {
    let events = grouped(
        conn,
        format!(
            "SELECT ea.audience AS key, COUNT(*) AS n, CAST(0 AS BIGINT) AS total \
             FROM event_audiences ea JOIN events e ON e.id = ea.event_id \
             WHERE {} AND e.status = 'held' GROUP BY ea.audience",
            s.events_where()
        ),
    )?;
    let counted = grouped(
        conn,
        format!(
            "SELECT eb.audience AS key, COUNT(*) AS n, CAST(COALESCE(SUM(eb.count), 0) AS BIGINT) AS total \
             FROM event_breakdown eb JOIN events e ON e.id = eb.event_id \
             WHERE {} AND e.status = 'held' GROUP BY eb.audience",
            s.events_where()
        ),
    )?;
    Ok((events, counted))
}

/// Held events and participants by local month: `buckets` are the months' labels with the UTC
/// instants at which each begins, in order; the period's end closes the last.
pub fn by_month(conn: &mut DbConnection, s: &Scope, buckets: &[(String, NaiveDateTime)]) -> QueryResult<Counts> {
    if buckets.is_empty() {
        return Ok(HashMap::new());
    }
    let sum = "COUNT(*) AS n, CAST(COALESCE(SUM(e.attendance_total), 0) AS BIGINT) AS total";
    let sql = if buckets.len() == 1 {
        // One month: no CASE (it would have no WHEN) and nothing to group by.
        format!(
            "SELECT '{}' AS key, {sum} FROM events e WHERE {} AND e.status = 'held'",
            buckets[0].0,
            s.events_where()
        )
    } else {
        let mut case = String::from("CASE");
        for pair in buckets.windows(2) {
            case.push_str(&format!(" WHEN e.starts_at < {} THEN '{}'", lit(pair[1].1), pair[0].0));
        }
        case.push_str(&format!(" ELSE '{}' END", buckets[buckets.len() - 1].0));
        format!("SELECT {case} AS key, {sum} FROM events e WHERE {} AND e.status = 'held' GROUP BY 1", s.events_where())
    };
    grouped(conn, sql)
}

#[derive(Debug, QueryableByName)]
struct Checked {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    verified: i64,
    #[diesel(sql_type = BigInt)]
    participants: i64,
    #[diesel(sql_type = BigInt)]
    flagged: i64,
}

/// What was checked of the held events: verified events, their participants, and flagged events.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CheckedCounts {
    pub verified: i64,
    pub participants: i64,
    pub flagged: i64,
}

/// [`CheckedCounts`] of the held events, by their lead department (`by_lead`) or all together
/// (under the key `""`). The flags are the events' own (`events::store::flag_sql`).
pub fn checked(conn: &mut DbConnection, s: &Scope, by_lead: bool) -> QueryResult<HashMap<String, CheckedCounts>> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let flagged = crate::events::store::flagged_sql("e.", sqlite);
    let (key, group) = if by_lead { ("e.lead_department_id", " GROUP BY e.lead_department_id") } else { ("''", "") };
    let sql = format!(
        "SELECT {key} AS key, \
         CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN 1 ELSE 0 END), 0) AS BIGINT) AS verified, \
         CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN e.attendance_total ELSE 0 END), 0) AS BIGINT) AS participants, \
         CAST(COALESCE(SUM(CASE WHEN {flagged} THEN 1 ELSE 0 END), 0) AS BIGINT) AS flagged \
         FROM events e WHERE {} AND e.status = 'held'{group}",
        s.events_where()
    );
    let rows: Vec<Checked> = diesel::sql_query(sql).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let counts = CheckedCounts { verified: r.verified, participants: r.participants, flagged: r.flagged };
            (r.key.unwrap_or_default(), counts)
        })
        .collect())
}

#[derive(Debug, QueryableByName)]
struct LastHeld {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Timestamp>)]
    at: Option<NaiveDateTime>,
}

/// The latest start of a held event each department led.
pub fn last_held(conn: &mut DbConnection, s: &Scope) -> QueryResult<HashMap<String, NaiveDateTime>> {
    let sql = format!(
        "SELECT e.lead_department_id AS key, MAX(e.starts_at) AS at FROM events e \
         WHERE {} AND e.status = 'held' GROUP BY e.lead_department_id",
        s.events_where()
    );
    let rows: Vec<LastHeld> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().filter_map(|r| r.at.map(|at| (r.key, at))).collect())
}

#[derive(Debug, QueryableByName)]
struct Unique {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Distinct people among the held events' attendees: distinct IIN hashes, plus each attendee
/// without an IIN once.
pub fn unique_people(conn: &mut DbConnection, s: &Scope) -> QueryResult<i64> {
    let sql = format!(
        "SELECT CAST(COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS n \
         FROM attendees a JOIN events e ON e.id = a.event_id WHERE {} AND e.status = 'held'",
        s.events_where()
    );
    let rows: Vec<Unique> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.first().map(|r| r.n).unwrap_or(0))
}

/// Plan items due within `[from, to]` (local dates), with their responsible department.
pub fn items_due(
    conn: &mut DbConnection,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<crate::plans::store::ItemRow>> {
    use crate::store::schema::plan_items as pi;
    pi::table
        .filter(pi::due_date.ge(from).and(pi::due_date.le(to)))
        .select(crate::plans::store::ItemRow::as_select())
        .load(conn)
}
