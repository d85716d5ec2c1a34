//! Department queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{department_tree as t, departments as d};
use crate::store::{self, DbConnection};

/// The deepest a department may sit: the root is level 1.
pub const MAX_LEVEL: i32 = 6;

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
    /// `administration` (an akimat: its principals read its subtree) or `unit`.
    pub kind: String,
    pub name_en: Option<String>,
}

pub struct NewDepartment<'a> {
    pub code: &'a str,
    pub name_kk: &'a str,
    pub name_ru: &'a str,
    pub parent_id: Option<&'a str>,
    pub kind: &'a str,
    pub name_en: Option<&'a str>,
}

impl<'a> NewDepartment<'a> {
    /// A `unit` with no English name.
    pub fn unit(code: &'a str, name_kk: &'a str, name_ru: &'a str, parent_id: Option<&'a str>) -> Self {
        NewDepartment { code, name_kk, name_ru, parent_id, kind: "unit", name_en: None }
    }
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
            d::kind.eq(new.kind),
            d::name_en.eq(new.name_en),
        ))
        .execute(conn)?;
    diesel::insert_into(t::table)
        .values((t::ancestor_id.eq(&id), t::department_id.eq(&id), t::depth.eq(0)))
        .execute(conn)?;
    if let Some(parent) = new.parent_id {
        let above = ancestors_with_depth(conn, parent)?;
        let rows: Vec<_> = above
            .into_iter()
            .map(|(a, depth)| (t::ancestor_id.eq(a), t::department_id.eq(id.clone()), t::depth.eq(depth + 1)))
            .collect();
        crate::insert_many!(conn, t::table, &rows)?;
    }
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

/// `id` and each of its ancestors, with how far above `id` each is (`id` itself at 0).
fn ancestors_with_depth(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<(String, i32)>> {
    t::table.filter(t::department_id.eq(id)).select((t::ancestor_id, t::depth)).order(t::depth.asc()).load(conn)
}

/// `id` and every department below it, with how far below `id` each is.
pub fn subtree_with_depth(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<(String, i32)>> {
    t::table.filter(t::ancestor_id.eq(id)).select((t::department_id, t::depth)).order(t::depth.asc()).load(conn)
}

/// The level of `id`: 1 for a root.
pub fn level(conn: &mut DbConnection, id: &str) -> QueryResult<i32> {
    Ok(ancestors_with_depth(conn, id)?.last().map(|(_, depth)| depth + 1).unwrap_or(1))
}

/// Whether `ancestor` is `id` or above it.
pub fn is_within(conn: &mut DbConnection, id: &str, ancestor: &str) -> QueryResult<bool> {
    Ok(t::table
        .filter(t::ancestor_id.eq(ancestor).and(t::department_id.eq(id)))
        .select(t::depth)
        .first::<i32>(conn)
        .optional()?
        .is_some())
}

/// Whether any of `ids` is `root` or below it.
pub fn any_within(conn: &mut DbConnection, ids: &[&str], root: &str) -> QueryResult<bool> {
    Ok(t::table
        .filter(t::ancestor_id.eq(root).and(t::department_id.eq_any(ids)))
        .select(t::depth)
        .first::<i32>(conn)
        .optional()?
        .is_some())
}

/// Moves `id` (with everything below it) under `parent`: the rows joining the subtree to its old
/// ancestors go, rows joining it to the new ones come.
pub fn move_subtree(conn: &mut DbConnection, id: &str, parent: Option<&str>) -> QueryResult<()> {
    let below = subtree_with_depth(conn, id)?;
    let members: Vec<&str> = below.iter().map(|(m, _)| m.as_str()).collect();
    diesel::delete(t::table.filter(t::department_id.eq_any(&members).and(t::ancestor_id.ne_all(&members))))
        .execute(conn)?;
    if let Some(parent) = parent {
        let above = ancestors_with_depth(conn, parent)?;
        let mut rows = Vec::with_capacity(above.len() * below.len());
        for (a, da) in &above {
            for (m, dm) in &below {
                rows.push((t::ancestor_id.eq(a.clone()), t::department_id.eq(m.clone()), t::depth.eq(da + 1 + dm)));
            }
        }
        crate::insert_many!(conn, t::table, &rows)?;
    }
    Ok(())
}

/// The nearest `administration` at or above `id`.
pub fn nearest_administration(conn: &mut DbConnection, id: &str) -> QueryResult<Option<String>> {
    t::table
        .inner_join(d::table.on(d::id.eq(t::ancestor_id)))
        .filter(t::department_id.eq(id).and(d::kind.eq("administration")))
        .order(t::depth.asc())
        .select(t::ancestor_id)
        .first(conn)
        .optional()
}

/// Whether the registry has any `administration` (until it does, everyone reads everything).
pub fn any_administration(conn: &mut DbConnection) -> QueryResult<bool> {
    Ok(d::table.filter(d::kind.eq("administration")).select(d::id).first::<String>(conn).optional()?.is_some())
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

/// The ids of `id`'s ancestors, nearest first.
pub fn ancestors(conn: &mut DbConnection, id: &str) -> QueryResult<Vec<String>> {
    Ok(ancestors_with_depth(conn, id)?.into_iter().filter(|(_, depth)| *depth > 0).map(|(a, _)| a).collect())
}

pub struct Change<'a> {
    pub code: &'a str,
    pub name_kk: &'a str,
    pub name_ru: &'a str,
    pub parent_id: Option<&'a str>,
    pub active: bool,
    pub kind: &'a str,
    pub name_en: Option<&'a str>,
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
            d::kind.eq(c.kind),
            d::name_en.eq(c.name_en),
            d::version.eq(version + 1),
            d::updated_at.eq(store::now()),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find(conn, id) }
}

/// Which departments a list shows.
#[derive(Debug, Default)]
pub struct Filter {
    pub active: Option<bool>,
    /// Children of this department.
    pub parent_id: Option<String>,
    /// This department and everything below it.
    pub ancestor_id: Option<String>,
    /// The caller's reach: this department's subtree (`None`: everything).
    pub within: Option<String>,
}

pub fn list(
    conn: &mut DbConnection,
    f: &Filter,
    after_code: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DepartmentRow>> {
    let mut q = d::table.select(DepartmentRow::as_select()).into_boxed();
    if let Some(a) = f.active {
        q = q.filter(d::active.eq(a));
    }
    if let Some(p) = &f.parent_id {
        q = q.filter(d::parent_id.eq(p.clone()));
    }
    for root in [&f.ancestor_id, &f.within].into_iter().flatten() {
        q = q.filter(d::id.eq_any(t::table.filter(t::ancestor_id.eq(root.clone())).select(t::department_id)));
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
