//! The rules of departments: a code is unique, a parent exists and is never the department itself
//! nor below it.

use serde_json::Value;

use super::model::{DepartmentCreate, DepartmentResponse, DepartmentUpdate};
use super::store::{self, Change, NewDepartment};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::store::DbConnection;
use crate::write::{self, Tx};

/// 422 unless `parent_id` names an existing department that is not `id` nor below it.
fn check_parent(conn: &mut DbConnection, id: Option<&str>, parent_id: Option<&str>) -> Result<(), ApiError> {
    let Some(parent) = parent_id else {
        return Ok(());
    };
    if store::find(conn, parent)?.is_none() {
        return Err(ApiError::field("parent_id", "exists", "no such department"));
    }
    if let Some(id) = id
        && (parent == id || store::ancestors(conn, parent)?.iter().any(|a| a == id))
    {
        return Err(ApiError::field("parent_id", "cycle", "a department cannot be under itself"));
    }
    Ok(())
}

/// 409 when another department (not `id`) has `code`.
fn check_code(conn: &mut DbConnection, code: &str, id: Option<&str>) -> Result<(), ApiError> {
    if store::code_taken(conn, code, id)? {
        return Err(ApiError::conflict("a department with this code already exists"));
    }
    Ok(())
}

pub fn create(tx: &mut Tx<'_>, input: &DepartmentCreate) -> Result<DepartmentResponse, ApiError> {
    check_parent(tx.conn(), None, input.parent_id.as_deref())?;
    check_code(tx.conn(), &input.code, None)?;
    let row = store::insert(
        tx.conn(),
        &NewDepartment {
            code: &input.code,
            name_kk: &input.name_kk,
            name_ru: &input.name_ru,
            parent_id: input.parent_id.as_deref(),
        },
    )?;
    let d = DepartmentResponse::from(row);
    tx.created("department.create", "department", &d.id, &d)?;
    Ok(d)
}

/// A merge patch of the department `id`, as of the version `if_match` names.
pub fn update(tx: &mut Tx<'_>, id: &str, if_match: &IfMatch, patch: &Value) -> Result<DepartmentResponse, ApiError> {
    let found = store::find(tx.conn(), id)?.map(DepartmentResponse::from);
    let before = write::current(found, if_match, |_| Ok(()))?;
    let next = merge_patch::patched(&DepartmentUpdate::from_current(&before), patch)?.normalised()?;
    check_parent(tx.conn(), Some(id), next.parent_id.as_deref())?;
    check_code(tx.conn(), &next.code, Some(id))?;
    let change = Change {
        code: &next.code,
        name_kk: &next.name_kk,
        name_ru: &next.name_ru,
        parent_id: next.parent_id.as_deref(),
        active: next.active,
    };
    let after = DepartmentResponse::from(write::written(store::update(tx.conn(), id, before.version, &change)?)?);
    let action = if before.active && !after.active { "department.deactivate" } else { "department.update" };
    tx.updated(action, "department", id, &before, &after)?;
    Ok(after)
}

/// 422 naming `department_id` unless it is an active department: accounts and clients belong to one.
pub fn check_active(conn: &mut DbConnection, id: &str) -> Result<(), ApiError> {
    if store::exists_active(conn, id)? {
        Ok(())
    } else {
        Err(ApiError::field("department_id", "exists", "no such active department"))
    }
}
