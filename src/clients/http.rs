//! Client routes, for admins: list, read, create (the secret shown once), change, deactivate,
//! and replace the secret.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use serde::Deserialize;
use utoipa::IntoParams;

use super::domain;
use super::model::{ClientCreate, ClientPatch, ClientResponse, ClientWithSecret};
use super::store;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::http::doc::{
    BadQuery, IfMatchRefusals, InvalidFields, JsonBodyRefusals, NeedsAdmin, NoSuchClient, ParamOutOfRange,
    Preconditioned,
};
use crate::http::etag::read_one;
use crate::http::merge_patch::MergePatch;
use crate::http::page::{List, Page};
use crate::http::write::{JsonWrite, Outcome, WriteRequest};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilter {
    pub department_id: Option<String>,
    pub active: Option<bool>,
}

/// List clients
#[utoipa::path(
    tag = "clients",
    operation_id = "list_clients",
    params(List<ClientFilter>),
    responses(
        (status = 200, description = "A page of clients, by client_id", body = Page<ClientResponse>),
        NeedsAdmin, BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = ["admin"])),
)]
#[get("")]
pub async fn list(principal: Principal, query: List<ClientFilter>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    query
        .answer(
            |conn, q, after: Option<String>, n| {
                Ok(store::list(conn, q.department_id.as_deref(), q.active, after.as_deref(), n)?)
            },
            |r| r.client_id.clone(),
            ClientResponse::from,
        )
        .await
}

/// Read a client
#[utoipa::path(
    tag = "clients",
    operation_id = "read_client",
    params(("id" = String, Path, description = "Client record id")),
    responses(
        (status = 200, description = "The client (never its secret)", body = ClientResponse, headers(("ETag" = String, description = "The version"))),
        NeedsAdmin, NoSuchClient,
    ),
    security(("bearer" = ["admin"])),
)]
#[get("/{id}")]
pub async fn read(state: Data<AppState>, principal: Principal, id: Path<String>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let id = id.into_inner();
    read_one::<_, ClientResponse>(&state.store, move |conn| Ok(store::find(conn, &id)?)).await
}

/// `outcome` answering the client with its one-time secret, and a replay without it.
fn with_secret(outcome: Outcome, client: ClientResponse, secret: String) -> Outcome {
    let without = ClientWithSecret { client: client.clone(), client_secret: None };
    outcome.showing_once(&ClientWithSecret { client, client_secret: Some(secret) }, &without)
}

/// Create a client
///
/// Answers the client with its `client_secret`, shown this once; only its hash is kept.
#[utoipa::path(
    tag = "clients",
    operation_id = "create_client",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe; a replay omits the secret")),
    request_body(content = ClientCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = ClientWithSecret,
            headers(("Location" = String, description = "The new client"), ("ETag" = String, description = "The version"))),
        (status = 409, description = "The client_id is taken", body = Problem, content_type = "application/problem+json"),
        JsonBodyRefusals, NeedsAdmin, InvalidFields,
    ),
    security(("bearer" = ["admin"])),
)]
#[post("")]
pub async fn create(principal: Principal, new: JsonWrite<ClientCreate>) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let input = new.body.value.normalised()?;
    new.write
        .perform(principal.actor(), &new.body.raw, move |tx| {
            let (client, secret) = domain::create(tx, &input)?;
            let outcome = Outcome::created(format!("/api/v1/clients/{}", client.id), client.version, &());
            Ok(with_secret(outcome, client, secret))
        })
        .await
}

/// Change a client
///
/// JSON Merge Patch of `name`, `department_id`, `scopes` and `active`.
#[utoipa::path(
    tag = "clients",
    operation_id = "update_client",
    params(
        ("id" = String, Path, description = "Client record id"),
        Preconditioned,
    ),
    request_body(content = ClientPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ClientResponse, headers(("ETag" = String, description = "The new version"))),
        JsonBodyRefusals, IfMatchRefusals, NeedsAdmin, InvalidFields, NoSuchClient,
    ),
    security(("bearer" = ["admin"])),
)]
#[patch("/{id}")]
pub async fn update(state: Data<AppState>, principal: Principal, change: MergePatch) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let if_match = change.precondition()?;
    let client_id = change.path.clone();
    let res = change
        .perform(principal.actor(), if_match, |tx, id, if_match, patch| domain::update(tx, id, if_match, patch))
        .await;
    state.principals.invalidate(&client_id);
    res
}

/// Replace a client's secret
///
/// Generates a new secret, answered this once; the old one stops working at once.
#[utoipa::path(
    tag = "clients",
    params(
        ("id" = String, Path, description = "Client record id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe; a replay omits the secret"),
    ),
    responses(
        (status = 200, description = "The client with its new secret", body = ClientWithSecret, headers(("ETag" = String, description = "The new version"))),
        NeedsAdmin, NoSuchClient,
    ),
    security(("bearer" = ["admin"])),
)]
#[post("/{id}/secret")]
pub async fn rotate_secret(
    principal: Principal,
    write: WriteRequest,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require_admin()?;
    let id = id.into_inner();
    write
        .perform(principal.actor(), b"", move |tx| {
            let (client, secret) = domain::rotate_secret(tx, &id)?;
            Ok(with_secret(Outcome::ok(Some(client.version), &()), client, secret))
        })
        .await
}
