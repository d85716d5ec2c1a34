//! Store queries for authentication: principals' current state, and refresh-token rotation.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{PrincipalKind, PrincipalState, Reach, Role, Scope, ScopeSet};
use crate::store::DbConnection;
use crate::store::schema::{accounts, clients, refresh_tokens as rt};

/// The principal with this id as it is now; `None` when unknown or deactivated.
pub fn principal_state(conn: &mut DbConnection, id: &str) -> QueryResult<Option<PrincipalState>> {
    let account: Option<(String, String, Role, bool)> = accounts::table
        .find(id)
        .select((accounts::username, accounts::department_id, accounts::role, accounts::active))
        .first(conn)
        .optional()?;
    if let Some((username, department_id, role, active)) = account {
        if !active {
            return Ok(None);
        }
        let scopes = role.scopes();
        let reach = Reach::of(conn, &department_id, scopes.contains(Scope::Admin))?;
        return Ok(Some(PrincipalState {
            kind: PrincipalKind::Account,
            name: username,
            department_id,
            role: Some(role),
            scopes,
            reach,
        }));
    }
    let client: Option<(String, String, String, bool)> = clients::table
        .find(id)
        .select((clients::client_id, clients::department_id, clients::scopes, clients::active))
        .first(conn)
        .optional()?;
    let Some((client_id, department_id, scopes, true)) = client else {
        return Ok(None);
    };
    let scopes = ScopeSet::parse(&scopes).unwrap_or_default();
    let reach = Reach::of(conn, &department_id, scopes.contains(Scope::Admin))?;
    Ok(Some(PrincipalState { kind: PrincipalKind::Client, name: client_id, department_id, role: None, scopes, reach }))
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct LoginAccount {
    pub id: String,
    pub username: String,
    pub department_id: String,
    pub role: Role,
    pub password_hash: String,
    pub active: bool,
}

pub fn account_by_username(conn: &mut DbConnection, username: &str) -> QueryResult<Option<LoginAccount>> {
    accounts::table
        .filter(accounts::username_key.eq(crate::accounts::model::username_key(username)))
        .select(LoginAccount::as_select())
        .first(conn)
        .optional()
}

pub fn account_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<LoginAccount>> {
    accounts::table.find(id).select(LoginAccount::as_select()).first(conn).optional()
}

#[derive(Debug, Clone, Queryable)]
pub struct LoginClient {
    pub id: String,
    pub client_id: String,
    pub department_id: String,
    pub scopes: String,
    pub secret_hash: String,
    pub active: bool,
}

pub fn client_by_client_id(conn: &mut DbConnection, client_id: &str) -> QueryResult<Option<LoginClient>> {
    clients::table
        .filter(clients::client_id.eq(client_id))
        .select((
            clients::id,
            clients::client_id,
            clients::department_id,
            clients::scopes,
            clients::secret_hash,
            clients::active,
        ))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rt)]
pub struct RefreshRow {
    pub id: String,
    pub token_hash: String,
    pub family_id: String,
    pub account_id: String,
    pub scope: String,
    pub access_jti: String,
    pub issued_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub replaced_by: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub fn insert_refresh(conn: &mut DbConnection, row: &RefreshRow) -> QueryResult<()> {
    diesel::insert_into(rt::table)
        .values((
            rt::id.eq(&row.id),
            rt::token_hash.eq(&row.token_hash),
            rt::family_id.eq(&row.family_id),
            rt::account_id.eq(&row.account_id),
            rt::scope.eq(&row.scope),
            rt::access_jti.eq(&row.access_jti),
            rt::issued_at.eq(row.issued_at),
            rt::expires_at.eq(row.expires_at),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn refresh_by_hash(conn: &mut DbConnection, hash: &str) -> QueryResult<Option<RefreshRow>> {
    rt::table.filter(rt::token_hash.eq(hash)).select(RefreshRow::as_select()).first(conn).optional()
}

pub fn refresh_by_id(conn: &mut DbConnection, id: &str) -> QueryResult<Option<RefreshRow>> {
    rt::table.find(id).select(RefreshRow::as_select()).first(conn).optional()
}

pub fn mark_used(conn: &mut DbConnection, id: &str, at: NaiveDateTime, replaced_by: &str) -> QueryResult<()> {
    diesel::update(rt::table.find(id))
        .set((rt::used_at.eq(Some(at)), rt::replaced_by.eq(Some(replaced_by))))
        .execute(conn)
        .map(|_| ())
}

pub fn revoke_family(conn: &mut DbConnection, family_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(rt::table.filter(rt::family_id.eq(family_id).and(rt::revoked_at.is_null())))
        .set(rt::revoked_at.eq(Some(at)))
        .execute(conn)
}

pub fn revoke_account(conn: &mut DbConnection, account_id: &str, at: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(rt::table.filter(rt::account_id.eq(account_id).and(rt::revoked_at.is_null())))
        .set(rt::revoked_at.eq(Some(at)))
        .execute(conn)
}
