//! Event queries: the event row and its child rows (audiences, partners, organisers, breakdown),
//! written together and read back for a page at a time.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    Attendance, AttendanceBasis, Audience, BreakdownItem, EventFormat, EventKind, EventResponse, EventStatus,
    Organiser, OrganiserRole,
};
use crate::store::schema::{
    event_audiences as ea, event_breakdown as eb, event_organisers as eo, event_partners as ep, events as e,
};
use crate::store::{DbConnection, to_utc};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = e)]
pub struct EventRow {
    pub id: String,
    pub title: String,
    pub description: String,
    pub kind: String,
    pub format: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: Option<String>,
    pub lead_department_id: String,
    pub plan_item_id: Option<String>,
    pub planned_participants: Option<i32>,
    pub status: String,
    pub attendance_total: Option<i32>,
    pub attendance_basis: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub created_by: String,
    pub deleted_at: Option<NaiveDateTime>,
}

/// Everything an event row and its children hold, as written.
pub struct EventData<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub kind: EventKind,
    pub format: EventFormat,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: Option<&'a str>,
    pub audiences: &'a [Audience],
    pub lead_department_id: &'a str,
    pub partner_department_ids: &'a [String],
    pub plan_item_id: Option<&'a str>,
    pub organisers: &'a [Organiser],
    pub planned_participants: Option<i32>,
    pub status: EventStatus,
}

impl EventData<'_> {
    /// The folded text `q` searches: title, description, venue and organisers' names.
    fn search_text(&self) -> String {
        let mut parts = vec![self.title, self.description, self.venue.unwrap_or("")];
        parts.extend(self.organisers.iter().map(|o| o.full_name.as_str()));
        crate::text::fold(&parts.join("\n"))
    }
}

fn write_children(conn: &mut DbConnection, id: &str, d: &EventData<'_>) -> QueryResult<()> {
    diesel::delete(ea::table.filter(ea::event_id.eq(id))).execute(conn)?;
    diesel::delete(ep::table.filter(ep::event_id.eq(id))).execute(conn)?;
    diesel::delete(eo::table.filter(eo::event_id.eq(id))).execute(conn)?;
    let audiences: Vec<_> = d.audiences.iter().map(|a| (ea::event_id.eq(id), ea::audience.eq(a.as_str()))).collect();
    crate::insert_many!(conn, ea::table, &audiences)?;
    if !d.partner_department_ids.is_empty() {
        let partners: Vec<_> =
            d.partner_department_ids.iter().map(|p| (ep::event_id.eq(id), ep::department_id.eq(p))).collect();
        crate::insert_many!(conn, ep::table, &partners)?;
    }
    if !d.organisers.is_empty() {
        let organisers: Vec<_> = d
            .organisers
            .iter()
            .enumerate()
            .map(|(i, o)| {
                (
                    eo::event_id.eq(id),
                    eo::position.eq(i as i32),
                    eo::full_name.eq(&o.full_name),
                    eo::role.eq(o.role.as_str()),
                    eo::organisation.eq(&o.organisation),
                )
            })
            .collect();
        crate::insert_many!(conn, eo::table, &organisers)?;
    }
    Ok(())
}

pub fn insert(
    conn: &mut DbConnection,
    id: &str,
    d: &EventData<'_>,
    attendance: Option<&Attendance>,
    created_by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(e::table)
        .values((
            e::id.eq(id),
            e::title.eq(d.title),
            e::description.eq(d.description),
            e::kind.eq(d.kind.as_str()),
            e::format.eq(d.format.as_str()),
            e::starts_at.eq(d.starts_at),
            e::ends_at.eq(d.ends_at),
            e::venue.eq(d.venue),
            e::lead_department_id.eq(d.lead_department_id),
            e::plan_item_id.eq(d.plan_item_id),
            e::planned_participants.eq(d.planned_participants),
            e::status.eq(if attendance.is_some() { EventStatus::Held.as_str() } else { d.status.as_str() }),
            e::attendance_total.eq(attendance.map(|a| a.total)),
            e::attendance_basis.eq(attendance.map(|a| a.basis.as_str())),
            e::search_text.eq(d.search_text()),
            e::version.eq(1i64),
            e::created_at.eq(now),
            e::updated_at.eq(now),
            e::created_by.eq(created_by),
        ))
        .execute(conn)?;
    write_children(conn, id, d)?;
    if let Some(a) = attendance {
        write_breakdown(conn, id, a)?;
    }
    Ok(())
}

fn write_breakdown(conn: &mut DbConnection, id: &str, a: &Attendance) -> QueryResult<()> {
    diesel::delete(eb::table.filter(eb::event_id.eq(id))).execute(conn)?;
    if !a.breakdown.is_empty() {
        let rows: Vec<_> = a
            .breakdown
            .iter()
            .map(|b| (eb::event_id.eq(id), eb::audience.eq(b.audience.as_str()), eb::count.eq(b.count)))
            .collect();
        crate::insert_many!(conn, eb::table, &rows)?;
    }
    Ok(())
}

/// Writes the change if the event is still at `version`; false when another writer was first.
pub fn update(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    d: &EventData<'_>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((
            e::title.eq(d.title),
            e::description.eq(d.description),
            e::kind.eq(d.kind.as_str()),
            e::format.eq(d.format.as_str()),
            e::starts_at.eq(d.starts_at),
            e::ends_at.eq(d.ends_at),
            e::venue.eq(d.venue),
            e::lead_department_id.eq(d.lead_department_id),
            e::plan_item_id.eq(d.plan_item_id),
            e::planned_participants.eq(d.planned_participants),
            e::status.eq(d.status.as_str()),
            e::search_text.eq(d.search_text()),
            e::version.eq(version + 1),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    write_children(conn, id, d)?;
    Ok(true)
}

/// Records attendance (and so `held`) if the event is still at `version`.
pub fn set_attendance(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    a: &Attendance,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((
            e::attendance_total.eq(Some(a.total)),
            e::attendance_basis.eq(Some(a.basis.as_str())),
            e::status.eq(EventStatus::Held.as_str()),
            e::version.eq(version + 1),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    write_breakdown(conn, id, a)?;
    Ok(true)
}

/// Raises the recorded attendance to `total` counted from a sign-in sheet (and so `held`),
/// keeping the breakdown, if the event is still at `version`.
pub fn raise_attendance(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    total: i32,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((
            e::attendance_total.eq(Some(total)),
            e::attendance_basis.eq(Some(AttendanceBasis::SignInSheet.as_str())),
            e::status.eq(EventStatus::Held.as_str()),
            e::version.eq(version + 1),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn soft_delete(conn: &mut DbConnection, id: &str, version: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((e::deleted_at.eq(Some(now)), e::version.eq(version + 1), e::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

/// A correlated subquery that gathers one child table's rows of the current `events` row into a
/// JSON array (as text), in each backend's dialect. Each is its own type, so the statement that
/// selects them has a static query id and both stores prepare it once per connection (diesel never
/// caches a statement written with `sql_query` or `sql` literals).
macro_rules! children_json {
    ($name:ident, sqlite: $sqlite:literal, postgres: $pg:literal) => {
        #[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
        struct $name;
        impl Expression for $name {
            type SqlType = diesel::sql_types::Text;
        }
        impl AppearsOnTable<e::table> for $name {}
        impl SelectableExpression<e::table> for $name {}
        impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
            ) -> QueryResult<()> {
                out.push_sql($sqlite);
                Ok(())
            }
        }
        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $name {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> QueryResult<()> {
                out.push_sql($pg);
                Ok(())
            }
        }
    };
}

children_json!(AudiencesJson,
    sqlite: "(SELECT json_group_array(audience) FROM event_audiences WHERE event_id = \"events\".\"id\")",
    postgres: "(SELECT coalesce(json_agg(audience), '[]')::text FROM event_audiences WHERE event_id = \"events\".\"id\")");
children_json!(PartnersJson,
    sqlite: "(SELECT json_group_array(department_id) FROM event_partners WHERE event_id = \"events\".\"id\")",
    postgres: "(SELECT coalesce(json_agg(department_id), '[]')::text FROM event_partners \
               WHERE event_id = \"events\".\"id\")");
children_json!(OrganisersJson,
    sqlite: "(SELECT json_group_array(json_array(position, full_name, role, organisation)) FROM event_organisers \
             WHERE event_id = \"events\".\"id\")",
    postgres: "(SELECT coalesce(json_agg(json_build_array(position, full_name, role, organisation)), '[]')::text \
               FROM event_organisers WHERE event_id = \"events\".\"id\")");
children_json!(BreakdownJson,
    sqlite: "(SELECT json_group_array(json_array(audience, count)) FROM event_breakdown \
             WHERE event_id = \"events\".\"id\")",
    postgres: "(SELECT coalesce(json_agg(json_build_array(audience, count)), '[]')::text FROM event_breakdown \
               WHERE event_id = \"events\".\"id\")");

fn children<T: serde::de::DeserializeOwned>(json: &str, table: &str) -> QueryResult<T> {
    serde_json::from_str(json)
        .map_err(|e| diesel::result::Error::DeserializationError(format!("event {table} as JSON: {e}").into()))
}

/// A live event with its children, in one statement: one snapshot (the children always belong to
/// the version the row names, even beside a concurrent write), one round trip to PostgreSQL and
/// one prepared statement reused by each connection.
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<EventResponse>> {
    type Found = (EventRow, String, String, String, String);
    macro_rules! query {
        ($c:expr) => {
            e::table
                .filter(e::id.eq(id).and(e::deleted_at.is_null()))
                .select((EventRow::as_select(), AudiencesJson, PartnersJson, OrganisersJson, BreakdownJson))
                .first::<Found>($c)
                .optional()
        };
    }
    let found = match conn {
        DbConnection::Sqlite(c) => query!(c),
        DbConnection::Postgres(c) => query!(c),
    }?;
    let Some((row, audiences, partners, organisers, breakdown)) = found else {
        return Ok(None);
    };
    let audiences: Vec<String> = children(&audiences, "audiences")?;
    let mut partners: Vec<String> = children(&partners, "partners")?;
    let mut organisers: Vec<(i32, String, String, Option<String>)> = children(&organisers, "organisers")?;
    let breakdown: Vec<(String, i32)> = children(&breakdown, "breakdown")?;
    partners.sort();
    organisers.sort_by_key(|o| o.0);
    let organisers = organisers.into_iter().map(|(_, name, role, organisation)| (name, role, organisation)).collect();
    Ok(Some(assemble(row, audiences, partners, organisers, breakdown)))
}

pub fn partner_ids(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    ep::table.filter(ep::event_id.eq(id)).select(ep::department_id).order(ep::department_id).load(conn)
}

fn group<K: Clone + Eq + std::hash::Hash, V>(rows: Vec<(K, V)>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in rows {
        map.entry(k).or_default().push(v);
    }
    map
}

/// Loads the child rows of the events whose `event_id` column satisfies `$pred` (written in terms
/// of `$col`), one query per child table, each row paired with its event's id.
macro_rules! load_children {
    ($conn:expr, $col:ident => $pred:expr) => {{
        let audiences: Vec<(String, String)> = {
            let $col = ea::event_id;
            ea::table.filter($pred).select((ea::event_id, ea::audience)).load($conn)?
        };
        let partners: Vec<(String, String)> = {
            let $col = ep::event_id;
            ep::table
                .filter($pred)
                .select((ep::event_id, ep::department_id))
                .order((ep::event_id, ep::department_id))
                .load($conn)?
        };
        let organisers: Vec<(String, (String, String, Option<String>))> = {
            let $col = eo::event_id;
            eo::table
                .filter($pred)
                .order((eo::event_id, eo::position))
                .select((eo::event_id, (eo::full_name, eo::role, eo::organisation)))
                .load($conn)?
        };
        let breakdown: Vec<(String, (String, i32))> = {
            let $col = eb::event_id;
            eb::table.filter($pred).select((eb::event_id, (eb::audience, eb::count))).load($conn)?
        };
        (audiences, partners, organisers, breakdown)
    }};
}

/// Turns rows into full events, loading their children in one query per child table.
pub fn hydrate(conn: &mut DbConnection, rows: Vec<EventRow>) -> QueryResult<Vec<EventResponse>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // One event (a read, a write's answer) filters with `=`, which the store can prepare once and
    // reuse; a page filters with `IN (…)`, whose statement changes with the page's size.
    let (audiences, partners, organisers, breakdown) = if let [one] = rows.as_slice() {
        load_children!(conn, col => col.eq(one.id.as_str()))
    } else {
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        load_children!(conn, col => col.eq_any(&ids))
    };
    let (mut audiences, mut partners, mut organisers, mut breakdown) =
        (group(audiences), group(partners), group(organisers), group(breakdown));
    Ok(rows
        .into_iter()
        .map(|r| {
            let id = r.id.as_str();
            let (a, p, o, b) = (
                audiences.remove(id).unwrap_or_default(),
                partners.remove(id).unwrap_or_default(),
                organisers.remove(id).unwrap_or_default(),
                breakdown.remove(id).unwrap_or_default(),
            );
            assemble(r, a, p, o, b)
        })
        .collect())
}

/// An event row with its children's rows (partners and organisers in their order) as the API
/// shows it.
fn assemble(
    r: EventRow,
    audiences: Vec<String>,
    partners: Vec<String>,
    organisers: Vec<(String, String, Option<String>)>,
    breakdown: Vec<(String, i32)>,
) -> EventResponse {
    let mut audience_list: Vec<Audience> = audiences.iter().filter_map(|a| Audience::parse(a)).collect();
    audience_list.sort();
    let mut breakdown_list: Vec<BreakdownItem> = breakdown
        .into_iter()
        .filter_map(|(a, count)| Audience::parse(&a).map(|audience| BreakdownItem { audience, count }))
        .collect();
    breakdown_list.sort_by_key(|b| b.audience);
    let attendance = r.attendance_total.map(|total| Attendance {
        total,
        basis: r.attendance_basis.as_deref().and_then(AttendanceBasis::parse).unwrap_or(AttendanceBasis::Headcount),
        breakdown: breakdown_list,
    });
    EventResponse {
        organisers: organisers
            .into_iter()
            .map(|(full_name, role, organisation)| Organiser {
                full_name,
                role: OrganiserRole::parse(&role).unwrap_or(OrganiserRole::Other),
                organisation,
            })
            .collect(),
        partner_department_ids: partners,
        audiences: audience_list,
        kind: EventKind::parse(&r.kind).unwrap_or(EventKind::Other),
        format: EventFormat::parse(&r.format).unwrap_or(EventFormat::InPerson),
        status: EventStatus::parse(&r.status).unwrap_or(EventStatus::Planned),
        starts_at: to_utc(r.starts_at),
        ends_at: to_utc(r.ends_at),
        created_at: to_utc(r.created_at),
        updated_at: to_utc(r.updated_at),
        id: r.id,
        title: r.title,
        description: r.description,
        venue: r.venue,
        lead_department_id: r.lead_department_id,
        plan_item_id: r.plan_item_id,
        planned_participants: r.planned_participants,
        attendance,
        version: r.version,
        created_by: r.created_by,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    StartsAt,
    StartsAtDesc,
    CreatedAt,
    CreatedAtDesc,
    UpdatedAt,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        Some(match s {
            "starts_at" => Sort::StartsAt,
            "-starts_at" => Sort::StartsAtDesc,
            "created_at" => Sort::CreatedAt,
            "-created_at" => Sort::CreatedAtDesc,
            "updated_at" => Sort::UpdatedAt,
            _ => return None,
        })
    }

    /// The row's sort key, for the cursor.
    pub fn key(self, r: &EventRow) -> NaiveDateTime {
        match self {
            Sort::StartsAt | Sort::StartsAtDesc => r.starts_at,
            Sort::CreatedAt | Sort::CreatedAtDesc => r.created_at,
            Sort::UpdatedAt => r.updated_at,
        }
    }
}

#[derive(Debug, Default)]
pub struct Filter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub department_id: Option<String>,
    pub kind: Option<EventKind>,
    pub audience: Option<Audience>,
    pub status: Option<EventStatus>,
    pub plan_item_id: Option<String>,
    /// A `LIKE` pattern over the folded search text.
    pub search: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub include_deleted: bool,
}

/// One page of rows after the cursor `(key, id)`, in `sort` order with the id breaking ties.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    sort: Sort,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let mut q = e::table.select(EventRow::as_select()).into_boxed();
    if !f.include_deleted {
        q = q.filter(e::deleted_at.is_null());
    }
    if let Some(v) = f.from {
        q = q.filter(e::starts_at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(e::starts_at.lt(v));
    }
    if let Some(d) = &f.department_id {
        let partnered = ep::table.filter(ep::department_id.eq(d.clone())).select(ep::event_id);
        q = q.filter(e::lead_department_id.eq(d.clone()).or(e::id.eq_any(partnered)));
    }
    if let Some(k) = f.kind {
        q = q.filter(e::kind.eq(k.as_str()));
    }
    if let Some(a) = f.audience {
        q = q.filter(e::id.eq_any(ea::table.filter(ea::audience.eq(a.as_str())).select(ea::event_id)));
    }
    if let Some(s) = f.status {
        q = q.filter(e::status.eq(s.as_str()));
    }
    if let Some(p) = &f.plan_item_id {
        q = q.filter(e::plan_item_id.eq(p.clone()));
    }
    if let Some(pattern) = &f.search {
        q = q.filter(e::search_text.like(pattern.clone()).escape('\\'));
    }
    if let Some(v) = f.updated_since {
        q = q.filter(e::updated_at.ge(v));
    }
    macro_rules! keyset {
        ($col:expr, asc) => {{
            if let Some((k, id)) = after {
                q = q.filter($col.gt(k).or($col.eq(k).and(e::id.gt(id))));
            }
            q.order(($col.asc(), e::id.asc()))
        }};
        ($col:expr, desc) => {{
            if let Some((k, id)) = after {
                q = q.filter($col.lt(k).or($col.eq(k).and(e::id.lt(id))));
            }
            q.order(($col.desc(), e::id.desc()))
        }};
    }
    let q = match sort {
        Sort::StartsAt => keyset!(e::starts_at, asc),
        Sort::StartsAtDesc => keyset!(e::starts_at, desc),
        Sort::CreatedAt => keyset!(e::created_at, asc),
        Sort::CreatedAtDesc => keyset!(e::created_at, desc),
        Sort::UpdatedAt => keyset!(e::updated_at, asc),
    };
    q.limit(limit).load(conn)
}
