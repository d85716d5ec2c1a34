//! Plan and plan item queries, and the progress of items from their linked held events.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::dsl::{count_star, sum};
use diesel::prelude::*;

use crate::store::schema::{events as e, plan_items as pi, plans as p};
use crate::store::{self, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct PlanRow {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub department_id: String,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pi)]
pub struct ItemRow {
    pub id: String,
    pub plan_id: String,
    pub number: String,
    pub title: String,
    pub responsible_department_id: String,
    pub due_date: NaiveDate,
    pub target_events: i32,
    pub target_participants: i32,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// The responsible department of a plan item, or `None` when there is no such item.
pub fn item_responsible(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    pi::table.find(id).select(pi::responsible_department_id).first::<String>(conn).optional()
}

pub fn insert_plan(conn: &mut DbConnection, year: i32, title: &str, department_id: &str) -> QueryResult<PlanRow> {
    let now = store::now();
    let id = store::new_id();
    diesel::insert_into(p::table)
        .values((
            p::id.eq(&id),
            p::year.eq(year),
            p::title.eq(title),
            p::department_id.eq(department_id),
            p::version.eq(1i64),
            p::created_at.eq(now),
            p::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_plan(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_plan(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PlanRow>> {
    p::table.find(id).select(PlanRow::as_select()).first(conn).optional()
}

pub fn update_plan(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    year: i32,
    title: &str,
    department_id: &str,
) -> QueryResult<Option<PlanRow>> {
    let n = diesel::update(p::table.filter(p::id.eq(id).and(p::version.eq(version))))
        .set((
            p::year.eq(year),
            p::title.eq(title),
            p::department_id.eq(department_id),
            p::version.eq(version + 1),
            p::updated_at.eq(store::now()),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find_plan(conn, id) }
}

/// Plans by year then id, after the cursor `(year, id)`.
pub fn list_plans(
    conn: &mut DbConnection,
    year: Option<i32>,
    department_id: Option<&str>,
    within: Option<&str>,
    after: Option<(i32, String)>,
    limit: i64,
) -> QueryResult<Vec<PlanRow>> {
    use crate::store::schema::department_tree as t;
    let mut q = p::table.select(PlanRow::as_select()).into_boxed();
    if let Some(root) = within {
        // Within the reach, or above its root.
        let below = t::table.filter(t::ancestor_id.eq(root.to_string())).select(t::department_id);
        let above = t::table.filter(t::department_id.eq(root.to_string())).select(t::ancestor_id);
        q = q.filter(p::department_id.eq_any(below).or(p::department_id.eq_any(above)));
    }
    if let Some(y) = year {
        q = q.filter(p::year.eq(y));
    }
    if let Some(d) = department_id {
        q = q.filter(p::department_id.eq(d.to_string()));
    }
    if let Some((y, id)) = after {
        q = q.filter(p::year.gt(y).or(p::year.eq(y).and(p::id.gt(id))));
    }
    q.order((p::year.asc(), p::id.asc())).limit(limit).load(conn)
}

/// An item's own fields, as a create inserts them and a change sets them.
#[derive(Insertable, AsChangeset)]
#[diesel(table_name = pi)]
pub struct ItemData<'a> {
    pub number: &'a str,
    pub title: &'a str,
    pub responsible_department_id: &'a str,
    pub due_date: NaiveDate,
    pub target_events: i32,
    pub target_participants: i32,
}

pub fn insert_item(conn: &mut DbConnection, plan_id: &str, d: &ItemData<'_>) -> QueryResult<ItemRow> {
    let now = store::now();
    let id = store::new_id();
    diesel::insert_into(pi::table)
        .values((
            pi::id.eq(&id),
            pi::plan_id.eq(plan_id),
            d,
            pi::version.eq(1i64),
            pi::created_at.eq(now),
            pi::updated_at.eq(now),
        ))
        .execute(conn)?;
    find_item(conn, plan_id, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find_item(conn: &mut DbConnection, plan_id: &str, id: &str) -> QueryResult<Option<ItemRow>> {
    pi::table.filter(pi::id.eq(id).and(pi::plan_id.eq(plan_id))).select(ItemRow::as_select()).first(conn).optional()
}

pub fn number_taken(conn: &mut DbConnection, plan_id: &str, number: &str, except: Option<&str>) -> QueryResult<bool> {
    let mut q = pi::table.filter(pi::plan_id.eq(plan_id).and(pi::number.eq(number))).select(pi::id).into_boxed();
    if let Some(id) = except {
        q = q.filter(pi::id.ne(id.to_string()));
    }
    Ok(q.first::<String>(conn).optional()?.is_some())
}

pub fn update_item(
    conn: &mut DbConnection,
    plan_id: &str,
    id: &str,
    version: i64,
    d: &ItemData<'_>,
) -> QueryResult<Option<ItemRow>> {
    let n = diesel::update(pi::table.filter(pi::id.eq(id).and(pi::plan_id.eq(plan_id)).and(pi::version.eq(version))))
        .set((d, pi::version.eq(version + 1), pi::updated_at.eq(store::now())))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find_item(conn, plan_id, id) }
}

pub fn delete_item(conn: &mut DbConnection, plan_id: &str, id: &str, version: i64) -> QueryResult<bool> {
    let n = diesel::delete(pi::table.filter(pi::id.eq(id).and(pi::plan_id.eq(plan_id)).and(pi::version.eq(version))))
        .execute(conn)?;
    Ok(n > 0)
}

/// Whether any event (deleted ones included, which the audit log still names) links to the item.
pub fn item_linked(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(e::table.filter(e::plan_item_id.eq(id)).select(e::id).first::<String>(conn).optional()?.is_some())
}

/// Items of a plan by number order (numerically, `1.10` after `1.9`), optionally of one
/// responsible department.
pub fn items_of(conn: &mut DbConnection, plan_id: &str, responsible: Option<&str>) -> QueryResult<Vec<ItemRow>> {
    let mut q = pi::table.filter(pi::plan_id.eq(plan_id)).select(ItemRow::as_select()).into_boxed();
    if let Some(d) = responsible {
        q = q.filter(pi::responsible_department_id.eq(d.to_string()));
    }
    let mut rows: Vec<ItemRow> = q.load(conn)?;
    rows.sort_by_key(|r| number_key(&r.number));
    Ok(rows)
}

fn number_key(n: &str) -> Vec<u32> {
    n.split('.').map(|p| p.parse().unwrap_or(u32::MAX)).collect()
}

/// All of time, for `progress` without a period.
pub fn all_time() -> (NaiveDateTime, NaiveDateTime) {
    let at = |y| NaiveDate::from_ymd_opt(y, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("a valid date");
    (at(1), at(9999))
}

/// Held, non-deleted events linked to each item and starting within `[from, to)`:
/// `(events_held, participants_total)` by item id.
pub fn progress(
    conn: &mut DbConnection,
    item_ids: &[String],
    (from, to): (NaiveDateTime, NaiveDateTime),
) -> QueryResult<HashMap<String, (i64, i64)>> {
    if item_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Option<String>, i64, Option<i64>)> = e::table
        .filter(e::plan_item_id.eq_any(item_ids))
        .filter(e::status.eq("held").and(e::deleted_at.is_null()))
        .filter(e::starts_at.ge(from).and(e::starts_at.lt(to)))
        .group_by(e::plan_item_id)
        .select((e::plan_item_id, count_star(), sum(e::attendance_total)))
        .load(conn)?;
    Ok(rows.into_iter().filter_map(|(id, n, total)| id.map(|id| (id, (n, total.unwrap_or(0))))).collect())
}
