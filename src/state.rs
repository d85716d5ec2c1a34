//! What every handler can reach: the store, the settings, the token service and the caches.

use std::sync::Arc;

use crate::auth::PrincipalCache;
use crate::auth::throttle::LoginThrottle;
use crate::auth::tokens::TokenService;
use crate::config::{Config, Secret};
use crate::store::Store;

pub struct AppState {
    pub store: Store,
    /// The reports' streaming replica, when `ADAL_REPORTS_DATABASE_URL` names one.
    pub replica: Option<Arc<crate::reports::replica::Replica>>,
    pub config: Arc<Config>,
    pub tokens: TokenService,
    pub principals: PrincipalCache,
    pub throttle: LoginThrottle,
    pub iin_key: Secret,
    pub rotation_key: Secret,
    /// Key of idempotency fingerprints (`Keys::idempotency_key`).
    pub idempotency_key: Secret,
    /// Key that encrypts webhook secrets (`Keys::webhook_key`).
    pub webhook_key: Secret,
    /// An Argon2 hash verified when a username is unknown, so a miss costs what a hit costs.
    pub dummy_hash: String,
}
