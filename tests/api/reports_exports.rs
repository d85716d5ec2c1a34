//! Exports for people: `lang=kk|ru|en|auto` translates headers, sections and values and names
//! departments, instants are local, XLSX has a title, a bold frozen header, fitting widths and typed
//! cells; the comparison's `_previous` columns; and the CSV without `lang` exactly as machines
//! have always read it. Every file is read back with a real reader (`csv`, `calamine`).

use std::io::{Cursor, Read};

use calamine::Data;
use reqwest::Method;
use serde_json::json;

use crate::both_stores;
use crate::events::world;
use crate::helpers::TestApp;
use crate::reports::{csv_rows, fixture, xlsx_sheet};

const BASE: &str = "/api/v1/reports/summary?from=2024-03-01&to=2024-04-30";

async fn bytes(app: &TestApp, path: &str, token: &str) -> Vec<u8> {
    let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "{path}");
    r.bytes().await.unwrap().to_vec()
}

/// No cell of a file for people is an id standing alone.
fn no_bare_ids(rows: &[Vec<String>]) {
    for row in rows {
        for cell in row {
            assert!(uuid::Uuid::parse_str(cell).is_err(), "a bare id in {row:?}");
        }
    }
}

fn find<'a>(rows: &'a [Vec<String>], first: &str, second: &str) -> &'a Vec<String> {
    rows.iter()
        .find(|r| r[0] == first && r[1] == second)
        .unwrap_or_else(|| panic!("no row {first},{second} in {rows:?}"))
}

async fn without_lang_the_csv_is_exactly_what_machines_read(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let csv = app.get(&format!("{BASE}&format=csv"), &w.admin).await.expect(200);
    let expected = [
        "\u{feff}section,key,events_held,events_partnered,participants_total",
        "total,held,3,,77",
        "total,events_planned,1,,",
        "total,events_cancelled,1,,",
        "total,unique_people,,,0",
        "total,events_verified,0,,0",
        "total,events_flagged,3,,",
        "department,internal-policy,1,1,20",
        "department,youth-centre,2,0,57",
        "kind,lecture,2,,57",
        "kind,seminar,1,,20",
        "kind,round_table,0,,0",
        "kind,training,0,,0",
        "kind,meeting,0,,0",
        "kind,contest,0,,0",
        "kind,campaign,0,,0",
        "kind,other,0,,0",
        "audience,youth,2,,30",
        "audience,schoolchildren,0,,0",
        "audience,students,1,,0",
        "audience,civil_servants,1,,20",
        "audience,entrepreneurs,0,,0",
        "audience,general_public,0,,0",
        "month,2024-03,2,,70",
        "month,2024-04,1,,7",
        "basis,sign_in_sheet,,,50",
        "basis,headcount,,,27",
        "basis,estimate,,,0",
        "verified,internal-policy,0,,0",
        "verified,youth-centre,0,,0",
        "flagged,internal-policy,1,,",
        "flagged,youth-centre,2,,",
    ];
    assert_eq!(csv.text, expected.join("\r\n") + "\r\n", "the machines' CSV, byte for byte");
    // The departments view keeps its ids, codes and UTC instants.
    let d = app.get("/api/v1/reports/departments?from=2024-03-01&to=2024-04-30&format=csv", &w.admin).await.expect(200);
    let rows = csv_rows(d.text.as_bytes());
    assert_eq!(
        rows[0],
        vec![
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
            "events_verified",
            "participants_verified",
            "events_flagged",
            "unique_people",
            "level",
            "path"
        ]
    );
    let youth = rows.iter().find(|r| r[1] == "youth-centre").unwrap();
    assert_eq!((youth[0].as_str(), youth[9].as_str()), (w.youth.as_str(), "2024-03-31T20:30:00Z"));
}
both_stores!(without_lang_the_csv_is_exactly_what_machines_read);

async fn the_csv_in_kazakh_and_russian_says_words_and_names(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let kk = csv_rows(&bytes(&app, &format!("{BASE}&format=csv&lang=kk"), &w.admin).await);
    assert_eq!(kk[0], vec!["Бөлік", "Көрсеткіш", "Өткізілген іс-шаралар", "Серіктес ретінде", "Қатысушылар"]);
    assert_eq!(find(&kk, "Жалпы", "Өткізілген іс-шаралар")[4], "77");
    assert_eq!(find(&kk, "Бөлімдер", "youth-centre бөлімі (youth-centre)")[4], "57", "a department by name and code");
    assert_eq!(find(&kk, "Іс-шара түрлері", "Дәріс")[2], "2", "the console's word for lecture");
    assert_eq!(find(&kk, "Іс-шара түрлері", "Дөңгелек үстел")[2], "0");
    assert_eq!(find(&kk, "Сан қалай алынды", "Тіркеу парағы")[4], "50");
    assert_eq!(find(&kk, "Аудиториялар", "Мемлекеттік қызметшілер")[4], "20");
    no_bare_ids(&kk);
    assert!(kk.iter().skip(1).all(|r| !r[0].is_ascii()), "every section is named in words");

    let ru = csv_rows(&bytes(&app, &format!("{BASE}&format=csv&lang=ru"), &w.admin).await);
    assert_eq!(ru[0], vec!["Раздел", "Показатель", "Проведено мероприятий", "В качестве партнёра", "Участников"]);
    assert_eq!(find(&ru, "Подразделения", "отдел internal-policy (internal-policy)")[3], "1");
    assert_eq!(find(&ru, "Как получено число", "Подсчёт на месте")[4], "27");
    assert_eq!(find(&ru, "Месяцы", "2024-04")[4], "7");
    no_bare_ids(&ru);

    // lang=auto takes the language from Accept-Language; no lang ignores the header.
    let auto = app
        .send(
            app.request(Method::GET, &format!("{BASE}&format=csv&lang=auto"), Some(&w.admin))
                .header("accept-language", "de-DE, ru;q=0.8, en;q=0.5"),
        )
        .await
        .expect(200);
    assert_eq!(csv_rows(auto.text.as_bytes())[0][0], "Раздел");
    let plain = app
        .send(app.request(Method::GET, &format!("{BASE}&format=csv"), Some(&w.admin)).header("accept-language", "ru"))
        .await
        .expect(200);
    assert_eq!(csv_rows(plain.text.as_bytes())[0][0], "section");

    // Plan fulfilment: statuses in words, the responsible department by name.
    let (plan, _) = crate::plans::plan_with_items(&app, &w.admin, &w.youth, &[("1.1", "2024-01-31", 1, 10)]).await;
    let items = csv_rows(
        &bytes(&app, &format!("/api/v1/reports/plan-fulfilment?plan_id={plan}&format=csv&lang=ru"), &w.admin).await,
    );
    assert_eq!(items[0][0], "№");
    assert_eq!(items[1][2], "отдел youth-centre (youth-centre)");
    assert_eq!(items[1][3], "2024-01-31");
    assert_eq!(items[1][8], "Просрочено");
    no_bare_ids(&items);
}
both_stores!(the_csv_in_kazakh_and_russian_says_words_and_names);

async fn a_bad_lang_is_named_with_every_other_bad_parameter(app: TestApp) {
    let w = world(&app).await;
    let p = app.get("/api/v1/reports/summary?format=csv&lang=fr&compare=yesterday", &w.admin).await.expect(422).json();
    let fields: Vec<(&str, &str)> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert!(fields.contains(&("lang", "must be one of: kk, ru, en, auto")), "{fields:?}");
    assert!(fields.iter().any(|(f, _)| *f == "compare"), "{fields:?}");
    app.get("/api/v1/reports/departments?lang=KK", &w.admin).await.expect(422);
    app.get("/api/v1/reports/plan-fulfilment?plan_id=x&lang=de", &w.admin).await.expect(422);
    // JSON keeps codes and ids whatever lang says.
    fixture(&app, &w).await;
    let plain = app.get(BASE, &w.admin).await.json();
    assert_eq!(app.get(&format!("{BASE}&lang=ru"), &w.admin).await.json(), plain);
}
both_stores!(a_bad_lang_is_named_with_every_other_bad_parameter);

async fn the_comparison_adds_previous_columns_after_the_existing_ones(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    // Last year: one held event in March 2023 (a UTC+6 date), led by the policy department.
    crate::events::create(
        &app,
        &w.policy_organiser,
        &crate::events::event(
            json!({"kind": "seminar", "starts_at": "2023-03-09T10:00:00+06:00", "ends_at": "2023-03-09T12:00:00+06:00",
            "attendance": {"total": 33, "basis": "estimate"}}),
        ),
    )
    .await;
    let url = format!("{BASE}&compare=previous_year");
    let json = app.get(&url, &w.admin).await.json();
    let rows = csv_rows(&bytes(&app, &format!("{url}&format=csv"), &w.admin).await);
    assert_eq!(
        rows[0],
        vec![
            "section",
            "key",
            "events_held",
            "events_partnered",
            "participants_total",
            "events_held_previous",
            "events_partnered_previous",
            "participants_total_previous"
        ]
    );
    let held = find(&rows, "total", "held");
    assert_eq!(held[2..], ["3", "", "77", "1", "", "33"]);
    assert_eq!(json["previous"]["participants_total"], 33);
    assert_eq!(find(&rows, "month", "2024-03")[5..], ["1", "", "33"], "March beside the March before");
    assert_eq!(find(&rows, "month", "2024-04")[5..], ["0", "", "0"]);
    assert_eq!(find(&rows, "department", "youth-centre")[5..], ["0", "0", "0"]);
    assert_eq!(find(&rows, "basis", "estimate")[4..], ["0", "", "", "33"]);

    // previous_period pairs the months by position: April with the 30 days before it, in March.
    let period = csv_rows(
        &bytes(
            &app,
            "/api/v1/reports/summary?from=2024-04-01&to=2024-04-30&compare=previous_period&format=csv",
            &w.admin,
        )
        .await,
    );
    assert_eq!(find(&period, "month", "2024-04")[2..], ["1", "", "7", "2", "", "70"]);
    assert!(period.iter().all(|r| r[0] != "month" || r[1] == "2024-04"), "one month each: {period:?}");

    // The departments view: three compared columns after the existing ten.
    let d = csv_rows(
        &bytes(
            &app,
            "/api/v1/reports/departments?from=2024-03-01&to=2024-04-30&compare=previous_year&format=csv",
            &w.admin,
        )
        .await,
    );
    assert_eq!(d[0].len(), 19);
    assert_eq!(d[0][10..13], ["events_held_previous", "events_partnered_previous", "participants_total_previous"]);
    assert_eq!(
        d[0][13..],
        ["events_verified", "participants_verified", "events_flagged", "unique_people", "level", "path"]
    );
    let policy = d.iter().find(|r| r[1] == "internal-policy").unwrap();
    assert_eq!((policy[3].as_str(), policy[10].as_str(), policy[12].as_str()), ("1", "1", "33"));
}
both_stores!(the_comparison_adds_previous_columns_after_the_existing_ones);

/// The compared period of 16 days ending 15 March 2024 begins on 29 February: it touches two months
/// where the period touches one, and its second month is the period's own March. Its months pair
/// with the period's by position (March with February); March before, without a partner, gets a
/// row of its own inside the month section, keyed apart; no (section, key) is written twice.
async fn a_previous_period_csv_pairs_months_by_position_and_never_repeats_a_key(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    // Besides the fixture's A (10 March, 50) and B (20 March, 20): 9 people on 29 February.
    crate::events::create(
        &app,
        &w.youth_organiser,
        &crate::events::event(json!({"starts_at": "2024-02-29T10:00:00+05:00", "ends_at": "2024-02-29T12:00:00+05:00",
            "attendance": {"total": 9}})),
    )
    .await;
    let path = "/api/v1/reports/summary?from=2024-03-16&to=2024-03-31&compare=previous_period";
    let json = app.get(path, &w.admin).await.expect(200).json();
    assert_eq!(
        (json["previous"]["from"].as_str(), json["previous"]["to"].as_str()),
        (Some("2024-02-29"), Some("2024-03-15"))
    );
    for lang in ["", "&lang=en"] {
        let rows = csv_rows(&bytes(&app, &format!("{path}&format=csv{lang}"), &w.admin).await);
        let mut keys = std::collections::BTreeSet::new();
        for r in &rows[1..] {
            assert!(keys.insert((r[0].clone(), r[1].clone())), "{lang}: ({}, {}) twice in {rows:?}", r[0], r[1]);
        }
        // Each section's rows stand together, in the order of the sections.
        let mut sections: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
        sections.dedup();
        let distinct: std::collections::BTreeSet<&str> = sections.iter().copied().collect();
        assert_eq!(sections.len(), distinct.len(), "{lang}: a section split in {rows:?}");
    }
    let rows = csv_rows(&bytes(&app, &format!("{path}&format=csv"), &w.admin).await);
    let months: Vec<&[String]> = rows.iter().filter(|r| r[0] == "month").map(|r| &r[1..]).collect();
    assert_eq!(
        months,
        [["2024-03", "1", "", "20", "1", "", "9"], ["2024-03_previous", "", "", "", "1", "", "50"]],
        "March (B) beside February (29 February), then March before (A) alone"
    );
    assert_eq!(find(&rows, "total", "held")[2..], ["1", "", "20", "2", "", "59"]);
    let after: Vec<&str> =
        rows.iter().skip_while(|r| r[1] != "2024-03_previous").skip(1).map(|r| r[0].as_str()).collect();
    assert_eq!(
        after,
        ["basis", "basis", "basis", "verified", "verified", "flagged", "flagged"],
        "the unpartnered month stays in the month section"
    );
}
both_stores!(a_previous_period_csv_pairs_months_by_position_and_never_repeats_a_key);

/// A date cell's local date and time, as `YYYY-MM-DD HH:MM`.
fn date_cell(cell: &Data) -> String {
    match cell {
        Data::DateTime(d) => {
            let (y, m, day, h, min, _, _) = d.to_ymd_hms_milli();
            format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}")
        }
        other => panic!("not a date cell: {other:?}"),
    }
}

/// The raw XML of a workbook's part, to see what calamine does not report (panes, widths, bold).
fn part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

async fn the_workbook_for_people_has_a_title_a_frozen_bold_header_and_typed_cells(app: TestApp) {
    let w = world(&app).await;
    fixture(&app, &w).await;
    let book = bytes(
        &app,
        "/api/v1/reports/departments?from=2024-03-01&to=2024-04-30&compare=previous_year&format=xlsx&lang=kk",
        &w.admin,
    )
    .await;
    let sheet = xlsx_sheet(book.clone(), "Бөлімдер");
    assert_eq!(
        sheet[0][0],
        Data::String("Бөлімдердің жұмысы: 01.03.2024 – 30.04.2024 (салыстыру кезеңі: 01.03.2023 – 30.04.2023)".into())
    );
    let header: Vec<String> = sheet[1].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        header[..6],
        [
            "Бөлім",
            "Код",
            "Өткізілген іс-шаралар",
            "Өткізілген іс-шаралар (салыстыру кезеңі)",
            "Серіктес ретінде",
            "Серіктес ретінде (салыстыру кезеңі)"
        ]
    );
    let youth = sheet.iter().find(|r| r[1] == Data::String("youth-centre".into())).expect("a row by code");
    assert_eq!(youth[0], Data::String("youth-centre бөлімі".into()), "the department's Kazakh name");
    assert_eq!((youth[2].clone(), youth[3].clone()), (Data::Float(2.0), Data::Float(0.0)), "numbers typed as numbers");
    let last = header.iter().position(|h| h == "Соңғы іс-шара").unwrap();
    assert_eq!(date_cell(&youth[last]), "2024-04-01 01:30", "an instant as a date cell, in Almaty's time");
    for row in &sheet {
        for cell in row {
            assert!(uuid::Uuid::parse_str(&cell.to_string()).is_err(), "a bare id in {row:?}");
        }
    }
    let xml = part(&book, "xl/worksheets/sheet1.xml");
    assert!(
        xml.contains(r#"ySplit="2""#) && xml.contains(r#"state="frozen""#),
        "the rows down to the header are frozen"
    );
    assert!(xml.contains("<cols>") && xml.contains(r#"customWidth="1""#), "columns are sized");
    let styles = part(&book, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "a bold font for the title and header");

    // The summary in Russian: sheets by section name, the period's dates typed.
    let summary = bytes(&app, &format!("{BASE}&format=xlsx&lang=ru&compare=previous_period"), &w.admin).await;
    let total = xlsx_sheet(summary.clone(), "Итого");
    assert_eq!(
        total[1].iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        ["Показатель", "Значение", "Значение (период сравнения)"]
    );
    let from = total.iter().find(|r| r[0] == Data::String("Начало периода".into())).unwrap();
    assert_eq!((date_cell(&from[1]), date_cell(&from[2])), ("2024-03-01 00:00".into(), "2023-12-31 00:00".into()));
    let held = total.iter().find(|r| r[0] == Data::String("Проведённые мероприятия".into())).unwrap();
    assert_eq!(held[1], Data::Float(3.0));
    let kinds = xlsx_sheet(summary, "Виды мероприятий");
    assert!(kinds.iter().any(|r| r[0] == Data::String("Лекция".into()) && r[1] == Data::Float(2.0)));

    // The English title says what it is compared with as English does.
    let english = bytes(&app, &format!("{BASE}&format=xlsx&lang=en&compare=previous_year"), &w.admin).await;
    assert_eq!(
        xlsx_sheet(english, "Total")[0][0],
        Data::String("Summary of events: 2024-03-01 – 2024-04-30 (compared with 2023-03-01 – 2023-04-30)".into())
    );
}
both_stores!(the_workbook_for_people_has_a_title_a_frozen_bold_header_and_typed_cells);
