//! Who is calling: tokens, passwords, roles and scopes, the `Principal` extractor that
//! authenticates each request once, and the login throttle.

pub mod extract;
pub mod http;
pub mod keys;
pub mod password;
pub mod reach;
pub mod scope;
pub mod store;
pub mod throttle;
pub mod tokens;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

pub use reach::Reach;
pub use scope::{Role, Scope, ScopeSet};

use crate::audit::{Actor, ActorKind};
use crate::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    Account,
    Client,
}

/// A principal as the store describes it now (not as its token remembers it).
#[derive(Debug, Clone)]
pub struct PrincipalState {
    pub kind: PrincipalKind,
    pub name: String,
    pub department_id: String,
    pub role: Option<Role>,
    pub scopes: ScopeSet,
    /// What it may read, as its department's place in the tree gives it.
    pub reach: Reach,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub id: String,
    pub kind: PrincipalKind,
    /// The username of an account, or the `client_id` of a client.
    pub name: String,
    pub department_id: String,
    pub role: Option<Role>,
    pub scopes: ScopeSet,
    /// What it may read (`Reach`): everything, or one administration's subtree.
    pub reach: Reach,
}

impl Principal {
    /// 403 unless the principal holds `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("this needs the {} scope", scope.as_str())))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.scopes.contains(Scope::Admin)
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        self.require(Scope::Admin)
    }

    /// Whether the principal acts for `department_id`: its own department, or any as an admin.
    /// The one place department isolation is decided.
    pub fn acts_for(&self, department_id: &str) -> bool {
        self.is_admin() || self.department_id == department_id
    }

    /// 403 unless the principal acts for one of `departments`.
    pub fn require_department<'a>(
        &self,
        departments: impl IntoIterator<Item = &'a str>,
        what: &str,
    ) -> Result<(), ApiError> {
        if departments.into_iter().any(|d| self.acts_for(d)) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("only the {what} may do this")))
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id.clone()),
            kind: match self.kind {
                PrincipalKind::Account => ActorKind::Account,
                PrincipalKind::Client => ActorKind::Client,
            },
            department_id: Some(self.department_id.clone()),
        }
    }
}

/// Each instance's short-lived view of principals, so a request costs no store read for them.
/// An entry lives at most `ttl` (≤ 5 s), which bounds how late another instance sees a
/// deactivation; the instance that makes a change drops its entry at once.
pub struct PrincipalCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, Option<PrincipalState>)>>,
}

impl PrincipalCache {
    pub fn new(ttl: Duration) -> Self {
        PrincipalCache { ttl, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, id: &str) -> Option<Option<PrincipalState>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(id).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, s)| s.clone())
    }

    fn put(&self, id: &str, state: Option<PrincipalState>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() > 10_000 {
            entries.retain(|_, (at, _)| at.elapsed() < self.ttl);
        }
        entries.insert(id.to_string(), (Instant::now(), state));
    }

    pub fn invalidate(&self, id: &str) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}
