//! The reports' aggregates, computed by the store. The SQL is the same on SQLite and PostgreSQL:
//! months and days are turned into UTC bounds in Rust (SQLite has no tz database), and the few
//! values placed in the SQL are made here, never taken from a request as text (instants formatted
//! from chrono values, department ids re-printed from parsed UUIDs).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::store::DbConnection;

/// Which departments a report looks at: one department (with or without its subtree), and the
/// caller's reach (an administration's subtree; `None` for everything).
#[derive(Debug, Clone, Copy, Default)]
pub struct Focus {
    pub department: Option<uuid::Uuid>,
    /// With `department`: its whole subtree (the default), or the department alone.
    pub descendants: bool,
    pub reach: Option<uuid::Uuid>,
}

/// Which events a report counts: those starting within `[from, to)` (UTC bounds of local days),
/// not deleted, led or partnered within the focus.
#[derive(Debug, Clone)]
pub struct Scope {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub focus: Focus,
}

/// An instant as a SQL literal both stores compare correctly with their stored timestamps
/// (SQLite keeps `YYYY-MM-DD HH:MM:SS[.ffffff]` text, which sorts as the instants do).
fn lit(t: NaiveDateTime) -> String {
    format!("'{}'", t.format("%Y-%m-%d %H:%M:%S%.f"))
}

/// Events led or partnered by `d` (`alone`), or by any department of its subtree.
fn taking_part(d: uuid::Uuid, alone: bool) -> String {
    if alone {
        format!(
            " AND (e.lead_department_id = '{d}' OR e.id IN (SELECT p.event_id FROM event_partners p WHERE p.department_id = '{d}'))"
        )
    } else {
        let subtree = format!("SELECT st.department_id FROM department_tree st WHERE st.ancestor_id = '{d}'");
        format!(
            " AND (e.lead_department_id IN ({subtree}) OR e.id IN (SELECT p.event_id FROM event_partners p WHERE p.department_id IN ({subtree})))"
        )
    }
}

impl Scope {
    fn events_where(&self) -> String {
        let mut w =
            format!("e.deleted_at IS NULL AND e.starts_at >= {} AND e.starts_at < {}", lit(self.from), lit(self.to));
        if let Some(d) = self.focus.department {
            w.push_str(&taking_part(d, !self.focus.descendants));
        }
        if let Some(root) = self.focus.reach {
            w.push_str(&taking_part(root, false));
        }
        w
    }
}

/// How a report's rows are keyed by department: each department alone (by the event's lead or
/// partner itself), or each child of a department rolling up its whole subtree.
#[derive(Debug, Clone, Copy)]
pub enum Grouping {
    Alone,
    ChildrenOf(uuid::Uuid),
}

impl Grouping {
    /// The join that keys a row by `g.ancestor_id` for the department in `column`.
    fn join(self, column: &str) -> String {
        match self {
            Grouping::Alone => format!("JOIN department_tree g ON g.department_id = {column} AND g.depth = 0"),
            Grouping::ChildrenOf(x) => format!(
                "JOIN department_tree g ON g.department_id = {column} \
                 AND g.ancestor_id IN (SELECT c.id FROM departments c WHERE c.parent_id = '{x}')"
            ),
        }
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

/// Held events and their participants by the lead department's row (see [`Grouping`]).
pub fn led(conn: &mut DbConnection, s: &Scope, by: Grouping) -> QueryResult<Counts> {
    grouped(
        conn,
        format!(
            "SELECT g.ancestor_id AS key, COUNT(*) AS n, CAST(COALESCE(SUM(e.attendance_total), 0) AS BIGINT) AS total \
             FROM events e {} WHERE {} AND e.status = 'held' GROUP BY g.ancestor_id",
            by.join("e.lead_department_id"),
            s.events_where()
        ),
    )
}

/// Held events a row's department (or subtree) partners in and does not lead: each once.
pub fn partnered(conn: &mut DbConnection, s: &Scope, by: Grouping) -> QueryResult<Counts> {
    grouped(
        conn,
        format!(
            "SELECT g.ancestor_id AS key, COUNT(DISTINCT e.id) AS n, CAST(0 AS BIGINT) AS total \
             FROM event_partners ep {} JOIN events e ON e.id = ep.event_id \
             WHERE {} AND e.status = 'held' AND NOT EXISTS (SELECT 1 FROM department_tree l \
               WHERE l.ancestor_id = g.ancestor_id AND l.department_id = e.lead_department_id) \
             GROUP BY g.ancestor_id",
            by.join("ep.department_id"),
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

/// [`CheckedCounts`] of the held events, by their lead department's row (`by`) or all together
/// (under the key `""`). The flags are the events' own (`events::store::flag_sql`).
pub fn checked(
    conn: &mut DbConnection,
    s: &Scope,
    by: Option<Grouping>,
) -> QueryResult<HashMap<String, CheckedCounts>> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let flagged = crate::events::store::flagged_sql("e.", sqlite);
    let (key, join, group) = match by {
        Some(by) => ("g.ancestor_id", by.join("e.lead_department_id"), " GROUP BY g.ancestor_id"),
        None => ("''", String::new(), ""),
    };
    let sql = format!(
        "SELECT {key} AS key, \
         CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN 1 ELSE 0 END), 0) AS BIGINT) AS verified, \
         CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN e.attendance_total ELSE 0 END), 0) AS BIGINT) AS participants, \
         CAST(COALESCE(SUM(CASE WHEN {flagged} THEN 1 ELSE 0 END), 0) AS BIGINT) AS flagged \
         FROM events e {join} WHERE {} AND e.status = 'held'{group}",
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

/// The latest start of a held event each row's department (or subtree) led.
pub fn last_held(conn: &mut DbConnection, s: &Scope, by: Grouping) -> QueryResult<HashMap<String, NaiveDateTime>> {
    let sql = format!(
        "SELECT g.ancestor_id AS key, MAX(e.starts_at) AS at FROM events e {} \
         WHERE {} AND e.status = 'held' GROUP BY g.ancestor_id",
        by.join("e.lead_department_id"),
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

/// Distinct people among the held events each row's department (or subtree) led: counted
/// across the subtree, never summed from its parts.
pub fn unique_people_by(conn: &mut DbConnection, s: &Scope, by: Grouping) -> QueryResult<HashMap<String, i64>> {
    let sql = format!(
        "SELECT g.ancestor_id AS key, CAST(COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS n, \
         CAST(0 AS BIGINT) AS total \
         FROM attendees a JOIN events e ON e.id = a.event_id {} WHERE {} AND e.status = 'held' GROUP BY g.ancestor_id",
        by.join("e.lead_department_id"),
        s.events_where()
    );
    Ok(grouped(conn, sql)?.into_iter().map(|(k, (n, _))| (k, n)).collect())
}

/// Each department's row under `by`: itself alone, or the child of the grouping's department
/// whose subtree it is in (departments elsewhere have none).
pub fn rows_of(conn: &mut DbConnection, by: Grouping) -> QueryResult<HashMap<String, String>> {
    use crate::store::schema::{department_tree as t, departments as d};
    match by {
        Grouping::Alone => {
            let ids: Vec<String> = d::table.select(d::id).load(conn)?;
            Ok(ids.into_iter().map(|id| (id.clone(), id)).collect())
        }
        Grouping::ChildrenOf(x) => {
            let children = d::table.filter(d::parent_id.eq(x.to_string())).select(d::id);
            let pairs: Vec<(String, String)> = t::table
                .filter(t::ancestor_id.eq_any(children))
                .select((t::department_id, t::ancestor_id))
                .load(conn)?;
            Ok(pairs.into_iter().collect())
        }
    }
}

/// Each department's level (1 for a root) and path of codes from the root (`region/city/unit`).
pub fn tree_paths(conn: &mut DbConnection) -> QueryResult<HashMap<String, (i32, String)>> {
    use crate::store::schema::{department_tree as t, departments as d};
    let rows: Vec<(String, String, i32)> = t::table
        .inner_join(d::table.on(d::id.eq(t::ancestor_id)))
        .select((t::department_id, d::code, t::depth))
        .order((t::department_id.asc(), t::depth.desc()))
        .load(conn)?;
    let mut out: HashMap<String, (i32, String)> = HashMap::new();
    for (id, code, _) in rows {
        let entry = out.entry(id).or_insert((0, String::new()));
        entry.0 += 1;
        if !entry.1.is_empty() {
            entry.1.push('/');
        }
        entry.1.push_str(&code);
    }
    Ok(out)
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
