//! Reports: every counting rule with hand-computed figures, the department filter, local months,
//! plan fulfilment, the departments view, CSV and XLSX carrying the JSON's figures, and the demo
//! registry's story.

use std::io::Cursor;
use std::process::Command;

use calamine::Reader;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::events::{World, create, event, world};
use crate::helpers::{JWT_SECRET, TestApp};

/// The fixture whose figures are computed by hand in each test below.
pub async fn fixture(app: &TestApp, w: &World) {
    let t = &w.youth_organiser;
    // A: held, youth leads, policy partners; 50 on a sign-in sheet, 30 of them youth.
    create(
        app,
        t,
        &event(
            json!({"kind": "lecture", "starts_at": "2024-03-10T10:00:00+05:00", "ends_at": "2024-03-10T12:00:00+05:00",
        "audiences": ["youth", "students"], "partner_department_ids": [w.policy],
        "attendance": {"total": 50, "basis": "sign_in_sheet", "breakdown": [{"audience": "youth", "count": 30}]}}),
        ),
    )
    .await;
    // B: held, policy leads; 20 by headcount, all civil servants.
    create(app, &w.policy_organiser, &event(json!({"kind": "seminar", "starts_at": "2024-03-20T10:00:00+05:00", "ends_at": "2024-03-20T12:00:00+05:00",
        "audiences": ["civil_servants"], "attendance": {"total": 20, "basis": "headcount", "breakdown": [{"audience": "civil_servants", "count": 20}]}}))).await;
    // C: planned; D: cancelled — beside the held figures, never in them.
    create(app, t, &event(json!({"starts_at": "2024-03-05T10:00:00+05:00", "ends_at": "2024-03-05T12:00:00+05:00"})))
        .await;
    create(app, t, &event(json!({"status": "cancelled", "starts_at": "2024-03-06T10:00:00+05:00", "ends_at": "2024-03-06T12:00:00+05:00"}))).await;
    // E: held but deleted: never counts.
    let e = create(app, t, &event(json!({"starts_at": "2024-03-07T10:00:00+05:00", "ends_at": "2024-03-07T12:00:00+05:00", "attendance": {"total": 100}}))).await;
    app.send(
        app.request(Method::DELETE, &format!("/api/v1/events/{}", e["id"].as_str().unwrap()), Some(t))
            .header("if-match", "\"1\""),
    )
    .await
    .expect(204);
    // F: held at 20:30Z on 31 March, which is 1 April in Almaty; 7 by headcount.
    create(
        app,
        t,
        &event(json!({"kind": "lecture", "starts_at": "2024-03-31T20:30:00Z", "ends_at": "2024-03-31T22:00:00Z",
        "audiences": ["youth"], "attendance": {"total": 7}})),
    )
    .await;
}

fn row<'a>(rows: &'a Value, key: &str, value: &str) -> &'a Value {
    rows.as_array().unwrap().iter().find(|r| r[key] == value).unwrap_or_else(|| panic!("no {key}={value} in {rows}"))
}

async fn the_summary_counts_exactly_as_the_contract_says(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let s = app.get("/api/v1/reports/summary?from=2024-03-01&to=2024-04-30", &w.admin).await.expect(200).json();
    assert_eq!((s["from"].as_str(), s["to"].as_str()), (Some("2024-03-01"), Some("2024-04-30")));
    assert_eq!(s["events_held"], 3, "A, B and F");
    assert_eq!(s["participants_total"], 77);
    assert_eq!(s["events_planned"], 1);
    assert_eq!(s["events_cancelled"], 1);
    assert_eq!(s["unique_people"], 0, "no named attendees");
    assert_eq!(s["participants_by_basis"], json!({"sign_in_sheet": 50, "headcount": 27, "estimate": 0}));
    let youth = row(&s["by_department"], "code", "youth-centre");
    assert_eq!(
        (youth["events_held"].as_i64(), youth["events_partnered"].as_i64(), youth["participants_total"].as_i64()),
        (Some(2), Some(0), Some(57))
    );
    let policy = row(&s["by_department"], "code", "internal-policy");
    assert_eq!(
        (policy["events_held"].as_i64(), policy["events_partnered"].as_i64(), policy["participants_total"].as_i64()),
        (Some(1), Some(1), Some(20))
    );
    let sum: i64 =
        s["by_department"].as_array().unwrap().iter().map(|d| d["participants_total"].as_i64().unwrap()).sum();
    assert_eq!(sum, 77, "department rows add up to the total, never double");
    assert_eq!(row(&s["by_kind"], "kind", "lecture")["participants_total"], 57);
    assert_eq!(row(&s["by_kind"], "kind", "seminar")["events_held"], 1);
    assert_eq!(row(&s["by_kind"], "kind", "campaign")["events_held"], 0);
    let youth_aud = row(&s["by_audience"], "audience", "youth");
    assert_eq!((youth_aud["events_held"].as_i64(), youth_aud["participants_counted"].as_i64()), (Some(2), Some(30)));
    assert_eq!(row(&s["by_audience"], "audience", "civil_servants")["participants_counted"], 20);
    assert_eq!(row(&s["by_audience"], "audience", "students")["participants_counted"], 0);
    assert_eq!(
        s["by_month"],
        json!([{"month": "2024-03", "events_held": 2, "participants_total": 70}, {"month": "2024-04", "events_held": 1, "participants_total": 7}])
    );
    // The last day of March, in Almaty, does not hold F.
    let march = app.get("/api/v1/reports/summary?from=2024-03-01&to=2024-03-31", &w.admin).await.json();
    assert_eq!((march["events_held"].as_i64(), march["participants_total"].as_i64()), (Some(2), Some(70)));
    // An instant stands for its local date: 2024-03-31T20:30Z is 1 April in Almaty.
    let april = app.get("/api/v1/reports/summary?from=2024-03-31T20:30:00Z&to=2024-04-30", &w.admin).await.json();
    assert_eq!((april["from"].as_str(), april["events_held"].as_i64()), (Some("2024-04-01"), Some(1)));
}
both_stores!(the_summary_counts_exactly_as_the_contract_says);

async fn the_department_filter_keeps_what_it_leads_or_partners(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let s = app
        .get(&format!("/api/v1/reports/summary?from=2024-03-01&to=2024-04-30&department_id={}", w.policy), &w.admin)
        .await
        .expect(200)
        .json();
    assert_eq!(
        (s["events_held"].as_i64(), s["participants_total"].as_i64()),
        (Some(2), Some(70)),
        "A (partner) and B (lead)"
    );
    assert_eq!(s["events_planned"], 0);
    let youth = row(&s["by_department"], "code", "youth-centre");
    assert_eq!((youth["events_held"].as_i64(), youth["participants_total"].as_i64()), (Some(1), Some(50)));
    app.get("/api/v1/reports/summary?department_id=nope", &w.admin).await.expect(400);
    app.get("/api/v1/reports/summary?from=2024-05-01&to=2024-04-01", &w.admin).await.expect(422);
    let long = app.get("/api/v1/reports/summary?from=2024-01-01&to=6055-02-07", &w.admin).await.expect(422).json();
    assert_eq!(long["errors"][0]["field"], "to", "a period of centuries is refused, not computed");
    app.get("/api/v1/reports/summary?from=01.05.2024", &w.admin).await.expect(400);
}
both_stores!(the_department_filter_keeps_what_it_leads_or_partners);

pub fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "UTF-8 with BOM");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

pub fn xlsx_sheet(bytes: Vec<u8>, name: &str) -> Vec<Vec<calamine::Data>> {
    let mut book = calamine::Xlsx::new(Cursor::new(bytes)).expect("a real workbook");
    let range = book.worksheet_range(name).expect("the sheet");
    range.rows().map(|r| r.to_vec()).collect()
}

async fn csv_and_xlsx_carry_the_same_figures_as_json(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let base = "/api/v1/reports/summary?from=2024-03-01&to=2024-04-30";
    let json = app.get(base, &w.admin).await.json();
    let csv = app.send(app.request(Method::GET, base, Some(&w.admin)).header("accept", "text/csv")).await.expect(200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.header("content-disposition").unwrap().contains("adal-summary-2024-03-01-2024-04-30.csv"));
    let rows = csv_rows(csv.text.as_bytes());
    assert_eq!(rows[0], vec!["section", "key", "events_held", "events_partnered", "participants_total"]);
    let find = |section: &str, key: &str| {
        rows.iter().find(|r| r[0] == section && r[1] == key).unwrap_or_else(|| panic!("{section}/{key}")).clone()
    };
    assert_eq!(find("total", "held")[2], json["events_held"].to_string());
    assert_eq!(find("total", "held")[4], json["participants_total"].to_string());
    assert_eq!(find("total", "events_planned")[2], "1");
    assert_eq!(find("department", "internal-policy")[3], "1");
    assert_eq!(find("month", "2024-04")[4], "7");
    assert_eq!(find("basis", "headcount")[4], "27");
    assert_eq!(find("audience", "youth")[4], "30");
    let same = app.send(app.request(Method::GET, &format!("{base}&format=csv"), Some(&w.admin))).await.expect(200);
    assert_eq!(same.text, csv.text);

    let xlsx = app.client.get(app.url(&format!("{base}&format=xlsx"))).bearer_auth(&w.admin).send().await.unwrap();
    assert_eq!(xlsx.status().as_u16(), 200);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let total = xlsx_sheet(bytes.clone(), "total");
    let figure =
        |name: &str| total.iter().find(|r| r[0] == calamine::Data::String(name.into())).map(|r| r[1].clone()).unwrap();
    assert_eq!(figure("events_held"), calamine::Data::Float(3.0), "numbers typed as numbers");
    assert_eq!(figure("participants_total"), calamine::Data::Float(77.0));
    let months = xlsx_sheet(bytes.clone(), "month");
    assert_eq!(
        months[0],
        vec![
            calamine::Data::String("month".into()),
            calamine::Data::String("events_held".into()),
            calamine::Data::String("participants_total".into())
        ]
    );
    assert_eq!(months[1][2], calamine::Data::Float(70.0));
    assert_eq!(figure("from"), calamine::Data::String("2024-03-01".into()), "a day as the CSV writes it");
    let departments = xlsx_sheet(bytes, "department");
    assert!(
        departments
            .iter()
            .any(|r| r[1] == calamine::Data::String("youth-centre".into()) && r[5] == calamine::Data::Float(57.0))
    );
}
both_stores!(csv_and_xlsx_carry_the_same_figures_as_json);

async fn plan_fulfilment_reports_each_item_against_its_targets(app: TestApp) {
    let w = world(&app).await;
    let (plan, items) = crate::plans::plan_with_items(
        &app,
        &w.admin,
        &w.youth,
        &[("1.1", "2024-01-31", 1, 10), ("1.2", "2024-12-31", 1, 10), ("2.1", "2099-12-31", 5, 500)],
    )
    .await;
    create(&app, &w.youth_organiser, &event(json!({"plan_item_id": items[1]["id"], "attendance": {"total": 15}})))
        .await;
    create(&app, &w.youth_organiser, &event(json!({"plan_item_id": items[2]["id"], "attendance": {"total": 40}})))
        .await;
    let r = app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}"), &w.admin).await.expect(200).json();
    assert_eq!((r["from"].as_str(), r["to"].as_str()), (Some("2024-01-01"), Some("2024-12-31")), "the plan's year");
    assert_eq!(r["totals"], json!({"items": 3, "done": 1, "open": 1, "overdue": 1}));
    let statuses: Vec<(&str, i64, &str)> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (i["number"].as_str().unwrap(), i["participants_total"].as_i64().unwrap(), i["status"].as_str().unwrap())
        })
        .collect();
    assert_eq!(statuses, vec![("1.1", 0, "overdue"), ("1.2", 15, "done"), ("2.1", 40, "open")]);
    let csv =
        app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}&format=csv"), &w.admin).await.expect(200);
    let rows = csv_rows(csv.text.as_bytes());
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[2][9], "done");
    app.get("/api/v1/reports/plan-fulfilment?plan_id=0193a6f2-0000-7000-8000-000000000000", &w.admin).await.expect(404);
    app.get("/api/v1/reports/plan-fulfilment", &w.admin).await.expect(400);
}
both_stores!(plan_fulfilment_reports_each_item_against_its_targets);

async fn the_departments_view_shows_idle_departments_too(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let legal = app.create_department(&w.admin, "legal-support").await;
    crate::plans::plan_with_items(&app, &w.admin, legal["id"].as_str().unwrap(), &[("1.3", "2024-03-15", 2, 50)]).await;
    let r = app.get("/api/v1/reports/departments?from=2024-03-01&to=2024-04-30", &w.admin).await.expect(200).json();
    let codes: Vec<&str> = r["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["administration", "internal-policy", "legal-support", "youth-centre"]);
    let idle = row(&r["items"], "code", "legal-support");
    assert_eq!(idle["events_held"], 0);
    assert_eq!((idle["plan_items_due"].as_i64(), idle["plan_items_overdue"].as_i64()), (Some(1), Some(1)));
    assert_eq!(idle["last_held_at"], Value::Null);
    let youth = row(&r["items"], "code", "youth-centre");
    assert_eq!((youth["events_held"].as_i64(), youth["participants_total"].as_i64()), (Some(2), Some(57)));
    assert_eq!(youth["last_held_at"], "2024-03-31T20:30:00Z");
    let policy = row(&r["items"], "code", "internal-policy");
    assert_eq!((policy["events_held"].as_i64(), policy["events_partnered"].as_i64()), (Some(1), Some(1)));
    let xlsx = app
        .client
        .get(app.url("/api/v1/reports/departments?from=2024-03-01&to=2024-04-30&format=xlsx"))
        .bearer_auth(&w.admin)
        .send()
        .await
        .unwrap();
    let sheet = xlsx_sheet(xlsx.bytes().await.unwrap().to_vec(), "departments");
    assert_eq!(sheet.len(), 5, "a header and a row per active department");
    assert_eq!(sheet[0][9], calamine::Data::String("last_held_at".into()));
    let youth = sheet.iter().find(|r| r[1] == calamine::Data::String("youth-centre".into())).unwrap();
    assert_eq!(youth[9], calamine::Data::String("2024-03-31T20:30:00Z".into()), "an instant as UTC RFC 3339 text");
}
both_stores!(the_departments_view_shows_idle_departments_too);

async fn reports_need_reports_read(app: TestApp) {
    let w = world(&app).await;
    let viewer = app.token_for(&w.admin, "viewer", &w.policy, "viewer").await;
    app.get("/api/v1/reports/summary", &viewer).await.expect(200);
    let client = app
        .post(
            "/api/v1/clients",
            &w.admin,
            &json!({"name": "Оқырман", "department_id": w.youth, "scopes": ["events:read"]}),
        )
        .await
        .expect(201)
        .json();
    let t = app.token(&json!({"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]})).await.json();
    let token = t["access_token"].as_str().unwrap();
    for path in ["/api/v1/reports/summary", "/api/v1/reports/departments", "/api/v1/reports/plan-fulfilment?plan_id=x"]
    {
        app.get(path, token).await.expect(403);
    }
}
both_stores!(reports_need_reports_read);

async fn the_demo_registry_tells_the_story(app: TestApp) {
    let seed = || {
        Command::new(env!("CARGO_BIN_EXE_adal"))
            .arg("seed-demo")
            .env("DATABASE_URL", &app.store.url)
            .env("ADAL_JWT_SECRET", JWT_SECRET)
            .env("ADAL_KEY_FILE", app.store.dir.path().join("adal.keys"))
            .env("ADAL_IIN_KEY", crate::helpers::IIN_KEY)
            .output()
            .unwrap()
    };
    let out = seed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let accounts: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('\t').collect()).collect();
    let roles: Vec<&str> = accounts.iter().map(|a| a[1]).collect();
    assert_eq!(roles, vec!["admin", "coordinator", "organiser", "viewer", "coordinator"]);
    assert!(accounts.iter().all(|a| a.len() == 3 && a[2].len() >= 12));
    // The policy department partners in every demo event, so the legal-support verifier checks
    // them, and the policy department's own coordinator may not.
    let verifier = app.login(accounts[4][0], accounts[4][2]).await["access_token"].as_str().unwrap().to_string();
    let coordinator = app.login(accounts[1][0], accounts[1][2]).await["access_token"].as_str().unwrap().to_string();
    let held =
        app.get("/api/v1/events?status=held&verification=unverified&limit=1", &verifier).await.expect(200).json();
    let first = &held["items"][0];
    let path = format!("/api/v1/events/{}/verification", first["id"].as_str().unwrap());
    let finding = json!({"status": "verified", "note": "Тіркеу парағы сәйкес"});
    let by = |token: &str| {
        app.request(reqwest::Method::PUT, &path, Some(token))
            .header("if-match", format!("\"{}\"", first["version"]))
            .json(&finding)
    };
    app.send(by(&coordinator)).await.expect(403);
    assert_eq!(app.send(by(&verifier)).await.expect(200).json()["verification"]["status"], "verified");
    let organiser = app.login(accounts[2][0], accounts[2][2]).await["access_token"].as_str().unwrap().to_string();
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &organiser).await.expect(200).json();
    assert_eq!(s["events_held"], 28);
    assert_eq!(s["participants_total"], 1801, "about 1,800 people");
    let youth = row(&s["by_department"], "code", "youth-centre");
    assert_eq!((youth["events_held"].as_i64(), youth["participants_total"].as_i64()), (Some(28), Some(1801)));
    assert_eq!(row(&s["by_department"], "code", "internal-policy")["events_partnered"], 28);
    let months: Vec<&str> = s["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["events_held"].as_i64() > Some(0))
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, vec!["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06", "2024-07", "2024-08"]);
    let departments = app.get("/api/v1/reports/departments?from=2024-01-01&to=2024-12-31", &organiser).await.json();
    assert_eq!(
        row(&departments["items"], "code", "legal-support")["events_held"],
        0,
        "the departments that did not do the work show"
    );
    // Plan items are linked only where their responsible department took part: the legal-support
    // subdivision's line (1.3) has no youth-centre events.
    let plans = app.get("/api/v1/plans", &organiser).await.expect(200).json();
    let plan = plans["items"][0]["id"].as_str().unwrap().to_string();
    let fulfilment =
        app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}"), &organiser).await.expect(200).json();
    let legal_item = row(&fulfilment["items"], "number", "1.3");
    assert_eq!(legal_item["events_held"], 0, "no other department's events on legal-support's line: {legal_item}");
    // Named attendees: some people came to several events, so fewer people than names on lists.
    let unique = s["unique_people"].as_i64().unwrap();
    let admin = app.login(accounts[0][0], accounts[0][2]).await["access_token"].as_str().unwrap().to_string();
    let events = all_events(&app, &admin).await;
    let mut listed = 0;
    for e in &events {
        let id = e["id"].as_str().unwrap();
        let names =
            app.get(&format!("/api/v1/events/{id}/attendees?limit=200"), &admin).await.expect(200).json()["items"]
                .as_array()
                .unwrap()
                .len() as i64;
        if names > 0 {
            assert_eq!(e["attendance"]["basis"], "sign_in_sheet", "{}: names, but not counted on a sheet", e["title"]);
        }
        if e["starts_at"].as_str().unwrap().starts_with("2024") {
            listed += names;
        }
    }
    assert!(unique > 0 && unique < listed, "{unique} people among {listed} names on the 2024 lists");
    // The seed's rule, recounted: the i-th event of a year is on a sign-in sheet unless i % 4 == 3
    // (then by headcount, its breakdown 3/5 of the total, youth only); every third one on a sheet
    // lists the 12 of the 40 people from the (7i mod 40)-th on.
    let people = |events: usize| {
        let named = (0..events).filter(|i| i % 3 == 0 && i % 4 != 3);
        named.flat_map(|i| (0..12).map(move |k| (i * 7 + k) % 40)).collect::<std::collections::BTreeSet<_>>().len()
    };
    assert_eq!(unique, people(28) as i64, "2024's named people");
    // Breakdowns by audience add up to at most the total, and exactly on a sign-in sheet.
    for e in &events {
        let a = &e["attendance"];
        let sum: i64 = a["breakdown"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum();
        let total = a["total"].as_i64().unwrap();
        assert!(sum <= total, "{}: breakdown {sum} over total {total}", e["title"]);
        if a["basis"] == "sign_in_sheet" {
            assert_eq!(sum, total, "{}: a sign-in sheet's breakdown is the whole list", e["title"]);
        }
    }
    let counted: i64 =
        s["by_audience"].as_array().unwrap().iter().map(|a| a["participants_counted"].as_i64().unwrap()).sum();
    let expected: i64 = adal::seed::TOTALS
        .iter()
        .enumerate()
        .map(|(i, &total)| i64::from(if i % 4 != 3 { total } else { total * 3 / 5 }))
        .sum();
    assert_eq!(counted, expected, "the whole of each sheet, 3/5 of each headcount");
    // 2023's eight months: the youth centre's work, comparable; the warned departments, nothing in
    // either year.
    let last = app.get("/api/v1/reports/summary?from=2023-01-01&to=2023-12-31", &organiser).await.json();
    assert_eq!(last["events_held"], 24);
    assert_eq!(last["unique_people"].as_i64(), Some(people(24) as i64), "2023's named people");
    let held_months =
        last["by_month"].as_array().unwrap().iter().filter(|m| m["events_held"].as_i64() > Some(0)).count();
    assert_eq!(held_months, 8, "January to August 2023");
    let compared = app
        .get("/api/v1/reports/departments?from=2024-01-01&to=2024-08-31&compare=previous_year", &organiser)
        .await
        .expect(200)
        .json();
    for code in ["legal-support", "education", "culture", "sport"] {
        let d = row(&compared["items"], "code", code);
        assert_eq!(d["events_held"], 0, "{code}");
        assert_eq!(
            d["previous"],
            json!({"events_held": 0, "events_partnered": 0, "participants_total": 0}),
            "{code}: unchanged since the warning"
        );
    }
    for code in ["education", "culture", "sport"] {
        assert_eq!(row(&compared["items"], "code", code)["plan_items_overdue"], 1, "{code}'s own plan line is overdue");
    }
    let youth_now = row(&compared["items"], "code", "youth-centre");
    assert_eq!(
        (youth_now["events_held"].as_i64(), youth_now["previous"]["events_held"].as_i64()),
        (Some(28), Some(24))
    );
    // Every seeded plan link passes the API's own not_responsible rule: the same lead, partners
    // and item, created through the API, are accepted.
    let mut links = std::collections::BTreeSet::new();
    for e in events.iter().filter(|e| !e["plan_item_id"].is_null()) {
        links.insert(e["plan_item_id"].as_str().unwrap().to_string());
    }
    assert_eq!(links.len(), 3, "items 1.1, 1.2 and 2.1 have events: {links:?}");
    for e in events.iter().filter(|e| !e["plan_item_id"].is_null()) {
        let copy = json!({"lead_department_id": e["lead_department_id"], "partner_department_ids": e["partner_department_ids"],
            "plan_item_id": e["plan_item_id"], "starts_at": "2024-10-01T10:00:00+05:00", "ends_at": "2024-10-01T12:00:00+05:00"});
        app.post("/api/v1/events", &admin, &event(copy)).await.expect(201);
    }
    let again = seed();
    assert!(!again.status.success(), "a registry with events is refused");
    let verify = app.get("/api/v1/audit/verify", &app.admin_token().await).await.json();
    assert_eq!(verify["ok"], true);
}
both_stores!(the_demo_registry_tells_the_story);

/// Every event of the registry, page by page.
async fn all_events(app: &TestApp, token: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut path = "/api/v1/events?limit=200".to_string();
    loop {
        let page = app.get(&path, token).await.expect(200).json();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/events?limit=200&cursor={c}"),
            None => return out,
        }
    }
}

/// A valid IIN made by the control-digit algorithm: born 1995-05-17, serial `serial`.
pub fn iin(serial: u32) -> String {
    (serial..)
        .find_map(|s| {
            let first: Vec<u8> = format!("9505173{:04}", s % 10_000).bytes().map(|b| b - b'0').collect();
            adal::attendees::iin::control_digit(&first).map(|c| format!("9505173{:04}{c}", s % 10_000))
        })
        .unwrap()
}

async fn unique_people_counts_each_person_once_across_events(app: TestApp) {
    let w = world(&app).await;
    let a = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let b = create(&app, &w.policy_organiser, &event(json!({}))).await;
    let same = iin(100);
    // The same person on both events (two departments), two others with IINs, and two without.
    let first = json!({"attendees": [{"full_name": "Әлия Серікова", "iin": same}, {"full_name": "Бақыт Омаров", "iin": iin(200)}, {"full_name": "Аты жоқ"}]});
    let second = json!({"attendees": [{"full_name": "Әлия Серікова", "iin": same}, {"full_name": "Гүлнар Ахметова", "iin": iin(300)}, {"full_name": "Тағы біреу"}]});
    app.post(&format!("/api/v1/events/{}/attendees", a["id"].as_str().unwrap()), &w.youth_organiser, &first)
        .await
        .expect(201);
    app.post(&format!("/api/v1/events/{}/attendees", b["id"].as_str().unwrap()), &w.policy_organiser, &second)
        .await
        .expect(201);
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &w.admin).await.expect(200).json();
    assert_eq!(s["unique_people"], 5, "3 distinct IINs + 2 attendees without one");
    assert_eq!(s["participants_total"], 6, "seats filled: each event's total raised to its 3 attendees");
    // Erasing a person leaves the reports consistent: one fewer person, seats unchanged.
    let admin = app.admin_token().await;
    app.post("/api/v1/attendees/erasure", &admin, &json!({"iin": same})).await.expect(200);
    let after = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &w.admin).await.json();
    assert_eq!(after["unique_people"], 4);
    assert_eq!(after["participants_total"], 6);
}
both_stores!(unique_people_counts_each_person_once_across_events);

/// A summary is read in one snapshot: while events are being written, each answer agrees with
/// itself — its departments, kinds and months each add up to its total, its bases to its people.
async fn a_summary_agrees_with_itself_while_events_are_written(app: TestApp) {
    let w = crate::events::world(&app).await;
    let path = "/api/v1/reports/summary?from=2024-01-01&to=2024-12-31";
    let before = app.get(path, &w.admin).await.expect(200).json()["events_held"].as_i64().unwrap();
    let (client, url, token) = (app.client.clone(), app.url("/api/v1/events"), w.youth_organiser.clone());
    let writer = tokio::spawn(async move {
        let kinds = ["lecture", "seminar", "round_table", "training"];
        for i in 0..40 {
            let body = crate::events::event(json!({
                "kind": kinds[i % 4],
                "starts_at": format!("2024-{:02}-10T10:00:00+05:00", 3 + i % 6),
                "ends_at": format!("2024-{:02}-10T12:00:00+05:00", 3 + i % 6),
                "attendance": {"total": 10 + i, "basis": if i % 2 == 0 { "headcount" } else { "sign_in_sheet" }}
            }));
            let r = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
    });
    let sum =
        |rows: &Value, field: &str| rows.as_array().unwrap().iter().map(|r| r[field].as_i64().unwrap()).sum::<i64>();
    let mut reads = 0;
    while !writer.is_finished() || reads < 5 {
        let s = app.get(path, &w.admin).await.expect(200).json();
        let held = s["events_held"].as_i64().unwrap();
        let people = s["participants_total"].as_i64().unwrap();
        assert_eq!(sum(&s["by_department"], "events_held"), held, "departments against the total: {s}");
        assert_eq!(sum(&s["by_kind"], "events_held"), held, "kinds against the total: {s}");
        assert_eq!(sum(&s["by_month"], "events_held"), held, "months against the total: {s}");
        assert_eq!(sum(&s["by_kind"], "participants_total"), people, "kinds' people against the total: {s}");
        let basis = &s["participants_by_basis"];
        let by_basis: i64 = ["sign_in_sheet", "headcount", "estimate"].iter().map(|b| basis[b].as_i64().unwrap()).sum();
        assert_eq!(by_basis, people, "bases against the total: {s}");
        reads += 1;
    }
    writer.await.unwrap();
    assert!(reads >= 5);
    // The same report asked again (on PostgreSQL, the statement the session kept prepared) counts
    // every event written since.
    let after = app.get(path, &w.admin).await.expect(200).json()["events_held"].as_i64().unwrap();
    assert_eq!(after, before + 40);
}
both_stores!(a_summary_agrees_with_itself_while_events_are_written);

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Kept {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    statement: String,
}

fn kept(conn: &mut adal::store::DbConnection) -> Vec<Kept> {
    diesel::RunQueryDsl::load(
        diesel::sql_query(
            "SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'adal\\_report\\_%' ORDER BY prepare_time",
        ),
        conn,
    )
    .unwrap()
}

/// Report statements stay prepared in a PostgreSQL session, a few at a time: the same text asked
/// again runs the statement kept under its name, the oldest give way past the bound, and a
/// statement kept under the name with another text is replaced, never run in its place.
#[test]
fn report_statements_stay_prepared_a_few_at_a_time() {
    use adal::store::prepared::{KEPT_A_SESSION, load};
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    let Some(server) = crate::helpers::postgres_server() else { return };
    let mut conn = adal::store::DbConnection::Postgres(diesel::PgConnection::establish(&server).unwrap());
    let sql = |i: usize| format!("SELECT CAST({i} AS BIGINT) AS n");

    assert_eq!(load::<N>(&mut conn, &sql(1)).unwrap(), vec![N { n: 1 }]);
    let first = kept(&mut conn);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].statement, format!("PREPARE {} AS {}", first[0].name, sql(1)));
    assert_eq!(load::<N>(&mut conn, &sql(1)).unwrap(), vec![N { n: 1 }]);
    assert_eq!(kept(&mut conn).len(), 1, "asked again, the statement is not prepared twice");

    for i in 2..=KEPT_A_SESSION + 3 {
        assert_eq!(load::<N>(&mut conn, &sql(i)).unwrap(), vec![N { n: i as i64 }]);
    }
    let held = kept(&mut conn);
    assert_eq!(held.len(), KEPT_A_SESSION);
    let newest: Vec<String> = (4..=KEPT_A_SESSION + 3).map(|i| format!(" AS {}", sql(i))).collect();
    assert!(held.iter().zip(&newest).all(|(k, s)| k.statement.ends_with(s.as_str())), "the oldest went first");

    // Another text under the name the next statement will take: replaced, not run.
    let name = held.last().unwrap().name.clone();
    let last = sql(KEPT_A_SESSION + 3);
    conn.batch_execute(&format!("DEALLOCATE {name}; PREPARE {name} AS SELECT CAST(-1 AS BIGINT) AS n")).unwrap();
    assert_eq!(load::<N>(&mut conn, &last).unwrap(), vec![N { n: (KEPT_A_SESSION + 3) as i64 }]);
    let held = kept(&mut conn);
    assert_eq!(held.len(), KEPT_A_SESSION);
    assert!(held.iter().any(|k| k.name == name && k.statement == format!("PREPARE {name} AS {last}")));
}
