//! The OpenAPI document: its header, security scheme and shared schemas here; every path and its
//! schemas are collected from the handlers as the application registers them (startup.rs).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Adal",
        description = "Registry of anti-corruption outreach events: events, organisers, attendance, \
action plans and the reports computed from them. Errors are RFC 9457 problem details \
(`application/problem+json`); every unsafe request accepts `Idempotency-Key`; `PATCH` is JSON Merge \
Patch and needs `If-Match`. Each operation's security requirement names the scope it needs.",
        license(name = "MIT"),
    ),
    components(schemas(Problem, FieldError, crate::webhooks::model::WebhookMessage)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Tokens, revocation, the caller and the signing keys"),
        (name = "departments", description = "Organisational units"),
        (name = "accounts", description = "People who log in (admin)"),
        (name = "clients", description = "Other city systems (admin)"),
        (name = "events", description = "Outreach events, their organisers and attendance"),
        (name = "plans", description = "The year's action plans and their items"),
        (name = "reports", description = "Figures for a period, as JSON, CSV or XLSX"),
        (name = "evidence", description = "Files and links showing an event happened, kept in the registry"),
        (name = "attendees", description = "Named attendees of events, by batch or sign-in sheet; IINs kept only as keyed hashes"),
        (name = "audit", description = "The tamper-evident audit trail"),
        (name = "webhooks", description = "Changes pushed to other city systems, signed as Standard Webhooks"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from POST /api/v1/auth/token. The listed scopes are those the operation needs.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as JSON: pretty-printed with a stable key order, as committed.
pub fn to_pretty_json(doc: &utoipa::openapi::OpenApi) -> String {
    let value = serde_json::to_value(doc).expect("the document serialises");
    let mut text = serde_json::to_string_pretty(&value).expect("the document serialises");
    text.push('\n');
    text
}

/// Declares the answers that shared extractors give on every operation of a kind, so no handler's
/// annotation can forget them (the fuzzer in CI found several that did), and the exact form of the
/// parameters those extractors parse (`shared_parameter_schema`):
/// - bearer-protected: 401 (the `Principal` extractor) and 503 (it reads the account from the
///   store when its cache is cold);
/// - with a request body: 400, 413 and 415 (`JsonBody`), and 408 for any body that stalls
///   (`http::stall`, whoever the caller);
/// - accepting `Idempotency-Key`: 400 (a malformed key), 409 (a retry racing its original) and 422
///   (the key reused for a different request).
///
/// Responses an annotation already declares are kept as written.
pub fn add_shared_responses(doc: &mut utoipa::openapi::OpenApi) {
    use crate::http::doc::problem;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::path::ParameterIn;

    for item in doc.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for op in operations.into_iter().flatten() {
            let bearer = op.security.as_ref().is_some_and(|reqs| {
                reqs.iter().any(|r| serde_json::to_value(r).is_ok_and(|v| v.get("bearer").is_some()))
            });
            let keyed = op.parameters.iter().flatten().any(|p| match p {
                RefOr::T(p) => p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key",
                RefOr::Ref(_) => false,
            });
            let mut shared: Vec<(&str, &str)> = Vec::new();
            if bearer {
                shared.push(("401", "Not authenticated"));
                shared.push(("503", "Store unavailable"));
                if op.request_body.is_some() {
                    shared.push(("400", "Malformed body"));
                    shared.push(("413", "Body too large"));
                    shared.push(("415", "Unsupported media type"));
                }
            }
            if op.request_body.is_some() {
                shared
                    .push(("408", "The body stalled: no byte for ADAL_BODY_IDLE_TIMEOUT_MS; the connection is closed"));
            }
            if keyed {
                shared.push(("400", "Malformed Idempotency-Key"));
                shared.push(("409", "A retry races its original"));
                shared.push(("422", "The Idempotency-Key was used for a different request"));
            }
            for (status, description) in shared {
                op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description));
            }
            for param in op.parameters.iter_mut().flatten() {
                if let RefOr::T(param) = param
                    && let Some(schema) = shared_parameter_schema(&param.parameter_in, &param.name)
                {
                    param.schema = Some(schema);
                }
            }
        }
    }
}

/// The exact forms the shared extractors and parsers accept, so the document admits what the
/// server takes and forbids what it refuses:
/// - `Idempotency-Key`: 1 to 255 visible ASCII characters (`http::idempotency`);
/// - `If-Match`: `*` or a list of quoted ETags, weak ones allowed (`http::etag`);
/// - `cursor`: a cursor a list returned, never empty (`http::page`);
/// - `from` / `to`: a local date or an RFC 3339 instant (`time::parse_bound`);
/// - `updated_since`: an RFC 3339 instant.
fn shared_parameter_schema(
    place: &utoipa::openapi::path::ParameterIn,
    name: &str,
) -> Option<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>> {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type};

    let string = || ObjectBuilder::new().schema_type(Type::String);
    let schema = match (place, name) {
        (ParameterIn::Header, "Idempotency-Key") => {
            string().min_length(Some(1)).max_length(Some(255)).pattern(Some("^[!-~]+$")).build().into()
        }
        (ParameterIn::Header, "If-Match") => string()
            .pattern(Some(r#"^[ \t]*(\*|[ \t,]*((W/)?"[!#-~]*"([ \t,]+(W/)?"[!#-~]*")*)?[ \t,]*)[ \t]*$"#))
            .examples(["\"3\""])
            .build()
            .into(),
        (ParameterIn::Query, "cursor") => string().min_length(Some(1)).build().into(),
        (ParameterIn::Query, "from" | "to") => OneOfBuilder::new()
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
            .description(Some("A local date (YYYY-MM-DD) or an RFC 3339 instant"))
            .build()
            .into(),
        (ParameterIn::Query, "updated_since") => {
            string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))).build().into()
        }
        _ => return None,
    };
    Some(utoipa::openapi::RefOr::T(schema))
}
