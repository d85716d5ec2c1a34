//! The reports as tables for CSV and XLSX. Without a language they say keys, codes and ids, as
//! they always have (machines read them); with one, its words, departments by name and code. With
//! a comparison, each figure is paired with the compared period's figure of the same row.

use std::collections::HashMap;

use chrono::{Months, NaiveDate};

use super::export::{Cell, Table};
use super::model::{Compare, DepartmentsReport, PlanFulfilment, Summary};
use super::words::{self, Lang};
use crate::plans::model::ItemStatus;

/// A department's code and names, for files that name departments to people.
#[derive(Debug, Clone, Default)]
pub struct DepartmentName {
    pub code: String,
    pub name_kk: String,
    pub name_ru: String,
    pub name_en: Option<String>,
}

impl DepartmentName {
    /// Its name in `lang`. Departments carry Kazakh and Russian names, and may carry an English
    /// one; without it English takes the Russian.
    pub fn name(&self, lang: Lang) -> &str {
        match lang {
            Lang::Kk => &self.name_kk,
            Lang::En => self.name_en.as_deref().unwrap_or(&self.name_ru),
            Lang::Ru => &self.name_ru,
        }
    }
}

/// How a table names things: keys, codes and ids for machines (`lang` none), or words and
/// department names in a language.
pub struct Wording<'a> {
    pub lang: Option<Lang>,
    pub names: &'a HashMap<String, DepartmentName>,
}

impl Wording<'_> {
    fn word(&self, group: &str, key: &'static str) -> Cell {
        Cell::Text(words::say(self.lang, group, key).to_string())
    }

    /// The columns naming a department: id, code and Kazakh name for machines; name and code for
    /// people (an id means nothing to them).
    fn department_header(&self) -> &'static [&'static str] {
        match self.lang {
            None => &["department_id", "code", "name_kk"],
            Some(_) => &["department", "code"],
        }
    }

    fn department_cells(&self, id: &str, code: &str, name_kk: &str) -> Vec<Cell> {
        match self.lang {
            None => vec![t(id), t(code), t(name_kk)],
            Some(l) => vec![t(self.names.get(id).map(|d| d.name(l)).unwrap_or(name_kk)), t(code)],
        }
    }

    /// A compared month's key cell, for the row it gets when no month of the period pairs with it:
    /// distinct from every month of the period, which may be the same calendar month.
    fn compared_month(&self, month: &str) -> Cell {
        match self.lang {
            None => t(&format!("{month}_previous")),
            Some(l) => t(&format!("{month} ({})", words::word(l, "compare", "previous").unwrap_or("previous"))),
        }
    }

    /// One cell naming a department: its code for machines, `name (code)` for people.
    fn department_label(&self, id: &str, code: &str) -> Cell {
        match (self.lang, self.names.get(id)) {
            (Some(l), Some(d)) => t(&format!("{} ({code})", d.name(l))),
            _ => t(code),
        }
    }
}

fn n(v: i64) -> Cell {
    Cell::Int(v)
}

fn t(v: &str) -> Cell {
    Cell::Text(v.to_string())
}

/// A row before it is paired with the compared period's: the key it pairs by, its key cells and
/// its figures.
#[derive(Debug, Clone)]
struct Line {
    join: String,
    keys: Vec<Cell>,
    figures: Vec<Cell>,
    /// Whether a period without this row counts 0 for it (a department, a kind) rather than
    /// nothing at all (a month outside it).
    zero_when_absent: bool,
}

/// The figures a row has in a period that lacks it.
fn absent(figures: &[Cell], zero: bool) -> Vec<Cell> {
    figures.iter().map(|c| if zero && matches!(c, Cell::Int(_)) { Cell::Int(0) } else { Cell::Empty }).collect()
}

/// Each row of a section with the compared period's figures of the same key; the compared
/// period's rows that have no partner follow, with this period's figures as absent.
fn paired(now: Vec<Line>, before: Option<Vec<Line>>) -> Vec<(Line, Option<Vec<Cell>>)> {
    let Some(mut before) = before else { return now.into_iter().map(|l| (l, None)).collect() };
    let mut out = Vec::with_capacity(now.len());
    for line in now {
        let previous = match before.iter().position(|b| b.join == line.join) {
            Some(i) => before.remove(i).figures,
            None => absent(&line.figures, line.zero_when_absent),
        };
        out.push((line, Some(previous)));
    }
    for b in before {
        let figures = absent(&b.figures, b.zero_when_absent);
        out.push((Line { figures, ..b.clone() }, Some(b.figures)));
    }
    out
}

/// A table from paired lines: key cells, figures, then (with a comparison) the compared figures.
fn table(name: &'static str, header: Vec<&'static str>, lines: Vec<(Line, Option<Vec<Cell>>)>) -> Table {
    let compared = lines.first().and_then(|(l, p)| p.as_ref().map(|_| (l.keys.len()..header.len()).collect()));
    let rows = lines
        .into_iter()
        .map(|(l, previous)| l.keys.into_iter().chain(l.figures).chain(previous.unwrap_or_default()).collect())
        .collect();
    Table { name, header, rows, compared: compared.unwrap_or_default(), later: 0 }
}

/// One section of the summary: its sheet's columns, and where its figures stand in the long
/// table's three (`events_held`, `events_partnered`, `participants_total`).
struct Section {
    name: &'static str,
    keys: Vec<&'static str>,
    figures: Vec<&'static str>,
    long: [Option<usize>; 3],
    /// Each line with the one cell that keys it in the long table.
    lines: Vec<(Line, Cell)>,
}

fn month_label(month: &str, later: u32) -> String {
    NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.checked_add_months(Months::new(later)))
        .map(|d| d.format("%Y-%m").to_string())
        .unwrap_or_else(|| month.to_string())
}

/// The summary's sections after `total`. `compared` marks the compared period's summary, and
/// `compare` says how its months pair with the period's: with `previous_year` each with the month
/// a year after it (March with the March before); with `previous_period` by position, the n-th
/// month of the period with the n-th compared one, as the console shows them. A compared month
/// without a partner keeps a row of its own, keyed apart from the period's months.
fn sections(s: &Summary, w: &Wording, compare: Option<Compare>, compared: bool) -> Vec<Section> {
    let line = |join: String, keys: Vec<Cell>, figures: Vec<Cell>, zero_when_absent| Line {
        join,
        keys,
        figures,
        zero_when_absent,
    };
    let department = Section {
        name: "department",
        keys: w.department_header().to_vec(),
        figures: vec!["events_held", "events_partnered", "participants_total"],
        long: [Some(0), Some(1), Some(2)],
        lines: s
            .by_department
            .iter()
            .map(|d| {
                let figures = vec![n(d.events_held), n(d.events_partnered), n(d.participants_total)];
                let keys = w.department_cells(&d.department_id, &d.code, &d.name_kk);
                (
                    line(format!("department:{}", d.department_id), keys, figures, true),
                    w.department_label(&d.department_id, &d.code),
                )
            })
            .collect(),
    };
    let kind = enum_section(
        "kind",
        "participants_total",
        s.by_kind.iter().map(|k| (k.kind.as_str(), k.events_held, k.participants_total)),
        w,
    );
    let audience = enum_section(
        "audience",
        "participants_counted",
        s.by_audience.iter().map(|a| (a.audience.as_str(), a.events_held, a.participants_counted)),
        w,
    );
    let month = Section {
        name: "month",
        keys: vec!["month"],
        figures: vec!["events_held", "participants_total"],
        long: [Some(0), None, Some(1)],
        lines: s
            .by_month
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let join = match compare {
                    Some(Compare::PreviousYear) if compared => month_label(&m.month, 12),
                    Some(Compare::PreviousYear) => m.month.clone(),
                    _ => format!("#{i}"),
                };
                let key = if compared { w.compared_month(&m.month) } else { t(&m.month) };
                let figures = vec![n(m.events_held), n(m.participants_total)];
                (line(format!("month:{join}"), vec![key.clone()], figures, false), key)
            })
            .collect(),
    };
    let b = &s.participants_by_basis;
    let basis = Section {
        name: "basis",
        keys: vec!["basis"],
        figures: vec!["participants_total"],
        long: [None, None, Some(0)],
        lines: [("sign_in_sheet", b.sign_in_sheet), ("headcount", b.headcount), ("estimate", b.estimate)]
            .into_iter()
            .map(|(key, v)| {
                let k = w.word("basis", key);
                (line(format!("basis:{key}"), vec![k.clone()], vec![n(v)], true), k)
            })
            .collect(),
    };
    let checked = |name: &'static str,
                   figures: Vec<&'static str>,
                   long,
                   values: &dyn Fn(&super::model::DepartmentRow) -> Vec<Cell>| Section {
        name,
        keys: w.department_header().to_vec(),
        figures,
        long,
        lines: s
            .by_department
            .iter()
            .map(|d| {
                let keys = w.department_cells(&d.department_id, &d.code, &d.name_kk);
                (
                    line(format!("{name}:{}", d.department_id), keys, values(d), true),
                    w.department_label(&d.department_id, &d.code),
                )
            })
            .collect(),
    };
    // What was checked, by lead department: the verified events and their participants, and the
    // flagged events.
    let verified =
        checked("verified", vec!["events_verified", "participants_verified"], [Some(0), None, Some(1)], &|d| {
            vec![n(d.events_verified), n(d.participants_verified)]
        });
    let flagged = checked("flagged", vec!["events_flagged"], [Some(0), None, None], &|d| vec![n(d.events_flagged)]);
    vec![department, kind, audience, month, basis, verified, flagged]
}

/// A section keyed by an enum's values (`kind`, `audience`), each with its held events and a count
/// of people.
fn enum_section(
    group: &'static str,
    people: &'static str,
    rows: impl Iterator<Item = (&'static str, i64, i64)>,
    w: &Wording,
) -> Section {
    Section {
        name: group,
        keys: vec![group],
        figures: vec!["events_held", people],
        long: [Some(0), None, Some(1)],
        lines: rows
            .map(|(value, held, counted)| {
                let key = w.word(group, value);
                let line = Line {
                    join: format!("{group}:{value}"),
                    keys: vec![key.clone()],
                    figures: vec![n(held), n(counted)],
                    zero_when_absent: true,
                };
                (line, key)
            })
            .collect(),
    }
}

/// The `total` section of the long table: the key names the figure; a count of events stands in
/// `events_held` (`events_planned`, `events_cancelled`) and a count of people in
/// `participants_total` (`unique_people`).
fn total_long(s: &Summary, w: &Wording) -> Vec<Line> {
    [
        ("held", [n(s.events_held), Cell::Empty, n(s.participants_total)]),
        ("events_planned", [n(s.events_planned), Cell::Empty, Cell::Empty]),
        ("events_cancelled", [n(s.events_cancelled), Cell::Empty, Cell::Empty]),
        ("unique_people", [Cell::Empty, Cell::Empty, n(s.unique_people)]),
        ("events_verified", [n(s.events_verified), Cell::Empty, n(s.participants_verified)]),
        ("events_flagged", [n(s.events_flagged), Cell::Empty, Cell::Empty]),
    ]
    .into_iter()
    .map(|(key, figures)| Line {
        join: key.to_string(),
        keys: vec![w.word("section", "total"), w.word("figure", key)],
        figures: figures.to_vec(),
        zero_when_absent: true,
    })
    .collect()
}

fn total_sheet(s: &Summary, w: &Wording) -> Vec<Line> {
    [
        ("from", Cell::Date(s.from)),
        ("to", Cell::Date(s.to)),
        ("events_held", n(s.events_held)),
        ("participants_total", n(s.participants_total)),
        ("unique_people", n(s.unique_people)),
        ("events_planned", n(s.events_planned)),
        ("events_cancelled", n(s.events_cancelled)),
        ("events_verified", n(s.events_verified)),
        ("participants_verified", n(s.participants_verified)),
        ("events_flagged", n(s.events_flagged)),
    ]
    .into_iter()
    .map(|(key, value)| Line {
        join: key.to_string(),
        keys: vec![w.word("figure", key)],
        figures: vec![value],
        zero_when_absent: true,
    })
    .collect()
}

impl Summary {
    /// Each section after `total`, beside the same section of the compared summary.
    fn section_pairs(&self, w: &Wording, compare: Option<Compare>) -> Vec<(Section, Option<Section>)> {
        let mut before = self.previous.as_deref().map(|p| sections(p, w, compare, true).into_iter());
        sections(self, w, compare, false).into_iter().map(|s| (s, before.as_mut().and_then(Iterator::next))).collect()
    }

    /// The contract's long format: `section,key,events_held,events_partnered,participants_total`,
    /// then with a comparison the same three over the compared dates. Each section is paired on
    /// its own, so a compared row without a partner stays in its section.
    pub fn long_table(&self, w: &Wording, compare: Option<Compare>) -> Table {
        let long = |section: Section| -> Vec<Line> {
            let name = section.name;
            let at = section.long;
            let row = |(line, key): (Line, Cell)| {
                let figures = at.map(|i| i.map(|i| line.figures[i].clone()).unwrap_or(Cell::Empty)).to_vec();
                Line { keys: vec![w.word("section", name), key], figures, ..line }
            };
            section.lines.into_iter().map(row).collect()
        };
        let mut lines = paired(total_long(self, w), self.previous.as_deref().map(|p| total_long(p, w)));
        for (now, before) in self.section_pairs(w, compare) {
            lines.extend(paired(long(now), before.map(long)));
        }
        table("summary", vec!["section", "key", "events_held", "events_partnered", "participants_total"], lines)
    }

    /// A sheet per section, each figure beside its compared one.
    pub fn sheets(&self, w: &Wording, compare: Option<Compare>) -> Vec<Table> {
        let before = self.previous.as_deref();
        let mut out = vec![table(
            "total",
            vec!["figure", "value"],
            paired(total_sheet(self, w), before.map(|p| total_sheet(p, w))),
        )];
        let lines = |s: Section| s.lines.into_iter().map(|(l, _)| l).collect::<Vec<Line>>();
        for (section, before) in self.section_pairs(w, compare) {
            let header = section.keys.iter().chain(&section.figures).copied().collect();
            let name = section.name;
            out.push(table(name, header, paired(lines(section), before.map(lines))));
        }
        out
    }
}

fn status_text(s: ItemStatus) -> &'static str {
    match s {
        ItemStatus::Done => "done",
        ItemStatus::Open => "open",
        ItemStatus::Overdue => "overdue",
    }
}

impl PlanFulfilment {
    pub fn items_table(&self, w: &Wording) -> Table {
        // Machines get the item's and the department's ids; people the department's name.
        let department = w.lang.is_some();
        let head: &[&'static str] = if department {
            &["number", "title", "responsible_department"]
        } else {
            &["id", "number", "title", "responsible_department_id"]
        };
        let tail = ["due_date", "target_events", "target_participants", "events_held", "participants_total", "status"];
        let header: Vec<&'static str> = head.iter().copied().chain(tail).collect();
        let rows = self
            .items
            .iter()
            .map(|i| {
                let mut row = Vec::with_capacity(header.len());
                if department {
                    let code = w.names.get(&i.responsible_department_id).map(|d| d.code.as_str()).unwrap_or_default();
                    row.extend([t(&i.number), t(&i.title), w.department_label(&i.responsible_department_id, code)]);
                } else {
                    row.extend([t(&i.id), t(&i.number), t(&i.title), t(&i.responsible_department_id)]);
                }
                row.extend([
                    Cell::Date(i.due_date),
                    n(i.target_events as i64),
                    n(i.target_participants as i64),
                    n(i.events_held),
                    n(i.participants_total),
                    w.word("item_status", status_text(i.status)),
                ]);
                row
            })
            .collect();
        Table::new("items", &header, rows)
    }

    pub fn sheets(&self, w: &Wording) -> Vec<Table> {
        let x = &self.totals;
        vec![
            self.items_table(w),
            Table::new(
                "totals",
                &["items", "done", "open", "overdue"],
                vec![vec![n(x.items), n(x.done), n(x.open), n(x.overdue)]],
            ),
        ]
    }
}

impl DepartmentsReport {
    /// A row per department, with where it sits in the tree (`level`, `path` of codes from the
    /// root); with a comparison, its held, partnered and participant figures over the compared
    /// dates.
    pub fn table(&self, w: &Wording) -> Table {
        let keys = w.department_header();
        let header: Vec<&'static str> = keys
            .iter()
            .copied()
            .chain([
                "events_held",
                "events_partnered",
                "participants_total",
                "plan_items_due",
                "plan_items_done",
                "plan_items_overdue",
                "last_held_at",
                // Added later: after the columns machines already read, and (in CSV) after the
                // compared ones too.
                "events_verified",
                "participants_verified",
                "events_flagged",
                "unique_people",
                "level",
                "path",
            ])
            .collect();
        let rows = self
            .items
            .iter()
            .map(|d| {
                let mut row = w.department_cells(&d.department_id, &d.code, &d.name_kk);
                row.extend([
                    n(d.events_held),
                    n(d.events_partnered),
                    n(d.participants_total),
                    n(d.plan_items_due),
                    n(d.plan_items_done),
                    n(d.plan_items_overdue),
                    d.last_held_at.map(Cell::Instant).unwrap_or(Cell::Empty),
                    n(d.events_verified),
                    n(d.participants_verified),
                    n(d.events_flagged),
                    n(d.unique_people),
                    n(d.level as i64),
                    t(&d.path),
                ]);
                if let Some(p) = &d.previous {
                    row.extend([n(p.events_held), n(p.events_partnered), n(p.participants_total)]);
                }
                row
            })
            .collect();
        let compared = if self.previous.is_some() { (keys.len()..keys.len() + 3).collect() } else { Vec::new() };
        Table { name: "departments", header, rows, compared, later: 6 }
    }
}
