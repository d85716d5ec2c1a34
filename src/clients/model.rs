//! Client request and response types and their rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::store::ClientRow;
use crate::auth::{Scope, ScopeSet};
use crate::store::to_utc;
use crate::text;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d70", "client_id": "akimat-dashboard", "name": "Әкімдік ақпараттық тақтасы",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "scopes": ["events:read", "reports:read"],
    "active": true, "version": 1, "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"
}))]
pub struct ClientResponse {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub department_id: String,
    pub scopes: Vec<Scope>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRow> for ClientResponse {
    fn from(r: ClientRow) -> Self {
        ClientResponse {
            id: r.id,
            client_id: r.client_id,
            name: r.name,
            department_id: r.department_id,
            scopes: ScopeSet::parse(&r.scopes).unwrap_or_default().to_vec(),
            active: r.active,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

/// A client with its secret: the answer to a create or a secret rotation, the only time the
/// secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientResponse,
    /// Shown once; only its hash is kept. A replayed answer omits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

fn client_id_chars(id: &str) -> Result<(), ValidationError> {
    if id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')) {
        Ok(())
    } else {
        Err(ValidationError::new("charset").with_message("may hold a-z, 0-9, - _ . only".into()))
    }
}

fn scope_list(scopes: &[Scope]) -> Result<(), ValidationError> {
    if scopes.is_empty() {
        return Err(ValidationError::new("length").with_message("must name at least one scope".into()));
    }
    Ok(())
}

#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"client_id": "akimat-dashboard", "name": "Әкімдік ақпараттық тақтасы",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "scopes": ["events:read", "reports:read"]}))]
pub struct ClientCreate {
    /// 3–64 of a-z, 0-9, `-`, `_`, `.`; unique. Generated when absent.
    #[serde(default)]
    #[validate(
        length(min = 3, max = 64, message = "must be 3 to 64 characters"),
        custom(function = "client_id_chars")
    )]
    pub client_id: Option<String>,
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub name: String,
    pub department_id: String,
    #[validate(custom(function = "scope_list"))]
    pub scopes: Vec<Scope>,
}

impl ClientCreate {
    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.client_id = self.client_id.map(|c| c.trim().to_string());
        self.name = text::clean(&self.name);
        self.validate()?;
        Ok(self)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct ClientUpdate {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub name: String,
    pub department_id: String,
    #[validate(custom(function = "scope_list"))]
    pub scopes: Vec<Scope>,
    pub active: bool,
}

impl ClientUpdate {
    pub fn from_current(c: &ClientResponse) -> Self {
        ClientUpdate {
            name: c.name.clone(),
            department_id: c.department_id.clone(),
            scopes: c.scopes.clone(),
            active: c.active,
        }
    }

    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.name = text::clean(&self.name);
        self.validate()?;
        Ok(self)
    }
}

/// A merge patch for a client.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"scopes": ["events:read"], "active": false}))]
#[allow(dead_code)]
pub struct ClientPatch {
    pub name: Option<String>,
    pub department_id: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    pub active: Option<bool>,
}

impl crate::version::Versioned for ClientResponse {
    fn version(&self) -> i64 {
        self.version
    }
}
