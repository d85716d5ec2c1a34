//! The rules of accounts: a username is unique, an account belongs to an active department, an
//! admin neither deactivates nor demotes themselves, and a deactivation or a password reset ends
//! the account's refresh tokens.

use serde_json::Value;

use super::model::{AccountCreate, AccountResponse, AccountUpdate};
use super::store::{self, Change, NewAccount};
use crate::auth::Role;
use crate::departments::domain::check_active;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::write::{self, Tx};

/// Creates the account of `input`, with the password already hashed.
pub fn create(tx: &mut Tx<'_>, input: &AccountCreate, password_hash: &str) -> Result<AccountResponse, ApiError> {
    check_active(tx.conn(), &input.department_id)?;
    if store::username_taken(tx.conn(), &input.username)? {
        return Err(ApiError::conflict("an account with this username already exists"));
    }
    let row = store::insert(
        tx.conn(),
        &NewAccount {
            username: &input.username,
            display_name: &input.display_name,
            department_id: &input.department_id,
            role: input.role.as_str(),
            password_hash,
        },
    )?;
    let a = AccountResponse::from(row);
    tx.created("account.create", "account", &a.id, &a)?;
    Ok(a)
}

/// A merge patch of the account `id` by the account `caller_id`; `new_hash` is the hash of the
/// password the patch sets, if it sets one.
pub fn update(
    tx: &mut Tx<'_>,
    caller_id: &str,
    id: &str,
    if_match: &IfMatch,
    patch: &Value,
    new_hash: Option<&str>,
) -> Result<AccountResponse, ApiError> {
    let found = store::find(tx.conn(), id)?.map(AccountResponse::from);
    let before = write::current(found, if_match, |_| Ok(()))?;
    let next = merge_patch::patched(&AccountUpdate::from_current(&before), patch)?.normalised()?;
    // An admin who deactivates or demotes themselves may leave the registry with no one able to
    // undo it; another admin must do it.
    if id == caller_id {
        if !next.active {
            return Err(ApiError::field("active", "self", "an admin cannot deactivate their own account"));
        }
        if next.role != Role::Admin {
            return Err(ApiError::field("role", "self", "an admin cannot take away their own admin role"));
        }
    }
    if next.department_id != before.department_id {
        check_active(tx.conn(), &next.department_id)?;
    }
    let change = Change {
        display_name: &next.display_name,
        department_id: &next.department_id,
        role: next.role.as_str(),
        active: next.active,
        password_hash: new_hash,
    };
    let after = AccountResponse::from(write::written(store::update(tx.conn(), id, before.version, &change)?)?);
    if new_hash.is_some() || !after.active {
        crate::auth::store::revoke_account(tx.conn(), id, crate::store::now())?;
    }
    let mut changes = crate::audit::changes(Some(&before), Some(&after));
    if new_hash.is_some() {
        changes["password"] = serde_json::json!({"from": "[redacted]", "to": "[redacted]"});
    }
    let action = if before.active && !after.active { "account.deactivate" } else { "account.update" };
    tx.record(write::Change::new(action, "account", Some(id)).at(after.version), changes)?;
    Ok(after)
}
