//! Event queries: the event row and its child rows (audiences, partners, organisers, breakdown),
//! written together and read back for a page at a time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::model::{
    Attendance, AttendanceBasis, Audience, BreakdownItem, Decision, EventFormat, EventKind, EventResponse, EventStatus,
    Flag, FlagFacts, LATE_AFTER_DAYS, Organiser, OrganiserRole, Verification, VerificationStatus,
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
    pub kind: EventKind,
    pub format: EventFormat,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: Option<String>,
    pub lead_department_id: String,
    pub plan_item_id: Option<String>,
    pub planned_participants: Option<i32>,
    pub status: EventStatus,
    pub attendance_total: Option<i32>,
    pub attendance_basis: Option<AttendanceBasis>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub created_by: String,
    pub deleted_at: Option<NaiveDateTime>,
    /// The children as one JSON document, written with them (see [`refresh_children`]).
    pub children: String,
    pub verification_status: VerificationStatus,
    pub verified_by: Option<String>,
    pub verified_at: Option<NaiveDateTime>,
    pub verification_note: Option<String>,
    pub evidence_count: i32,
}

/// The assignments that return an event to `unverified`: every write that changes an event,
/// except the verification itself, makes them, so a checked event cannot be moved or inflated
/// after the check and still count as checked.
macro_rules! unverified {
    () => {
        (
            e::verification_status.eq(VerificationStatus::Unverified.as_str()),
            e::verified_by.eq(None::<String>),
            e::verified_at.eq(None::<NaiveDateTime>),
            e::verification_note.eq(None::<String>),
        )
    };
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
    refresh_children(conn, id)
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
            unverified!(),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    write_children(conn, id, d)?;
    refresh_children(conn, id)?;
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
            unverified!(),
        ))
        .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    write_breakdown(conn, id, a)?;
    refresh_children(conn, id)?;
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
            unverified!(),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Records a verifier's finding if the event is still at `version`.
pub fn set_verification(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    decision: Decision,
    by: &str,
    note: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let status = match decision {
        Decision::Verified => VerificationStatus::Verified,
        Decision::Rejected => VerificationStatus::Rejected,
    };
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((
            e::verification_status.eq(status.as_str()),
            e::verified_by.eq(Some(by)),
            e::verified_at.eq(Some(now)),
            e::verification_note.eq(note),
            e::version.eq(version + 1),
            e::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Counts a piece of evidence added (`delta` 1) or removed (-1): its flags may change, so the
/// event's version moves on, and a checked event is checked no longer. Not conditional on a
/// version: evidence is added without `If-Match`, and the counts add up whatever came between.
pub fn evidence_changed(conn: &mut DbConnection, id: &str, delta: i32, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::deleted_at.is_null())))
        .set((
            e::evidence_count.eq(e::evidence_count + delta),
            e::version.eq(e::version + 1),
            e::updated_at.eq(now),
            unverified!(),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Returns a verified or rejected event to `unverified` after a change that did not touch its
/// row (an attendee removed); true when it was checked and is not any more.
pub fn unverify(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let checked = e::verification_status.ne(VerificationStatus::Unverified.as_str());
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::deleted_at.is_null()).and(checked)))
        .set((e::version.eq(e::version + 1), e::updated_at.eq(now), unverified!()))
        .execute(conn)?;
    Ok(n > 0)
}

pub fn soft_delete(conn: &mut DbConnection, id: &str, version: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(e::table.filter(e::id.eq(id).and(e::version.eq(version)).and(e::deleted_at.is_null())))
        .set((e::deleted_at.eq(Some(now)), e::version.eq(version + 1), e::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n > 0)
}

/// The `children` column's value for the current `events` row, gathered from the child tables in
/// each backend's dialect (the same expression as the migration that added the column). A type of
/// its own, so the statement that writes it has a static query id and is prepared once per
/// connection.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
struct ChildrenJson;

impl Expression for ChildrenJson {
    type SqlType = diesel::sql_types::Text;
}
impl AppearsOnTable<e::table> for ChildrenJson {}
impl SelectableExpression<e::table> for ChildrenJson {}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for ChildrenJson {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(
            "json_array(\
             json((SELECT json_group_array(audience ORDER BY audience) FROM event_audiences \
                   WHERE event_id = \"events\".\"id\")), \
             json((SELECT json_group_array(department_id ORDER BY department_id) FROM event_partners \
                   WHERE event_id = \"events\".\"id\")), \
             json((SELECT json_group_array(json_array(full_name, role, organisation) ORDER BY position) \
                   FROM event_organisers WHERE event_id = \"events\".\"id\")), \
             json((SELECT json_group_array(json_array(audience, count) ORDER BY audience) FROM event_breakdown \
                   WHERE event_id = \"events\".\"id\")))",
        );
        Ok(())
    }
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for ChildrenJson {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql(
            "json_build_array(\
             (SELECT coalesce(json_agg(audience ORDER BY audience), '[]') FROM event_audiences \
              WHERE event_id = \"events\".\"id\"), \
             (SELECT coalesce(json_agg(department_id ORDER BY department_id), '[]') FROM event_partners \
              WHERE event_id = \"events\".\"id\"), \
             (SELECT coalesce(json_agg(json_build_array(full_name, role, organisation) ORDER BY position), '[]') \
              FROM event_organisers WHERE event_id = \"events\".\"id\"), \
             (SELECT coalesce(json_agg(json_build_array(audience, count) ORDER BY audience), '[]') \
              FROM event_breakdown WHERE event_id = \"events\".\"id\"))::text",
        );
        Ok(())
    }
}

/// Rewrites the event's `children` column from its child tables. Every write that changes a child
/// table calls it before its transaction commits.
fn refresh_children(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    let target = e::table.filter(e::id.eq(id));
    match conn {
        DbConnection::Sqlite(c) => diesel::update(target).set(e::children.eq(ChildrenJson)).execute(c),
        DbConnection::Postgres(c) => diesel::update(target).set(e::children.eq(ChildrenJson)).execute(c),
    }?;
    Ok(())
}

/// Rewrites every event's `children` column: for a bulk load that wrote child rows directly.
pub fn refresh_all_children(conn: &mut DbConnection) -> QueryResult<usize> {
    match conn {
        DbConnection::Sqlite(c) => diesel::update(e::table).set(e::children.eq(ChildrenJson)).execute(c),
        DbConnection::Postgres(c) => diesel::update(e::table).set(e::children.eq(ChildrenJson)).execute(c),
    }
}

/// The `children` column as it reads: audiences, partner ids (sorted), organisers in their order
/// and the attendance breakdown.
type Children = (Vec<Audience>, Vec<String>, Vec<(String, OrganiserRole, Option<String>)>, Vec<(Audience, i32)>);

/// A live event with its children: one row of one table, so the children always belong to the
/// version the row names. Run on the backend's own connection: there the statement has a static
/// query id, so it is prepared once per connection without building its SQL again (through the
/// multi-backend connection diesel renders the SQL on every call to look up its cache).
pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<EventResponse>> {
    macro_rules! query {
        ($c:expr) => {
            e::table.filter(e::id.eq(id).and(e::deleted_at.is_null())).select(EventRow::as_select()).first($c)
        };
    }
    let row: Option<EventRow> = match conn {
        DbConnection::Sqlite(c) => query!(c),
        DbConnection::Postgres(c) => query!(c),
    }
    .optional()?;
    row.map(assemble).transpose()
}

pub fn partner_ids(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    ep::table.filter(ep::event_id.eq(id)).select(ep::department_id).order(ep::department_id).load(conn)
}

/// Turns rows into full events.
pub fn hydrate(rows: Vec<EventRow>) -> QueryResult<Vec<EventResponse>> {
    rows.into_iter().map(assemble).collect()
}

/// An event row with its children as the API shows it.
fn assemble(r: EventRow) -> QueryResult<EventResponse> {
    let (audiences, partners, organisers, breakdown): Children = serde_json::from_str(&r.children).map_err(|e| {
        diesel::result::Error::DeserializationError(format!("event {} children as JSON: {e}", r.id).into())
    })?;
    let mut audience_list = audiences;
    audience_list.sort();
    let mut breakdown_list: Vec<BreakdownItem> =
        breakdown.into_iter().map(|(audience, count)| BreakdownItem { audience, count }).collect();
    breakdown_list.sort_by_key(|b| b.audience);
    let flags = FlagFacts {
        status: r.status,
        planned_participants: r.planned_participants,
        attendance_total: r.attendance_total,
        attendance_basis: r.attendance_basis,
        evidence_count: r.evidence_count,
        ends_at: to_utc(r.ends_at),
        created_at: to_utc(r.created_at),
    }
    .flags();
    let verification = Verification {
        status: r.verification_status,
        by: r.verified_by,
        at: r.verified_at.map(to_utc),
        note: r.verification_note,
    };
    let attendance = r.attendance_total.map(|total| Attendance {
        total,
        basis: r.attendance_basis.unwrap_or(AttendanceBasis::Headcount),
        breakdown: breakdown_list,
    });
    Ok(EventResponse {
        organisers: organisers
            .into_iter()
            .map(|(full_name, role, organisation)| Organiser { full_name, role, organisation })
            .collect(),
        partner_department_ids: partners,
        audiences: audience_list,
        kind: r.kind,
        format: r.format,
        status: r.status,
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
        verification,
        flags,
        evidence_count: r.evidence_count,
    })
}

/// A flag as a SQL condition on the `events` row (its columns prefixed with `prefix`, such as
/// `e.`), the same test as [`FlagFacts::flags`]. Only `logged_late` differs between the stores:
/// SQLite keeps instants as text, so the bound is made with `strftime` in the stored form.
pub fn flag_sql(flag: Flag, prefix: &str, sqlite: bool) -> String {
    let p = prefix;
    match flag {
        Flag::AttendanceAbovePlanned => format!(
            "({p}planned_participants > 0 AND {p}attendance_total IS NOT NULL \
             AND {p}attendance_total > 2 * {p}planned_participants)"
        ),
        Flag::EstimateOnly => format!("({p}attendance_basis IS NOT NULL AND {p}attendance_basis = 'estimate')"),
        Flag::NoEvidence => format!("({p}status = 'held' AND {p}evidence_count = 0)"),
        Flag::LoggedLate if sqlite => {
            format!("({p}created_at > strftime('%Y-%m-%d %H:%M:%f', {p}ends_at, '+{LATE_AFTER_DAYS} days'))")
        }
        Flag::LoggedLate => format!("({p}created_at > {p}ends_at + interval '{LATE_AFTER_DAYS} days')"),
    }
}

/// Any flag, as one SQL condition that is true or false, never null (a null column makes a
/// flag's own condition null).
pub fn flagged_sql(prefix: &str, sqlite: bool) -> String {
    format!("({} = 1)", any_flag(prefix, sqlite))
}

/// 1 when any flag holds, else 0.
fn any_flag(prefix: &str, sqlite: bool) -> String {
    let any: Vec<String> = Flag::ALL.iter().map(|f| flag_sql(*f, prefix, sqlite)).collect();
    format!("CASE WHEN {} THEN 1 ELSE 0 END", any.join(" OR "))
}

/// An FTS5 query for the trigram table that every event holding `text` (folded) matches: the
/// trigrams at every third character and the last, each quoted, all required. Not a phrase: a
/// row must hold them, not in order, so a few more rows may match than hold the text, and the
/// LIKE that follows decides; the doclists are merged without reading their positions (0.87 ms
/// against 1.13 ms for the phrase at 100,000 events, sqlite3 on the bench store). `None` for a
/// text shorter than a trigram.
fn covering_trigrams(text: &str) -> Option<String> {
    let chars: Vec<char> = crate::text::fold(text).chars().collect();
    let last = chars.len().checked_sub(3)?;
    let mut starts: Vec<usize> = (0..=last).step_by(3).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    let quoted = starts.iter().map(|&i| {
        let trigram: String = chars[i..i + 3].iter().collect();
        format!("\"{}\"", trigram.replace('"', "\"\""))
    });
    Some(quoted.collect::<Vec<_>>().join(" AND "))
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
    /// With `department_id`: its whole subtree, not the department alone.
    pub descendants: bool,
    pub kind: Option<EventKind>,
    pub audience: Option<Audience>,
    pub status: Option<EventStatus>,
    pub plan_item_id: Option<String>,
    /// Text to find in the title, description, venue or organisers' names (trimmed, not empty).
    pub search: Option<String>,
    pub updated_since: Option<NaiveDateTime>,
    pub include_deleted: bool,
    pub flag: Option<Flag>,
    /// Any flag (`true`) or none (`false`).
    pub flagged: Option<bool>,
    pub verification: Option<VerificationStatus>,
    /// The caller's reach: events led or partnered within this department's subtree.
    pub within: Option<String>,
}

/// The ids of one page: the filters, the sort and the cursor, with what the search index found.
type PageIds<'a> =
    diesel::dsl::IntoBoxed<'a, diesel::dsl::Select<e::table, e::id>, <DbConnection as Connection>::Backend>;

/// What the SQLite search index narrows a page to before the LIKE decides.
enum Narrow {
    /// Nothing (PostgreSQL, whose trigram index serves the LIKE itself, or a text under three
    /// characters).
    Not,
    /// Every event the index matches (this FTS5 query).
    Matches(String),
    /// These search keys, and of them only those at or after `from` and before `until`.
    Keys { keys: Vec<i64>, from: Option<i64>, until: Option<i64> },
}

fn page_ids<'a>(
    f: &'a Filter,
    sort: Sort,
    after: Option<(NaiveDateTime, String)>,
    narrow: Narrow,
    sqlite: bool,
) -> PageIds<'a> {
    let mut q = e::table.select(e::id).into_boxed();
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
        if f.descendants {
            use crate::store::schema::department_tree as t;
            let below = || t::table.filter(t::ancestor_id.eq(d.clone())).select(t::department_id);
            let partnered = ep::table.filter(ep::department_id.eq_any(below())).select(ep::event_id);
            q = q.filter(e::lead_department_id.eq_any(below()).or(e::id.eq_any(partnered)));
        } else {
            let partnered = ep::table.filter(ep::department_id.eq(d.clone())).select(ep::event_id);
            q = q.filter(e::lead_department_id.eq(d.clone()).or(e::id.eq_any(partnered)));
        }
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
    if let Some(text) = &f.search {
        // The LIKE decides (`%` and `_` literal); the index narrows first (see [`list`]).
        match narrow {
            Narrow::Not => {}
            Narrow::Matches(covering) => {
                q = q.filter(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(
                        "\"events\".search_key IN (SELECT rowid FROM events_search WHERE events_search MATCH ",
                    )
                    .bind::<diesel::sql_types::Text, _>(covering)
                    .sql(")"),
                );
            }
            Narrow::Keys { keys, from, until } => {
                // Integers the index answered: written into the statement, not bound one by one.
                let listed = keys.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                let mut condition = format!("\"events\".search_key IN ({listed})");
                if let Some(k) = from {
                    condition.push_str(&format!(" AND \"events\".search_key >= {k}"));
                }
                if let Some(k) = until {
                    condition.push_str(&format!(" AND \"events\".search_key < {k}"));
                }
                q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&condition));
            }
        }
        q = q.filter(e::search_text.like(crate::text::contains_pattern(text)).escape('\\'));
    }
    if let Some(v) = f.updated_since {
        q = q.filter(e::updated_at.ge(v));
    }
    if let Some(flag) = f.flag {
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&flag_sql(flag, "\"events\".", sqlite)));
    }
    if let Some(flagged) = f.flagged {
        let condition = format!("({} = {})", any_flag("\"events\".", sqlite), i32::from(flagged));
        q = q.filter(diesel::dsl::sql::<diesel::sql_types::Bool>(&condition));
    }
    if let Some(v) = f.verification {
        q = q.filter(e::verification_status.eq(v.as_str()));
    }
    if let Some(root) = &f.within {
        use crate::store::schema::department_tree as t;
        let reach = || t::table.filter(t::ancestor_id.eq(root.clone())).select(t::department_id);
        let partnered = ep::table.filter(ep::department_id.eq_any(reach())).select(ep::event_id);
        q = q.filter(e::lead_department_id.eq_any(reach()).or(e::id.eq_any(partnered)));
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
    match sort {
        Sort::StartsAt => keyset!(e::starts_at, asc),
        Sort::StartsAtDesc => keyset!(e::starts_at, desc),
        Sort::CreatedAt => keyset!(e::created_at, asc),
        Sort::CreatedAtDesc => keyset!(e::created_at, desc),
        Sort::UpdatedAt => keyset!(e::updated_at, asc),
    }
}

/// The SQLite search key of an event starting in `second` (Unix time) and stored at `rowid`:
/// seconds since 2000 times 2^31, plus the rowid. Migration 000011 computes it the same way; the
/// trigram table is keyed by it, so the index hands out its matches in start order.
const KEY_EPOCH: i64 = 946_684_800;
const KEY_SPAN: i64 = 1 << 31;

fn first_key_of(second: i64) -> i64 {
    (second - KEY_EPOCH) * KEY_SPAN
}

fn second_of_key(key: i64) -> i64 {
    key.div_euclid(KEY_SPAN) + KEY_EPOCH
}

#[derive(QueryableByName)]
struct SearchKey {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    key: i64,
}

/// Past this many keys a page stops asking the index for more in start order and takes every
/// match (the other filters keep few of them).
const ORDERED_KEYS_AT_MOST: i64 = 8192;

/// PostgreSQL search in start order: the first window holds this many events a row of the page
/// (not counting the row that tells whether another page follows), and at most
/// `WINDOW_ROWS_FIRST_AT_MOST` (a page of 50's).
const WINDOW_ROWS_A_ROW: i64 = 256;
const WINDOW_ROWS_FIRST_AT_MOST: i64 = 50 * WINDOW_ROWS_A_ROW;
/// The second window may be at most this many times the first; a search whose matches are
/// sparser than that takes every match (they are few, and the window's range would cost more).
const WINDOW_GROWS_AT_MOST: i64 = 16;

/// PostgreSQL: the start of the event that follows the next `rows` from the cursor's instant in
/// start order, within the filter's dates (deleted ones too), read from the start index alone;
/// `None` when no more are left. Only the window's size depends on it, never the page.
fn window_edge(
    conn: &mut DbConnection,
    f: &Filter,
    newest_first: bool,
    after: &Option<(NaiveDateTime, String)>,
    rows: i64,
) -> QueryResult<Option<NaiveDateTime>> {
    let mut q = e::table.select(e::starts_at).into_boxed();
    if let Some(v) = f.from {
        q = q.filter(e::starts_at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(e::starts_at.lt(v));
    }
    q = match (after, newest_first) {
        (Some((k, _)), true) => q.filter(e::starts_at.le(*k)).order(e::starts_at.desc()),
        (Some((k, _)), false) => q.filter(e::starts_at.ge(*k)).order(e::starts_at.asc()),
        (None, true) => q.order(e::starts_at.desc()),
        (None, false) => q.order(e::starts_at.asc()),
    };
    q.offset(rows).limit(1).first(conn).optional()
}

/// One page of rows after the cursor `(key, id)`, in `sort` order with the id breaking ties.
///
/// The page is chosen by id first and only its rows are read whole: the filters, the sort and the
/// limit see narrow (key, id) pairs, not every matching row with its children's JSON. All reads
/// see one snapshot, so a row changed between them cannot move the cursor past rows unseen.
///
/// Search on SQLite: the FTS5 trigram table is keyed by each event's search key, which follows
/// its start, so in start order (the list's default) the index hands out the newest (or oldest)
/// matches first and a page reads a few times its length, whatever the registry's size: asking
/// for every match and sorting them read 1 % of the registry for 51 rows (73 req/s at 1,000,000
/// events against 1,000 at 100,000). Keys order by the second and then the rowid, the list by
/// the instant and then the id; so of the keys the index gave, only the rows of the seconds it
/// gave whole are kept, and where they are too few for the page it asks for four times as many.
/// The other sorts, and a page whose filters keep almost nothing, take every match.
///
/// Search on PostgreSQL: the trigram index answers in no order; sorting every match read 1 % of
/// the registry for 51 rows, and walking the start index read a hundred rows a match. In start
/// order a page looks first in a window of the next 256 events a row (12,800 for 50 and more;
/// the edge read from the start index alone), where PostgreSQL ANDs the trigram index with the
/// start index's range and reads only the matches inside. A window that keeps too few gives way
/// once to one as large as its matches ask for, twice over, if that is at most sixteen times the
/// first; otherwise, and after it, every match. A window holds every event from the cursor to its
/// edge, so its first rows are the page's.
pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    sort: Sort,
    after: Option<(NaiveDateTime, String)>,
    limit: i64,
) -> QueryResult<Vec<EventRow>> {
    let sqlite = matches!(conn, DbConnection::Sqlite(_));
    let covering = f.search.as_deref().filter(|_| sqlite).and_then(covering_trigrams);
    crate::store::snapshot(conn, |conn| {
        let ids: Vec<String> = match (covering, sort) {
            (None, Sort::StartsAt | Sort::StartsAtDesc) if !sqlite && f.search.is_some() => {
                let newest_first = sort == Sort::StartsAtDesc;
                let first = (limit - 1).max(1).saturating_mul(WINDOW_ROWS_A_ROW).min(WINDOW_ROWS_FIRST_AT_MOST);
                let mut rows = first;
                loop {
                    let page = page_ids(f, sort, after.clone(), Narrow::Not, sqlite);
                    let edge = match rows <= first * WINDOW_GROWS_AT_MOST {
                        true => window_edge(conn, f, newest_first, &after, rows)?,
                        false => None,
                    };
                    let Some(edge) = edge else { break page.limit(limit).load(conn)? };
                    let page = match newest_first {
                        true => page.filter(e::starts_at.ge(edge)),
                        false => page.filter(e::starts_at.le(edge)),
                    };
                    let ids: Vec<String> = page.limit(limit).load(conn)?;
                    let found = ids.len() as i64;
                    if found == limit {
                        break ids;
                    }
                    // Twice the window the matches found in this one ask for; none: every match.
                    rows = match (rows == first, found) {
                        (true, 1..) => rows.saturating_mul((2 * limit + found - 1) / found),
                        _ => i64::MAX,
                    };
                }
            }
            (None, _) => page_ids(f, sort, after, Narrow::Not, sqlite).limit(limit).load(conn)?,
            (Some(covering), Sort::StartsAt | Sort::StartsAtDesc) => {
                let newest_first = sort == Sort::StartsAtDesc;
                let mut asked = (limit * 2).max(64);
                loop {
                    if asked > ORDERED_KEYS_AT_MOST {
                        break page_ids(f, sort, after.clone(), Narrow::Matches(covering), sqlite)
                            .limit(limit)
                            .load(conn)?;
                    }
                    // Every key of the cursor's second onwards: the keyset filter decides within it.
                    let (bound, order) = match (&after, newest_first) {
                        (Some((k, _)), true) => {
                            (format!("AND rowid < {}", first_key_of(k.and_utc().timestamp() + 1)), "DESC")
                        }
                        (Some((k, _)), false) => {
                            (format!("AND rowid >= {}", first_key_of(k.and_utc().timestamp())), "ASC")
                        }
                        (None, true) => (String::new(), "DESC"),
                        (None, false) => (String::new(), "ASC"),
                    };
                    let keys: Vec<i64> = diesel::sql_query(format!(
                        "SELECT rowid AS key FROM events_search WHERE events_search MATCH ? {bound} ORDER BY rowid {order} LIMIT ?"
                    ))
                    .bind::<diesel::sql_types::Text, _>(&covering)
                    .bind::<diesel::sql_types::BigInt, _>(asked)
                    .load::<SearchKey>(conn)?
                    .into_iter()
                    .map(|k| k.key)
                    .collect();
                    let whole = (keys.len() as i64) < asked;
                    // The last second the index gave may hold more matches than it gave.
                    let (from, until) = match keys.last() {
                        Some(&last) if !whole && newest_first => (Some(first_key_of(second_of_key(last) + 1)), None),
                        Some(&last) if !whole => (None, Some(first_key_of(second_of_key(last)))),
                        _ => (None, None),
                    };
                    let ids: Vec<String> = page_ids(f, sort, after.clone(), Narrow::Keys { keys, from, until }, sqlite)
                        .limit(limit)
                        .load(conn)?;
                    if whole || ids.len() as i64 == limit {
                        break ids;
                    }
                    asked *= 4;
                }
            }
            (Some(covering), _) => {
                page_ids(f, sort, after, Narrow::Matches(covering), sqlite).limit(limit).load(conn)?
            }
        };
        let mut rows: Vec<EventRow> = e::table.select(EventRow::as_select()).filter(e::id.eq_any(&ids)).load(conn)?;
        let at: std::collections::HashMap<&str, usize> =
            ids.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
        rows.sort_by_key(|r| at[r.id.as_str()]);
        Ok(rows)
    })
}

#[cfg(test)]
mod tests {
    use super::covering_trigrams;

    #[test]
    fn a_text_shorter_than_a_trigram_has_no_covering_query() {
        assert_eq!(covering_trigrams("ab"), None);
        assert_eq!(covering_trigrams("  "), None);
    }

    #[test]
    fn the_covering_trigrams_start_every_third_character_and_end_with_the_last() {
        assert_eq!(covering_trigrams("abc").as_deref(), Some(r#""abc""#));
        assert_eq!(covering_trigrams("abcdef").as_deref(), Some(r#""abc" AND "def""#));
        // Folded first: the table holds folded text.
        assert_eq!(covering_trigrams("ӘДІЛДІК").as_deref(), Some(r#""әді" AND "лді" AND "дік""#));
    }

    #[test]
    fn a_double_quote_in_the_text_is_doubled_inside_its_trigram() {
        assert_eq!(covering_trigrams(r#"a"bc"#).as_deref(), Some(r#""a""b" AND """bc""#));
    }
}
