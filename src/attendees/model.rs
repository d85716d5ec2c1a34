//! Attendee request and response types, and the rules one attendee row must satisfy — the same
//! rules for a JSON batch and a sign-in sheet.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::iin::{Iin, Sex};
use crate::error::FieldError;
use crate::text;

/// At most this many attendees in one JSON batch.
pub const MAX_BATCH: usize = 1000;
/// At most this many attendee rows in one sign-in sheet.
pub const MAX_SHEET_ROWS: usize = 10_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, diesel::AsExpression, diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

crate::stored_text!(Gender);

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }

    /// The spellings a sign-in sheet uses, in English, Kazakh and Russian, any case.
    pub fn from_sheet(s: &str) -> Option<Gender> {
        let v = text::fold(s.trim());
        let v = v.trim_end_matches('.');
        match v {
            "male" | "m" | "ер" | "еркек" | "е" | "м" | "муж" | "мужской" | "мужчина" => {
                Some(Gender::Male)
            }
            "female" | "f" | "әйел" | "ә" | "ж" | "жен" | "женский" | "женщина" => {
                Some(Gender::Female)
            }
            _ => None,
        }
    }
}

/// One attendee of a JSON batch. Only `full_name` is required.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"full_name": "Айгүл Нұрланқызы", "iin": "<12 digits>", "birth_year": 1990, "gender": "female", "organisation": "Қалалық жастар ресурстық орталығы"}))]
#[allow(dead_code)]
pub struct AttendeeInput {
    /// 1–200 characters after trimming.
    pub full_name: String,
    /// 12 digits with a valid birth date, century digit and control digit. Kept only as a keyed
    /// hash and its last two digits; never returned.
    pub iin: Option<String>,
    /// 1900 to this year; must agree with the IIN when both are given.
    pub birth_year: Option<i32>,
    /// Must agree with the IIN when both are given.
    pub gender: Option<Gender>,
    /// At most 300 characters.
    pub organisation: Option<String>,
}

/// A JSON batch of attendees: 1 to 1000. Errors name rows as `attendees[i].field`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"attendees": [
    {"full_name": "Айгүл Нұрланқызы", "iin": "<12 digits>", "birth_year": 1990, "gender": "female", "organisation": "Жастар орталығы"},
    {"full_name": "Ерлан Серікұлы"}
]}))]
#[allow(dead_code)]
pub struct AttendeeBatch {
    pub attendees: Vec<AttendeeInput>,
}

/// An attendee as the API shows it: never the IIN nor its hash, only the last two digits.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({
    "id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d80", "event_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d71",
    "full_name": "Айгүл Нұрланқызы", "iin_last2": "47", "birth_year": 1990, "gender": "female",
    "organisation": "Қалалық жастар ресурстық орталығы", "created_at": "2024-03-14T13:00:00Z"
}))]
pub struct AttendeeResponse {
    pub id: String,
    pub event_id: String,
    pub full_name: String,
    /// The IIN's last two digits; null when none was given.
    pub iin_last2: Option<String>,
    pub birth_year: Option<i32>,
    pub gender: Option<Gender>,
    pub organisation: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// What an upload added.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AddedAttendees {
    pub added: usize,
    /// In the order of the batch or the sheet.
    pub attendees: Vec<AttendeeResponse>,
}

/// Whom to erase: the IIN, in the body only (never in a URL, which logs keep).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(example = json!({"iin": "<12 digits>"}))]
#[allow(dead_code)]
pub struct ErasureRequest {
    pub iin: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"erased": 3}))]
pub struct ErasureResponse {
    /// How many attendee rows were removed, across every event.
    pub erased: usize,
}

/// One row as it arrived, every field as text (a sheet has nothing else), before any check.
#[derive(Debug, Default, Clone)]
pub struct RawRow {
    pub full_name: Option<String>,
    pub iin: Option<String>,
    pub birth_year: Option<String>,
    pub gender: Option<String>,
    pub organisation: Option<String>,
    /// Values that could not even be read as text (a JSON number where a string belongs),
    /// reported with the row's other errors.
    pub unreadable: Vec<FieldError>,
}

impl RawRow {
    pub fn is_blank(&self) -> bool {
        [&self.full_name, &self.iin, &self.birth_year, &self.gender, &self.organisation]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
    }
}

/// A row that passed every check that needs no store.
#[derive(Debug, Clone)]
pub struct NewAttendee {
    /// Where it came from, `rows[7]` or `attendees[7]`, for errors found later in the store.
    pub path: String,
    pub full_name: String,
    pub iin: Option<Iin>,
    pub birth_year: Option<i32>,
    pub gender: Option<Gender>,
    pub organisation: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks one row; `path` is its prefix in error fields (`rows[7]`).
pub fn check_row(path: &str, raw: &RawRow, this_year: i32) -> Result<NewAttendee, Vec<FieldError>> {
    let mut errors = Vec::new();
    let field = |name: &str| format!("{path}.{name}");
    // A sheet's cells are text entering the registry like any other: the same characters refused.
    let cells = [
        ("full_name", &raw.full_name),
        ("iin", &raw.iin),
        ("birth_year", &raw.birth_year),
        ("gender", &raw.gender),
        ("organisation", &raw.organisation),
    ];
    for (name, value) in cells {
        if value.as_deref().is_some_and(|v| text::has_forbidden(v, text::Allowed::Line)) {
            errors.push(FieldError::new(
                field(name),
                text::FORBIDDEN_CODE,
                text::forbidden_message(text::Allowed::Line),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let full_name = present(&raw.full_name).map(text::clean).unwrap_or_default();
    let name_len = full_name.chars().count();
    if name_len == 0 {
        errors.push(FieldError::new(field("full_name"), "required", "a full name is required"));
    } else if name_len > 200 {
        errors.push(FieldError::new(field("full_name"), "length", "must be 1 to 200 characters"));
    }
    let iin = match present(&raw.iin).map(Iin::parse) {
        None => None,
        Some(Ok(iin)) => Some(iin),
        Some(Err(e)) => {
            errors.push(FieldError::new(field("iin"), e.code(), e.message()));
            None
        }
    };
    let birth_year = match present(&raw.birth_year) {
        None => None,
        Some(v) => match v.parse::<i32>() {
            Ok(y) if (1900..=this_year).contains(&y) => {
                if iin.as_ref().is_some_and(|i| i.birth_year() != y) {
                    errors.push(FieldError::new(
                        field("birth_year"),
                        "iin",
                        "does not agree with the IIN's birth date",
                    ));
                }
                Some(y)
            }
            _ => {
                errors.push(FieldError::new(
                    field("birth_year"),
                    "range",
                    format!("must be a year from 1900 to {this_year}"),
                ));
                None
            }
        },
    };
    let gender = match present(&raw.gender) {
        None => None,
        Some(v) => match Gender::from_sheet(v) {
            Some(g) => {
                let expected = iin.as_ref().map(|i| match i.sex() {
                    Sex::Male => Gender::Male,
                    Sex::Female => Gender::Female,
                });
                if expected.is_some_and(|e| e != g) {
                    errors.push(FieldError::new(field("gender"), "iin", "does not agree with the IIN's 7th digit"));
                }
                Some(g)
            }
            None => {
                errors.push(FieldError::new(field("gender"), "enum", "must be male or female (ер/әйел, м/ж)"));
                None
            }
        },
    };
    let organisation = present(&raw.organisation).map(text::clean);
    if organisation.as_ref().is_some_and(|o| o.chars().count() > 300) {
        errors.push(FieldError::new(field("organisation"), "length", "must be at most 300 characters"));
    }
    if errors.is_empty() {
        Ok(NewAttendee { path: path.to_string(), full_name, iin, birth_year, gender, organisation })
    } else {
        Err(errors)
    }
}

/// Checks every row and the IINs repeated within them: all the rows, or all the errors in row
/// order. Each row comes with its error prefix (`rows[7]`, `attendees[7]`).
pub fn check_rows(rows: &[(String, RawRow)]) -> Result<Vec<NewAttendee>, Vec<FieldError>> {
    let this_year = Utc::now().year();
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut seen: std::collections::HashMap<Iin, &str> = std::collections::HashMap::new();
    for (path, raw) in rows {
        // A row that is not even an object has nothing more to check.
        if raw.unreadable.iter().any(|e| &e.field == path) {
            errors.extend(raw.unreadable.iter().cloned());
            continue;
        }
        let checked = match check_row(path, raw, this_year) {
            Ok(row) if raw.unreadable.is_empty() => Ok(row),
            Ok(_) => Err(raw.unreadable.clone()),
            Err(e) => Err(raw.unreadable.iter().cloned().chain(e).collect()),
        };
        match checked {
            Ok(row) => {
                if let Some(iin) = &row.iin {
                    if let Some(first) = seen.get(iin) {
                        errors.push(FieldError::new(
                            format!("{path}.iin"),
                            "duplicate",
                            format!("the same IIN as {first}; a person is listed once per event"),
                        ));
                        continue;
                    }
                    seen.insert(iin.clone(), path.as_str());
                }
                out.push(row);
            }
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_genders_in_three_languages() {
        for (s, g) in [("Әйел", Gender::Female), ("ер", Gender::Male), ("Ж", Gender::Female), ("male", Gender::Male)]
        {
            assert_eq!(Gender::from_sheet(s), Some(g), "{s}");
        }
    }
}
