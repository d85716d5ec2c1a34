//! The rules of clients: a client id is unique, a client belongs to an active department, and its
//! secret is shown once and kept only as a hash.

use serde_json::Value;

use super::model::{ClientCreate, ClientResponse, ClientUpdate};
use super::store;
use crate::auth::ScopeSet;
use crate::auth::http::{hash_client_secret, random_token};
use crate::departments::domain::check_active;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::write::{self, Tx};

fn scope_text(scopes: &[crate::auth::Scope]) -> String {
    scopes.iter().copied().collect::<ScopeSet>().to_string()
}

/// Creates the client of `input`; answers it with its new secret.
pub fn create(tx: &mut Tx<'_>, input: &ClientCreate) -> Result<(ClientResponse, String), ApiError> {
    check_active(tx.conn(), &input.department_id)?;
    let client_id = input
        .client_id
        .clone()
        .unwrap_or_else(|| format!("client-{}", &random_token()[..12].to_ascii_lowercase().replace(['-', '_'], "x")));
    if store::client_id_taken(tx.conn(), &client_id)? {
        return Err(ApiError::conflict("a client with this client_id already exists"));
    }
    let secret = random_token();
    let row = store::insert(
        tx.conn(),
        &client_id,
        &input.name,
        &input.department_id,
        &scope_text(&input.scopes),
        &hash_client_secret(&secret),
    )?;
    let client = ClientResponse::from(row);
    tx.created("client.create", "client", &client.id, &client)?;
    Ok((client, secret))
}

/// A merge patch of the client `id`, as of the version `if_match` names.
pub fn update(tx: &mut Tx<'_>, id: &str, if_match: &IfMatch, patch: &Value) -> Result<ClientResponse, ApiError> {
    let found = store::find(tx.conn(), id)?.map(ClientResponse::from);
    let before = write::current(found, if_match, |_| Ok(()))?;
    let next = merge_patch::patched(&ClientUpdate::from_current(&before), patch)?.normalised()?;
    if next.department_id != before.department_id {
        check_active(tx.conn(), &next.department_id)?;
    }
    let scopes = scope_text(&next.scopes);
    let row = store::update(tx.conn(), id, before.version, &next.name, &next.department_id, &scopes, next.active)?;
    let after = ClientResponse::from(write::written(row)?);
    let action = if before.active && !after.active { "client.deactivate" } else { "client.update" };
    tx.updated(action, "client", id, &before, &after)?;
    Ok(after)
}

/// Replaces the client's secret; answers it with the new one.
pub fn rotate_secret(tx: &mut Tx<'_>, id: &str) -> Result<(ClientResponse, String), ApiError> {
    let secret = random_token();
    let row = store::set_secret(tx.conn(), id, &hash_client_secret(&secret))?.ok_or(ApiError::NotFound)?;
    let client = ClientResponse::from(row);
    let details = serde_json::json!({"client_secret": {"from": "[redacted]", "to": "[redacted]"}});
    tx.record(write::Change::new("client.secret_rotate", "client", Some(id)).at(client.version), details)?;
    Ok((client, secret))
}
