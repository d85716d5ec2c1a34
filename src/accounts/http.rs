//! Account routes, for admins: list, read, create, change (role, department, password reset,
//! deactivation, which ends the account's tokens).

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use super::domain;
use super::model::{AccountCreate, AccountPatch, AccountResponse, username_key};
use super::store::{self, Filter};
use crate::auth::{Principal, Role, password};
use crate::error::{ApiError, Problem};
use crate::http::doc::{
    BadQuery, IfMatchRefusals, InvalidFields, JsonBodyRefusals, NeedsAdmin, NoSuchAccount, ParamOutOfRange,
    Preconditioned,
};
use crate::http::etag::read_one;
use crate::http::merge_patch::MergePatch;
use crate::http::page::{List, Page};
use crate::http::write::{JsonWrite, Outcome};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    pub department_id: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// List accounts
#[utoipa::path(
    tag = "accounts",
    operation_id = "list_accounts",
    params(List<AccountFilter>),
    responses(
        (status = 200, description = "A page of accounts, by username", body = Page<AccountResponse>),
        NeedsAdmin, BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = ["admin"])),
)]
#[get("")]
pub async fn list(principal: Principal, query: List<AccountFilter>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    query
        .answer(
            |conn, q, after: Option<String>, n| {
                let filter = Filter {
                    department_id: q.department_id,
                    role: q.role.map(|r| r.as_str().to_string()),
                    active: q.active,
                };
                Ok(store::list(conn, &filter, after.as_deref(), n)?)
            },
            |r| username_key(&r.username),
            AccountResponse::from,
        )
        .await
}

/// Read an account
#[utoipa::path(
    tag = "accounts",
    operation_id = "read_account",
    params(("id" = String, Path, description = "Account id")),
    responses(
        (status = 200, description = "The account", body = AccountResponse, headers(("ETag" = String, description = "The version"))),
        NeedsAdmin, NoSuchAccount,
    ),
    security(("bearer" = ["admin"])),
)]
#[get("/{id}")]
pub async fn read(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let id = id.into_inner();
    read_one::<_, AccountResponse>(&state.store, move |conn| Ok(store::find(conn, &id)?)).await
}

/// Create an account
#[utoipa::path(
    tag = "accounts",
    operation_id = "create_account",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe")),
    request_body(content = AccountCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = AccountResponse,
            headers(("Location" = String, description = "The new account"), ("ETag" = String, description = "The version"))),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefusals, NeedsAdmin, InvalidFields,
    ),
    security(("bearer" = ["admin"])),
)]
#[post("")]
pub async fn create(principal: Principal, new: JsonWrite<AccountCreate>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let input = new.body.value.normalised()?;
    // Hash before the write transaction, so the write lock is not held for Argon2's time.
    let hash = password::hash_off_worker(input.password.clone()).await?;
    new.write
        .perform(principal.actor(), &new.body.raw, move |tx| {
            let a = domain::create(tx, &input, &hash)?;
            Ok(Outcome::created(format!("/api/v1/accounts/{}", a.id), a.version, &a))
        })
        .await
}

/// Change an account
///
/// JSON Merge Patch of `display_name`, `department_id`, `role`, `active` and `password` (an
/// admin's reset). Deactivating refuses the account's live tokens at once on this instance and
/// within 5 seconds on the others, and ends its refresh tokens; a password reset ends them too.
#[utoipa::path(
    tag = "accounts",
    operation_id = "update_account",
    params(
        ("id" = String, Path, description = "Account id"),
        Preconditioned,
    ),
    request_body(content = AccountPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = AccountResponse, headers(("ETag" = String, description = "The new version"))),
        JsonBodyRefusals, IfMatchRefusals, NeedsAdmin, InvalidFields, NoSuchAccount,
    ),
    security(("bearer" = ["admin"])),
)]
#[patch("/{id}")]
pub async fn update(state: Data<AppState>, principal: Principal, change: MergePatch) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let if_match = change.precondition()?;
    let new_hash = match change.body.value.get("password") {
        Some(Value::String(p)) => {
            password::check_length("password", p).map_err(|e| ApiError::Validation(vec![e]))?;
            Some(password::hash_off_worker(p.clone()).await?)
        }
        _ => None,
    };
    let account_id = change.path.clone();
    let caller_id = principal.id.clone();
    let res = change
        .perform(principal.actor(), if_match, move |tx, id, if_match, patch| {
            domain::update(tx, &caller_id, id, if_match, patch, new_hash.as_deref())
        })
        .await;
    // Whatever happened, this instance stops trusting its cached view of the account.
    state.principals.invalidate(&account_id);
    res
}
