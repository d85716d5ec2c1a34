//! The department hierarchy: the depth and cycle rules, moves, subtree lists, reach by the nearest
//! administration (404 outside it, on every route), and roll-ups that equal an independent
//! recount, a person at two districts' events counted once for the region.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::events::{create, event};
use crate::helpers::TestApp;
use crate::reports::iin;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn department(app: &TestApp, admin: &str, code: &str, kind: &str, parent: Option<&str>) -> Value {
    let body = json!({"code": code, "name_kk": format!("{code} бөлімі"), "name_ru": format!("отдел {code}"),
        "kind": kind, "parent_id": parent});
    app.post("/api/v1/departments", admin, &body).await.expect(201).json()
}

fn codes(page: &Value) -> Vec<String> {
    let mut out: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()).collect();
    out.sort();
    out
}

fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

async fn patch_department(app: &TestApp, admin: &str, d: &Value, body: Value) -> crate::helpers::Reply {
    let now = app.get(&format!("/api/v1/departments/{}", id(d)), admin).await.expect(200);
    let etag = now.header("etag").unwrap();
    app.patch(&format!("/api/v1/departments/{}", id(d)), admin, &etag, &body).await
}

async fn six_levels_at_most_no_cycle_and_moves_are_audited(app: TestApp) {
    let admin = app.admin_token().await;
    let mut chain = vec![department(&app, &admin, "level-1", "administration", None).await];
    for level in 2..=6 {
        let parent = id(chain.last().unwrap());
        chain.push(department(&app, &admin, &format!("level-{level}"), "unit", Some(&parent)).await);
    }
    assert_eq!(chain[5]["parent_id"], chain[4]["id"]);
    assert_eq!(chain[0]["kind"], "administration");
    // A seventh level is refused, at create and by a move.
    let body = json!({"code": "level-7", "name_kk": "а", "name_ru": "б", "parent_id": id(&chain[5])});
    let r = app.post("/api/v1/departments", &admin, &body).await.expect(422).json();
    assert_eq!(field_codes(&r), [("parent_id".to_string(), "depth".to_string())]);
    let side = department(&app, &admin, "side", "unit", None).await;
    let below = department(&app, &admin, "side-child", "unit", Some(&id(&side))).await;
    // `side` with its child under level 5 would put the child at level 7.
    let r = patch_department(&app, &admin, &side, json!({"parent_id": id(&chain[4])})).await.expect(422).json();
    assert_eq!(field_codes(&r), [("parent_id".to_string(), "depth".to_string())]);
    // Under level 4 it fits: side at 5, its child at 6.
    let moved = patch_department(&app, &admin, &side, json!({"parent_id": id(&chain[3])})).await.expect(200).json();
    assert_eq!(moved["parent_id"], chain[3]["id"]);
    // Never under itself or below itself.
    let r = patch_department(&app, &admin, &chain[1], json!({"parent_id": id(&chain[3])})).await.expect(422).json();
    assert_eq!(field_codes(&r), [("parent_id".to_string(), "cycle".to_string())]);
    let r = patch_department(&app, &admin, &side, json!({"parent_id": id(&side)})).await.expect(422).json();
    assert_eq!(field_codes(&r), [("parent_id".to_string(), "cycle".to_string())]);

    // The lists: children, and a whole subtree (the moved department brought its child along).
    let children = app.get(&format!("/api/v1/departments?parent_id={}", id(&chain[3])), &admin).await.expect(200);
    assert_eq!(codes(&children.json()), ["level-5", "side"]);
    let subtree = app.get(&format!("/api/v1/departments?ancestor_id={}", id(&chain[3])), &admin).await.json();
    assert_eq!(codes(&subtree), ["level-4", "level-5", "level-6", "side", "side-child"]);
    let whole = app.get(&format!("/api/v1/departments?ancestor_id={}&limit=200", id(&chain[0])), &admin).await.json();
    assert!(codes(&whole).contains(&"side-child".to_string()), "{:?}", codes(&whole));
    assert_eq!(
        id(&below),
        id(subtree["items"].as_array().unwrap().iter().find(|d| d["code"] == "side-child").unwrap())
    );
    // The move is audited as one.
    let entries = app.audit_entries(&admin).await;
    let moves: Vec<&Value> = entries.iter().filter(|a| a["action"] == "department.move").collect();
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0]["changes"]["parent_id"]["to"], chain[3]["id"]);
}
both_stores!(six_levels_at_most_no_cycle_and_moves_are_audited);

/// A region with two districts (akimats), each with a youth centre, and a regional policy
/// department; an organiser in each district, a coordinator in the region.
struct Country {
    admin: String,
    region: Value,
    district_a: Value,
    district_b: Value,
    youth_a: Value,
    youth_b: Value,
    organiser_a: String,
    organiser_b: String,
    regional: String,
}

async fn country(app: &TestApp) -> Country {
    let admin = app.admin_token().await;
    let region = department(app, &admin, "region", "administration", None).await;
    let policy = department(app, &admin, "region-policy", "unit", Some(&id(&region))).await;
    let district_a = department(app, &admin, "district-a", "administration", Some(&id(&region))).await;
    let district_b = department(app, &admin, "district-b", "administration", Some(&id(&region))).await;
    let youth_a = department(app, &admin, "youth-a", "unit", Some(&id(&district_a))).await;
    let youth_b = department(app, &admin, "youth-b", "unit", Some(&id(&district_b))).await;
    let organiser_a = app.token_for(&admin, "org-a", &id(&youth_a), "organiser").await;
    let organiser_b = app.token_for(&admin, "org-b", &id(&youth_b), "organiser").await;
    let regional = app.token_for(&admin, "regional", &id(&policy), "coordinator").await;
    Country { admin, region, district_a, district_b, youth_a, youth_b, organiser_a, organiser_b, regional }
}

async fn held(app: &TestApp, token: &str, total: i64) -> Value {
    create(app, token, &event(json!({"attendance": {"total": total, "basis": "headcount"}}))).await
}

async fn a_district_reads_its_district_and_nothing_of_another(app: TestApp) {
    let c = country(&app).await;
    let e = held(&app, &c.organiser_a, 30).await;
    let ev = format!("/api/v1/events/{}", id(&e));
    app.post(&format!("{ev}/attendees"), &c.organiser_a, &json!({"attendees": [{"full_name": "Дана", "iin": iin(1)}]}))
        .await
        .expect(201);
    let link = json!({"kind": "press", "url": "https://district-a.example.kz/news/1"});
    let evidence = app.post(&format!("{ev}/evidence"), &c.organiser_a, &link).await.expect(201).json();

    // District B sees none of it: not the event, its attendees, its evidence, nor its department.
    for path in [
        ev.clone(),
        format!("{ev}/attendees"),
        format!("{ev}/evidence"),
        format!("{ev}/evidence/{}", id(&evidence)),
        format!("/api/v1/departments/{}", id(&c.youth_a)),
        format!("/api/v1/departments/{}", id(&c.district_a)),
        format!("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31&department_id={}", id(&c.youth_a)),
        format!("/api/v1/reports/departments?from=2024-01-01&to=2024-12-31&parent_id={}", id(&c.district_a)),
    ] {
        app.get(&path, &c.organiser_b).await.expect(404);
    }
    let patched = app.patch(&ev, &c.organiser_b, "\"1\"", &json!({"title": "Басқа аудан"})).await;
    assert_eq!(patched.status.as_u16(), 404, "{}", patched.text);
    let list = app.get("/api/v1/events?limit=200", &c.organiser_b).await.expect(200).json();
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &c.organiser_b).await.expect(200).json();
    assert_eq!(s["events_held"], 0, "district B's reports count nothing of district A");
    let departments = app.get("/api/v1/departments?limit=200", &c.organiser_b).await.json();
    assert_eq!(codes(&departments), ["district-b", "youth-b"]);

    // District A and the region see it; the region's coordinator too, and the whole region's list.
    app.get(&ev, &c.organiser_a).await.expect(200);
    app.get(&ev, &c.regional).await.expect(200);
    let all = app.get("/api/v1/departments?limit=200", &c.regional).await.json();
    assert_eq!(codes(&all), ["district-a", "district-b", "region", "region-policy", "youth-a", "youth-b"]);
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &c.regional).await.expect(200).json();
    assert_eq!(s["events_held"], 1);
    // The events list's department_id covers a subtree, as reports count it.
    let listed = |path: String| {
        let (app, token) = (&app, &c.regional);
        async move { app.get(&path, token).await.expect(200).json()["items"].as_array().unwrap().len() }
    };
    assert_eq!(listed(format!("/api/v1/events?department_id={}", id(&c.district_a))).await, 1);
    assert_eq!(
        listed(format!("/api/v1/events?department_id={}&include_descendants=false", id(&c.district_a))).await,
        0
    );
    // Who reads a subtree does not read the whole audit trail.
    app.get("/api/v1/audit", &c.regional).await.expect(403);
    app.get("/api/v1/audit", &c.admin).await.expect(200);

    // An event of A's partnered by B's centre: B sees the event, not A's department in its figures.
    let shared = create(
        &app,
        &c.organiser_a,
        &event(json!({"partner_department_ids": [id(&c.youth_b), id(&c.district_a)], "attendance": {"total": 9, "basis": "headcount"}})),
    )
    .await;
    app.get(&format!("/api/v1/events/{}", id(&shared)), &c.organiser_b).await.expect(200);
    let s = app.get("/api/v1/reports/summary?from=2024-01-01&to=2024-12-31", &c.organiser_b).await.expect(200).json();
    let shown: Vec<&str> = s["by_department"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(shown, ["youth-b"], "no row for a department outside B's reach");
    // A partner above the lead counts the event as partnered, alone.
    let flat =
        app.get("/api/v1/reports/departments?from=2024-01-01&to=2024-12-31", &c.regional).await.expect(200).json();
    let district_a = flat["items"].as_array().unwrap().iter().find(|i| i["code"] == "district-a").unwrap();
    assert_eq!(district_a["events_partnered"], 1);
    // The region's plan, with a line for district A's centre: district B reads the plan (it is
    // above B) but not A's line, nor its fulfilment.
    let plan = app
        .post(
            "/api/v1/plans",
            &c.admin,
            &json!({"year": 2024, "title": "Облыс жоспары", "department_id": id(&c.region)}),
        )
        .await
        .expect(201)
        .json();
    let plan = id(&plan);
    let line = json!({"number": "1.1", "title": "Дәрістер", "responsible_department_id": id(&c.youth_a),
        "due_date": "2024-12-31", "target_events": 1, "target_participants": 10});
    let item = app.post(&format!("/api/v1/plans/{plan}/items"), &c.admin, &line).await.expect(201).json();
    app.get(&format!("/api/v1/plans/{plan}"), &c.organiser_b).await.expect(200);
    let lines = |token: &str| {
        let (app, path) = (&app, format!("/api/v1/plans/{plan}/items"));
        let token = token.to_string();
        async move { app.get(&path, &token).await.expect(200).json()["items"].as_array().unwrap().len() }
    };
    assert_eq!(lines(&c.organiser_b).await, 0);
    assert_eq!(lines(&c.organiser_a).await, 1);
    app.get(&format!("/api/v1/plans/{plan}/items/{}", id(&item)), &c.organiser_b).await.expect(404);
    app.get(
        &format!("/api/v1/reports/plan-fulfilment?plan_id={plan}&department_id={}", id(&c.youth_a)),
        &c.organiser_b,
    )
    .await
    .expect(404);
    // Moving district A's youth centre under district B moves its events into B's reach.
    patch_department(&app, &c.admin, &c.youth_a, json!({"parent_id": id(&c.district_b)})).await.expect(200);
    // The principal cache keeps a reach for at most its time to live; a new token reads afresh.
    let organiser_b2 = app.token_for(&c.admin, "org-b2", &id(&c.youth_b), "organiser").await;
    app.get(&ev, &organiser_b2).await.expect(200);
}
both_stores!(a_district_reads_its_district_and_nothing_of_another);

async fn a_department_with_no_administration_above_reads_only_its_own_subtree(app: TestApp) {
    let c = country(&app).await;
    // A root forgotten outside every akimat: once administrations exist, it reads itself alone.
    let stray = department(&app, &c.admin, "stray", "unit", None).await;
    let stray_org = app.token_for(&c.admin, "stray-org", &id(&stray), "organiser").await;
    let e = held(&app, &c.organiser_a, 10).await;
    app.get(&format!("/api/v1/events/{}", id(&e)), &stray_org).await.expect(404);
    let departments = app.get("/api/v1/departments?limit=200", &stray_org).await.json();
    assert_eq!(codes(&departments), ["stray"]);
    let own = held(&app, &stray_org, 5).await;
    app.get(&format!("/api/v1/events/{}", id(&own)), &stray_org).await.expect(200);
    app.get(&format!("/api/v1/events/{}", id(&own)), &c.organiser_a).await.expect(404);
    // An admin reads everything.
    app.get(&format!("/api/v1/events/{}", id(&own)), &c.admin).await.expect(200);
    let _ = (&c.region, &c.youth_b);
}
both_stores!(a_department_with_no_administration_above_reads_only_its_own_subtree);

async fn the_regional_roll_up_equals_a_recount_counting_a_person_once(app: TestApp) {
    let c = country(&app).await;
    // (organiser, total, named attendees by IIN serial): person 1 attends in both districts.
    let plan: [(&String, i64, &[u32]); 4] = [
        (&c.organiser_a, 30, &[1, 2]),
        (&c.organiser_a, 20, &[2, 3]),
        (&c.organiser_b, 40, &[1, 4]),
        (&c.organiser_b, 5, &[]),
    ];
    for (token, total, people) in plan {
        let e = held(&app, token, total).await;
        if !people.is_empty() {
            let rows: Vec<Value> =
                people.iter().map(|p| json!({"full_name": format!("Адам {p}"), "iin": iin(*p)})).collect();
            app.post(&format!("/api/v1/events/{}/attendees", id(&e)), token, &json!({"attendees": rows}))
                .await
                .expect(201);
        }
    }
    // The recount, from the plan: per district, and for the region.
    let recount = |tokens: &[&String]| {
        let mine: Vec<_> = plan.iter().filter(|(t, _, _)| tokens.contains(t)).collect();
        let people: HashSet<u32> = mine.iter().flat_map(|(_, _, p)| p.iter().copied()).collect();
        (mine.len() as i64, mine.iter().map(|(_, t, _)| t).sum::<i64>(), people.len() as i64)
    };
    let figures = |row: &Value| {
        (
            row["events_held"].as_i64().unwrap(),
            row["participants_total"].as_i64().unwrap(),
            row["unique_people"].as_i64().unwrap(),
        )
    };
    let period = "from=2024-01-01&to=2024-12-31";
    let r = app
        .get(&format!("/api/v1/reports/departments?{period}&parent_id={}", id(&c.region)), &c.regional)
        .await
        .expect(200)
        .json();
    assert_eq!(r["parent_id"], c.region["id"]);
    let row = |code: &str| r["items"].as_array().unwrap().iter().find(|i| i["code"] == code).cloned().unwrap();
    assert_eq!(figures(&row("district-a")), recount(&[&c.organiser_a]));
    assert_eq!(figures(&row("district-b")), recount(&[&c.organiser_b]));
    assert_eq!(figures(&row("region-policy")), (0, 0, 0), "an idle child has its row");
    assert_eq!(row("district-a")["level"], 2);
    assert_eq!(row("district-a")["path"], "region/district-a");
    // The region as a whole: person 1 once, though both districts count them.
    let whole = recount(&[&c.organiser_a, &c.organiser_b]);
    assert_eq!(whole.2, 4);
    let a = figures(&row("district-a"));
    let b = figures(&row("district-b"));
    assert!(a.2 + b.2 > whole.2, "the children's people summed would count person 1 twice");
    let s = app
        .get(&format!("/api/v1/reports/summary?{period}&department_id={}", id(&c.region)), &c.regional)
        .await
        .expect(200)
        .json();
    assert_eq!(
        (
            s["events_held"].as_i64().unwrap(),
            s["participants_total"].as_i64().unwrap(),
            s["unique_people"].as_i64().unwrap()
        ),
        whole
    );
    // top=true: the top of the caller's reach, the region, rolled up in one row.
    let top = app.get(&format!("/api/v1/reports/departments?{period}&top=true"), &c.regional).await.expect(200).json();
    let rows = top["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{top}");
    assert_eq!(rows[0]["code"], "region");
    assert_eq!(figures(&rows[0]), whole);
    // An admin reads every root: the region among them, with the same figures.
    let roots = app.get(&format!("/api/v1/reports/departments?{period}&top=true"), &c.admin).await.expect(200).json();
    let region = roots["items"].as_array().unwrap().iter().find(|i| i["code"] == "region").unwrap();
    assert_eq!(figures(region), whole);
    // include_descendants=false: the region's own department alone led nothing.
    let alone = app
        .get(
            &format!("/api/v1/reports/summary?{period}&department_id={}&include_descendants=false", id(&c.region)),
            &c.regional,
        )
        .await
        .expect(200)
        .json();
    assert_eq!(alone["events_held"], 0);
    // Without parent_id each row counts its department alone, so the rows add up to the total.
    let flat = app.get(&format!("/api/v1/reports/departments?{period}"), &c.regional).await.expect(200).json();
    let held: i64 = flat["items"].as_array().unwrap().iter().map(|i| i["events_held"].as_i64().unwrap()).sum();
    assert_eq!(held, whole.0);
    let youth_a = flat["items"].as_array().unwrap().iter().find(|i| i["code"] == "youth-a").unwrap();
    assert_eq!(youth_a["level"], 3);
    assert_eq!(youth_a["path"], "region/district-a/youth-a");
    // The files carry the tree.
    let csv = app
        .send(app.request(Method::GET, &format!("/api/v1/reports/departments?{period}&format=csv"), Some(&c.regional)))
        .await
        .expect(200)
        .text;
    assert!(csv.lines().next().unwrap().ends_with("unique_people,level,path"), "{csv}");
    assert!(csv.lines().any(|l| l.contains("youth-a") && l.ends_with(",3,3,region/district-a/youth-a")), "{csv}");
    let _ = (&c.youth_b, &c.district_b, &c.youth_a);
}
both_stores!(the_regional_roll_up_equals_a_recount_counting_a_person_once);
