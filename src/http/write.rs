//! Every HTTP write goes through here: the idempotency lease, then the one write path
//! ([`crate::write::transaction`]) holding the change, its audit entries and the recorded
//! response, then the HTTP answer. A handler takes what the write needs besides its caller as one
//! [`WriteRequest`] (or [`JsonWrite`], with its JSON body).

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::web::{Data, Path};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use futures_util::TryFutureExt;
use futures_util::future::{LocalBoxFuture, Ready, ready, try_join3};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::{Principal, Scope};
use crate::error::ApiError;
use crate::http::body::JsonBody;
use crate::http::etag::etag;
use crate::http::idempotency::{self, Begin, Fingerprint, IdempotencyKey, Stored};
use crate::http::request_ctx;
use crate::state::AppState;
use crate::store::Store;
use crate::version::Versioned;
use crate::write::{self, Tx};

/// What a write answers.
#[derive(Debug)]
pub struct Outcome {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Option<Value>,
    /// What a replay answers instead of `body`, when the body holds a one-time secret.
    pub replay_body: Option<Value>,
}

impl Outcome {
    pub fn created(location: String, version: i64, body: &impl Serialize) -> Self {
        Outcome {
            status: StatusCode::CREATED,
            headers: vec![("location".into(), location), ("etag".into(), etag(version))],
            body: serde_json::to_value(body).ok(),
            replay_body: None,
        }
    }

    /// 201 with a `Location` and no ETag: what was added has no version of its own.
    pub fn created_unversioned(location: String, body: &impl Serialize) -> Self {
        Outcome {
            status: StatusCode::CREATED,
            headers: vec![("location".into(), location)],
            body: serde_json::to_value(body).ok(),
            replay_body: None,
        }
    }

    pub fn ok(version: Option<i64>, body: &impl Serialize) -> Self {
        Outcome {
            status: StatusCode::OK,
            headers: version.map(|v| ("etag".to_string(), etag(v))).into_iter().collect(),
            body: serde_json::to_value(body).ok(),
            replay_body: None,
        }
    }

    /// 200 with the record as it now is, and its version as the ETag.
    pub fn changed(record: &impl Versioned) -> Self {
        Outcome::ok(Some(record.version()), record)
    }

    /// 202: queued, to be done after the answer.
    pub fn accepted(body: &impl Serialize) -> Self {
        Outcome {
            status: StatusCode::ACCEPTED,
            headers: Vec::new(),
            body: serde_json::to_value(body).ok(),
            replay_body: None,
        }
    }

    pub fn no_content() -> Self {
        Outcome { status: StatusCode::NO_CONTENT, headers: Vec::new(), body: None, replay_body: None }
    }

    /// This answer with `shown` as its body (holding a one-time secret) and `replayed` (the same
    /// without it) as what a retry gets.
    pub fn showing_once(mut self, shown: &impl Serialize, replayed: &impl Serialize) -> Self {
        self.body = serde_json::to_value(shown).ok();
        self.with_replay_body(replayed)
    }

    pub fn with_replay_body(mut self, body: &impl Serialize) -> Self {
        self.replay_body = serde_json::to_value(body).ok();
        self
    }

    fn stored(&self) -> Stored {
        let body = self.replay_body.as_ref().or(self.body.as_ref());
        Stored { status: self.status.as_u16(), headers: self.headers.clone(), body: body.map(Value::to_string) }
    }
}

fn respond(status: StatusCode, headers: &[(String, String)], body: Option<String>, replayed: bool) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    for (name, value) in headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::from_str(value)) {
            res.insert_header((n, v));
        }
    }
    if replayed {
        res.insert_header(("idempotent-replayed", "true"));
    }
    match body {
        Some(b) => res.insert_header((header::CONTENT_TYPE, "application/json")).body(b),
        None => res.finish(),
    }
}

/// One unsafe request about to be performed.
pub struct Write {
    actor: Actor,
    key: Option<String>,
    fingerprint: Fingerprint,
    request_id: String,
}

impl Write {
    /// `raw` is the request body as sent; with the method and target it identifies a retry.
    pub fn new(req: &HttpRequest, actor: Actor, key: IdempotencyKey, raw: &[u8]) -> Self {
        // The application always carries its state (startup.rs), in tests too; an empty key would
        // make fingerprints that differ from other instances', so its absence is a bug.
        let state = req.app_data::<Data<AppState>>().expect("the application state is registered in startup.rs");
        let secret = state.idempotency_key.expose().to_vec();
        let target = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("");
        let fingerprint = Fingerprint::of(&secret, req.method().as_str(), target, raw);
        Write { actor, key: key.0, fingerprint, request_id: request_ctx::request_id() }
    }

    /// Performs `f` once: replays the first answer to a retry, or runs `f` in a write transaction
    /// that also records the answer under the idempotency key.
    pub async fn perform<F>(self, store: &Store, f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<Outcome, ApiError> + Send + 'static,
    {
        let (outcome, replayed) = store
            .run(move |conn| {
                let principal = self.actor.idempotency_scope();
                if let Some(key) = &self.key
                    && let Begin::Replay(stored) = idempotency::begin(conn, &principal, key, &self.fingerprint)?
                {
                    return Ok((stored, true));
                }
                let result = write::transaction(conn, &self.actor, &self.request_id, |tx| {
                    let outcome = f(tx)?;
                    let stored = outcome.stored();
                    if let Some(key) = &self.key {
                        idempotency::complete(tx.conn(), &principal, key, &stored)?;
                    }
                    Ok((outcome, stored))
                });
                match result {
                    Ok((outcome, _)) => Ok((
                        Stored {
                            status: outcome.status.as_u16(),
                            headers: outcome.headers,
                            body: outcome.body.map(|b| b.to_string()),
                        },
                        false,
                    )),
                    Err(e) => {
                        if let Some(key) = &self.key {
                            idempotency::release(conn, &principal, key);
                        }
                        Err(e)
                    }
                }
            })
            .await?;
        let status = StatusCode::from_u16(outcome.status).unwrap_or(StatusCode::OK);
        Ok(respond(status, &outcome.headers, outcome.body, replayed))
    }
}

/// An unsafe request as its handler takes it, besides its caller, path and body: the request (its
/// method and target identify a retry), the application's state and the `Idempotency-Key`, which
/// is read (400 when malformed) where the key alone would be.
pub struct WriteRequest {
    pub req: HttpRequest,
    pub state: Data<AppState>,
    key: IdempotencyKey,
}

impl FromRequest for WriteRequest {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state =
            req.app_data::<Data<AppState>>().cloned().expect("the application state is registered in startup.rs");
        let key = IdempotencyKey::from_request(req, payload).into_inner();
        ready(key.map(|key| WriteRequest { req: req.clone(), state, key }))
    }
}

impl WriteRequest {
    /// Performs `f` once as `actor`'s write, `raw` being the body as sent: see [`Write::perform`].
    pub async fn perform<F>(self, actor: Actor, raw: &[u8], f: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut Tx<'_>) -> Result<Outcome, ApiError> + Send + 'static,
    {
        Write::new(&self.req, actor, self.key, raw).perform(&self.state.store, f).await
    }
}

/// An unsafe request with a JSON body `T`: the write, then the body, extracted in that order as
/// separate arguments would be.
pub struct JsonWrite<T> {
    pub write: WriteRequest,
    pub body: JsonBody<T>,
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for JsonWrite<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let write = WriteRequest::from_request(req, payload);
        let body = JsonBody::<T>::from_request(req, payload);
        Box::pin(async move { Ok(JsonWrite { write: write.await?, body: body.await? }) })
    }
}

/// What removes one record an event holds (an attendee, a piece of evidence): the event's id, the
/// record's id.
pub type RemoveChild = fn(&mut Tx<'_>, &Principal, &str, &str) -> Result<(), ApiError>;

/// The `DELETE` of one record an event holds: the caller, the write and the path's event and
/// record ids, extracted as those separate arguments would be.
pub struct ChildRemoval {
    principal: Principal,
    write: WriteRequest,
    ids: (String, String),
}

impl FromRequest for ChildRemoval {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<Self, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let parts = try_join3(
            Principal::from_request(req, payload).err_into(),
            WriteRequest::from_request(req, payload).err_into(),
            Path::<(String, String)>::from_request(req, payload),
        );
        Box::pin(async move {
            let (principal, write, ids) = parts.await?;
            Ok(ChildRemoval { principal, write, ids: ids.into_inner() })
        })
    }
}

impl ChildRemoval {
    /// `attendees:write`, no body, 204 once `remove` removed the record.
    pub async fn perform(self, remove: RemoveChild) -> Result<HttpResponse, ApiError> {
        let ChildRemoval { principal, write, ids: (event_id, id) } = self;
        principal.require(Scope::AttendeesWrite)?;
        write
            .perform(principal.actor(), b"", move |tx| {
                remove(tx, &principal, &event_id, &id)?;
                Ok(Outcome::no_content())
            })
            .await
    }
}
