//! Plan and plan item types, and the rule that derives an item's status.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use super::store::{ItemRow, PlanRow};
use crate::store::to_utc;
use crate::text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    /// Held events linked to it reach both targets.
    Done,
    /// Not done, and its due date is still ahead (or today).
    Open,
    /// Not done, and its due date has passed.
    Overdue,
}

/// The contract's rule: `done` when held events reach both targets, `overdue` when the due date has
/// passed and it is not done, else `open`.
pub fn item_status(
    events_held: i64,
    participants: i64,
    target_events: i32,
    target_participants: i32,
    due: NaiveDate,
    today: NaiveDate,
) -> ItemStatus {
    if events_held >= target_events as i64 && participants >= target_participants as i64 {
        ItemStatus::Done
    } else if due < today {
        ItemStatus::Overdue
    } else {
        ItemStatus::Open
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d80", "year": 2024,
    "title": "2024 жылға арналған сыбайлас жемқорлыққа қарсы іс-шаралар жоспары",
    "department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "version": 1,
    "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"}))]
pub struct PlanResponse {
    pub id: String,
    pub year: i32,
    pub title: String,
    pub department_id: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<PlanRow> for PlanResponse {
    fn from(r: PlanRow) -> Self {
        PlanResponse {
            id: r.id,
            year: r.year,
            title: r.title,
            department_id: r.department_id,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

fn year_range(y: i32) -> Result<(), ValidationError> {
    if (2000..=2100).contains(&y) {
        Ok(())
    } else {
        Err(ValidationError::new("range").with_message("must be 2000 to 2100".into()))
    }
}

/// A plan's editable fields: a create's body and the document a merge patch applies to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"year": 2024, "title": "2024 жылға арналған сыбайлас жемқорлыққа қарсы іс-шаралар жоспары"}))]
pub struct PlanInput {
    #[validate(custom(function = "year_range"))]
    pub year: i32,
    /// 3–300 characters after trimming.
    #[validate(length(min = 3, max = 300, message = "must be 3 to 300 characters"))]
    pub title: String,
    /// The department that owns the plan; defaults to the caller's.
    #[serde(default)]
    pub department_id: Option<String>,
}

impl PlanInput {
    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.title = text::clean(&self.title);
        self.validate()?;
        Ok(self)
    }
}

/// A merge patch for a plan.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Жаңартылған жоспар"}))]
#[allow(dead_code)]
pub struct PlanPatch {
    pub year: Option<i32>,
    pub title: Option<String>,
    pub department_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({"id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d81", "plan_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d80",
    "number": "1.3", "title": "Жастар арасында дөңгелек үстелдер өткізу",
    "responsible_department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "due_date": "2024-12-31",
    "target_events": 4, "target_participants": 200, "events_held": 2, "participants_total": 130,
    "status": "open", "version": 1, "created_at": "2024-01-09T04:00:00Z", "updated_at": "2024-01-09T04:00:00Z"}))]
pub struct ItemResponse {
    pub id: String,
    pub plan_id: String,
    /// Its number in the plan, such as `1.3`.
    pub number: String,
    pub title: String,
    pub responsible_department_id: String,
    pub due_date: NaiveDate,
    pub target_events: i32,
    pub target_participants: i32,
    /// Held, non-deleted events linked to the item.
    pub events_held: i64,
    /// Their attendance totals (seats filled).
    pub participants_total: i64,
    /// Derived: `done`, `open` or `overdue`.
    pub status: ItemStatus,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ItemResponse {
    pub fn new(r: ItemRow, events_held: i64, participants_total: i64, today: NaiveDate) -> Self {
        ItemResponse {
            status: item_status(
                events_held,
                participants_total,
                r.target_events,
                r.target_participants,
                r.due_date,
                today,
            ),
            id: r.id,
            plan_id: r.plan_id,
            number: r.number,
            title: r.title,
            responsible_department_id: r.responsible_department_id,
            due_date: r.due_date,
            target_events: r.target_events,
            target_participants: r.target_participants,
            events_held,
            participants_total,
            version: r.version,
            created_at: to_utc(r.created_at),
            updated_at: to_utc(r.updated_at),
        }
    }
}

fn item_number(n: &str) -> Result<(), ValidationError> {
    let ok =
        !n.is_empty() && n.split('.').all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ValidationError::new("format").with_message("must be numbers joined by dots, such as 1.3".into()))
    }
}

/// A plan item's editable fields.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"number": "1.3", "title": "Жастар арасында дөңгелек үстелдер өткізу",
    "responsible_department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "due_date": "2024-12-31",
    "target_events": 4, "target_participants": 200}))]
pub struct ItemInput {
    #[validate(length(max = 20, message = "must be at most 20 characters"), custom(function = "item_number"))]
    pub number: String,
    #[validate(length(min = 3, max = 500, message = "must be 3 to 500 characters"))]
    pub title: String,
    pub responsible_department_id: String,
    pub due_date: NaiveDate,
    #[validate(range(min = 0, max = 10000, message = "must be 0 to 10000"))]
    pub target_events: i32,
    #[validate(range(min = 0, max = 10000000, message = "must be 0 to 10000000"))]
    pub target_participants: i32,
}

impl ItemInput {
    pub fn normalised(mut self) -> Result<Self, validator::ValidationErrors> {
        self.number = self.number.trim().to_string();
        self.title = text::clean(&self.title);
        self.validate()?;
        Ok(self)
    }

    pub fn from_current(i: &ItemResponse) -> Self {
        ItemInput {
            number: i.number.clone(),
            title: i.title.clone(),
            responsible_department_id: i.responsible_department_id.clone(),
            due_date: i.due_date,
            target_events: i.target_events,
            target_participants: i.target_participants,
        }
    }
}

/// A merge patch for a plan item.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"target_events": 6, "due_date": "2024-11-30"}))]
#[allow(dead_code)]
pub struct ItemPatch {
    pub number: Option<String>,
    pub title: Option<String>,
    pub responsible_department_id: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub target_events: Option<i32>,
    pub target_participants: Option<i32>,
}

impl crate::version::Versioned for PlanResponse {
    fn version(&self) -> i64 {
        self.version
    }
}

impl crate::version::Versioned for ItemResponse {
    fn version(&self) -> i64 {
        self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn an_item_is_done_only_when_both_targets_are_reached() {
        let today = d("2024-06-01");
        assert_eq!(item_status(4, 200, 4, 200, d("2024-12-31"), today), ItemStatus::Done);
        assert_eq!(item_status(4, 199, 4, 200, d("2024-12-31"), today), ItemStatus::Open);
        assert_eq!(item_status(3, 500, 4, 200, d("2024-12-31"), today), ItemStatus::Open);
        assert_eq!(item_status(3, 500, 4, 200, d("2024-05-31"), today), ItemStatus::Overdue);
        assert_eq!(
            item_status(3, 500, 4, 200, d("2024-06-01"), today),
            ItemStatus::Open,
            "due today is not yet overdue"
        );
        assert_eq!(item_status(4, 200, 4, 200, d("2024-01-01"), today), ItemStatus::Done, "done beats overdue");
    }
}
