//! Account queries.

use crate::auth::Role;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::accounts as a;
use crate::store::{self, DbConnection};

/// The key a username is unique and looked up by: trimmed and case-folded.
pub fn username_key(username: &str) -> String {
    crate::text::fold(username.trim())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = a)]
pub struct AccountRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub department_id: String,
    pub role: Role,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub department_id: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
}

pub fn insert(conn: &mut DbConnection, new: &NewAccount<'_>) -> QueryResult<AccountRow> {
    let now = store::now();
    let id = store::new_id();
    diesel::insert_into(a::table)
        .values((
            a::id.eq(&id),
            a::username.eq(new.username),
            a::username_key.eq(username_key(new.username)),
            a::display_name.eq(new.display_name),
            a::department_id.eq(new.department_id),
            a::role.eq(new.role),
            a::password_hash.eq(new.password_hash),
            a::active.eq(true),
            a::version.eq(1i64),
            a::created_at.eq(now),
            a::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<AccountRow>> {
    a::table.find(id).select(AccountRow::as_select()).first(conn).optional()
}

pub fn username_taken(conn: &mut DbConnection, username: &str) -> QueryResult<bool> {
    Ok(a::table
        .filter(a::username_key.eq(username_key(username)))
        .select(a::id)
        .first::<String>(conn)
        .optional()?
        .is_some())
}

pub fn count(conn: &mut DbConnection) -> QueryResult<i64> {
    a::table.count().get_result(conn)
}

pub struct Change<'a> {
    pub display_name: &'a str,
    pub department_id: &'a str,
    pub role: &'a str,
    pub active: bool,
    pub password_hash: Option<&'a str>,
}

pub fn update(conn: &mut DbConnection, id: &str, version: i64, c: &Change<'_>) -> QueryResult<Option<AccountRow>> {
    let target = a::table.filter(a::id.eq(id).and(a::version.eq(version)));
    let common = (
        a::display_name.eq(c.display_name),
        a::department_id.eq(c.department_id),
        a::role.eq(c.role),
        a::active.eq(c.active),
        a::version.eq(version + 1),
        a::updated_at.eq(store::now()),
    );
    let n = match c.password_hash {
        Some(h) => diesel::update(target).set((common, a::password_hash.eq(h))).execute(conn)?,
        None => diesel::update(target).set(common).execute(conn)?,
    };
    if n == 0 { Ok(None) } else { find(conn, id) }
}

pub fn set_password(conn: &mut DbConnection, id: &str, hash: &str) -> QueryResult<()> {
    diesel::update(a::table.find(id))
        .set((a::password_hash.eq(hash), a::version.eq(a::version + 1i64), a::updated_at.eq(store::now())))
        .execute(conn)
        .map(|_| ())
}

#[derive(Debug, Default)]
pub struct Filter {
    pub department_id: Option<String>,
    pub role: Option<String>,
    pub active: Option<bool>,
}

pub fn list(conn: &mut DbConnection, f: &Filter, after_key: Option<&str>, limit: i64) -> QueryResult<Vec<AccountRow>> {
    let mut q = a::table.select(AccountRow::as_select()).into_boxed();
    if let Some(v) = &f.department_id {
        q = q.filter(a::department_id.eq(v));
    }
    if let Some(v) = &f.role {
        q = q.filter(a::role.eq(v));
    }
    if let Some(v) = f.active {
        q = q.filter(a::active.eq(v));
    }
    if let Some(k) = after_key {
        q = q.filter(a::username_key.gt(k));
    }
    q.order(a::username_key.asc()).limit(limit).load(conn)
}
