//! The rules of plans and their items: a plan belongs to a department, an item's number is unique
//! in its plan and its responsible department exists, and an item that events link to stays.

use chrono::NaiveDate;
use serde_json::Value;

use super::model::{ItemInput, ItemResponse, PlanInput, PlanResponse};
use super::store::{self, ItemData, ItemRow, PlanRow};
use crate::auth::Reach;
use crate::departments::store as departments;
use crate::error::ApiError;
use crate::http::etag::IfMatch;
use crate::http::merge_patch;
use crate::store::DbConnection;
use crate::write::{self, Tx};

/// An item as answered: its row with the progress of the held events linked to it, on `today`.
pub fn item_response(conn: &mut DbConnection, row: ItemRow, today: NaiveDate) -> Result<ItemResponse, ApiError> {
    let progress = store::progress(conn, std::slice::from_ref(&row.id), store::all_time())?;
    let (held, participants) = progress.get(&row.id).copied().unwrap_or((0, 0));
    Ok(ItemResponse::new(row, held, participants, today))
}

/// 422 unless `id` is a department within the writer's reach (one outside it is not known there).
fn check_department(conn: &mut DbConnection, reach: &Reach, id: &str, field: &str) -> Result<(), ApiError> {
    if departments::find(conn, id)?.is_some() && reach.covers_any(conn, &[id])? {
        Ok(())
    } else {
        Err(ApiError::field(field, "exists", "no such department"))
    }
}

/// The plan `id`, if it is within the reach or above it (a region's plan sets its districts'
/// lines); 404 otherwise.
pub fn visible_plan(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<PlanRow, ApiError> {
    let plan = store::find_plan(conn, id)?.ok_or(ApiError::NotFound)?;
    if !reach.covers_or_above(conn, &plan.department_id)? {
        return Err(ApiError::NotFound);
    }
    Ok(plan)
}

/// The plan `id`, if the writer may change it: its department is within the writer's reach. A
/// plan of an administration above is read, not changed (403).
fn writable_plan(conn: &mut DbConnection, reach: &Reach, id: &str) -> Result<PlanRow, ApiError> {
    let plan = visible_plan(conn, reach, id)?;
    if !reach.covers_any(conn, &[&plan.department_id])? {
        return Err(ApiError::forbidden(
            "this plan belongs to an administration above yours; its coordinators keep it",
        ));
    }
    Ok(plan)
}

/// 409 when another item of the plan (not `item_id`) has `number`.
fn check_number(conn: &mut DbConnection, plan_id: &str, number: &str, item_id: Option<&str>) -> Result<(), ApiError> {
    if store::number_taken(conn, plan_id, number, item_id)? {
        return Err(ApiError::conflict("the plan already has an item with this number"));
    }
    Ok(())
}

fn item_data(i: &ItemInput) -> ItemData<'_> {
    ItemData {
        number: &i.number,
        title: &i.title,
        responsible_department_id: &i.responsible_department_id,
        due_date: i.due_date,
        target_events: i.target_events,
        target_participants: i.target_participants,
    }
}

/// Creates the plan of `input`, for `department` (the caller's unless the input names one).
pub fn create(tx: &mut Tx<'_>, reach: &Reach, input: &PlanInput, department: &str) -> Result<PlanResponse, ApiError> {
    check_department(tx.conn(), reach, department, "department_id")?;
    let plan = PlanResponse::from(store::insert_plan(tx.conn(), input.year, &input.title, department)?);
    tx.created("plan.create", "plan", &plan.id, &plan)?;
    Ok(plan)
}

pub fn update(
    tx: &mut Tx<'_>,
    reach: &Reach,
    id: &str,
    if_match: &IfMatch,
    patch: &Value,
) -> Result<PlanResponse, ApiError> {
    let found = Some(PlanResponse::from(writable_plan(tx.conn(), reach, id)?));
    let before = write::current(found, if_match, |_| Ok(()))?;
    let current =
        PlanInput { year: before.year, title: before.title.clone(), department_id: Some(before.department_id.clone()) };
    let next = merge_patch::patched(&current, patch)?.normalised()?;
    let department = next.department_id.clone().unwrap_or(before.department_id.clone());
    check_department(tx.conn(), reach, &department, "department_id")?;
    let row = store::update_plan(tx.conn(), id, before.version, next.year, &next.title, &department)?;
    let after = PlanResponse::from(write::written(row)?);
    tx.updated("plan.update", "plan", id, &before, &after)?;
    Ok(after)
}

pub fn create_item(
    tx: &mut Tx<'_>,
    reach: &Reach,
    plan_id: &str,
    input: &ItemInput,
    today: NaiveDate,
) -> Result<ItemResponse, ApiError> {
    writable_plan(tx.conn(), reach, plan_id)?;
    check_department(tx.conn(), reach, &input.responsible_department_id, "responsible_department_id")?;
    check_number(tx.conn(), plan_id, &input.number, None)?;
    let row = store::insert_item(tx.conn(), plan_id, &item_data(input))?;
    let item = ItemResponse::new(row, 0, 0, today);
    tx.created("plan_item.create", "plan_item", &item.id, &item)?;
    Ok(item)
}

/// The item `item_id` of the plan `plan_id`, as of the version `if_match` names.
fn current_item(
    tx: &mut Tx<'_>,
    reach: &Reach,
    plan_id: &str,
    item_id: &str,
    if_match: &IfMatch,
    today: NaiveDate,
) -> Result<ItemResponse, ApiError> {
    writable_plan(tx.conn(), reach, plan_id)?;
    let found = match store::find_item(tx.conn(), plan_id, item_id)? {
        Some(row) => Some(item_response(tx.conn(), row, today)?),
        None => None,
    };
    write::current(found, if_match, |_| Ok(()))
}

pub fn update_item(
    tx: &mut Tx<'_>,
    reach: &Reach,
    (plan_id, item_id): (&str, &str),
    if_match: &IfMatch,
    patch: &Value,
    today: NaiveDate,
) -> Result<ItemResponse, ApiError> {
    let before = current_item(tx, reach, plan_id, item_id, if_match, today)?;
    let next = merge_patch::patched(&ItemInput::from_current(&before), patch)?.normalised()?;
    check_department(tx.conn(), reach, &next.responsible_department_id, "responsible_department_id")?;
    check_number(tx.conn(), plan_id, &next.number, Some(item_id))?;
    let row = write::written(store::update_item(tx.conn(), plan_id, item_id, before.version, &item_data(&next))?)?;
    let after = item_response(tx.conn(), row, today)?;
    tx.updated("plan_item.update", "plan_item", item_id, &before, &after)?;
    Ok(after)
}

pub fn delete_item(
    tx: &mut Tx<'_>,
    reach: &Reach,
    (plan_id, item_id): (&str, &str),
    if_match: &IfMatch,
    today: NaiveDate,
) -> Result<(), ApiError> {
    let before = current_item(tx, reach, plan_id, item_id, if_match, today)?;
    if store::item_linked(tx.conn(), item_id)? {
        return Err(ApiError::conflict("events link to this item; link them elsewhere first"));
    }
    let removed = store::delete_item(tx.conn(), plan_id, item_id, before.version)?;
    tx.removed("plan_item.delete", "plan_item", item_id, &before, removed)
}
