//! Department request and response types, and the rules a department must satisfy.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::store::DepartmentRow;
use crate::store::to_utc;
use crate::text;

crate::events::model::wire_enum!(
    /// `administration`: an akimat (a region, city or district), whose principals read its whole
    /// subtree; `unit`: a department, centre or office.
    DepartmentKind { Administration = "administration", Unit = "unit" }
);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "code": "youth-centre",
    "name_kk": "Қалалық жастар ресурстық орталығы", "name_ru": "Городской молодёжный ресурсный центр",
    "name_en": "City youth resource centre", "kind": "unit",
    "parent_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d60", "active": true, "version": 1,
    "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"
}))]
pub struct DepartmentResponse {
    pub id: String,
    pub code: String,
    pub name_kk: String,
    pub name_ru: String,
    /// Optional; English files and screens use `name_ru` without it.
    pub name_en: Option<String>,
    pub kind: DepartmentKind,
    /// The department above it: region → city or district → department, at most 6 levels.
    pub parent_id: Option<String>,
    pub active: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<DepartmentRow> for DepartmentResponse {
    fn from(r: DepartmentRow) -> Self {
        DepartmentResponse {
            id: r.id,
            code: r.code,
            name_kk: r.name_kk,
            name_ru: r.name_ru,
            name_en: r.name_en,
            kind: DepartmentKind::parse(&r.kind).unwrap_or(DepartmentKind::Unit),
            parent_id: r.parent_id,
            active: r.active,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

fn slug(code: &str) -> Result<(), ValidationError> {
    let ok = code
        .split('-')
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("slug").with_message(
            "must be lowercase letters and digits in hyphen-separated words, such as internal-policy".into(),
        ))
    }
}

/// A department to create.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"code": "legal-support", "name_kk": "Құқықтық қамтамасыз ету бөлімі", "name_ru": "Отдел правового обеспечения", "kind": "unit", "parent_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d60"}))]
pub struct DepartmentCreate {
    /// Unique slug, 2–64 characters.
    #[validate(length(min = 2, max = 64, message = "must be 2 to 64 characters"), custom(function = "slug"))]
    pub code: String,
    /// Name in Kazakh, 1–300 characters after trimming.
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_kk: String,
    /// Name in Russian, 1–300 characters after trimming.
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_ru: String,
    /// English name, 1–300 characters after trimming; optional.
    #[serde(default)]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_en: Option<String>,
    /// `unit` (the default) or `administration` (an akimat).
    #[serde(default)]
    pub kind: Option<DepartmentKind>,
    /// The department this one belongs to; at most 6 levels, never a cycle.
    #[serde(default)]
    pub parent_id: Option<String>,
}

/// The editable fields, as a merge patch leaves them; checked by the same rules as a create.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct DepartmentUpdate {
    #[validate(length(min = 2, max = 64, message = "must be 2 to 64 characters"), custom(function = "slug"))]
    pub code: String,
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_kk: String,
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_ru: String,
    #[serde(default)]
    #[validate(length(min = 1, max = 300, message = "must be 1 to 300 characters"))]
    pub name_en: Option<String>,
    pub kind: DepartmentKind,
    #[serde(default)]
    pub parent_id: Option<String>,
    pub active: bool,
}

/// A merge patch for a department (RFC 7386): any of the fields, `null` to clear `parent_id` or
/// `name_en`. Moving a department moves everything below it.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name_kk": "Ішкі саясат басқармасы", "active": false}))]
#[allow(dead_code)]
pub struct DepartmentPatch {
    pub code: Option<String>,
    pub name_kk: Option<String>,
    pub name_ru: Option<String>,
    pub name_en: Option<String>,
    pub kind: Option<DepartmentKind>,
    pub parent_id: Option<String>,
    pub active: Option<bool>,
}

/// Trims the code and cleans the names (an English name left empty is none), as a create and a
/// merge patch's result both are before their rules are checked.
fn clean_fields(code: &mut String, name_kk: &mut String, name_ru: &mut String, name_en: &mut Option<String>) {
    *code = code.trim().to_string();
    *name_kk = text::clean(name_kk);
    *name_ru = text::clean(name_ru);
    *name_en = name_en.take().map(|n| text::clean(&n)).filter(|n| !n.is_empty());
}

impl DepartmentCreate {
    /// Trims and normalises the text fields, then checks the rules.
    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        clean_fields(&mut self.code, &mut self.name_kk, &mut self.name_ru, &mut self.name_en);
        self.validate()?;
        Ok(self)
    }
}

impl DepartmentUpdate {
    /// The editable fields of a department, the document a merge patch applies to.
    pub fn from_current(d: &DepartmentResponse) -> Self {
        DepartmentUpdate {
            code: d.code.clone(),
            name_kk: d.name_kk.clone(),
            name_ru: d.name_ru.clone(),
            name_en: d.name_en.clone(),
            kind: d.kind,
            parent_id: d.parent_id.clone(),
            active: d.active,
        }
    }

    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        clean_fields(&mut self.code, &mut self.name_kk, &mut self.name_ru, &mut self.name_en);
        self.validate()?;
        Ok(self)
    }
}

impl crate::version::Versioned for DepartmentResponse {
    fn version(&self) -> i64 {
        self.version
    }
}
