//! The rules of departments: a code is unique, a parent exists and is never the department itself
//! nor below it.

use serde_json::Value;

use super::model::{DepartmentCreate, DepartmentKind, DepartmentResponse, DepartmentUpdate};
use super::store::{self, Change, NewDepartment};
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::store::DbConnection;
use crate::write::{self, Tx};

/// 422 unless `parent_id` names an existing department that is not `id` nor below it, and `id`
/// (with everything below it) fits under it within [`store::MAX_LEVEL`] levels.
fn check_parent(conn: &mut DbConnection, id: Option<&str>, parent_id: Option<&str>) -> Result<(), ApiError> {
    let Some(parent) = parent_id else {
        return Ok(());
    };
    if store::find(conn, parent)?.is_none() {
        return Err(ApiError::field("parent_id", "exists", "no such department"));
    }
    let height = match id {
        Some(id) if store::is_within(conn, parent, id)? => {
            return Err(ApiError::field("parent_id", "cycle", "a department cannot be under itself or below itself"));
        }
        Some(id) => store::subtree_with_depth(conn, id)?.iter().map(|(_, depth)| *depth).max().unwrap_or(0),
        None => 0,
    };
    let deepest = store::level(conn, parent)? + 1 + height;
    if deepest > store::MAX_LEVEL {
        return Err(ApiError::field(
            "parent_id",
            "depth",
            format!(
                "a department sits at most {} levels deep (the root is level 1); here it would reach level {deepest}",
                store::MAX_LEVEL
            ),
        ));
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
            kind: input.kind.unwrap_or(DepartmentKind::Unit).as_str(),
            name_en: input.name_en.as_deref(),
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
        kind: next.kind.as_str(),
        name_en: next.name_en.as_deref(),
    };
    let after = DepartmentResponse::from(write::written(store::update(tx.conn(), id, before.version, &change)?)?);
    let moved = before.parent_id != after.parent_id;
    if moved {
        store::move_subtree(tx.conn(), id, after.parent_id.as_deref())?;
    }
    let action = match () {
        _ if before.active && !after.active => "department.deactivate",
        _ if moved => "department.move",
        _ => "department.update",
    };
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
