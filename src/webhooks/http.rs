//! Webhook routes, for principals with `webhooks:manage`: a client manages its own subscriptions,
//! an admin every one. Another principal's subscription is a 404.

use actix_web::dev::Payload;
use actix_web::web::{Data, Path};
use actix_web::{FromRequest, HttpRequest, HttpResponse, delete, get, patch, post};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use super::domain::{self, NewSubscription};
use super::model::{
    DeliveryResponse, RedeliverRequest, RedeliverResponse, SubscriptionCreate, SubscriptionPatch, SubscriptionResponse,
    SubscriptionWithSecret, TestResponse,
};
use super::{ssrf, store};
use crate::auth::{Principal, Scope};
use crate::error::{ApiError, FieldError};
use crate::http::body::JsonBody;
use crate::http::doc::{
    BadQuery, IfMatchRefusals, InvalidFields, JsonBodyRefusals, NeedsWebhooksManage, NoSuchSubscription,
    ParamOutOfRange, Preconditioned, RetryRace,
};
use crate::http::etag::{IfMatch, tagged};
use crate::http::merge_patch::MergePatch;
use crate::http::page::{List, Page, Unfiltered};
use crate::http::write::{JsonWrite, Outcome, WriteRequest};
use crate::state::AppState;
use crate::write::Tx;

/// The caller of a webhook route: a principal holding `webhooks:manage`, checked as it is
/// extracted, so no route can forget the check.
pub struct Manager(Principal);

impl FromRequest for Manager {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            let principal = principal.await?;
            principal.require(Scope::WebhooksManage)?;
            Ok(Manager(principal))
        })
    }
}

/// A bodiless write to the subscription in the path (`/{id}/…`): the caller, the write (with its
/// idempotency key) and the id.
pub struct PathWrite {
    principal: Principal,
    write: WriteRequest,
    id: String,
}

impl FromRequest for PathWrite {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let manager = Manager::from_request(req, payload);
        let write = WriteRequest::from_request(req, payload);
        let id = req.match_info().get("id").unwrap_or_default().to_string();
        Box::pin(async move {
            let Manager(principal) = manager.await?;
            Ok(PathWrite { principal, write: write.await?, id })
        })
    }
}

impl PathWrite {
    /// Runs `work` as one write by the caller on the subscription `id`.
    async fn perform(
        self,
        work: impl FnOnce(&mut Tx<'_>, &Principal, &str, &AppState) -> Result<Outcome, ApiError> + Send + 'static,
    ) -> Result<HttpResponse, ApiError> {
        let PathWrite { principal, write, id } = self;
        let state = write.state.clone();
        write.perform(principal.actor(), b"", move |tx| work(tx, &principal, &id, &state)).await
    }
}

/// Where a URL leads, checked before the write: a host that is not a public address (or, for
/// `http`, not inside the allowed networks) is a 422 naming `url`. A URL that does not even parse
/// is left to the domain, which names that.
async fn refusal(state: &AppState, url: &str) -> Option<FieldError> {
    let parsed = ssrf::parse(url).ok()?;
    let refused = ssrf::resolve(&parsed, &state.config.webhook_allowed_networks).await.err()?;
    let code = if refused.0.starts_with("must") { "format" } else { "address" };
    Some(FieldError::new("url", code, refused.0))
}

/// List subscriptions
///
/// The caller's own; an admin sees every principal's.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(List<Unfiltered>),
    responses(
        (status = 200, description = "A page of subscriptions, by id", body = Page<SubscriptionResponse>),
        NeedsWebhooksManage, BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[get("")]
pub async fn list(Manager(principal): Manager, query: List<Unfiltered>) -> Result<HttpResponse, ApiError> {
    let owner = (!principal.is_admin()).then(|| principal.id.clone());
    query
        .answer(
            move |conn, _, after: Option<String>, n| Ok(store::list(conn, owner.as_deref(), after.as_deref(), n)?),
            |r| r.id.clone(),
            SubscriptionResponse::from,
        )
        .await
}

/// Read a subscription
#[utoipa::path(
    tag = "webhooks",
    operation_id = "read_webhook",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription (never its secret)", body = SubscriptionResponse, headers(("ETag" = String, description = "The version"))),
        NeedsWebhooksManage, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[get("/{id}")]
pub async fn read(
    state: Data<AppState>,
    Manager(principal): Manager,
    id: Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let row = state.store.run(move |conn| domain::visible(conn, &principal, &id)).await?;
    Ok(tagged(&SubscriptionResponse::from(row)))
}

/// `outcome` answering the subscription with its one-time secret, and a replay without it.
fn with_secret(outcome: Outcome, subscription: SubscriptionResponse, secret: String) -> Outcome {
    let without = SubscriptionWithSecret { subscription: subscription.clone(), secret: None };
    outcome.showing_once(&SubscriptionWithSecret { subscription, secret: Some(secret) }, &without)
}

/// Subscribe
///
/// Answers the subscription with its signing `secret`, shown this once. Deliveries are `POST`s of
/// `{"type", "timestamp", "data"}` signed as Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`); `data` is the record as its `GET` answered the
/// subscription's principal when the change committed, a deletion `{"id", "deleted": true,
/// "updated_at"}`, and attendees only as `attendees_count`. A principal holds at most 20.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create_webhook",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe; a replay omits the secret")),
    request_body(content = SubscriptionCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = SubscriptionWithSecret,
            headers(("Location" = String, description = "The new subscription"), ("ETag" = String, description = "The version"))),
        JsonBodyRefusals, NeedsWebhooksManage, InvalidFields,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[post("")]
pub async fn create(Manager(principal): Manager, new: JsonWrite<SubscriptionCreate>) -> Result<HttpResponse, ApiError> {
    let JsonWrite { write, body } = new;
    let input = body.value;
    let refused = refusal(&write.state, &input.url).await;
    let new =
        NewSubscription { url: input.url, event_types: input.event_types, description: input.description, refused };
    let secret_key = write.state.webhook_key.clone();
    write
        .perform(principal.actor(), &body.raw, move |tx| {
            let (subscription, secret) = domain::create(tx, &principal, &new, &secret_key)?;
            let outcome = Outcome::created(format!("/api/v1/webhooks/{}", subscription.id), subscription.version, &());
            Ok(with_secret(outcome, subscription, secret))
        })
        .await
}

/// Change a subscription
///
/// JSON Merge Patch of `url`, `event_types`, `description` and `active`. Switching a disabled
/// subscription on again clears its `disabled_reason` and its record of failures.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update_webhook",
    params(("id" = String, Path, description = "Subscription id"), Preconditioned),
    request_body(content = SubscriptionPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = SubscriptionResponse, headers(("ETag" = String, description = "The new version"))),
        JsonBodyRefusals, IfMatchRefusals, NeedsWebhooksManage, InvalidFields, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[patch("/{id}")]
pub async fn update(Manager(principal): Manager, change: MergePatch) -> Result<HttpResponse, ApiError> {
    let if_match = change.precondition()?;
    let refused = match change.body.value.get("url").and_then(Value::as_str) {
        Some(url) => refusal(&change.write.state, url).await,
        None => None,
    };
    let actor = principal.actor();
    change
        .perform(actor, if_match, move |tx, id, if_match, patch| {
            domain::update(tx, &principal, id, if_match, patch, refused)
        })
        .await
}

/// Delete a subscription
///
/// Its undelivered messages and its delivery log go with it.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = String, Path, description = "Subscription id"), Preconditioned),
    responses(
        (status = 204, description = "Deleted"),
        IfMatchRefusals, RetryRace, NeedsWebhooksManage, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[delete("/{id}")]
pub async fn remove(write: PathWrite) -> Result<HttpResponse, ApiError> {
    let if_match = IfMatch::required(&write.write.req)?;
    write
        .perform(move |tx, principal, id, _| {
            domain::remove(tx, principal, id, &if_match)?;
            Ok(Outcome::no_content())
        })
        .await
}

/// Rotate a subscription's secret
///
/// Answers the new secret, this once. The secret it replaces keeps signing beside it for 24 hours
/// (the `webhook-signature` header then holds both), so a receiver can move over without a gap; a
/// second rotation within those hours ends the older one at once (a leaked secret can be
/// rotated twice to be rid of it).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate_webhook_secret",
    params(
        ("id" = String, Path, description = "Subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe; a replay omits the secret"),
    ),
    responses(
        (status = 200, description = "The subscription with its new secret", body = SubscriptionWithSecret, headers(("ETag" = String, description = "The new version"))),
        RetryRace, NeedsWebhooksManage, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[post("/{id}/secret")]
pub async fn rotate_secret(write: PathWrite) -> Result<HttpResponse, ApiError> {
    write
        .perform(|tx, principal, id, state| {
            let (subscription, secret) = domain::rotate_secret(tx, principal, id, &state.webhook_key)?;
            Ok(with_secret(Outcome::ok(Some(subscription.version), &()), subscription, secret))
        })
        .await
}

/// Send a test message
///
/// Queues a `webhook.test` message (`data`: `{"subscription_id"}`), whatever the type filter
/// says; its attempts appear in the delivery log.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "test_webhook",
    params(
        ("id" = String, Path, description = "Subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    responses(
        (status = 202, description = "Queued", body = TestResponse),
        (status = 422, description = "The subscription is switched off", body = crate::error::Problem, content_type = "application/problem+json"),
        RetryRace, NeedsWebhooksManage, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[post("/{id}/test")]
pub async fn test(write: PathWrite) -> Result<HttpResponse, ApiError> {
    write
        .perform(|tx, principal, id, _| {
            Ok(Outcome::accepted(&TestResponse { message_id: domain::test(tx, principal, id)? }))
        })
        .await
}

/// List delivery attempts
///
/// Every attempt at the subscription's messages, newest first.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list_webhook_deliveries",
    params(("id" = String, Path, description = "Subscription id"), List<Unfiltered>),
    responses(
        (status = 200, description = "A page of attempts, newest first", body = Page<DeliveryResponse>),
        NeedsWebhooksManage, NoSuchSubscription, BadQuery, ParamOutOfRange,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[get("/{id}/deliveries")]
pub async fn deliveries(
    Manager(principal): Manager,
    id: Path<String>,
    query: List<Unfiltered>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    query
        .answer(
            move |conn, _, before: Option<String>, n| {
                domain::visible(conn, &principal, &id)?;
                Ok(store::deliveries(conn, &id, before.as_deref(), n)?)
            },
            |r| r.id.clone(),
            DeliveryResponse::from,
        )
        .await
}

/// Redeliver what gave up
///
/// Queues again every message of the subscription created at or after `since` whose attempts
/// were used up (or that met a 410), each with a fresh schedule. A message queued again may arrive
/// after newer ones about the same record: its `timestamp` and the record's `version` tell which
/// is newer.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(
        ("id" = String, Path, description = "Subscription id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retry safe"),
    ),
    request_body(content = RedeliverRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Queued", body = RedeliverResponse),
        JsonBodyRefusals, RetryRace, NeedsWebhooksManage, InvalidFields, NoSuchSubscription,
    ),
    security(("bearer" = ["webhooks:manage"])),
)]
#[post("/{id}/redeliver")]
pub async fn redeliver(
    Manager(principal): Manager,
    write: WriteRequest,
    id: Path<String>,
    body: JsonBody<RedeliverRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let since = body.value.since.with_timezone(&chrono::Utc).naive_utc();
    write
        .perform(principal.actor(), &body.raw, move |tx| {
            let queued = domain::redeliver(tx, &principal, &id, since)?;
            Ok(Outcome::accepted(&RedeliverResponse { queued }))
        })
        .await
}

/// The OpenAPI document's `webhooks`: the one request every subscriber receives, with the headers
/// that sign it, so a receiver can be written from the document alone.
pub fn document(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, Required, ResponseBuilder, Type};

    let header = |name: &str, description: &str| {
        ParameterBuilder::new()
            .name(name)
            .parameter_in(ParameterIn::Header)
            .required(Required::True)
            .description(Some(description))
            .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
            .build()
    };
    let operation = OperationBuilder::new()
        .operation_id(Some("change"))
        .tag("webhooks")
        .summary(Some("A change, delivered to a subscription"))
        .description(Some(
            "Posted to the subscription's URL for each change of a type it asked for. Verify the \
signature before trusting the body: `webhook-signature` lists space-separated `v1,<base64>` \
signatures (two while a replaced secret still signs), each the HMAC-SHA256 of \
`webhook-id.webhook-timestamp.body` under the bytes the secret's base64 after `whsec_` stands for. \
Any 2xx is success; anything else, no answer within 15 s or a redirect is retried with the same \
`webhook-id` (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default); 410 switches the subscription \
off.",
        ))
        .parameter(header("webhook-id", "The message's id, the same on every attempt: a receiver drops a repeat by it"))
        .parameter(header("webhook-timestamp", "When this attempt was signed, in seconds since 1970"))
        .parameter(header(
            "webhook-signature",
            "`v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, space-separated when two secrets sign",
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(Ref::from_schema_name("WebhookMessage"))).build(),
                )
                .build(),
        ))
        .response("2XX", ResponseBuilder::new().description("Received; the message is not sent again"))
        .response("410", ResponseBuilder::new().description("Gone: the subscription is switched off at once"))
        .build();
    let mut webhooks = utoipa::openapi::path::Paths::new();
    webhooks.paths.insert("change".to_string(), PathItem::new(HttpMethod::Post, operation));
    doc.webhooks = Some(webhooks);
}
