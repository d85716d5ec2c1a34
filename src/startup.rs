//! Builds the application and its HTTP server, bound before it runs so the caller (and a test on
//! port 0) knows the address.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data, PathConfig, QueryConfig};
use actix_web::{App, HttpResponse, HttpServer};
use anyhow::Context;
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::SwaggerUi;

use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenService;
use crate::auth::{PrincipalCache, keys, password};
use crate::config::Config;
use crate::error::ApiError;
use crate::http::body::BodyLimit;
use crate::http::routes::{self, RouteTable};
use crate::http::stall::BodyIdleTimeout;
use crate::metrics::Metrics;
use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::store::{self, PoolSettings, Store};
use crate::{
    accounts, attendees, audit, auth, bootstrap, clients, departments, events, evidence, health, plans, registry,
    reports, webhooks,
};

/// Every documented route. The OpenAPI document is collected from exactly these.
fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::metrics)
        .service(auth::http::jwks)
        .service(registry::info)
        .service(
            scope::scope("/api/v1/auth")
                .service(auth::http::token)
                .service(auth::http::revoke)
                .service(auth::http::change_password)
                .service(auth::http::me),
        )
        .service(
            scope::scope("/api/v1/departments")
                .service(departments::http::list)
                .service(departments::http::create)
                .service(departments::http::read)
                .service(departments::http::update),
        )
        .service(
            scope::scope("/api/v1/accounts")
                .service(accounts::http::list)
                .service(accounts::http::create)
                .service(accounts::http::read)
                .service(accounts::http::update),
        )
        .service(
            scope::scope("/api/v1/clients")
                .service(clients::http::list)
                .service(clients::http::create)
                .service(clients::http::read)
                .service(clients::http::update)
                .service(clients::http::rotate_secret),
        )
        .service(
            scope::scope("/api/v1/events")
                .service(events::http::list)
                .service(events::http::create)
                .service(events::http::read)
                .service(events::http::update)
                .service(events::http::remove)
                .service(events::http::record_attendance)
                .service(events::http::verify)
                .service(evidence::http::list)
                .service(evidence::http::add)
                .service(evidence::http::download)
                .service(evidence::http::remove)
                .service(attendees::http::list)
                .service(attendees::http::add)
                .service(attendees::http::remove),
        )
        .service(
            scope::scope("/api/v1/plans")
                .service(plans::http::list)
                .service(plans::http::create)
                .service(plans::http::read)
                .service(plans::http::update)
                .service(plans::http::list_items)
                .service(plans::http::create_item)
                .service(plans::http::read_item)
                .service(plans::http::update_item)
                .service(plans::http::delete_item),
        )
        .service(
            scope::scope("/api/v1/reports")
                .service(reports::http::summary)
                .service(reports::http::plan_fulfilment)
                .service(reports::http::departments),
        )
        .service(scope::scope("/api/v1/attendees").service(attendees::http::erase))
        .service(
            scope::scope("/api/v1/webhooks")
                .service(webhooks::http::list)
                .service(webhooks::http::create)
                .service(webhooks::http::read)
                .service(webhooks::http::update)
                .service(webhooks::http::remove)
                .service(webhooks::http::rotate_secret)
                .service(webhooks::http::test)
                .service(webhooks::http::deliveries)
                .service(webhooks::http::redeliver),
        )
        .service(scope::scope("/api/v1/audit").service(audit::http::list).service(audit::http::verify));
}

/// The OpenAPI document, as the server serves it.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts();
    crate::openapi::add_shared_responses(&mut doc);
    webhooks::http::document(&mut doc);
    doc
}

pub struct Application {
    server: Server,
    address: SocketAddr,
}

/// Opens the store, applies migrations and prepares the first start; what `serve` and the tests
/// share.
pub async fn prepare(config: &Config) -> anyhow::Result<(Store, keys::Keys)> {
    let settings = PoolSettings {
        max_size: config.db_pool_size,
        checkout_timeout: config.db_timeout,
        sqlite_busy_timeout: config.db_timeout,
    };
    let url = config.database.clone();
    let cfg = config.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(Store, keys::Keys)> {
        let pool = store::build_pool(&url, &settings)
            .with_context(|| format!("DATABASE_URL: cannot open {}", url.redacted()))?;
        let mut conn = pool.get().context("DATABASE_URL: no connection")?;
        let applied = store::run_migrations(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "applied migrations");
        }
        let keys = keys::resolve(&cfg)?;
        bootstrap::first_start(&mut conn, &cfg)?;
        Ok((Store::new(pool, &url), keys))
    })
    .await
    .context("startup task failed")?
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (store, keys) = prepare(&config).await?;
        let tokens = TokenService::new(&config, keys.jwt_secret.as_ref().map(|s| s.expose()))?;
        let dummy_hash = password::hash("not a password anyone has").map_err(|e| anyhow::anyhow!("{e}"))?;
        // Every instance delivers webhooks; the outbox shares the work out among them.
        webhooks::worker::spawn(store.clone(), webhooks::worker::Settings::new(&config, keys.webhook_key()));
        let replica = crate::reports::replica::Replica::from_config(&config).map(Arc::new);
        if let Some(url) = &config.reports_database {
            tracing::info!(replica = %url.redacted(), "reports read from a replica, the primary when it lags or fails");
        }
        let state = Data::new(AppState {
            store,
            replica,
            config: Arc::new(config.clone()),
            tokens,
            principals: PrincipalCache::new(config.principal_cache_ttl),
            throttle: LoginThrottle::default(),
            rotation_key: keys.rotation_key(),
            idempotency_key: keys.idempotency_key(),
            webhook_key: keys.webhook_key(),
            iin_key: keys.iin_key,
            dummy_hash,
        });
        let doc = openapi();
        let table = Data::new(RouteTable::from_openapi(&doc));
        let metrics = Data::new(Metrics::default());
        let body_limit = config.body_limit;
        let body_idle = BodyIdleTimeout(config.body_idle_timeout);

        let listener =
            TcpListener::bind(config.bind).with_context(|| format!("ADAL_BIND: cannot listen on {}", config.bind))?;
        let address = listener.local_addr()?;
        let server = HttpServer::new(move || {
            let (app, _) = App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(routes).split_for_parts();
            app.app_data(state.clone())
                .app_data(table.clone())
                .app_data(metrics.clone())
                .app_data(BodyLimit(body_limit))
                .app_data(body_idle)
                .app_data(web::PayloadConfig::new(body_limit))
                .app_data(QueryConfig::default().error_handler(|e, _| {
                    ApiError::bad_request(format!("a query parameter does not parse: {e}")).into()
                }))
                .app_data(PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
                .service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", doc.clone()))
                .route(
                    "/docs",
                    web::get().to(|| async {
                        HttpResponse::PermanentRedirect().insert_header(("location", "/docs/")).finish()
                    }),
                )
                .configure(crate::console::routes)
                .default_service(web::to(routes::fallback))
                .wrap(from_fn(crate::http::path_text::middleware))
                .wrap(from_fn(crate::http::headers::head_as_get))
                .wrap(from_fn(crate::http::stall::middleware))
                .wrap(from_fn(crate::http::headers::middleware))
                .wrap(from_fn(crate::http::request_ctx::middleware))
        })
        .workers(config.workers)
        // The request head must arrive within 5 s of the connection (the body has its own idle
        // limit); a closing connection whose client does not finish the shutdown is dropped after 2 s.
        .client_request_timeout(Duration::from_secs(5))
        .client_disconnect_timeout(Duration::from_secs(2))
        .shutdown_timeout(30)
        .listen(listener)?
        .run();
        tracing::info!(address = %address, store = %config.database.redacted(), "serving");
        Ok(Application { server, address })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// A handle to stop the server (gracefully: in-flight requests finish first).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
