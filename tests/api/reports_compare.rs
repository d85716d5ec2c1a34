//! Comparison: `compare=previous_year|previous_period` on `summary` and `departments`, checked
//! against an independent recount of the events the test created — its own local dates from the
//! tz database, its own sums — for the period and for the compared dates, including the 29
//! February boundary and Almaty's move from UTC+6 to UTC+5 on 1 March 2024.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Months, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::events::{World, create, event, world};
use crate::helpers::TestApp;
use crate::reports::iin;

#[derive(Clone, Copy, PartialEq)]
enum Lead {
    Youth,
    Policy,
}

/// One event as the test creates it, and all the recount needs to know about it.
struct Spec {
    starts_at: &'static str,
    status: &'static str,
    lead: Lead,
    partner: bool,
    kind: &'static str,
    basis: &'static str,
    total: i64,
    audiences: &'static [&'static str],
    breakdown: &'static [(&'static str, i64)],
    /// Serials of the named attendees' IINs (see `iin`); `None` for one without an IIN.
    attendees: &'static [Option<u32>],
    deleted: bool,
    /// With a piece of evidence (a link).
    evidence: bool,
    /// Verified by the admin (whose department takes part in no event).
    verified: bool,
    /// Logged 40 days after it started, not the next day.
    late: bool,
}

const fn held(starts_at: &'static str, lead: Lead, kind: &'static str, basis: &'static str, total: i64) -> Spec {
    Spec {
        starts_at,
        status: "held",
        lead,
        partner: false,
        kind,
        basis,
        total,
        audiences: &["youth"],
        breakdown: &[],
        attendees: &[],
        deleted: false,
        evidence: false,
        verified: false,
        late: false,
    }
}

/// Events over 2023 and 2024 whose local dates sit on the boundaries the comparison crosses.
fn specs() -> Vec<Spec> {
    use Lead::*;
    vec![
        // 2023: last year's dates.
        held("2023-01-10T10:00:00+06:00", Youth, "lecture", "sign_in_sheet", 40),
        Spec {
            partner: true,
            audiences: &["youth", "students"],
            breakdown: &[("youth", 20), ("students", 10)],
            attendees: &[Some(1), Some(2), None],
            evidence: true,
            verified: true,
            ..held("2023-02-15T10:00:00+06:00", Youth, "seminar", "sign_in_sheet", 35)
        },
        // 28 February 2023, late evening: the last day a 29 February 2024 maps to.
        Spec {
            audiences: &["civil_servants"],
            breakdown: &[("civil_servants", 12)],
            ..held("2023-02-28T23:30:00+06:00", Policy, "round_table", "headcount", 12)
        },
        // 2023-02-28T18:30Z is 1 March 2023 in Almaty (UTC+6 then): outside a February.
        held("2023-02-28T18:30:00Z", Youth, "campaign", "estimate", 200),
        Spec { status: "planned", ..held("2023-02-20T10:00:00+06:00", Youth, "lecture", "headcount", 0) },
        Spec { status: "cancelled", ..held("2023-01-20T10:00:00+06:00", Policy, "lecture", "headcount", 0) },
        Spec { deleted: true, ..held("2023-02-01T10:00:00+06:00", Youth, "lecture", "headcount", 90) },
        // The 91 days before 2024-01-01..2024-03-31 (previous_period): 2 October to 31 December 2023,
        // an event on each end and one the day before.
        held("2023-10-01T23:30:00+06:00", Policy, "lecture", "headcount", 21),
        Spec {
            partner: true,
            evidence: true,
            ..held("2023-10-02T09:00:00+06:00", Youth, "seminar", "sign_in_sheet", 33)
        },
        Spec { partner: true, ..held("2023-12-31T23:00:00+06:00", Policy, "round_table", "headcount", 16) },
        // 2024.
        Spec {
            partner: true,
            attendees: &[Some(1), Some(3)],
            evidence: true,
            verified: true,
            ..held("2024-01-30T10:00:00+06:00", Youth, "lecture", "sign_in_sheet", 25)
        },
        Spec {
            evidence: true,
            verified: true,
            ..held("2024-02-10T10:00:00+06:00", Policy, "training", "headcount", 18)
        },
        // 29 February 2024: in a leap February, compared with 28 February 2023.
        Spec {
            audiences: &["youth", "schoolchildren"],
            breakdown: &[("schoolchildren", 9)],
            attendees: &[Some(2), None],
            evidence: true,
            ..held("2024-02-29T16:00:00+06:00", Youth, "contest", "sign_in_sheet", 30)
        },
        // Almaty's clocks went back from UTC+6 to UTC+5 at 2024-02-29T18:00Z: 18:30Z is still 29
        // February (23:30), 19:30Z is 1 March (00:30).
        held("2024-02-29T18:30:00Z", Policy, "meeting", "headcount", 14),
        Spec { partner: true, ..held("2024-02-29T19:30:00Z", Policy, "lecture", "estimate", 11) },
        // Verified, with evidence, but logged late: counted verified and flagged.
        Spec {
            partner: true,
            evidence: true,
            verified: true,
            late: true,
            ..held("2024-03-15T10:00:00+05:00", Youth, "round_table", "sign_in_sheet", 60)
        },
        Spec { status: "planned", ..held("2024-03-20T10:00:00+05:00", Policy, "lecture", "headcount", 0) },
        // 31 March 2024, 20:30Z: 1 April in Almaty.
        held("2024-03-31T20:30:00Z", Youth, "lecture", "headcount", 7),
    ]
}

async fn load(app: &TestApp, w: &World) {
    for spec in specs() {
        let (token, partner) = match spec.lead {
            Lead::Youth => (&w.youth_organiser, &w.policy),
            Lead::Policy => (&w.policy_organiser, &w.youth),
        };
        let start = DateTime::parse_from_rfc3339(spec.starts_at).unwrap();
        let mut body = json!({"kind": spec.kind, "starts_at": spec.starts_at,
            "ends_at": (start + chrono::Duration::hours(2)).to_rfc3339(), "audiences": spec.audiences,
            "partner_department_ids": if spec.partner { json!([partner]) } else { json!([]) }});
        match spec.status {
            "held" => {
                let breakdown: Vec<Value> =
                    spec.breakdown.iter().map(|(a, n)| json!({"audience": a, "count": n})).collect();
                body["attendance"] = json!({"total": spec.total, "basis": spec.basis, "breakdown": breakdown});
            }
            other => body["status"] = json!(other),
        }
        let e = create(app, token, &event(body)).await;
        let id = e["id"].as_str().unwrap();
        if !spec.attendees.is_empty() {
            let people: Vec<Value> = spec
                .attendees
                .iter()
                .enumerate()
                .map(|(i, serial)| match serial {
                    Some(s) => json!({"full_name": format!("Қатысушы {s}"), "iin": iin(*s)}),
                    None => json!({"full_name": format!("Аты жоқ {i}")}),
                })
                .collect();
            app.post(&format!("/api/v1/events/{id}/attendees"), token, &json!({"attendees": people})).await.expect(201);
        }
        // Logged the day after it started, or 40 days after; with evidence; verified.
        let logged = start.with_timezone(&chrono::Utc) + chrono::Duration::days(if spec.late { 40 } else { 1 });
        let sql = format!("UPDATE events SET created_at = '{}' WHERE id = '{id}'", logged.format("%Y-%m-%d %H:%M:%S"));
        diesel::connection::SimpleConnection::batch_execute(&mut app.store.connect(), &sql).unwrap();
        if spec.evidence {
            let link = json!({"kind": "press", "url": format!("https://akimat.example.kz/news/{id}")});
            app.post(&format!("/api/v1/events/{id}/evidence"), token, &link).await.expect(201);
        }
        if spec.verified {
            let now = app.get(&format!("/api/v1/events/{id}"), &w.admin).await.expect(200).json();
            app.send(
                app.request(Method::PUT, &format!("/api/v1/events/{id}/verification"), Some(&w.admin))
                    .header("if-match", format!("\"{}\"", now["version"]))
                    .json(&json!({"status": "verified"})),
            )
            .await
            .expect(200);
        }
        if spec.deleted {
            app.send(
                app.request(Method::DELETE, &format!("/api/v1/events/{id}"), Some(token)).header("if-match", "\"1\""),
            )
            .await
            .expect(204);
        }
    }
}

fn local_date(starts_at: &str) -> NaiveDate {
    DateTime::parse_from_rfc3339(starts_at).unwrap().with_timezone(&chrono_tz::Asia::Almaty).date_naive()
}

/// The summary's figures recounted from the specs: `department` is `None` for every department,
/// or `Some(lead)` for the events that one leads or partners in.
fn recount(w: &World, from: NaiveDate, to: NaiveDate, department: Option<Lead>) -> Value {
    let id = |lead: Lead| match lead {
        Lead::Youth => w.youth.clone(),
        Lead::Policy => w.policy.clone(),
    };
    let other = |lead: Lead| if lead == Lead::Youth { Lead::Policy } else { Lead::Youth };
    let all = specs();
    let chosen: Vec<&Spec> = all
        .iter()
        .filter(|s| !s.deleted)
        .filter(|s| (from..=to).contains(&local_date(s.starts_at)))
        .filter(|s| department.is_none_or(|d| s.lead == d || (s.partner && other(s.lead) == d)))
        .collect();
    let held: Vec<&&Spec> = chosen.iter().filter(|s| s.status == "held").collect();
    let mut basis = BTreeMap::from([("sign_in_sheet", 0), ("headcount", 0), ("estimate", 0)]);
    // Held, partnered, participants; verified, their participants, flagged.
    let mut departments: BTreeMap<String, [i64; 6]> = BTreeMap::new();
    let mut checked = [0i64; 3];
    let mut kinds: BTreeMap<&str, [i64; 2]> = BTreeMap::new();
    let mut audiences: BTreeMap<&str, [i64; 2]> = BTreeMap::new();
    let mut months: BTreeMap<String, [i64; 2]> = BTreeMap::new();
    let mut month = from.with_day(1).unwrap();
    while month <= to {
        months.insert(format!("{:04}-{:02}", month.year(), month.month()), [0, 0]);
        month = month + Months::new(1);
    }
    let mut people = BTreeSet::new();
    let mut nameless = 0;
    for s in &held {
        *basis.get_mut(s.basis).unwrap() += s.total;
        let led = departments.entry(id(s.lead)).or_default();
        led[0] += 1;
        led[2] += s.total;
        // The flags, from the spec: planned 60 (the test event's), so over 120 is above plan.
        let flagged = s.total > 2 * 60 || s.basis == "estimate" || !s.evidence || s.late;
        let verified = [i64::from(s.verified), if s.verified { s.total } else { 0 }, i64::from(flagged)];
        for (i, v) in verified.into_iter().enumerate() {
            led[3 + i] += v;
            checked[i] += v;
        }
        if s.partner {
            departments.entry(id(other(s.lead))).or_default()[1] += 1;
        }
        let k = kinds.entry(s.kind).or_default();
        k[0] += 1;
        k[1] += s.total;
        for a in s.audiences {
            audiences.entry(a).or_default()[0] += 1;
        }
        for (a, n) in s.breakdown {
            audiences.entry(a).or_default()[1] += n;
        }
        let d = local_date(s.starts_at);
        let m = months.get_mut(&format!("{:04}-{:02}", d.year(), d.month())).unwrap();
        m[0] += 1;
        m[1] += s.total;
        for a in s.attendees {
            match a {
                Some(serial) => {
                    people.insert(*serial);
                }
                None => nameless += 1,
            }
        }
    }
    json!({
        "from": from.to_string(), "to": to.to_string(),
        "events_held": held.len(), "participants_total": held.iter().map(|s| s.total).sum::<i64>(),
        "events_verified": checked[0], "participants_verified": checked[1], "events_flagged": checked[2],
        "unique_people": people.len() + nameless,
        "events_planned": chosen.iter().filter(|s| s.status == "planned").count(),
        "events_cancelled": chosen.iter().filter(|s| s.status == "cancelled").count(),
        "participants_by_basis": basis,
        "by_department": departments,
        "by_kind": kinds,
        "by_audience": audiences,
        "by_month": months.into_iter().map(|(m, [n, p])| json!({"month": m, "events_held": n, "participants_total": p})).collect::<Vec<_>>(),
    })
}

/// A figure list keyed as the recount keys it, entries that are all zero left out on both sides.
fn keyed(rows: &Value, key: &str, figures: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    for r in rows.as_array().unwrap() {
        let values: Vec<i64> = figures.iter().map(|f| r[*f].as_i64().unwrap()).collect();
        if values.iter().any(|v| *v != 0) {
            out.insert(r[key].as_str().unwrap().to_string(), json!(values));
        }
    }
    Value::Object(out)
}

fn nonzero(map: &Value) -> Value {
    let out: serde_json::Map<String, Value> = map
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| v.as_array().unwrap().iter().any(|x| x.as_i64() != Some(0)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Value::Object(out)
}

/// The server's summary in the recount's shape.
fn shaped(s: &Value) -> Value {
    let mut out = s.clone();
    let o = out.as_object_mut().unwrap();
    o.remove("previous");
    o.insert(
        "by_department".into(),
        keyed(
            &s["by_department"],
            "department_id",
            &[
                "events_held",
                "events_partnered",
                "participants_total",
                "events_verified",
                "participants_verified",
                "events_flagged",
            ],
        ),
    );
    o.insert("by_kind".into(), keyed(&s["by_kind"], "kind", &["events_held", "participants_total"]));
    o.insert("by_audience".into(), keyed(&s["by_audience"], "audience", &["events_held", "participants_counted"]));
    out
}

fn expected(w: &World, from: NaiveDate, to: NaiveDate, department: Option<Lead>) -> Value {
    let mut r = recount(w, from, to, department);
    for key in ["by_department", "by_kind", "by_audience"] {
        r[key] = nonzero(&r[key]);
    }
    r
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn the_compared_period_equals_an_independent_recount(app: TestApp) {
    let w = world(&app).await;
    load(&app, &w).await;
    // (from, to, compare, the compared dates)
    let cases = [
        ("2024-01-01", "2024-02-29", "previous_year", "2023-01-01", "2023-02-28"),
        ("2024-02-29", "2024-02-29", "previous_year", "2023-02-28", "2023-02-28"),
        ("2024-03-01", "2024-03-31", "previous_year", "2023-03-01", "2023-03-31"),
        ("2024-03-01", "2024-03-31", "previous_period", "2024-01-30", "2024-02-29"),
        ("2024-02-29", "2024-04-30", "previous_period", "2023-12-29", "2024-02-28"),
        ("2024-01-01", "2024-12-31", "previous_year", "2023-01-01", "2023-12-31"),
    ];
    for (from, to, compare, prev_from, prev_to) in cases {
        for (department, filter) in
            [(None, String::new()), (Some(Lead::Policy), format!("&department_id={}", w.policy))]
        {
            let url = format!("/api/v1/reports/summary?from={from}&to={to}&compare={compare}{filter}");
            let s = app.get(&url, &w.admin).await.expect(200).json();
            let label = &url;
            assert_eq!(shaped(&s), expected(&w, day(from), day(to), department), "the period of {label}");
            let previous = &s["previous"];
            assert_eq!(
                (previous["from"].as_str(), previous["to"].as_str()),
                (Some(prev_from), Some(prev_to)),
                "{label}"
            );
            assert!(previous.get("previous").is_none(), "the compared summary has no comparison of its own");
            assert_eq!(
                shaped(previous),
                expected(&w, day(prev_from), day(prev_to), department),
                "the compared dates of {label}"
            );
        }
    }
    // The recount is not vacuous: last year's February holds events on both of its boundaries.
    let feb = expected(&w, day("2023-02-28"), day("2023-02-28"), None);
    assert_eq!((feb["events_held"].as_i64(), feb["participants_total"].as_i64()), (Some(1), Some(12)));
    let march = expected(&w, day("2023-03-01"), day("2023-03-01"), None);
    assert_eq!(march["participants_total"], 200, "18:30Z on 28 February 2023 is 1 March in Almaty");
    // Nor are the checked figures: some verified, some not, some flagged, some not.
    let year = expected(&w, day("2024-01-01"), day("2024-12-31"), None);
    let checked = [&year["events_verified"], &year["participants_verified"], &year["events_flagged"]];
    assert_eq!(checked.map(|v| v.as_i64().unwrap()), [3, 103, 4], "{year}");
}
both_stores!(the_compared_period_equals_an_independent_recount);

async fn the_departments_view_compares_each_department(app: TestApp) {
    let w = world(&app).await;
    load(&app, &w).await;
    let legal = app.create_department(&w.admin, "legal-support").await["id"].as_str().unwrap().to_string();
    for (compare, prev_from, prev_to) in
        [("previous_year", "2023-01-01", "2023-03-31"), ("previous_period", "2023-10-02", "2023-12-31")]
    {
        let url = format!("/api/v1/reports/departments?from=2024-01-01&to=2024-03-31&compare={compare}");
        let r = app.get(&url, &w.admin).await.expect(200).json();
        assert_eq!(r["previous"], json!({"from": prev_from, "to": prev_to}), "{url}");
        let recount = recount(&w, day(prev_from), day(prev_to), None);
        let now = recount_now(&w);
        for item in r["items"].as_array().unwrap() {
            let id = item["department_id"].as_str().unwrap();
            let figures = |v: &Value| {
                vec![v["events_held"].as_i64(), v["events_partnered"].as_i64(), v["participants_total"].as_i64()]
            };
            let want = |recounted: &Value| {
                recounted["by_department"]
                    .get(id)
                    .map(|f| f.as_array().unwrap().iter().take(3).map(Value::as_i64).collect())
                    .unwrap_or(vec![Some(0); 3])
            };
            assert_eq!(figures(&item["previous"]), want(&recount), "{url}: {} over the compared dates", item["code"]);
            assert_eq!(figures(item), want(&now), "{url}: {} over the period", item["code"]);
        }
        let idle = r["items"].as_array().unwrap().iter().find(|i| i["department_id"] == legal.as_str()).unwrap();
        assert_eq!(idle["previous"], json!({"events_held": 0, "events_partnered": 0, "participants_total": 0}));
    }
    let youth =
        |r: &Value| r["items"].as_array().unwrap().iter().find(|i| i["code"] == "youth-centre").cloned().unwrap();
    let r = app
        .get("/api/v1/reports/departments?from=2024-01-01&to=2024-03-31&compare=previous_year", &w.admin)
        .await
        .json();
    assert_eq!(youth(&r)["previous"]["participants_total"], 275, "2023's youth-centre events are really counted");
    // And the period before it is recounted from real figures too, its two ends in, the day before out.
    let r = app
        .get("/api/v1/reports/departments?from=2024-01-01&to=2024-03-31&compare=previous_period", &w.admin)
        .await
        .json();
    assert_eq!(youth(&r)["previous"], json!({"events_held": 1, "events_partnered": 1, "participants_total": 33}));
    let policy = r["items"].as_array().unwrap().iter().find(|i| i["code"] == "internal-policy").unwrap();
    assert_eq!(policy["previous"], json!({"events_held": 1, "events_partnered": 1, "participants_total": 16}));
}
both_stores!(the_departments_view_compares_each_department);

fn recount_now(w: &World) -> Value {
    recount(w, day("2024-01-01"), day("2024-03-31"), None)
}

async fn without_compare_nothing_changes_and_a_bad_compare_is_named(app: TestApp) {
    let w = world(&app).await;
    load(&app, &w).await;
    for path in ["summary", "departments"] {
        let plain = app.get(&format!("/api/v1/reports/{path}?from=2024-01-01&to=2024-03-31"), &w.admin).await.json();
        assert!(plain.get("previous").is_none(), "{path}: previous is absent, not null, without compare");
        if path == "departments" {
            assert!(plain["items"].as_array().unwrap().iter().all(|i| i.get("previous").is_none()));
        }
        let bad = app
            .get(&format!("/api/v1/reports/{path}?from=2024-05-01&to=2024-03-31&compare=last_year"), &w.admin)
            .await
            .expect(422)
            .json();
        let errors: Vec<(&str, &str)> = bad["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
            .collect();
        assert!(errors.iter().any(|(f, _)| *f == "from"), "{path}: every bad parameter at once: {errors:?}");
        assert!(errors.contains(&("compare", "must be one of: previous_year, previous_period")), "{path}: {errors:?}");
    }
    // plan-fulfilment has no comparison: compare is ignored there, as any parameter it does not list.
    let (plan, _) = crate::plans::plan_with_items(&app, &w.admin, &w.youth, &[("1.1", "2024-12-31", 1, 10)]).await;
    let plain = app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}"), &w.admin).await.expect(200);
    let asked = app
        .get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}&compare=previous_year"), &w.admin)
        .await
        .expect(200);
    assert_eq!(plain.text, asked.text);
}
both_stores!(without_compare_nothing_changes_and_a_bad_compare_is_named);
