//! Attendees: JSON batches and sign-in sheets (CSV and XLSX, Kazakh headers), all-or-nothing
//! with row-level errors, the limits, people recognised across events by their IIN's keyed hash,
//! access, attendance totals, erasure, idempotent retries — and no IIN kept anywhere in clear.

use std::collections::HashSet;

use diesel::prelude::*;
use diesel::sql_types::Text;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::events::{World, create, event, world};
use crate::helpers::{Backend, Reply, TestApp};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The control digit by the two-pass rule, `None` when there is none.
fn control(first11: &str) -> Option<u32> {
    let d: Vec<u32> = first11.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let sum = |w: &[u32]| d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>() % 11;
    match sum(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
        10 => Some(sum(&[3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2])).filter(|c| *c != 10),
        c => Some(c),
    }
}

/// A valid IIN, generated (never a real person's): born in the 1900s, distinct for each `n`
/// below 10,000; a man's for even `n`, a woman's for odd.
pub fn iin(n: u32) -> String {
    iin_born(1960 + n % 40, n)
}

/// A valid IIN of someone born in `year` (1900–2099), distinct for each `n` below 10,000.
fn iin_born(year: u32, n: u32) -> String {
    let digit = if year >= 2000 { 5 + n % 2 } else { 3 + n % 2 };
    let mut serial = n;
    loop {
        let first11 = format!("{:02}{:02}{:02}{}{:04}", year % 100, 1 + n % 12, 1 + n % 28, digit, serial % 10_000);
        if let Some(c) = control(&first11) {
            return format!("{first11}{c}");
        }
        // No control digit exists for these digits: take a serial far from the others.
        serial += 5_000;
    }
}

/// The same digits with the control digit off by one.
fn with_bad_control(iin: &str) -> String {
    let last = iin.as_bytes()[11] - b'0';
    format!("{}{}", &iin[..11], (last + 1) % 10)
}

fn path(e: &Value) -> String {
    format!("/api/v1/events/{}/attendees", e["id"].as_str().unwrap())
}

fn fields(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn upload(app: &TestApp, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.send(app.request(Method::POST, path, Some(token)).header("content-type", content_type).body(body)).await
}

async fn list_all(app: &TestApp, token: &str, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=200&cursor={c}"),
            None => format!("{path}?limit=200"),
        };
        let page = app.get(&url, token).await.expect(200).json();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

async fn read_event(app: &TestApp, token: &str, e: &Value) -> Value {
    app.get(&format!("/api/v1/events/{}", e["id"].as_str().unwrap()), token).await.expect(200).json()
}

/// An XLSX workbook whose first sheet holds `rows` (the first is the header); a cell that parses
/// as a number is written as one, as a spreadsheet program would keep it.
fn workbook(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            match cell.parse::<f64>() {
                Ok(n) if r > 0 => sheet.write_number(r as u32, c as u16, n).map(|_| ()),
                _ => sheet.write_string(r as u32, c as u16, *cell).map(|_| ()),
            }
            .unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn a_json_batch_adds_everyone_and_shows_no_iin(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let person = iin(1);
    let batch = json!({"attendees": [
        {"full_name": "  Айгүл Нұрланқызы ", "iin": person, "birth_year": 1961, "gender": "female", "organisation": "Жастар орталығы"},
        {"full_name": "Ерлан Серікұлы"}
    ]});
    let r = app.post(&path(&e), &w.youth_organiser, &batch).await.expect(201);
    assert_eq!(r.header("location").as_deref(), Some(path(&e).as_str()));
    assert!(!r.text.contains(&person), "no IIN in the answer");
    let added = r.json();
    assert_eq!(added["added"], 2);
    let first = &added["attendees"][0];
    assert_eq!(first["full_name"], "Айгүл Нұрланқызы", "trimmed");
    assert_eq!(first["iin_last2"], person[10..]);
    assert_eq!(first["birth_year"], 1961);
    assert_eq!(first["gender"], "female");
    assert_eq!(first["event_id"], e["id"]);
    assert!(first.get("iin").is_none() && first.get("iin_hash").is_none());
    assert_eq!(added["attendees"][1]["iin_last2"], Value::Null);
    let listed = list_all(&app, &w.youth_organiser, &path(&e)).await;
    assert_eq!(listed, added["attendees"].as_array().unwrap().clone(), "listed as added, in order");

    // Rows are checked one by one and all refused together; a value never quotes the IIN.
    let bad = json!({"attendees": [
        {"full_name": "Дана", "iin": with_bad_control(&iin(2))},
        {"full_name": "", "birth_year": 1850},
        {"full_name": "Асқар", "iin": iin(3).parse::<i64>().unwrap()},
        {"full_name": "Марат", "iin": iin(4), "gender": "female", "birth_year": 1999},
        {"full_name": "Әсел", "nickname": "Әсі"}
    ]});
    let r = app.post(&path(&e), &w.youth_organiser, &bad).await.expect(422);
    for n in 2..=4 {
        assert!(!r.text.contains(&iin(n)[..11]), "the error must not echo an IIN: {}", r.text);
    }
    assert_eq!(
        fields(&r.json()),
        [
            "attendees[0].iin",
            "attendees[1].full_name",
            "attendees[1].birth_year",
            "attendees[2].iin",
            "attendees[3].birth_year",
            "attendees[3].gender",
            "attendees[4].nickname"
        ]
    );
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 2, "nothing added");
}
both_stores!(a_json_batch_adds_everyone_and_shows_no_iin);

async fn attendance_is_raised_to_the_attendees_and_never_set_below_them(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let batch = json!({"attendees": (0..3).map(|n| json!({"full_name": format!("Қатысушы {n}"), "iin": iin(n)})).collect::<Vec<_>>()});
    app.post(&path(&e), &w.youth_organiser, &batch).await.expect(201);
    let after = read_event(&app, &w.admin, &e).await;
    assert_eq!(after["status"], "held");
    assert_eq!(after["attendance"], json!({"total": 3, "basis": "sign_in_sheet", "breakdown": []}));
    assert_eq!(after["version"], 2, "raising the total is a change of the event");

    // Recording attendance below the attendees on record is refused; at or above, accepted.
    let put = |total: i64, etag: String| {
        app.request(
            Method::PUT,
            &format!("/api/v1/events/{}/attendance", e["id"].as_str().unwrap()),
            Some(&w.youth_organiser),
        )
        .header("if-match", etag)
        .json(&json!({"total": total, "basis": "headcount"}))
    };
    let r = app.send(put(2, "\"2\"".into())).await.expect(422);
    assert_eq!(fields(&r.json()), ["total"]);
    let recorded = app.send(put(40, "\"2\"".into())).await.expect(200).json();
    assert_eq!(recorded["attendance"]["total"], 40);

    // A total already above the attendees is left as it is.
    app.post(&path(&e), &w.youth_organiser, &json!({"attendees": [{"full_name": "Тағы біреу"}]})).await.expect(201);
    let after = read_event(&app, &w.admin, &e).await;
    assert_eq!(after["attendance"]["total"], 40);
    assert_eq!(after["attendance"]["basis"], "headcount");
    assert_eq!(after["version"], 3, "untouched");

    // A recorded total below a new upload is raised again.
    let more =
        json!({"attendees": (10..50).map(|n| json!({"full_name": format!("Қатысушы {n}")})).collect::<Vec<_>>()});
    app.post(&path(&e), &w.youth_organiser, &more).await.expect(201);
    let after = read_event(&app, &w.admin, &e).await;
    assert_eq!(after["attendance"]["total"], 44);
    assert_eq!(after["attendance"]["basis"], "sign_in_sheet");
    assert_eq!(after["version"], 4);
}
both_stores!(attendance_is_raised_to_the_attendees_and_never_set_below_them);

async fn a_csv_sheet_with_kazakh_headers_bom_and_semicolons_is_imported(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let csv = format!(
        "\u{feff}№; Аты-жөні ;ЖСН;Туған жылы;Жынысы;Ұйым;Қолы\r\n\
         1;Айгүл Нұрланқызы;{};1961;Әйел;\"Жастар орталығы; №2\";\r\n\
         \r\n\
         2;Ерлан Серікұлы;;;ер;;\r\n",
        iin(1)
    );
    let r = upload(&app, &w.youth_organiser, &path(&e), "text/csv; charset=utf-8", csv.into_bytes()).await.expect(201);
    let added = r.json();
    assert_eq!(added["added"], 2);
    assert_eq!(added["attendees"][0]["organisation"], "Жастар орталығы; №2");
    assert_eq!(added["attendees"][0]["gender"], "female");
    assert_eq!(added["attendees"][1]["gender"], "male");

    // Russian headers, comma-separated, no BOM.
    let csv = format!("ФИО,ИИН,Год рождения,Пол,Организация\nАсқар Болатұлы,{},,м,Акимат\n", iin(6));
    let added = upload(&app, &w.youth_organiser, &path(&e), "text/csv", csv.into_bytes()).await.expect(201).json();
    assert_eq!(added["attendees"][0]["full_name"], "Асқар Болатұлы");
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 3);
}
both_stores!(a_csv_sheet_with_kazakh_headers_bom_and_semicolons_is_imported);

async fn a_sheet_with_bad_rows_adds_nothing_and_names_each_row(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    // Line 2 is rows[0]; the blank line 4 keeps its place.
    let csv = format!(
        "\u{feff}Аты-жөні;ЖСН;Туған жылы\n\
         Айгүл Нұрланқызы;{good};\n\
         Ерлан Серікұлы;{bad};\n\
         \n\
         ;;1990\n\
         Дана Маратқызы;{good};\n\
         Асқар;12345;\n",
        good = iin(1),
        bad = with_bad_control(&iin(2)),
    );
    let r = upload(&app, &w.youth_organiser, &path(&e), "text/csv", csv.into_bytes()).await.expect(422);
    assert!(!r.text.contains(&iin(2)[..11]) && !r.text.contains(&iin(1)), "no IIN echoed: {}", r.text);
    let problem = r.json();
    assert_eq!(fields(&problem), ["rows[1].iin", "rows[3].full_name", "rows[4].iin", "rows[5].iin"]);
    let codes: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["control_digit", "required", "duplicate", "length"]);
    assert!(problem["errors"][2]["message"].as_str().unwrap().contains("rows[0]"), "names the first listing");
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 0, "nothing added");

    // The same with an XLSX sheet and Kazakh headers.
    let good = iin(1);
    let bad = with_bad_control(&iin(2));
    let book = workbook(&[
        vec!["Аты-жөні", "ЖСН", "Жынысы"],
        vec!["Айгүл Нұрланқызы", &good, "әйел"],
        vec!["Ерлан Серікұлы", &bad, "ер"],
        vec!["Дана", "", "белгісіз"],
    ]);
    let r = upload(&app, &w.youth_organiser, &path(&e), XLSX, book).await.expect(422);
    assert_eq!(fields(&r.json()), ["rows[1].iin", "rows[2].gender"]);
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 0, "nothing added");

    // Sheet-level problems name the sheet.
    for (body, why) in [
        (b"\xd4\xc8\xce;\xc8\xc8\xcd\n\xc0\xe1\xe0\xe9;1\n".to_vec(), "Windows-1251"),
        ("ЖСН;Ұйым\n1;2\n".as_bytes().to_vec(), "no full-name column"),
        ("Аты-жөні;ФИО\nА;Б\n".as_bytes().to_vec(), "two full-name columns"),
        ("Аты-жөні\n".as_bytes().to_vec(), "no rows"),
    ] {
        let r = upload(&app, &w.youth_organiser, &path(&e), "text/csv", body).await;
        assert_eq!(r.status.as_u16(), 422, "{why}: {}", r.text);
        assert_eq!(fields(&r.json()), ["sheet"], "{why}");
    }
    let r = upload(&app, &w.youth_organiser, &path(&e), XLSX, b"not a workbook".to_vec()).await.expect(422);
    assert_eq!(fields(&r.json()), ["sheet"]);
    upload(&app, &w.youth_organiser, &path(&e), "text/plain", b"x".to_vec()).await.expect(415);
}
both_stores!(a_sheet_with_bad_rows_adds_nothing_and_names_each_row);

async fn an_xlsx_sheet_with_kazakh_headers_is_imported(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    // Born in 2005: a spreadsheet that took the IIN for a number dropped its leading zero.
    let young = iin_born(2005, 7);
    assert!(young.starts_with('0'));
    let older = iin(8);
    let book = workbook(&[
        vec!["№", "Аты-жөні", "ЖСН", "Туған жылы", "Жынысы", "Ұйым"],
        vec!["1", "Айгүл Нұрланқызы", &young, "2005", "", "Мектеп-лицей №3"],
        vec!["2", "Ерлан Серікұлы", &older, "", "", ""],
    ]);
    let added = upload(&app, &w.youth_organiser, &path(&e), XLSX, book).await.expect(201).json();
    assert_eq!(added["added"], 2);
    assert_eq!(added["attendees"][0]["full_name"], "Айгүл Нұрланқызы");
    assert_eq!(added["attendees"][0]["iin_last2"], young[10..]);
    assert_eq!(added["attendees"][0]["birth_year"], 2005);
    assert_eq!(added["attendees"][0]["organisation"], "Мектеп-лицей №3");
    assert_eq!(added["attendees"][1]["iin_last2"], older[10..]);
}
both_stores!(an_xlsx_sheet_with_kazakh_headers_is_imported);

async fn a_batch_holds_at_most_1000_and_a_sheet_10000(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let batch = |n: usize| json!({"attendees": (0..n).map(|i| json!({"full_name": format!("Қатысушы {i}")})).collect::<Vec<_>>()});
    let r = app.post(&path(&e), &w.youth_organiser, &batch(1001)).await.expect(422);
    assert_eq!(fields(&r.json()), ["attendees"]);
    let r = app.post(&path(&e), &w.youth_organiser, &json!({"attendees": []})).await.expect(422);
    assert_eq!(fields(&r.json()), ["attendees"]);
    assert_eq!(app.post(&path(&e), &w.youth_organiser, &batch(1000)).await.expect(201).json()["added"], 1000);

    let sheet = |n: usize| {
        let mut s = String::from("ФИО;ИИН\n");
        for i in 0..n {
            s.push_str(&format!("Қатысушы {i};{}\n", iin(i as u32)));
        }
        s.into_bytes()
    };
    let other = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let r = upload(&app, &w.youth_organiser, &path(&other), "text/csv", sheet(10_001)).await.expect(422);
    assert_eq!(fields(&r.json()), ["sheet"]);
    let r = upload(&app, &w.youth_organiser, &path(&other), "text/csv", sheet(10_000)).await.expect(201);
    assert_eq!(r.json()["added"], 10_000);
    assert_eq!(read_event(&app, &w.admin, &other).await["attendance"]["total"], 10_000);
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&other)).await.len(), 10_000);
}
both_stores!(a_batch_holds_at_most_1000_and_a_sheet_10000);

#[derive(QueryableByName)]
struct HashRow {
    #[diesel(sql_type = Text)]
    event_id: String,
    #[diesel(sql_type = Text)]
    iin_hash: String,
}

fn hashes(app: &TestApp) -> Vec<(String, String)> {
    let mut conn = app.store.connect();
    let sql = "SELECT event_id, iin_hash FROM attendees WHERE iin_hash IS NOT NULL ORDER BY event_id";
    let rows: Vec<HashRow> = match &mut conn {
        adal::store::DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c).unwrap(),
        adal::store::DbConnection::Postgres(c) => diesel::sql_query(sql).load(c).unwrap(),
    };
    rows.into_iter().map(|r| (r.event_id, r.iin_hash)).collect()
}

async fn the_same_person_is_recognised_across_events_and_departments_but_once_per_event(app: TestApp) {
    let w = world(&app).await;
    let youth_event = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let policy_event = create(&app, &w.policy_organiser, &event(json!({}))).await;
    let person = iin(11);
    let one = |name: &str| json!({"attendees": [{"full_name": name, "iin": person}]});
    app.post(&path(&youth_event), &w.youth_organiser, &one("Айгүл Нұрланқызы")).await.expect(201);
    app.post(&path(&policy_event), &w.policy_organiser, &one("Нұрланқызы Айгүл")).await.expect(201);
    let stored = hashes(&app);
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].1, stored[1].1, "one person, one hash, whatever the name's spelling");
    assert_ne!(stored[0].0, stored[1].0);
    assert_eq!(stored[0].1.len(), 64);

    // Twice on one event: against those already added, and within one upload.
    let r = app.post(&path(&youth_event), &w.youth_organiser, &one("Айгүл")).await.expect(422);
    let problem = r.json();
    assert_eq!(fields(&problem), ["attendees[0].iin"]);
    assert_eq!(problem["errors"][0]["code"], "duplicate");
    let twice = format!("ФИО;ИИН\nА;{0}\nБ;{1}\nВ;{0}\n", iin(12), iin(13));
    let r = upload(&app, &w.youth_organiser, &path(&youth_event), "text/csv", twice.into_bytes()).await.expect(422);
    assert_eq!(fields(&r.json()), ["rows[2].iin"]);
    // Attendees without an IIN may share a name.
    let namesakes = json!({"attendees": [{"full_name": "Ерлан"}, {"full_name": "Ерлан"}]});
    app.post(&path(&youth_event), &w.youth_organiser, &namesakes).await.expect(201);
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&youth_event)).await.len(), 3);
}
both_stores!(the_same_person_is_recognised_across_events_and_departments_but_once_per_event);

async fn only_the_lead_and_partner_departments_see_and_change_attendees(app: TestApp) {
    let w: World = world(&app).await;
    let culture = app.create_department(&w.admin, "culture").await["id"].as_str().unwrap().to_string();
    let outsider = app.token_for(&w.admin, "culture-org", &culture, "organiser").await;
    let viewer = app.token_for(&w.admin, "youth-viewer", &w.youth, "viewer").await;
    let e = create(&app, &w.youth_organiser, &event(json!({"partner_department_ids": [w.policy]}))).await;
    let one = json!({"attendees": [{"full_name": "Айгүл Нұрланқызы", "iin": iin(21)}]});

    app.post(&path(&e), &outsider, &one).await.expect(403);
    app.get(&path(&e), &outsider).await.expect(403);
    app.post(&path(&e), &viewer, &one).await.expect(403);
    app.get(&path(&e), &viewer).await.expect(403);

    // The partner department may add and list; so may an admin.
    let added = app.post(&path(&e), &w.policy_organiser, &one).await.expect(201).json();
    assert_eq!(list_all(&app, &w.policy_organiser, &path(&e)).await.len(), 1);
    assert_eq!(list_all(&app, &w.admin, &path(&e)).await.len(), 1);
    let admin_add = json!({"attendees": [{"full_name": "Ерлан Серікұлы"}]});
    app.post(&path(&e), &w.admin, &admin_add).await.expect(201);

    // Removal: not by outsiders; by the lead, once.
    let one_path = format!("{}/{}", path(&e), added["attendees"][0]["id"].as_str().unwrap());
    app.send(app.request(Method::DELETE, &one_path, Some(&outsider))).await.expect(403);
    app.send(app.request(Method::DELETE, &one_path, Some(&viewer))).await.expect(403);
    app.send(app.request(Method::DELETE, &one_path, Some(&w.youth_organiser))).await.expect(204);
    app.send(app.request(Method::DELETE, &one_path, Some(&w.youth_organiser))).await.expect(404);
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 1);
    assert_eq!(read_event(&app, &w.admin, &e).await["attendance"]["total"], 2, "a removal does not lower it");
    let removed = app.audit_entries(&w.admin).await.into_iter().filter(|a| a["action"] == "attendees.remove").count();
    assert_eq!(removed, 1);

    // No such event.
    app.get("/api/v1/events/0193a6f2-0000-7000-8000-000000000000/attendees", &w.admin).await.expect(404);
}
both_stores!(only_the_lead_and_partner_departments_see_and_change_attendees);

async fn attendees_join_only_events_that_started_and_are_not_cancelled(app: TestApp) {
    let w = world(&app).await;
    let future = create(
        &app,
        &w.youth_organiser,
        &event(json!({"starts_at": "2099-03-14T15:00:00+05:00", "ends_at": "2099-03-14T17:00:00+05:00"})),
    )
    .await;
    let cancelled = create(&app, &w.youth_organiser, &event(json!({"status": "cancelled"}))).await;
    let one = json!({"attendees": [{"full_name": "Айгүл Нұрланқызы"}]});
    let r = app.post(&path(&future), &w.youth_organiser, &one).await.expect(422);
    assert_eq!(fields(&r.json()), ["starts_at"]);
    let r = app.post(&path(&cancelled), &w.youth_organiser, &one).await.expect(422);
    assert_eq!(fields(&r.json()), ["status"]);
    let sheet = "ФИО\nАйгүл\n".as_bytes().to_vec();
    upload(&app, &w.youth_organiser, &path(&cancelled), "text/csv", sheet).await.expect(422);
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&future)).await.len(), 0);
    assert_eq!(read_event(&app, &w.admin, &cancelled).await["status"], "cancelled");
}
both_stores!(attendees_join_only_events_that_started_and_are_not_cancelled);

async fn erasure_removes_a_person_from_every_event(app: TestApp) {
    let w = world(&app).await;
    let a = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let b = create(&app, &w.policy_organiser, &event(json!({}))).await;
    let person = iin(31);
    let with_person = |n: u32| json!({"attendees": [{"full_name": "Айгүл Нұрланқызы", "iin": person}, {"full_name": "Басқа", "iin": iin(n)}]});
    app.post(&path(&a), &w.youth_organiser, &with_person(32)).await.expect(201);
    app.post(&path(&b), &w.policy_organiser, &with_person(33)).await.expect(201);

    app.post("/api/v1/attendees/erasure", &w.youth_organiser, &json!({"iin": person})).await.expect(403);
    let r =
        app.post("/api/v1/attendees/erasure", &w.admin, &json!({"iin": with_bad_control(&person)})).await.expect(422);
    assert!(!r.text.contains(&person[..11]), "no IIN echoed");
    assert_eq!(fields(&r.json()), ["iin"]);

    let r = app.post("/api/v1/attendees/erasure", &w.admin, &json!({"iin": person})).await.expect(200);
    assert_eq!(r.json(), json!({"erased": 2}));
    for (e, token) in [(&a, &w.youth_organiser), (&b, &w.policy_organiser)] {
        let left = list_all(&app, token, &path(e)).await;
        assert_eq!(left.len(), 1, "only the other attendee is left");
        assert_ne!(left[0]["full_name"], "Айгүл Нұрланқызы");
        assert_eq!(read_event(&app, &w.admin, e).await["attendance"]["total"], 2, "reports stay as they were");
    }
    assert_eq!(hashes(&app).len(), 2);
    let r = app.post("/api/v1/attendees/erasure", &w.admin, &json!({"iin": person})).await.expect(200);
    assert_eq!(r.json(), json!({"erased": 0}));
    let entries = app.audit_entries(&w.admin).await;
    let erasures: Vec<&Value> = entries.iter().filter(|e| e["action"] == "attendees.erase").collect();
    assert_eq!(erasures.len(), 2);
    assert_eq!(erasures[0]["changes"]["erased"], 2);
}
both_stores!(erasure_removes_a_person_from_every_event);

async fn a_retried_upload_is_replayed_not_added_twice(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let sheet = format!("Аты-жөні;ЖСН\nАйгүл Нұрланқызы;{}\nЕрлан Серікұлы;\n", iin(41));
    let send = || {
        app.request(Method::POST, &path(&e), Some(&w.youth_organiser))
            .header("content-type", "text/csv")
            .header("idempotency-key", "sheet-1")
            .body(sheet.clone())
    };
    let first = app.send(send()).await.expect(201);
    let again = app.send(send()).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json(), first.json());
    assert_eq!(list_all(&app, &w.youth_organiser, &path(&e)).await.len(), 2);
    let adds = app.audit_entries(&w.admin).await.into_iter().filter(|a| a["action"] == "attendees.add").count();
    assert_eq!(adds, 1);
    // The same key with another body is refused, not replayed.
    let other = app
        .send(
            app.request(Method::POST, &path(&e), Some(&w.youth_organiser))
                .header("content-type", "text/csv")
                .header("idempotency-key", "sheet-1")
                .body("ФИО\nДана\n"),
        )
        .await;
    assert_ne!(other.status.as_u16(), 201, "{}", other.text);
}
both_stores!(a_retried_upload_is_replayed_not_added_twice);

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    t: String,
}

/// Everything the PostgreSQL database holds in its tables, as text.
fn postgres_text(app: &TestApp) -> String {
    let mut conn = app.store.connect();
    let adal::store::DbConnection::Postgres(c) = &mut conn else { unreachable!() };
    let tables: Vec<TextRow> = diesel::sql_query(
        "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .load(c)
    .unwrap();
    assert!(tables.iter().any(|t| t.t == "attendees"));
    let mut all = String::new();
    for table in tables {
        let rows: Vec<TextRow> =
            diesel::sql_query(format!("SELECT x::text AS t FROM \"{}\" x", table.t)).load(c).unwrap();
        for r in rows {
            all.push_str(&r.t);
            all.push('\n');
        }
    }
    all
}

async fn no_iin_is_kept_in_clear_anywhere(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let people: Vec<String> = (51..56).map(iin).collect();
    let batch = json!({"attendees": [
        {"full_name": "Айгүл Нұрланқызы", "iin": people[0]},
        {"full_name": "Ерлан Серікұлы", "iin": people[1]}
    ]});
    let sent = app
        .send(
            app.request(Method::POST, &path(&e), Some(&w.youth_organiser))
                .header("idempotency-key", "j-1")
                .json(&batch),
        )
        .await
        .expect(201);
    let sheet = format!("ФИО;ИИН\nДана Маратқызы;{}\nАсқар Болатұлы;{}\n", people[2], people[3]);
    let csv = app
        .send(
            app.request(Method::POST, &path(&e), Some(&w.youth_organiser))
                .header("content-type", "text/csv")
                .header("idempotency-key", "c-1")
                .body(sheet),
        )
        .await
        .expect(201);
    let erasure = app
        .send(
            app.request(Method::POST, "/api/v1/attendees/erasure", Some(&w.admin))
                .header("idempotency-key", "e-1")
                .json(&json!({"iin": people[4]})),
        )
        .await
        .expect(200);
    let listed = app.get(&path(&e), &w.youth_organiser).await.expect(200);
    for text in [&sent.text, &csv.text, &erasure.text, &listed.text] {
        for p in &people {
            assert!(!text.contains(p.as_str()), "an answer holds an IIN");
        }
    }

    // The audit trail: counts only — no IIN, no name.
    let entries = app.audit_entries(&w.admin).await;
    let trail: Vec<&Value> =
        entries.iter().filter(|a| a["action"].as_str().unwrap().starts_with("attendees.")).collect();
    assert_eq!(trail.len(), 3);
    let trail = serde_json::to_string(&trail).unwrap();
    for p in &people {
        assert!(!trail.contains(p.as_str()), "the audit trail holds an IIN");
    }
    assert!(!trail.contains("Айгүл") && !trail.contains("Дана"), "the audit trail holds a name: {trail}");

    // The store itself.
    let mut seen: HashSet<&str> = HashSet::new();
    match app.backend() {
        Backend::Sqlite => {
            let dir = app.store.dir.path();
            let mut bytes = std::fs::read(dir.join("adal.db")).unwrap();
            if let Ok(wal) = std::fs::read(dir.join("adal.db-wal")) {
                bytes.extend(wal);
            }
            let name = "Дана Маратқызы".as_bytes();
            assert!(bytes.windows(name.len()).any(|w| w == name), "the bytes read hold the attendees");
            for p in &people {
                if bytes.windows(12).any(|w| w == p.as_bytes()) {
                    seen.insert(p);
                }
            }
        }
        Backend::Postgres => {
            let all = postgres_text(&app);
            assert!(all.contains("Дана Маратқызы"), "the dump covers the attendees table");
            for p in &people {
                if all.contains(p.as_str()) {
                    seen.insert(p);
                }
            }
        }
    }
    assert!(seen.is_empty(), "{} IIN(s) found in clear in the store", seen.len());
}
both_stores!(no_iin_is_kept_in_clear_anywhere);
