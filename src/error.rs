//! The one error policy. `anyhow` only in `main`, the command line and migrations; `QueryResult`
//! in store functions; `ApiError` in handlers and the domain. `ApiError` renders as RFC 9457
//! `application/problem+json`. Store errors convert in one place: not found → 404, unique
//! violation → 409, the store unreachable, busy or out of pool connections → 503 with
//! `Retry-After`, anything else → 500, logged with its cause chain and the request id while the
//! client is told only that it failed.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::request_ctx;

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FieldError {
    /// JSON path of the field, `items[3].count` style.
    #[schema(example = "name_kk")]
    pub field: String,
    /// Machine-readable rule that failed, from a stable set a client can translate: `required`,
    /// `type`, `format` (an instant's or date's form), `enum`, `unknown_field`, `length`, `range`,
    /// `invalid_characters` (NUL, control characters, bidirectional overrides), `exists`,
    /// `distinct`, `duplicate`, `order`, `duration`, `held`, `cancelled`, `lead`, `self`, `cycle`,
    /// `unknown`, `mismatch`, `sort`, `route`, `reused`, `not_responsible`, `charset`, `slug`;
    /// for a webhook `address` (a URL whose host is not a public address), `limit` (too many
    /// subscriptions), `scope` (types its principal may not read), `disabled`;
    /// for an IIN `iin`, `digits`, `birth_date`, `century`, `control_digit`; for a sign-in sheet
    /// `header`, `encoding`, `csv`, `xlsx`, `empty`, `rows`.
    #[schema(example = "length")]
    pub code: String,
    /// What is wrong, for people.
    #[schema(example = "must be 1 to 300 characters")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        FieldError { field: field.into(), code: code.to_string(), message: message.into() }
    }
}

/// RFC 9457 problem details, as every error response carries them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://adal.example/problems/validation",
    "title": "Validation failed",
    "status": 422,
    "detail": "1 field is invalid",
    "instance": "/api/v1/departments",
    "request_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e",
    "errors": [{"field": "name_kk", "code": "length", "message": "must be 1 to 300 characters"}]
}))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path the problem occurred on.
    pub instance: String,
    /// The request id, as in the `X-Request-Id` header.
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

const TYPE_BASE: &str = "https://adal.example/problems/";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("bad request: {0}")]
    BadRequest(Cow<'static, str>),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Authentication missing or failed; `error` is the RFC 6750 error code for WWW-Authenticate.
    #[error("unauthorized: {detail}")]
    Unauthorized { error: &'static str, detail: Cow<'static, str> },
    #[error("forbidden: {0}")]
    Forbidden(Cow<'static, str>),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed(Vec<String>),
    #[error("conflict: {0}")]
    Conflict(Cow<'static, str>),
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("precondition required")]
    PreconditionRequired,
    #[error("payload too large")]
    PayloadTooLarge(usize),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(Cow<'static, str>),
    #[error("too many requests")]
    TooManyRequests { retry_after: u64, detail: Cow<'static, str> },
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    pub fn bad_request(detail: impl Into<Cow<'static, str>>) -> Self {
        ApiError::BadRequest(detail.into())
    }
    pub fn forbidden(detail: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Forbidden(detail.into())
    }
    pub fn conflict(detail: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Conflict(detail.into())
    }
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, code, message)])
    }
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }
    pub fn unauthorized(error: &'static str, detail: impl Into<Cow<'static, str>>) -> Self {
        ApiError::Unauthorized { error, detail: detail.into() }
    }

    /// Seconds a client should wait before retrying a 503.
    pub const RETRY_AFTER_UNAVAILABLE: u64 = 2;

    fn parts(&self) -> (&'static str, &'static str, String) {
        match self {
            ApiError::BadRequest(d) => ("bad-request", "Bad request", d.to_string()),
            ApiError::Validation(errors) => (
                "validation",
                "Validation failed",
                match errors.len() {
                    1 => format!("{}: {}", errors[0].field, errors[0].message),
                    n => format!("{n} fields are invalid"),
                },
            ),
            ApiError::Unauthorized { detail, .. } => ("unauthorized", "Authentication required", detail.to_string()),
            ApiError::Forbidden(d) => ("forbidden", "Forbidden", d.to_string()),
            ApiError::NotFound => ("not-found", "Not found", "no such resource".into()),
            ApiError::MethodNotAllowed(allow) => {
                ("method-not-allowed", "Method not allowed", format!("this resource allows {}", allow.join(", ")))
            }
            ApiError::Conflict(d) => ("conflict", "Conflict", d.to_string()),
            ApiError::PreconditionFailed => (
                "precondition-failed",
                "Precondition failed",
                "If-Match does not match the current version; fetch it again and reapply".into(),
            ),
            ApiError::PreconditionRequired => (
                "precondition-required",
                "Precondition required",
                "this request needs If-Match with the record's ETag".into(),
            ),
            ApiError::PayloadTooLarge(limit) => {
                ("payload-too-large", "Payload too large", format!("the body exceeds the limit of {limit} bytes"))
            }
            ApiError::UnsupportedMediaType(d) => ("unsupported-media-type", "Unsupported media type", d.to_string()),
            ApiError::TooManyRequests { detail, .. } => ("too-many-requests", "Too many requests", detail.to_string()),
            ApiError::Unavailable(_) => {
                ("unavailable", "Storage unavailable", "the store is unavailable; retry later".into())
            }
            ApiError::Internal(_) => ("internal", "Internal error", "the request failed; report its request id".into()),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let ctx = request_ctx::current();
        let (slug, title, detail) = self.parts();
        Problem {
            type_: format!("{TYPE_BASE}{slug}"),
            title: title.to_string(),
            status: self.status_code().as_u16(),
            detail,
            instance: ctx.as_ref().map(|c| c.path.clone()).unwrap_or_default(),
            request_id: ctx.map(|c| c.request_id).unwrap_or_default(),
            errors: match self {
                ApiError::Validation(errors) => Some(errors.clone()),
                _ => None,
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
            ApiError::Unavailable(cause) => {
                crate::metrics::STORE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %cause, "store unavailable");
            }
            _ => {}
        }
        let mut builder = HttpResponse::build(self.status_code());
        builder.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        match self {
            ApiError::Unauthorized { error, detail } => {
                let value = format!(
                    "Bearer realm=\"adal\", error=\"{error}\", error_description=\"{}\"",
                    detail.replace(['"', '\\'], "'")
                );
                if let Ok(v) = HeaderValue::from_str(&value) {
                    builder.insert_header((header::WWW_AUTHENTICATE, v));
                }
            }
            ApiError::MethodNotAllowed(allow) => {
                builder.insert_header((header::ALLOW, allow.join(", ")));
            }
            ApiError::TooManyRequests { retry_after, .. } => {
                builder.insert_header((header::RETRY_AFTER, retry_after.to_string()));
            }
            ApiError::Unavailable(_) => {
                builder.insert_header((header::RETRY_AFTER, Self::RETRY_AFTER_UNAVAILABLE.to_string()));
            }
            _ => {}
        }
        builder.body(serde_json::to_vec(&self.to_problem()).unwrap_or_default())
    }
}

/// The store as handlers use it: its work's errors, and its own, are `ApiError`s.
impl crate::store::Store {
    /// [`Store::run_with`](crate::store::Store::run_with) for work that fails with an `ApiError`.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut crate::store::DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_with(f).await
    }

    /// [`Store::read_with`](crate::store::Store::read_with) for work that fails with an `ApiError`.
    pub async fn read<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut crate::store::DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.read_with(f).await
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Pool(_) => ApiError::Unavailable(e.to_string()),
            crate::store::StoreError::Task(_) => ApiError::internal(anyhow::Error::new(e)),
        }
    }
}

impl crate::store::WorkError for ApiError {
    fn store_unreachable(&self) -> bool {
        matches!(self, ApiError::Unavailable(_))
    }
}

/// Whether a store error means the store is unreachable or too busy, rather than a bug.
fn is_unavailable(kind: &DatabaseErrorKind, message: &str) -> bool {
    match kind {
        DatabaseErrorKind::ClosedConnection => true,
        DatabaseErrorKind::Unknown => {
            let m = message.to_ascii_lowercase();
            m.contains("database is locked")
                || m.contains("database is busy")
                || m.contains("server closed the connection")
                || m.contains("terminating connection")
                || m.contains("connection refused")
                || m.contains("could not connect")
                || m.contains("no connection to the server")
                || m.contains("the database system is")
                || m.contains("deadlock detected")
                || m.contains("could not serialize")
                || m.contains("disk i/o error")
        }
        DatabaseErrorKind::SerializationFailure => true,
        _ => false,
    }
}

impl From<DieselError> for ApiError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::NotFound => ApiError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                tracing::debug!(constraint = ?info.constraint_name(), "unique violation");
                ApiError::conflict("a record with the same unique value already exists")
            }
            DieselError::DatabaseError(kind, info) if is_unavailable(&kind, info.message()) => {
                ApiError::Unavailable(info.message().to_string())
            }
            DieselError::BrokenTransactionManager => {
                ApiError::Unavailable("connection lost inside a transaction".into())
            }
            other => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Converts validator's errors into field errors with JSON paths (`organisers[2].full_name`).
pub fn from_validation(errors: &validator::ValidationErrors) -> Vec<FieldError> {
    let mut out = Vec::new();
    collect_validation(errors, "", &mut out);
    out.sort_by(|a, b| a.field.cmp(&b.field));
    out
}

fn collect_validation(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    use validator::ValidationErrorsKind;
    for (field, kind) in errors.errors() {
        let path = if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e.message.as_ref().map(|m| m.to_string()).unwrap_or_else(|| e.code.to_string());
                    out.push(FieldError::new(path.clone(), &e.code, message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect_validation(inner, &path, out),
            ValidationErrorsKind::List(items) => {
                for (i, inner) in items {
                    collect_validation(inner, &format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(e: validator::ValidationErrors) -> Self {
        ApiError::Validation(from_validation(&e))
    }
}
