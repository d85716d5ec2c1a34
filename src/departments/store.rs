//! Department queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::departments as d;
use crate::store::{self, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = d)]
pub struct DepartmentRow {
    pub id: String,
    pub code: String,
    pub name_kk: String,
    pub name_ru: String,
    pub parent_id: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewDepartment<'a> {
    pub code: &'a str,
    pub name_kk: &'a str,
    pub name_ru: &'a str,
    pub parent_id: Option<&'a str>,
}

pub fn insert(conn: &mut DbConnection, new: &NewDepartment<'_>) -> QueryResult<DepartmentRow> {
    let now = store::now();
    let id = store::new_id();
    diesel::insert_into(d::table)
        .values((
            d::id.eq(&id),
            d::code.eq(new.code),
            d::name_kk.eq(new.name_kk),
            d::name_ru.eq(new.name_ru),
            d::parent_id.eq(new.parent_id),
            d::active.eq(true),
            d::version.eq(1i64),
            d::created_at.eq(now),
            d::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<DepartmentRow>> {
    d::table.find(id).select(DepartmentRow::as_select()).first(conn).optional()
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> QueryResult<Option<DepartmentRow>> {
    d::table.filter(d::code.eq(code)).select(DepartmentRow::as_select()).first(conn).optional()
}

pub fn code_taken(conn: &mut DbConnection, code: &str, except_id: Option<&str>) -> QueryResult<bool> {
    let mut q = d::table.filter(d::code.eq(code)).select(d::id).into_boxed();
    if let Some(id) = except_id {
        q = q.filter(d::id.ne(id));
    }
    Ok(q.first::<String>(conn).optional()?.is_some())
}

/// The ids of `id`'s ancestors, nearest first (bounded, in case the data already has a cycle).
pub fn ancestors(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    let mut out = Vec::new();
    let mut current = Some(id.to_string());
    while let Some(cur) = current.take() {
        if out.len() > 64 {
            break;
        }
        let parent: Option<Option<String>> = d::table.find(&cur).select(d::parent_id).first(conn).optional()?;
        if let Some(Some(p)) = parent {
            out.push(p.clone());
            current = Some(p);
        }
    }
    Ok(out)
}

pub struct Change<'a> {
    pub code: &'a str,
    pub name_kk: &'a str,
    pub name_ru: &'a str,
    pub parent_id: Option<&'a str>,
    pub active: bool,
}

/// Writes the change if the row is still at `version`; `None` when another writer got there
/// first (the caller answers 412).
pub fn update(conn: &mut DbConnection, id: &str, version: i64, c: &Change<'_>) -> QueryResult<Option<DepartmentRow>> {
    let n = diesel::update(d::table.filter(d::id.eq(id).and(d::version.eq(version))))
        .set((
            d::code.eq(c.code),
            d::name_kk.eq(c.name_kk),
            d::name_ru.eq(c.name_ru),
            d::parent_id.eq(c.parent_id),
            d::active.eq(c.active),
            d::version.eq(version + 1),
            d::updated_at.eq(store::now()),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find(conn, id) }
}

pub fn list(
    conn: &mut DbConnection,
    active: Option<bool>,
    after_code: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = d::table.select(DepartmentRow::as_select()).into_boxed();
    if let Some(a) = active {
        q = q.filter(d::active.eq(a));
    }
    if let Some(code) = after_code {
        q = q.filter(d::code.gt(code));
    }
    q.order(d::code.asc()).limit(limit).load(conn)
}

pub fn exists_active(conn: &mut DbConnection, id: &str) -> QueryResult<bool> {
    Ok(d::table.filter(d::id.eq(id).and(d::active.eq(true))).select(d::id).first::<String>(conn).optional()?.is_some())
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    d::table.count().get_result(conn)
}
