//! Account request and response types and their rules.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::store::AccountRow;
use crate::auth::Role;
use crate::store::to_utc;
use crate::text;

/// The case-insensitive form a username is unique under.
pub use super::store::username_key;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6e", "username": "aigerim.s", "display_name": "Айгерім Сәрсенова",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "role": "organiser", "active": true, "version": 1,
    "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"
}))]
pub struct AccountResponse {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub department_id: String,
    pub role: Role,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AccountRow> for AccountResponse {
    fn from(r: AccountRow) -> Self {
        AccountResponse {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            department_id: r.department_id,
            role: r.role,
            active: r.active,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

fn username_chars(u: &str) -> Result<(), ValidationError> {
    if u.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')) {
        Ok(())
    } else {
        Err(ValidationError::new("charset").with_message("may hold letters, digits and . - _ @ only".into()))
    }
}

fn password_length(p: &str) -> Result<(), ValidationError> {
    let n = p.chars().count();
    if (12..=256).contains(&n) {
        Ok(())
    } else {
        Err(ValidationError::new("length").with_message("must be 12 to 256 characters".into()))
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"username": "aigerim.s", "display_name": "Айгерім Сәрсенова",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "role": "organiser", "password": "Жастар-2024-қала"}))]
pub struct AccountCreate {
    /// 3–64 letters, digits, `.`, `-`, `_` or `@`; unique ignoring case.
    #[validate(length(min = 3, max = 64, message = "must be 3 to 64 characters"), custom(function = "username_chars"))]
    pub username: String,
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub display_name: String,
    pub department_id: String,
    pub role: Role,
    /// 12–256 characters; never returned.
    #[validate(custom(function = "password_length"))]
    pub password: String,
}

impl AccountCreate {
    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.username = text::clean(&self.username);
        self.display_name = text::clean(&self.display_name);
        self.validate()?;
        Ok(self)
    }
}

/// The editable fields as a merge patch leaves them. `password` is only ever set by the patch.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct AccountUpdate {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub display_name: String,
    pub department_id: String,
    pub role: Role,
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(custom(function = "password_length"))]
    pub password: Option<String>,
}

impl AccountUpdate {
    pub fn from_current(a: &AccountResponse) -> Self {
        AccountUpdate {
            display_name: a.display_name.clone(),
            department_id: a.department_id.clone(),
            role: a.role,
            active: a.active,
            password: None,
        }
    }

    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.display_name = text::clean(&self.display_name);
        self.validate()?;
        Ok(self)
    }
}

/// A merge patch for an account: any of these; `password` resets it, `active: false` deactivates.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"role": "viewer", "active": false}))]
#[allow(dead_code)]
pub struct AccountPatch {
    pub display_name: Option<String>,
    pub department_id: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// A new password, 12–256 characters.
    pub password: Option<String>,
}

impl crate::version::Versioned for AccountResponse {
    fn version(&self) -> i64 {
        self.version
    }
}
