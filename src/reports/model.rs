//! Report shapes, exactly as the contract gives them, and their rows for CSV and XLSX.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::export::{Cell, Table};
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
    "unique_people": 0, "events_planned": 0, "events_cancelled": 0,
    "participants_by_basis": {"sign_in_sheet": 1204, "headcount": 548, "estimate": 60},
    "by_department": [{"department_id": "0193a6f2-8c1e-7c3a-9d7e-3b1f2a4c5d6f", "code": "youth-centre",
        "name_kk": "Қалалық жастар ресурстық орталығы", "events_held": 28, "events_partnered": 0, "participants_total": 1812}],
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

fn n(v: i64) -> Cell {
    Cell::Int(v)
}

fn t(v: &str) -> Cell {
    Cell::Text(v.to_string())
}

impl Summary {
    /// The contract's long format: `section,key,events_held,events_partnered,participants_total`.
    /// In the `total` section the keys name the figure; a count of events stands in
    /// `events_held` (`events_planned`, `events_cancelled`) and a count of people in
    /// `participants_total` (`unique_people`).
    pub fn long_table(&self) -> Table {
        let mut rows = vec![
            vec![t("total"), t("held"), n(self.events_held), Cell::Empty, n(self.participants_total)],
            vec![t("total"), t("events_planned"), n(self.events_planned), Cell::Empty, Cell::Empty],
            vec![t("total"), t("events_cancelled"), n(self.events_cancelled), Cell::Empty, Cell::Empty],
            vec![t("total"), t("unique_people"), Cell::Empty, Cell::Empty, n(self.unique_people)],
        ];
        for d in &self.by_department {
            rows.push(vec![
                t("department"),
                t(&d.code),
                n(d.events_held),
                n(d.events_partnered),
                n(d.participants_total),
            ]);
        }
        for k in &self.by_kind {
            rows.push(vec![t("kind"), t(k.kind.as_str()), n(k.events_held), Cell::Empty, n(k.participants_total)]);
        }
        for a in &self.by_audience {
            rows.push(vec![
                t("audience"),
                t(a.audience.as_str()),
                n(a.events_held),
                Cell::Empty,
                n(a.participants_counted),
            ]);
        }
        for m in &self.by_month {
            rows.push(vec![t("month"), t(&m.month), n(m.events_held), Cell::Empty, n(m.participants_total)]);
        }
        let b = &self.participants_by_basis;
        for (key, v) in [("sign_in_sheet", b.sign_in_sheet), ("headcount", b.headcount), ("estimate", b.estimate)] {
            rows.push(vec![t("basis"), t(key), Cell::Empty, Cell::Empty, n(v)]);
        }
        Table::new("summary", &["section", "key", "events_held", "events_partnered", "participants_total"], rows)
    }

    /// A sheet per section.
    pub fn sheets(&self) -> Vec<Table> {
        let b = &self.participants_by_basis;
        vec![
            Table::new(
                "total",
                &["figure", "value"],
                vec![
                    vec![t("from"), t(&self.from.to_string())],
                    vec![t("to"), t(&self.to.to_string())],
                    vec![t("events_held"), n(self.events_held)],
                    vec![t("participants_total"), n(self.participants_total)],
                    vec![t("unique_people"), n(self.unique_people)],
                    vec![t("events_planned"), n(self.events_planned)],
                    vec![t("events_cancelled"), n(self.events_cancelled)],
                ],
            ),
            Table::new(
                "department",
                &["department_id", "code", "name_kk", "events_held", "events_partnered", "participants_total"],
                self.by_department
                    .iter()
                    .map(|d| {
                        vec![
                            t(&d.department_id),
                            t(&d.code),
                            t(&d.name_kk),
                            n(d.events_held),
                            n(d.events_partnered),
                            n(d.participants_total),
                        ]
                    })
                    .collect(),
            ),
            Table::new(
                "kind",
                &["kind", "events_held", "participants_total"],
                self.by_kind
                    .iter()
                    .map(|k| vec![t(k.kind.as_str()), n(k.events_held), n(k.participants_total)])
                    .collect(),
            ),
            Table::new(
                "audience",
                &["audience", "events_held", "participants_counted"],
                self.by_audience
                    .iter()
                    .map(|a| vec![t(a.audience.as_str()), n(a.events_held), n(a.participants_counted)])
                    .collect(),
            ),
            Table::new(
                "month",
                &["month", "events_held", "participants_total"],
                self.by_month.iter().map(|m| vec![t(&m.month), n(m.events_held), n(m.participants_total)]).collect(),
            ),
            Table::new(
                "basis",
                &["basis", "participants_total"],
                vec![
                    vec![t("sign_in_sheet"), n(b.sign_in_sheet)],
                    vec![t("headcount"), n(b.headcount)],
                    vec![t("estimate"), n(b.estimate)],
                ],
            ),
        ]
    }
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

fn status_text(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Done => "done",
        ItemStatus::Open => "open",
        ItemStatus::Overdue => "overdue",
    }
}

impl PlanFulfilment {
    pub fn items_table(&self) -> Table {
        Table::new(
            "items",
            &[
                "id",
                "number",
                "title",
                "responsible_department_id",
                "due_date",
                "target_events",
                "target_participants",
                "events_held",
                "participants_total",
                "status",
            ],
            self.items
                .iter()
                .map(|i| {
                    vec![
                        t(&i.id),
                        t(&i.number),
                        t(&i.title),
                        t(&i.responsible_department_id),
                        t(&i.due_date.to_string()),
                        n(i.target_events as i64),
                        n(i.target_participants as i64),
                        n(i.events_held),
                        n(i.participants_total),
                        t(status_text(i.status)),
                    ]
                })
                .collect(),
        )
    }

    pub fn sheets(&self) -> Vec<Table> {
        let x = &self.totals;
        vec![
            self.items_table(),
            Table::new(
                "totals",
                &["items", "done", "open", "overdue"],
                vec![vec![n(x.items), n(x.done), n(x.open), n(x.overdue)]],
            ),
        ]
    }
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DepartmentActivity {
    pub department_id: String,
    pub code: String,
    pub name_kk: String,
    /// Held events it led.
    pub events_held: i64,
    pub events_partnered: i64,
    /// Participants of the held events it led.
    pub participants_total: i64,
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

/// One row per active department, idle ones included: who is not doing the work.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct DepartmentsReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// With `compare`: the compared dates, whose figures each item carries in its `previous`.
    /// Absent without `compare`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub previous: Option<ComparedPeriod>,
    pub items: Vec<DepartmentActivity>,
}

impl DepartmentsReport {
    pub fn table(&self) -> Table {
        Table::new(
            "departments",
            &[
                "department_id",
                "code",
                "name_kk",
                "events_held",
                "events_partnered",
                "participants_total",
                "plan_items_due",
                "plan_items_done",
                "plan_items_overdue",
                "last_held_at",
            ],
            self.items
                .iter()
                .map(|d| {
                    vec![
                        t(&d.department_id),
                        t(&d.code),
                        t(&d.name_kk),
                        n(d.events_held),
                        n(d.events_partnered),
                        n(d.participants_total),
                        n(d.plan_items_due),
                        n(d.plan_items_done),
                        n(d.plan_items_overdue),
                        d.last_held_at
                            .map(|a| t(&a.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)))
                            .unwrap_or(Cell::Empty),
                    ]
                })
                .collect(),
        )
    }
}
