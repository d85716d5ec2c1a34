//! Pieces of the OpenAPI document that many operations declare in the same words: problem
//! answers, as `IntoResponses` sets a handler's `#[utoipa::path(responses(...))]` names beside its
//! own tuples (the document keys responses by status, so where a set is named does not change
//! it), and the precondition headers, as an `IntoParams` set for `params(...)` (parameters keep
//! the order they are named in).

use std::collections::BTreeMap;

use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, Response, ResponseBuilder, Type};
use utoipa::{IntoParams, IntoResponses};

/// An `application/problem+json` answer with this description.
pub fn problem(description: &str) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build(),
    )
}

macro_rules! problem_set {
    ($($(#[$doc:meta])* $name:ident { $($status:literal => $description:literal),+ $(,)? })+) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<Response>> {
                BTreeMap::from([$(($status.to_string(), problem($description))),+])
            }
        }
    )+};
}

problem_set! {
    /// `Principal::require_admin` refused.
    NeedsAdmin { "403" => "Needs the admin scope" }
    /// The caller lacks `events:read`.
    NeedsEventsRead { "403" => "Needs events:read" }
    /// The caller lacks `plans:write`.
    NeedsPlansWrite { "403" => "Needs plans:write" }
    /// The caller lacks `reports:read`.
    NeedsReportsRead { "403" => "Needs reports:read" }
    /// The caller lacks `webhooks:manage`.
    NeedsWebhooksManage { "403" => "Needs webhooks:manage" }
    /// A JSON body that does not parse, or is not JSON (`JsonBody`).
    JsonBodyRefusals { "400" => "Malformed body", "415" => "Not JSON" }
    /// The `If-Match` precondition: stale or missing (`IfMatch::required`).
    IfMatchRefusals { "412" => "Changed since read", "428" => "If-Match is missing" }
    /// An idempotent retry arriving while its original still runs.
    RetryRace { "409" => "A retry races its original" }
    /// A query parameter that does not parse (`http::query::Query`).
    BadQuery { "400" => "A parameter does not parse" }
    /// A query parameter that parses and is out of its range (`page::limit`).
    ParamOutOfRange { "422" => "A parameter is out of range" }
    /// A report's `from`, `to` or `compare` that breaks a rule (`reports::http`'s `summary` and
    /// `departments`).
    PeriodRefusals {
        "422" => "from is after to, the period is longer than 10 years, or compare is not one of its values",
    }
    /// A body whose fields break rules, each named.
    InvalidFields { "422" => "Invalid fields" }
}

problem_set! {
    /// The body is larger than the limit.
    BodyTooLarge { "413" => "Body too large" }
    /// No account has the id in the path.
    NoSuchAccount { "404" => "No such account" }
    /// No client has the id in the path.
    NoSuchClient { "404" => "No such client" }
    /// No department has the id in the path.
    NoSuchDepartment { "404" => "No such department" }
    /// No event has the id in the path.
    NoSuchEvent { "404" => "No such event" }
    /// No plan has the id in the path.
    NoSuchPlan { "404" => "No such plan" }
    /// The plan has no item with the id in the path.
    NoSuchPlanItem { "404" => "No such item in this plan" }
    /// No subscription the caller may see has the id in the path.
    NoSuchSubscription { "404" => "No such subscription (or not the caller's)" }
}

/// `If-Match` (required: `IfMatch::required`) and `Idempotency-Key`, the headers of a change
/// to a versioned resource; `openapi::add_shared_responses` gives both their exact forms.
pub struct Preconditioned;

impl IntoParams for Preconditioned {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let header = |name: &str, description: &str, required: Required| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Header)
                .description(Some(description))
                .required(required)
                .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                .build()
        };
        vec![
            header("If-Match", "The ETag last read", Required::True),
            header("Idempotency-Key", "Makes a retry safe", Required::False),
        ]
    }
}
