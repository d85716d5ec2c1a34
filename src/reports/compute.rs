//! Building each report from the store's aggregates.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, Months, NaiveDate};
use chrono_tz::Tz;
use diesel::prelude::*;

pub use super::model::Compare;
use super::model::{
    ActivityFigures, AudienceRow, ByBasis, ComparedPeriod, DepartmentActivity, DepartmentRow, DepartmentsReport,
    FulfilmentItem, FulfilmentTotals, KindRow, MonthRow, PlanFulfilment, Summary,
};
use super::store::{self, Focus, Grouping, Part, Scope};
use super::tables::DepartmentName;
use crate::error::ApiError;
use crate::events::model::{Audience, EventKind};
use crate::plans::model::{ItemStatus, item_status};
use crate::plans::store as plans;
use crate::store::schema::departments as d;
use crate::store::{DbConnection, to_utc};
use crate::time::local_day_start;

/// A report's period: local dates, inclusive, and their UTC bounds.
#[derive(Debug, Clone)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
}

impl Period {
    /// The dates `compare` sets beside this period.
    pub fn compared(&self, compare: Compare) -> Period {
        let (from, to) = match compare {
            // chrono clamps to the month's last day, so 29 February becomes 28 February.
            Compare::PreviousYear => (year_before(self.from), year_before(self.to)),
            Compare::PreviousPeriod => {
                let days = (self.to - self.from).num_days() + 1;
                (self.from - chrono::Duration::days(days), self.from - chrono::Duration::days(1))
            }
        };
        Period { from, to, tz: self.tz }
    }

    pub fn scope(&self, focus: Focus) -> Scope {
        Scope {
            from: local_day_start(self.from, self.tz),
            to: local_day_start(self.to.succ_opt().unwrap_or(self.to), self.tz),
            focus,
        }
    }

    /// The local months the period touches, each with the UTC instant it begins.
    fn months(&self) -> Vec<(String, chrono::NaiveDateTime)> {
        let mut out = Vec::new();
        let mut month = NaiveDate::from_ymd_opt(self.from.year(), self.from.month(), 1).expect("first of a month");
        while month <= self.to {
            out.push((format!("{:04}-{:02}", month.year(), month.month()), local_day_start(month, self.tz)));
            month = month.checked_add_months(chrono::Months::new(1)).expect("a later month");
        }
        out
    }
}

fn year_before(d: NaiveDate) -> NaiveDate {
    d.checked_sub_months(Months::new(12)).unwrap_or(d)
}

/// Every department's code and names, by id.
pub fn department_names(conn: &mut DbConnection) -> QueryResult<HashMap<String, DepartmentName>> {
    let rows: Vec<(String, String, String, String, Option<String>)> =
        d::table.select((d::id, d::code, d::name_kk, d::name_ru, d::name_en)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name_kk, name_ru, name_en)| (id, DepartmentName { code, name_kk, name_ru, name_en }))
        .collect())
}

/// The code and names of the departments `ids`.
fn department_names_of(conn: &mut DbConnection, ids: Vec<&str>) -> QueryResult<HashMap<String, DepartmentName>> {
    let rows: Vec<(String, String, String, String, Option<String>)> =
        d::table.filter(d::id.eq_any(ids)).select((d::id, d::code, d::name_kk, d::name_ru, d::name_en)).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, code, name_kk, name_ru, name_en)| (id, DepartmentName { code, name_kk, name_ru, name_en }))
        .collect())
}

/// The summary of `period`, and with `compare` the same summary of the compared dates in
/// `previous`.
pub fn summary(
    conn: &mut DbConnection,
    period: &Period,
    focus: Focus,
    compare: Option<Compare>,
) -> Result<Summary, ApiError> {
    let mut s = summary_of(conn, period, focus)?;
    if let Some(c) = compare {
        s.previous = Some(Box::new(summary_of(conn, &period.compared(c), focus)?));
    }
    Ok(s)
}

fn summary_of(conn: &mut DbConnection, period: &Period, focus: Focus) -> Result<Summary, ApiError> {
    let scope = period.scope(focus);
    let flagged = store::flagged(conn);
    let months = period.months();
    let mut parts = vec![
        Part::status(&scope, &flagged),
        Part::led(&scope, Grouping::Alone, &flagged),
        Part::partnered(&scope, Grouping::Alone),
        Part::kind(&scope),
        Part::people(&scope, None),
    ];
    parts.extend(Part::audiences(&scope));
    parts.extend(Part::months(&scope, &months));
    // Every section in one statement: one round trip, and one snapshot of the events.
    let mut f = store::figures(conn, parts)?;
    let mut part = |name: &str| f.remove(name).unwrap_or_default();
    let (by_status, led, partnered, kinds, people, named, counted, by_month) = (
        part("status"),
        part("led"),
        part("partnered"),
        part("kind"),
        part("people"),
        part("audience"),
        part("counted"),
        part("month"),
    );
    let mut s = Summary {
        from: period.from,
        to: period.to,
        events_held: 0,
        participants_total: 0,
        events_verified: 0,
        participants_verified: 0,
        events_flagged: 0,
        unique_people: people.get("all").map(|p| p.n).unwrap_or(0),
        events_planned: 0,
        events_cancelled: 0,
        participants_by_basis: ByBasis::default(),
        by_department: Vec::new(),
        by_kind: Vec::new(),
        by_audience: Vec::new(),
        by_month: Vec::new(),
        previous: None,
    };
    for (key, fig) in &by_status {
        let (status, basis) = key.split_once(':').unwrap_or((key.as_str(), ""));
        match status {
            "held" => {
                s.events_held += fig.n;
                s.participants_total += fig.total;
                s.events_verified += fig.checked.verified;
                s.participants_verified += fig.checked.participants;
                s.events_flagged += fig.checked.flagged;
                match basis {
                    "sign_in_sheet" => s.participants_by_basis.sign_in_sheet += fig.total,
                    "estimate" => s.participants_by_basis.estimate += fig.total,
                    _ => s.participants_by_basis.headcount += fig.total,
                }
            }
            "planned" => s.events_planned += fig.n,
            "cancelled" => s.events_cancelled += fig.n,
            _ => {}
        }
    }
    let mut ids: BTreeSet<&String> = led.keys().chain(partnered.keys()).collect();
    if let Some(root) = focus.reach {
        // An event within reach may name a partner outside it: that department is not shown.
        let within: std::collections::HashSet<String> =
            crate::departments::store::subtree_with_depth(conn, &root.to_string())?
                .into_iter()
                .map(|(id, _)| id)
                .collect();
        ids.retain(|id| within.contains(*id));
    }
    let names = department_names_of(conn, ids.iter().map(|id| id.as_str()).collect())?;
    s.by_department = ids
        .into_iter()
        .map(|id| {
            let DepartmentName { code, name_kk, .. } = names.get(id).cloned().unwrap_or_default();
            let l = led.get(id).copied().unwrap_or_default();
            DepartmentRow {
                department_id: id.clone(),
                code,
                name_kk,
                events_held: l.n,
                events_partnered: partnered.get(id).map(|p| p.n).unwrap_or(0),
                participants_total: l.total,
                events_verified: l.checked.verified,
                participants_verified: l.checked.participants,
                events_flagged: l.checked.flagged,
            }
        })
        .collect();
    s.by_department.sort_by(|a, b| a.code.cmp(&b.code));
    s.by_kind = EventKind::ALL
        .iter()
        .map(|k| {
            let f = kinds.get(k.as_str()).copied().unwrap_or_default();
            KindRow { kind: *k, events_held: f.n, participants_total: f.total }
        })
        .collect();
    s.by_audience = Audience::ALL
        .iter()
        .map(|a| AudienceRow {
            audience: *a,
            events_held: named.get(a.as_str()).map(|x| x.n).unwrap_or(0),
            participants_counted: counted.get(a.as_str()).map(|x| x.total).unwrap_or(0),
        })
        .collect();
    s.by_month = months
        .into_iter()
        .map(|(month, _)| {
            let f = by_month.get(&month).copied().unwrap_or_default();
            MonthRow { month, events_held: f.n, participants_total: f.total }
        })
        .collect();
    Ok(s)
}

fn count_status(totals: &mut FulfilmentTotals, status: ItemStatus) {
    totals.items += 1;
    match status {
        ItemStatus::Done => totals.done += 1,
        ItemStatus::Open => totals.open += 1,
        ItemStatus::Overdue => totals.overdue += 1,
    }
}

/// Held events linked to each item of the plan within the period, against its targets. With a
/// department, only the items it is responsible for.
pub fn plan_fulfilment(
    conn: &mut DbConnection,
    plan_id: &str,
    period: &Period,
    department: Option<uuid::Uuid>,
    reach: Option<&str>,
    today: NaiveDate,
) -> Result<PlanFulfilment, ApiError> {
    let scope = period.scope(Focus::default());
    let department = department.map(|d| d.to_string());
    let mut rows = plans::items_of(conn, plan_id, department.as_deref())?;
    if let Some(root) = reach {
        // A plan from above shows the lines of departments within reach.
        let within: std::collections::HashSet<String> =
            crate::departments::store::subtree_with_depth(conn, root)?.into_iter().map(|(id, _)| id).collect();
        rows.retain(|r| within.contains(&r.responsible_department_id));
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let progress = plans::progress(conn, &ids, (scope.from, scope.to))?;
    let mut totals = FulfilmentTotals::default();
    let items = rows
        .into_iter()
        .map(|r| {
            let (held, participants) = progress.get(&r.id).copied().unwrap_or((0, 0));
            let status = item_status(held, participants, r.target_events, r.target_participants, r.due_date, today);
            count_status(&mut totals, status);
            FulfilmentItem {
                id: r.id,
                number: r.number,
                title: r.title,
                responsible_department_id: r.responsible_department_id,
                due_date: r.due_date,
                target_events: r.target_events,
                target_participants: r.target_participants,
                events_held: held,
                participants_total: participants,
                status,
            }
        })
        .collect();
    Ok(PlanFulfilment { plan_id: plan_id.to_string(), from: period.from, to: period.to, items, totals })
}

/// Which rows a departments report has.
#[derive(Debug, Clone, Copy)]
pub struct Rows {
    /// Each child of this department, rolling up its subtree.
    pub parent: Option<uuid::Uuid>,
    /// Each top of the reach (its root, or every root), rolling up its subtree.
    pub tops: bool,
    pub focus: Focus,
}

/// One row per active department, idle ones included (each alone; or with `rows.parent`, each
/// child of it rolling up its subtree); with `compare`, each row's held, partnered and participant
/// figures of the compared dates beside its own.
pub fn departments(
    conn: &mut DbConnection,
    period: &Period,
    rows: Rows,
    compare: Option<Compare>,
    today: NaiveDate,
) -> Result<DepartmentsReport, ApiError> {
    let by = match (rows.parent, rows.tops) {
        (Some(parent), _) => Grouping::ChildrenOf(parent),
        (None, true) => Grouping::Tops(rows.focus.reach),
        (None, false) => Grouping::Alone,
    };
    let counted = Focus { department: None, descendants: true, reach: rows.focus.reach };
    let compared = compare.map(|c| period.compared(c));
    let flagged = store::flagged(conn);
    let scope = period.scope(counted);
    let mut parts = vec![Part::led(&scope, by, &flagged), Part::partnered(&scope, by), Part::people(&scope, Some(by))];
    if let Some(p) = &compared {
        // The compared period's parts, under their own names, in the same statement.
        let before = p.scope(counted);
        for (name, part) in
            [("before_led", Part::led(&before, by, &flagged)), ("before_partnered", Part::partnered(&before, by))]
        {
            parts.push(part.renamed(name));
        }
    }
    let mut f = store::figures(conn, parts)?;
    let mut part = |name: &str| f.remove(name).unwrap_or_default();
    let (led, partnered, people) = (part("led"), part("partnered"), part("people"));
    let before = compared.as_ref().map(|_| (part("before_led"), part("before_partnered")));
    let last = store::last_held(conn, &scope, by)?;
    let row_of = store::rows_of(conn, by)?;
    let due = store::items_due(conn, period.from, period.to)?;
    let due_ids: Vec<String> = due.iter().map(|r| r.id.clone()).collect();
    let progress = plans::progress(conn, &due_ids, (scope.from, scope.to))?;
    let mut items_by_department: HashMap<String, FulfilmentTotals> = HashMap::new();
    for r in due {
        let (held, participants) = progress.get(&r.id).copied().unwrap_or((0, 0));
        let status = item_status(held, participants, r.target_events, r.target_participants, r.due_date, today);
        if let Some(row) = row_of.get(&r.responsible_department_id) {
            count_status(items_by_department.entry(row.clone()).or_default(), status);
        }
    }
    let mut q = d::table
        .filter(d::active.eq(true))
        .select((d::id, d::code, d::name_kk, d::parent_id))
        .order(d::code.asc())
        .into_boxed();
    let subtree = |root: String| {
        use crate::store::schema::department_tree as t;
        t::table.filter(t::ancestor_id.eq(root)).select(t::department_id)
    };
    match (rows.parent, rows.focus.department) {
        (Some(parent), _) => q = q.filter(d::parent_id.eq(parent.to_string())),
        (None, _) if rows.tops => match rows.focus.reach {
            Some(root) => q = q.filter(d::id.eq(root.to_string())),
            None => q = q.filter(d::parent_id.is_null()),
        },
        (None, Some(id)) if !rows.focus.descendants => q = q.filter(d::id.eq(id.to_string())),
        (None, Some(id)) => q = q.filter(d::id.eq_any(subtree(id.to_string()))),
        (None, None) => {}
    }
    if let Some(root) = rows.focus.reach {
        q = q.filter(d::id.eq_any(subtree(root.to_string())));
    }
    let active: Vec<(String, String, String, Option<String>)> = q.load(conn)?;
    let tree = store::tree_paths(conn, active.iter().map(|(id, ..)| id.as_str()).collect())?;
    let items = active
        .into_iter()
        .map(|(id, code, name_kk, parent_id)| {
            let l = led.get(&id).copied().unwrap_or_default();
            let plan = items_by_department.get(&id).cloned().unwrap_or_default();
            let c = l.checked;
            let (level, path) = tree.get(&id).cloned().unwrap_or((1, code.clone()));
            DepartmentActivity {
                events_held: l.n,
                events_partnered: partnered.get(&id).map(|p| p.n).unwrap_or(0),
                participants_total: l.total,
                unique_people: people.get(&id).map(|p| p.n).unwrap_or(0),
                events_verified: c.verified,
                participants_verified: c.participants,
                events_flagged: c.flagged,
                plan_items_due: plan.items,
                plan_items_done: plan.done,
                plan_items_overdue: plan.overdue,
                last_held_at: last.get(&id).copied().map(to_utc),
                previous: before.as_ref().map(|(led, partnered)| {
                    let l = led.get(&id).copied().unwrap_or_default();
                    ActivityFigures {
                        events_held: l.n,
                        events_partnered: partnered.get(&id).map(|p| p.n).unwrap_or(0),
                        participants_total: l.total,
                    }
                }),
                department_id: id,
                code,
                name_kk,
                parent_id,
                level,
                path,
            }
        })
        .collect();
    Ok(DepartmentsReport {
        from: period.from,
        to: period.to,
        parent_id: rows.parent.map(|p| p.to_string()),
        previous: compared.map(|p| ComparedPeriod { from: p.from, to: p.to }),
        items,
    })
}
