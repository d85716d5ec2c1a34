//! Report shapes, exactly as the contract gives them (their tables for CSV and XLSX: `tables.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::events::model::{Audience, EventKind};
use crate::plans::model::ItemStatus;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct ByBasis {
    pub sign_in_sheet: i64,
    pub headcount: i64,
    pub estimate: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DepartmentRow {
    pub department_id: String,
    pub code: String,
    pub name_kk: String,
    /// Held events it led.
    pub events_held: i64,
    /// Held events it partnered in.
    pub events_partnered: i64,
    /// Participants of the held events it led.
    pub participants_total: i64,
    /// Of the held events it led, those the policy department verified.
    pub events_verified: i64,
    /// Their participants.
    pub participants_verified: i64,
    /// Of the held events it led, those carrying a flag.
    pub events_flagged: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct KindRow {
    pub kind: EventKind,
    pub events_held: i64,
    pub participants_total: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct AudienceRow {
    pub audience: Audience,
    /// Held events naming this audience.
    pub events_held: i64,
    /// The sum of their breakdown counts for it.
    pub participants_counted: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct MonthRow {
    /// The local month, `YYYY-MM`.
    #[schema(example = "2024-03")]
    pub month: String,
    pub events_held: i64,
    pub participants_total: i64,
}

/// The summary of a period.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(example = json!({"from": "2024-01-01", "to": "2024-08-31", "events_held": 28, "participants_total": 1812,
    "events_verified": 20, "participants_verified": 1290, "events_flagged": 3,
    "unique_people": 0, "events_planned": 0, "events_cancelled": 0,
    "participants_by_basis": {"sign_in_sheet": 1204, "headcount": 548, "estimate": 60},
    "by_department": [{"department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "code": "youth-centre",
        "name_kk": "Қалалық жастар ресурстық орталығы", "events_held": 28, "events_partnered": 0, "participants_total": 1812,
        "events_verified": 20, "participants_verified": 1290, "events_flagged": 3}],
    "by_kind": [{"kind": "round_table", "events_held": 6, "participants_total": 390}],
    "by_audience": [{"audience": "youth", "events_held": 20, "participants_counted": 1100}],
    "by_month": [{"month": "2024-03", "events_held": 4, "participants_total": 256}]}))]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Held events.
    pub events_held: i64,
    /// The sum of the held events' attendance totals (seats filled).
    pub participants_total: i64,
    /// Held events the policy department verified: the figures a commission can rely on.
    pub events_verified: i64,
    /// The verified events' attendance totals.
    pub participants_verified: i64,
    /// Held events carrying a flag (`attendance_above_planned`, `estimate_only`, `no_evidence`,
    /// `logged_late`), verified or not.
    pub events_flagged: i64,
    /// Distinct people among the held events' named attendees (by IIN; each attendee without an
    /// IIN once).
    pub unique_people: i64,
    /// Planned events of the period, beside (never inside) the held figures.
    pub events_planned: i64,
    pub events_cancelled: i64,
    /// `participants_total` by how the numbers were obtained.
    pub participants_by_basis: ByBasis,
    /// A held event counts once, for its lead; partners count it in `events_partnered`.
    pub by_department: Vec<DepartmentRow>,
    pub by_kind: Vec<KindRow>,
    pub by_audience: Vec<AudienceRow>,
    /// By the local month of `starts_at`.
    pub by_month: Vec<MonthRow>,
    /// With `compare`: the same summary of the compared dates, with their own `from` and `to`
    /// (and no `previous` of its own). Absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion, nullable = false)]
    pub previous: Option<Box<Summary>>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct FulfilmentItem {
    pub id: String,
    pub number: String,
    pub title: String,
    pub responsible_department_id: String,
    pub due_date: NaiveDate,
    pub target_events: i32,
    pub target_participants: i32,
    /// Held events linked to the item within the period.
    pub events_held: i64,
    /// Their attendance totals: seats filled, not unique people.
    pub participants_total: i64,
    pub status: ItemStatus,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Default)]
pub struct FulfilmentTotals {
    pub items: i64,
    pub done: i64,
    pub open: i64,
    pub overdue: i64,
}

/// How far a plan's items are fulfilled.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct PlanFulfilment {
    pub plan_id: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<FulfilmentItem>,
    pub totals: FulfilmentTotals,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DepartmentActivity {
    pub department_id: String,
    pub code: String,
    pub name_kk: String,
    pub parent_id: Option<String>,
    /// Its level in the tree: 1 for a root.
    pub level: i32,
    /// The codes from the root down to it, `/`-separated (`region/city/youth-centre`).
    pub path: String,
    /// Held events it led.
    pub events_held: i64,
    pub events_partnered: i64,
    /// Participants of the held events it led.
    pub participants_total: i64,
    /// Distinct people among the named attendees of the held events it led (by IIN; each attendee
    /// without one once) — across its whole subtree when the row rolls one up, never a sum.
    pub unique_people: i64,
    /// Of the held events it led, those the policy department verified.
    pub events_verified: i64,
    /// Their participants.
    pub participants_verified: i64,
    /// Of the held events it led, those carrying a flag.
    pub events_flagged: i64,
    /// Plan items it is responsible for, due within the period.
    pub plan_items_due: i64,
    pub plan_items_done: i64,
    pub plan_items_overdue: i64,
    /// The start of the latest held event it led in the period.
    pub last_held_at: Option<DateTime<Utc>>,
    /// With `compare`: its figures over the compared dates. Absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub previous: Option<ActivityFigures>,
}

/// A department's figures over the compared dates.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ActivityFigures {
    /// Held events it led.
    pub events_held: i64,
    pub events_partnered: i64,
    /// Participants of the held events it led.
    pub participants_total: i64,
}

/// The dates a report is compared with.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct ComparedPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One row per active department, idle ones included: who is not doing the work. With
/// `parent_id`, one row per child of that department, each rolling up its whole subtree (what its
/// departments led, and partnered in without leading).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DepartmentsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The department whose children the rows are; absent when each row is a department alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub parent_id: Option<String>,
    /// With `compare`: the compared dates, whose figures each item carries in its `previous`.
    /// Absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub previous: Option<ComparedPeriod>,
    pub items: Vec<DepartmentActivity>,
}

crate::events::model::wire_enum!(
    /// What a report's period is compared with.
    Compare { PreviousYear = "previous_year", PreviousPeriod = "previous_period" }
);
