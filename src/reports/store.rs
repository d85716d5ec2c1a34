//! The reports' aggregates, computed by the store. The SQL is the same on SQLite and PostgreSQL:
//! months and days are turned into UTC bounds in Rust (SQLite has no tz database), and the few
//! values placed in the SQL are made here, never taken from a request as text (instants formatted
//! from chrono values, department ids re-printed from parsed UUIDs).

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::store::{DbConnection, prepared};

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

/// The event columns the parts read, copied once into the scope's events.
const EVENT_COLUMNS: &str = "e.id, e.status, e.kind, e.starts_at, e.ends_at, e.created_at, e.lead_department_id, \
     e.attendance_total, e.attendance_basis, e.planned_participants, e.evidence_count, e.verification_status";

impl Scope {
    /// The name of this scope's events in a statement: one per period (a compared period's parts
    /// read their own).
    fn events(&self) -> String {
        format!("scope_{}_{}", self.from.and_utc().timestamp(), self.to.and_utc().timestamp())
    }

    /// This scope's events as a common table expression. A department's report (its subtree's
    /// events, led or partnered) finds them once, `MATERIALIZED` (PostgreSQL 12, SQLite 3.35),
    /// for every part to read: each part finding them again made a region's one-year summary at
    /// 1,000,000 events read the year eight times (8 s against 1.9 s for the same figures by
    /// psql; 0.9–1.2 s once). Without a department every part reads the events table itself
    /// (`NOT MATERIALIZED`): a copy of a whole year of the registry has no index, and joined to
    /// attendees by region it cost PostgreSQL its parallel workers (2.5 → 4.2 s) and SQLite its
    /// plan (0.4 → 9.6 s at 100,000 events).
    fn events_cte(&self) -> String {
        let how = if self.focus.department.is_some() { "MATERIALIZED" } else { "NOT MATERIALIZED" };
        format!("{} AS {how} (SELECT {EVENT_COLUMNS} FROM events e WHERE {})", self.events(), self.events_where())
    }

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
    /// The tops of a reach, each rolling up its subtree: its root, or every root of the registry.
    Tops(Option<uuid::Uuid>),
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
            Grouping::Tops(Some(root)) => {
                format!("JOIN department_tree g ON g.department_id = {column} AND g.ancestor_id = '{root}'")
            }
            Grouping::Tops(None) => format!(
                "JOIN department_tree g ON g.department_id = {column} \
                 AND g.ancestor_id IN (SELECT c.id FROM departments c WHERE c.parent_id IS NULL)"
            ),
        }
    }
}

/// One row of a report's combined statement: its part's name and key (`kind:lecture`), the events
/// counted, a sum of people, and what was checked of them.
#[derive(Debug, QueryableByName)]
struct FigureRow {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    verified: i64,
    #[diesel(sql_type = BigInt)]
    participants_verified: i64,
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

/// One figure of a part: events counted, a sum of people, and what was checked of them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figure {
    pub n: i64,
    pub total: i64,
    pub checked: CheckedCounts,
}

/// A part's figures by key.
pub type Figures = HashMap<String, Figure>;

/// One part of a combined statement: a `SELECT` of `key, n, total, verified,
/// participants_verified, flagged`, its keys prefixed with the part's name (`kind:lecture`).
pub struct Part {
    name: &'static str,
    /// The definition of the scope's events it reads ([`Scope::events_cte`]).
    events: String,
    /// The select list after the key's prefix; see [`select`].
    columns: String,
    /// `FROM …` to the end.
    rest: String,
}

/// The select list of a part after its name: its key expression, the count and sum, and (with
/// the events' flag condition) what was checked, else zeros.
fn select(key: &str, n: &str, total: &str, flagged: Option<&str>) -> String {
    let checked = match flagged {
        Some(flagged) => format!(
            "CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN 1 ELSE 0 END), 0) AS BIGINT) AS verified, \
             CAST(COALESCE(SUM(CASE WHEN e.verification_status = 'verified' THEN e.attendance_total ELSE 0 END), 0) AS BIGINT) AS participants_verified, \
             CAST(COALESCE(SUM(CASE WHEN {flagged} THEN 1 ELSE 0 END), 0) AS BIGINT) AS flagged"
        ),
        None => {
            "CAST(0 AS BIGINT) AS verified, CAST(0 AS BIGINT) AS participants_verified, CAST(0 AS BIGINT) AS flagged"
                .to_string()
        }
    };
    format!("{key} AS key, CAST({n} AS BIGINT) AS n, CAST({total} AS BIGINT) AS total, {checked}")
}

fn part(name: &'static str, s: &Scope, columns: String, rest: String) -> Part {
    Part { name, events: s.events_cte(), columns, rest }
}

const SEATS: &str = "COALESCE(SUM(e.attendance_total), 0)";
const PEOPLE: &str = "COUNT(DISTINCT a.iin_hash) + COALESCE(SUM(CASE WHEN a.iin_hash IS NULL THEN 1 ELSE 0 END), 0)";

impl Part {
    /// The same part under another name (`led` as `before_led`), to run a compared period's part
    /// in the same statement.
    pub fn renamed(self, name: &'static str) -> Part {
        Part { name, ..self }
    }

    fn sql(&self) -> String {
        format!("SELECT '{}:' || {} {}", self.name, self.columns, self.rest)
    }

    /// Events by status and attendance basis (`held:sign_in_sheet`), with what was checked.
    pub fn status(s: &Scope, flagged: &str) -> Part {
        let key = "e.status || ':' || COALESCE(e.attendance_basis, '')";
        let rest = format!("FROM {} e GROUP BY e.status, e.attendance_basis", s.events());
        part("status", s, select(key, "COUNT(*)", SEATS, Some(flagged)), rest)
    }

    /// Held events, their participants and what was checked, by the lead's row ([`Grouping`]).
    pub fn led(s: &Scope, by: Grouping, flagged: &str) -> Part {
        let rest = format!(
            "FROM {} e {} WHERE e.status = 'held' GROUP BY g.ancestor_id",
            s.events(),
            by.join("e.lead_department_id"),
        );
        part("led", s, select("g.ancestor_id", "COUNT(*)", SEATS, Some(flagged)), rest)
    }

    /// Held events a row's department (or subtree) partners in and does not lead: each once.
    pub fn partnered(s: &Scope, by: Grouping) -> Part {
        // A department alone counts every event it partners in (it never leads those); a roll-up
        // leaves out the events its own subtree leads.
        let not_led = match by {
            Grouping::Alone => "",
            _ => {
                " WHERE NOT EXISTS (SELECT 1 FROM department_tree l \
                   WHERE l.ancestor_id = g.ancestor_id AND l.department_id = e.lead_department_id)"
            }
        };
        // The period's held events first, then their partnerships: joined from the partners'
        // side, PostgreSQL visited every partnership of a region's subtree in every year and
        // fetched each event to test its date (4.4 s against 1.6 s for 17 regions at 1,000,000
        // events). The DISTINCT keeps both planners from merging the subquery back into the join;
        // ids are unique, so it removes nothing.
        let rest = format!(
            "FROM (SELECT DISTINCT e.id, e.lead_department_id FROM {} e WHERE e.status = 'held') e \
             JOIN event_partners ep ON ep.event_id = e.id {}{not_led} GROUP BY g.ancestor_id",
            s.events(),
            by.join("ep.department_id"),
        );
        part("partnered", s, select("g.ancestor_id", "COUNT(DISTINCT e.id)", "0", None), rest)
    }

    /// Held events and their participants by kind.
    pub fn kind(s: &Scope) -> Part {
        let rest = format!("FROM {} e WHERE e.status = 'held' GROUP BY e.kind", s.events());
        part("kind", s, select("e.kind", "COUNT(*)", SEATS, None), rest)
    }

    /// Held events naming each audience (`audience`), and the sum of their breakdown counts for it
    /// (`counted`, its `total`).
    pub fn audiences(s: &Scope) -> [Part; 2] {
        let events = s.events();
        [
            part(
                "audience",
                s,
                select("ea.audience", "COUNT(*)", "0", None),
                format!(
                    "FROM {events} e JOIN event_audiences ea ON ea.event_id = e.id WHERE e.status = 'held' GROUP BY ea.audience"
                ),
            ),
            part(
                "counted",
                s,
                select("eb.audience", "COUNT(*)", "COALESCE(SUM(eb.count), 0)", None),
                format!(
                    "FROM {events} e JOIN event_breakdown eb ON eb.event_id = e.id WHERE e.status = 'held' GROUP BY eb.audience"
                ),
            ),
        ]
    }

    /// Held events and participants by local month: `buckets` are the months' labels with the UTC
    /// instants at which each begins, in order; the period's end closes the last.
    pub fn months(s: &Scope, buckets: &[(String, NaiveDateTime)]) -> Option<Part> {
        let (first, rest) = buckets.split_first()?;
        let events = s.events();
        if rest.is_empty() {
            // One month: no CASE (it would have no WHEN) and nothing to group by.
            let key = format!("'{}'", first.0);
            return Some(part(
                "month",
                s,
                select(&key, "COUNT(*)", SEATS, None),
                format!("FROM {events} e WHERE e.status = 'held'"),
            ));
        }
        let mut case = String::from("CASE");
        for pair in buckets.windows(2) {
            case.push_str(&format!(" WHEN e.starts_at < {} THEN '{}'", lit(pair[1].1), pair[0].0));
        }
        case.push_str(&format!(" ELSE '{}' END", buckets[buckets.len() - 1].0));
        let rest = format!("FROM {events} e WHERE e.status = 'held' GROUP BY {case}");
        Some(part("month", s, select(&case, "COUNT(*)", SEATS, None), rest))
    }

    /// Distinct people among the held events' attendees: distinct IIN hashes, plus each attendee
    /// without an IIN once — under the key `all`, or by the lead's row, counted across a subtree,
    /// never summed from its parts.
    pub fn people(s: &Scope, by: Option<Grouping>) -> Part {
        let events = s.events();
        match by {
            None => part(
                "people",
                s,
                select("'all'", PEOPLE, "0", None),
                format!("FROM {events} e JOIN attendees a ON a.event_id = e.id WHERE e.status = 'held'"),
            ),
            Some(by) => part(
                "people",
                s,
                select("g.ancestor_id", PEOPLE, "0", None),
                format!(
                    "FROM {events} e JOIN attendees a ON a.event_id = e.id {} WHERE e.status = 'held' GROUP BY g.ancestor_id",
                    by.join("e.lead_department_id")
                ),
            ),
        }
    }
}

/// The events' flag condition on this store, for the parts that count flagged events.
pub fn flagged(conn: &DbConnection) -> String {
    crate::events::store::flagged_sql("e.", matches!(conn, DbConnection::Sqlite(_)))
}

/// Runs `parts` as one statement (`UNION ALL`): one round trip for a whole report, and one
/// snapshot even outside a transaction; on PostgreSQL kept prepared, so the same report asked
/// again is not planned again. Answers each part's figures by key.
pub fn figures(conn: &mut DbConnection, parts: Vec<Part>) -> QueryResult<HashMap<String, Figures>> {
    // Each scope's events once, ahead of the parts that read them.
    let mut ctes: Vec<&str> = Vec::new();
    for p in &parts {
        if !ctes.contains(&p.events.as_str()) {
            ctes.push(&p.events);
        }
    }
    let selects = parts.iter().map(Part::sql).collect::<Vec<_>>().join(" UNION ALL ");
    let sql = format!("WITH {} {selects}", ctes.join(", "));
    let rows: Vec<FigureRow> = prepared::load(conn, &sql)?;
    let mut out: HashMap<String, Figures> = HashMap::new();
    for r in rows {
        let Some((part, key)) = r.key.as_deref().and_then(|k| k.split_once(':')) else { continue };
        let checked = CheckedCounts { verified: r.verified, participants: r.participants_verified, flagged: r.flagged };
        out.entry(part.to_string()).or_default().insert(key.to_string(), Figure { n: r.n, total: r.total, checked });
    }
    Ok(out)
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
    let rows: Vec<LastHeld> = prepared::load(conn, &sql)?;
    Ok(rows.into_iter().filter_map(|r| r.at.map(|at| (r.key, at))).collect())
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
        Grouping::Tops(Some(root)) => {
            let below: Vec<String> =
                t::table.filter(t::ancestor_id.eq(root.to_string())).select(t::department_id).load(conn)?;
            Ok(below.into_iter().map(|id| (id, root.to_string())).collect())
        }
        Grouping::Tops(None) => {
            let roots = d::table.filter(d::parent_id.is_null()).select(d::id);
            let pairs: Vec<(String, String)> =
                t::table.filter(t::ancestor_id.eq_any(roots)).select((t::department_id, t::ancestor_id)).load(conn)?;
            Ok(pairs.into_iter().collect())
        }
    }
}

/// Each of the departments `ids`: its level (1 for a root) and path of codes from the root (`region/city/unit`).
pub fn tree_paths(conn: &mut DbConnection, ids: Vec<&str>) -> QueryResult<HashMap<String, (i32, String)>> {
    use crate::store::schema::{department_tree as t, departments as d};
    let rows: Vec<(String, String, i32)> = t::table
        .inner_join(d::table.on(d::id.eq(t::ancestor_id)))
        .filter(t::department_id.eq_any(ids))
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
