//! Client queries.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::clients as c;
use crate::store::{self, DbConnection};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = c)]
pub struct ClientRow {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub department_id: String,
    pub scopes: String,
    pub active: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(
    conn: &mut DbConnection,
    client_id: &str,
    name: &str,
    department_id: &str,
    scopes: &str,
    secret_hash: &str,
) -> QueryResult<ClientRow> {
    let now = store::now();
    let id = store::new_id();
    diesel::insert_into(c::table)
        .values((
            c::id.eq(&id),
            c::client_id.eq(client_id),
            c::name.eq(name),
            c::department_id.eq(department_id),
            c::scopes.eq(scopes),
            c::secret_hash.eq(secret_hash),
            c::active.eq(true),
            c::version.eq(1i64),
            c::created_at.eq(now),
            c::updated_at.eq(now),
        ))
        .execute(conn)?;
    find(conn, &id)?.ok_or(diesel::result::Error::NotFound)
}

pub fn find(conn: &mut DbConnection, id: &str) -> QueryResult<Option<ClientRow>> {
    c::table.find(id).select(ClientRow::as_select()).first(conn).optional()
}

pub fn client_id_taken(conn: &mut DbConnection, client_id: &str) -> QueryResult<bool> {
    Ok(c::table.filter(c::client_id.eq(client_id)).select(c::id).first::<String>(conn).optional()?.is_some())
}

pub fn update(
    conn: &mut DbConnection,
    id: &str,
    version: i64,
    name: &str,
    department_id: &str,
    scopes: &str,
    active: bool,
) -> QueryResult<Option<ClientRow>> {
    let n = diesel::update(c::table.filter(c::id.eq(id).and(c::version.eq(version))))
        .set((
            c::name.eq(name),
            c::department_id.eq(department_id),
            c::scopes.eq(scopes),
            c::active.eq(active),
            c::version.eq(version + 1),
            c::updated_at.eq(store::now()),
        ))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find(conn, id) }
}

pub fn set_secret(conn: &mut DbConnection, id: &str, secret_hash: &str) -> QueryResult<Option<ClientRow>> {
    let n = diesel::update(c::table.find(id))
        .set((c::secret_hash.eq(secret_hash), c::version.eq(c::version + 1i64), c::updated_at.eq(store::now())))
        .execute(conn)?;
    if n == 0 { Ok(None) } else { find(conn, id) }
}

pub fn list(
    conn: &mut DbConnection,
    department_id: Option<&str>,
    active: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ClientRow>> {
    let mut q = c::table.select(ClientRow::as_select()).into_boxed();
    if let Some(v) = department_id {
        q = q.filter(c::department_id.eq(v));
    }
    if let Some(v) = active {
        q = q.filter(c::active.eq(v));
    }
    if let Some(v) = after {
        q = q.filter(c::client_id.gt(v));
    }
    q.order(c::client_id.asc()).limit(limit).load(conn)
}
