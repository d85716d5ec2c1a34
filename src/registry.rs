//! What a client must know about this registry before anyone signs in: its name and the time zone
//! its calendar questions are answered in (so a console turns a local date and time into an
//! instant the way the reports will read it back). Public by design, so it holds no secret.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct RegistryInfo {
    /// The service's name.
    #[schema(example = "Adal")]
    pub name: &'static str,
    /// The registry's calendar time zone (a tz database name, `ADAL_TIMEZONE`): list filters and
    /// reports read dates in it.
    #[schema(example = "Asia/Almaty")]
    pub timezone: String,
    /// The server's version, so a client can tell which API it talks to.
    #[schema(example = "0.1.0")]
    pub version: &'static str,
}

/// This registry's name and time zone
///
/// Needs no token: a client reads it before signing in.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The registry", body = RegistryInfo)),
    security(()),
)]
#[get("/api/v1/registry")]
pub async fn info(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(RegistryInfo {
        name: "Adal",
        timezone: state.config.timezone.name().to_string(),
        version: env!("CARGO_PKG_VERSION"),
    })
}
