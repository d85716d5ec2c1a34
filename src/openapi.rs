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
    components(schemas(Problem, FieldError)),
    modifiers(&BearerScheme),
    tags(
        (name = "auth", description = "Tokens, revocation, the caller and the signing keys"),
        (name = "departments", description = "Organisational units"),
        (name = "accounts", description = "People who log in (admin)"),
        (name = "clients", description = "Other city systems (admin)"),
        (name = "events", description = "Outreach events, their organisers and attendance"),
        (name = "plans", description = "The year's action plans and their items"),
        (name = "reports", description = "Figures for a period, as JSON, CSV or XLSX"),
        (name = "attendees", description = "Named attendees of events, by batch or sign-in sheet; IINs kept only as keyed hashes"),
        (name = "audit", description = "The tamper-evident audit trail"),
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
