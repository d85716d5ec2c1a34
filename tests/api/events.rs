//! Events: every rule, filter and access decision; Kazakh search; cursor pages; the sync walk;
//! idempotent retries and concurrent writers.

use std::collections::HashSet;

use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::TestApp;

/// A valid event body in the past (so attendance may be recorded), with `changes` merged in.
pub fn event(changes: Value) -> Value {
    let mut body = json!({
        "title": "Сыбайлас жемқорлыққа қарсы мәдениет: дөңгелек үстел",
        "description": "Жастармен адалдық туралы әңгіме",
        "kind": "round_table",
        "format": "in_person",
        "starts_at": "2024-03-14T15:00:00+05:00",
        "ends_at": "2024-03-14T17:00:00+05:00",
        "venue": "Қалалық жастар ресурстық орталығы",
        "audiences": ["youth", "students"],
        "organisers": [{"full_name": "Айгүл Нұрланқызы", "role": "speaker", "organisation": "Жастар орталығы"}],
        "planned_participants": 60
    });
    adal::http::merge_patch::apply(&mut body, &changes);
    body
}

/// An admin, two departments and an organiser token in each.
pub struct World {
    pub admin: String,
    pub youth: String,
    pub policy: String,
    pub youth_organiser: String,
    pub policy_organiser: String,
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.admin_token().await;
    let youth = app.create_department(&admin, "youth-centre").await["id"].as_str().unwrap().to_string();
    let policy = app.create_department(&admin, "internal-policy").await["id"].as_str().unwrap().to_string();
    let youth_organiser = app.token_for(&admin, "youth-org", &youth, "organiser").await;
    let policy_organiser = app.token_for(&admin, "policy-org", &policy, "organiser").await;
    World { admin, youth, policy, youth_organiser, policy_organiser }
}

pub async fn create(app: &TestApp, token: &str, body: &Value) -> Value {
    app.post("/api/v1/events", token, body).await.expect(201).json()
}

fn fields(problem: &Value) -> HashSet<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

async fn an_event_round_trips_with_every_field(app: TestApp) {
    let w = world(&app).await;
    let body = event(json!({"partner_department_ids": [w.policy]}));
    let created = app.post("/api/v1/events", &w.youth_organiser, &body).await.expect(201);
    let location = created.header("location").unwrap();
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let e = app.get(&location, &w.admin).await.expect(200).json();
    assert_eq!(e, created.json());
    assert_eq!(e["title"], body["title"]);
    assert_eq!(e["starts_at"], "2024-03-14T10:00:00Z", "stored and returned in UTC");
    assert_eq!(e["lead_department_id"], w.youth, "the caller's department by default");
    assert_eq!(e["partner_department_ids"], json!([w.policy]));
    assert_eq!(e["audiences"], json!(["youth", "students"]));
    assert_eq!(e["organisers"][0]["full_name"], "Айгүл Нұрланқызы");
    assert_eq!(e["status"], "planned");
    assert_eq!(e["attendance"], Value::Null);
    assert_eq!(e["version"], 1);
    let me = app.get("/api/v1/auth/me", &w.youth_organiser).await.json();
    assert_eq!(e["created_by"], me["id"]);
}
both_stores!(an_event_round_trips_with_every_field);

async fn each_broken_rule_is_named(app: TestApp) {
    let w = world(&app).await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"title": "  ab "}), "title"),
        (json!({"ends_at": "2024-03-14T14:00:00+05:00"}), "ends_at"),
        (json!({"ends_at": "2024-03-29T15:00:01+05:00"}), "ends_at"),
        (json!({"planned_participants": 100001}), "planned_participants"),
        (json!({"planned_participants": -1}), "planned_participants"),
        (json!({"audiences": []}), "audiences"),
        (json!({"audiences": ["youth", "youth"]}), "audiences[1]"),
        (json!({"partner_department_ids": [w.policy, w.policy]}), "partner_department_ids[1]"),
        (json!({"partner_department_ids": [w.youth]}), "partner_department_ids[0]"),
        (json!({"partner_department_ids": ["0193a6f2-0000-7000-8000-000000000000"]}), "partner_department_ids[0]"),
        (json!({"plan_item_id": "0193a6f2-0000-7000-8000-000000000000"}), "plan_item_id"),
        (json!({"kind": "party"}), "kind"),
        (json!({"starts_at": "2024-03-14T15:00:00"}), "starts_at"),
        (json!({"organisers": [{"full_name": "", "role": "speaker"}]}), "organisers[0].full_name"),
        (json!({"created_by": "me"}), "created_by"),
        (json!({"status": "held"}), "status"),
        (
            json!({"starts_at": "2099-03-14T15:00:00+05:00", "ends_at": "2099-03-14T17:00:00+05:00", "attendance": {"total": 5}}),
            "attendance",
        ),
        (json!({"attendance": {"total": 5, "breakdown": [{"audience": "youth", "count": 6}]}}), "attendance.breakdown"),
    ];
    for (change, field) in cases {
        let r = app.post("/api/v1/events", &w.youth_organiser, &event(change.clone())).await;
        assert_eq!(r.status.as_u16(), 422, "{change}: {}", r.text);
        assert!(fields(&r.json()).contains(field), "{change}: expected {field} in {}", r.text);
    }
    // A campaign may run up to 92 days.
    let campaign = json!({"kind": "campaign", "ends_at": "2024-06-13T15:00:00+05:00"});
    app.post("/api/v1/events", &w.youth_organiser, &event(campaign)).await.expect(201);
}
both_stores!(each_broken_rule_is_named);

async fn a_past_event_is_logged_held_in_one_request(app: TestApp) {
    let w = world(&app).await;
    let attendance = json!({"total": 64, "basis": "sign_in_sheet", "breakdown": [{"audience": "youth", "count": 40}]});
    let e = create(&app, &w.youth_organiser, &event(json!({"attendance": attendance}))).await;
    assert_eq!(e["status"], "held");
    assert_eq!(e["attendance"], attendance);
    let headcount = create(&app, &w.youth_organiser, &event(json!({"attendance": {"total": 12}}))).await;
    assert_eq!(headcount["attendance"]["basis"], "headcount", "the default basis");
}
both_stores!(a_past_event_is_logged_held_in_one_request);

/// A read, a page and a create's answer show an event identically: organisers in the order given,
/// partners in id order, an organiser without organisation as null, every breakdown line.
async fn one_event_and_a_page_show_every_child_the_same(app: TestApp) {
    let w = world(&app).await;
    let admin = &w.admin;
    let third = app.create_department(admin, "education").await["id"].as_str().unwrap().to_string();
    let fourth = app.create_department(admin, "health").await["id"].as_str().unwrap().to_string();
    let mut partners = vec![w.policy.clone(), third, fourth];
    partners.reverse();
    let organisers = json!([
        {"full_name": "Яна Ким", "role": "moderator", "organisation": null},
        {"full_name": "Әлия Сейітқызы", "role": "speaker", "organisation": "Адал азамат"},
        {"full_name": "Бауыржан Ерланұлы", "role": "other", "organisation": "\"Жастар\" / {json}"}
    ]);
    let attendance = json!({"total": 90, "basis": "estimate", "breakdown": [
        {"audience": "youth", "count": 50}, {"audience": "students", "count": 25}, {"audience": "civil_servants", "count": 15}
    ]});
    let body = event(json!({
        "lead_department_id": w.youth,
        "partner_department_ids": partners,
        "audiences": ["students", "youth", "civil_servants"],
        "organisers": organisers,
        "attendance": attendance,
    }));
    let created = create(&app, admin, &body).await;
    let id = created["id"].as_str().unwrap();
    let read = app.get(&format!("/api/v1/events/{id}"), admin).await.expect(200).json();
    let page = app.get("/api/v1/events?limit=100", admin).await.expect(200).json();
    let listed = page["items"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap();
    assert_eq!(&read, listed, "a read and a page agree");
    assert_eq!(read, created, "the create's answer is the read");
    assert_eq!(read["organisers"], organisers, "organisers in the order given, a missing organisation as null");
    partners.sort();
    assert_eq!(read["partner_department_ids"], json!(partners), "partners in id order");
    assert_eq!(read["audiences"], json!(["youth", "students", "civil_servants"]));
    let mut lines: Vec<(String, i64)> = read["attendance"]["breakdown"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["audience"].as_str().unwrap().to_string(), b["count"].as_i64().unwrap()))
        .collect();
    lines.sort();
    assert_eq!(
        lines,
        vec![("civil_servants".to_string(), 15), ("students".to_string(), 25), ("youth".to_string(), 50)]
    );
}
both_stores!(one_event_and_a_page_show_every_child_the_same);

/// Reads take an event's children from the JSON its writes keep beside the row; each write that
/// changes a child (a PATCH of audiences, partners and organisers, a PUT of attendance, a PATCH
/// that clears them) shows in the next read and page, and the child tables that filters use agree.
async fn every_write_of_children_shows_in_the_next_read(app: TestApp) {
    let w = world(&app).await;
    let admin = &w.admin;
    let e = create(&app, admin, &event(json!({"lead_department_id": w.youth}))).await;
    let id = e["id"].as_str().unwrap();
    let path = format!("/api/v1/events/{id}");
    let read_both = || async {
        let read = app.get(&path, admin).await.expect(200).json();
        let page = app.get("/api/v1/events?limit=100", admin).await.expect(200).json();
        let listed = page["items"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap().clone();
        assert_eq!(read, listed, "a read and a page agree");
        read
    };
    let organisers = json!([
        {"full_name": "Ерлан Сәбитұлы", "role": "organiser", "organisation": null},
        {"full_name": "Айгүл Нұрланқызы", "role": "speaker", "organisation": "Жастар орталығы"}
    ]);
    let patched = app
        .patch(
            &path,
            admin,
            "\"1\"",
            &json!({"audiences": ["civil_servants"], "partner_department_ids": [w.policy], "organisers": organisers}),
        )
        .await
        .expect(200)
        .json();
    let read = read_both().await;
    assert_eq!(read, patched, "the PATCH's answer is the next read");
    assert_eq!(read["audiences"], json!(["civil_servants"]));
    assert_eq!(read["partner_department_ids"], json!([w.policy]));
    assert_eq!(read["organisers"], organisers);
    let by_audience = app.get("/api/v1/events?audience=civil_servants", admin).await.expect(200).json();
    assert_eq!(by_audience["items"].as_array().unwrap().len(), 1, "the audience filter sees the new child row");
    let by_partner = app.get(&format!("/api/v1/events?department_id={}", w.policy), admin).await.expect(200).json();
    assert_eq!(by_partner["items"].as_array().unwrap().len(), 1, "the partner filter sees the new child row");

    let attendance =
        json!({"total": 30, "basis": "estimate", "breakdown": [{"audience": "civil_servants", "count": 30}]});
    let put = app.send(
        app.request(Method::PUT, &format!("{path}/attendance"), Some(admin))
            .header("if-match", "\"2\"")
            .json(&attendance),
    );
    let answered = put.await.expect(200).json();
    let read = read_both().await;
    assert_eq!(read, answered, "the attendance PUT's answer is the next read");
    assert_eq!(read["attendance"], attendance);

    let cleared = app
        .patch(&path, admin, "\"3\"", &json!({"partner_department_ids": [], "organisers": []}))
        .await
        .expect(200)
        .json();
    let read = read_both().await;
    assert_eq!(read, cleared);
    assert_eq!(read["partner_department_ids"], json!([]));
    assert_eq!(read["organisers"], json!([]));
    assert_eq!(read["attendance"]["breakdown"], attendance["breakdown"], "a PATCH keeps the breakdown");
}
both_stores!(every_write_of_children_shows_in_the_next_read);

/// The migration that added the `children` column fills it for the events already stored, with
/// exactly what the server's own writes put there.
async fn the_children_migration_fills_events_written_before_it(app: TestApp) {
    use adal::store::DbConnection;
    use adal::store::schema::events;
    use diesel::prelude::*;
    use diesel_migrations::MigrationHarness;

    let w = world(&app).await;
    let third = app.create_department(&w.admin, "education").await["id"].as_str().unwrap().to_string();
    let attendance =
        json!({"total": 30, "breakdown": [{"audience": "youth", "count": 20}, {"audience": "students", "count": 10}]});
    let organisers = json!([
        {"full_name": "Яна Ким", "role": "moderator", "organisation": null},
        {"full_name": "Әлия Сейітқызы", "role": "speaker", "organisation": "\"Адал\" / {json}"}
    ]);
    let body = event(json!({
        "lead_department_id": w.youth,
        "partner_department_ids": [third, w.policy],
        "organisers": organisers,
        "attendance": attendance,
    }));
    create(&app, &w.admin, &body).await;
    create(&app, &w.admin, &event(json!({"lead_department_id": w.policy, "organisers": []}))).await;
    let mut conn = app.store.connect();
    let children = |conn: &mut DbConnection| -> Vec<(String, Value)> {
        let rows: Vec<(String, String)> =
            events::table.select((events::id, events::children)).order(events::id).load(conn).unwrap();
        rows.into_iter().map(|(id, c)| (id, serde_json::from_str(&c).unwrap())).collect()
    };
    let written = children(&mut conn);
    assert_eq!(written.len(), 2);
    assert_eq!(written[0].1[1].as_array().unwrap().len(), 2, "the server wrote both partners: {written:?}");
    // Back to just before the migration (reverting any newer ones too), then forward again.
    loop {
        let reverted = match &mut conn {
            DbConnection::Sqlite(c) => c.revert_last_migration(adal::store::SQLITE_MIGRATIONS).unwrap(),
            DbConnection::Postgres(c) => c.revert_last_migration(adal::store::POSTGRES_MIGRATIONS).unwrap(),
        };
        if reverted.to_string().starts_with("20261126000006") {
            break;
        }
    }
    assert!(!adal::store::run_migrations(&mut conn).unwrap().is_empty());
    assert_eq!(children(&mut conn), written);
}
both_stores!(the_children_migration_fills_events_written_before_it);

async fn organisers_act_for_their_own_department_only(app: TestApp) {
    let w = world(&app).await;
    // Create: own department yes, another's no; an admin may lead for any.
    app.post("/api/v1/events", &w.youth_organiser, &event(json!({"lead_department_id": w.policy}))).await.expect(403);
    let by_admin = create(&app, &w.admin, &event(json!({"lead_department_id": w.policy}))).await;
    assert_eq!(by_admin["lead_department_id"], w.policy);
    let e = create(&app, &w.youth_organiser, &event(json!({"partner_department_ids": [w.policy]}))).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    // Change and delete: the lead only.
    app.patch(&path, &w.policy_organiser, "\"1\"", &json!({"venue": "x"})).await.expect(403);
    app.send(app.request(Method::DELETE, &path, Some(&w.policy_organiser)).header("if-match", "\"1\""))
        .await
        .expect(403);
    // Nor may the lead hand it to another department.
    app.patch(&path, &w.youth_organiser, "\"1\"", &json!({"lead_department_id": w.policy})).await.expect(403);
    // Attendance: the lead or a partner.
    let third = app.create_department(&w.admin, "legal-support").await["id"].as_str().unwrap().to_string();
    let outsider = app.token_for(&w.admin, "legal-org", &third, "organiser").await;
    let attendance = json!({"total": 30});
    let put = |token: &str, etag: &str| {
        app.send(
            app.request(Method::PUT, &format!("{path}/attendance"), Some(token))
                .header("if-match", etag)
                .json(&attendance),
        )
    };
    put(&outsider, "\"1\"").await.expect(403);
    put(&w.policy_organiser, "\"1\"").await.expect(200);
    // Coordinators and viewers read but do not create.
    let coordinator = app.token_for(&w.admin, "coord", &w.policy, "coordinator").await;
    let viewer = app.token_for(&w.admin, "viewer", &w.policy, "viewer").await;
    for token in [&coordinator, &viewer] {
        app.get(&path, token).await.expect(200);
        app.get("/api/v1/events", token).await.expect(200);
        app.post("/api/v1/events", token, &event(json!({}))).await.expect(403);
    }
    // Clients by their scopes and department.
    let client = app
        .post(
            "/api/v1/clients",
            &w.admin,
            &json!({"name": "Портал", "department_id": w.youth, "scopes": ["events:read"]}),
        )
        .await
        .expect(201)
        .json();
    let t = app.token(&json!({"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]})).await.json();
    let reader = t["access_token"].as_str().unwrap();
    app.get(&path, reader).await.expect(200);
    app.post("/api/v1/events", reader, &event(json!({}))).await.expect(403);
    let writer_client = app
        .post(
            "/api/v1/clients",
            &w.admin,
            &json!({"name": "Жүйе", "department_id": w.youth, "scopes": ["events:read", "events:write"]}),
        )
        .await
        .expect(201)
        .json();
    let t = app.token(&json!({"grant_type": "client_credentials", "client_id": writer_client["client_id"], "client_secret": writer_client["client_secret"]})).await.json();
    let writer = t["access_token"].as_str().unwrap();
    let made = create(&app, writer, &event(json!({}))).await;
    assert_eq!(made["lead_department_id"], w.youth);
    app.post("/api/v1/events", writer, &event(json!({"lead_department_id": w.policy}))).await.expect(403);
}
both_stores!(organisers_act_for_their_own_department_only);

async fn status_moves_only_as_the_contract_allows(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    let t = &w.youth_organiser;
    app.patch(&path, t, "\"1\"", &json!({"status": "held"})).await.expect(422);
    assert_eq!(
        app.patch(&path, t, "\"1\"", &json!({"status": "cancelled"})).await.expect(200).json()["status"],
        "cancelled"
    );
    let put = |etag: &str, body: Value| {
        app.send(app.request(Method::PUT, &format!("{path}/attendance"), Some(t)).header("if-match", etag).json(&body))
    };
    let r = put("\"2\"", json!({"total": 10})).await.expect(422).json();
    assert_eq!(r["errors"][0]["field"], "status");
    assert_eq!(
        app.patch(&path, t, "\"2\"", &json!({"status": "planned"})).await.expect(200).json()["status"],
        "planned"
    );
    // Attendance without If-Match is 428; with it, the event is held.
    app.send(app.request(Method::PUT, &format!("{path}/attendance"), Some(t)).json(&json!({"total": 10})))
        .await
        .expect(428);
    let held = put("\"3\"", json!({"total": 10, "basis": "estimate"})).await.expect(200);
    assert_eq!(held.header("etag").as_deref(), Some("\"4\""));
    assert_eq!(held.json()["status"], "held");
    app.patch(&path, t, "\"4\"", &json!({"status": "cancelled"})).await.expect(422);
    app.patch(
        &path,
        t,
        "\"4\"",
        &json!({"starts_at": "2099-01-01T10:00:00+05:00", "ends_at": "2099-01-01T12:00:00+05:00"}),
    )
    .await
    .expect(422);
    // Attendance on an event that has not started.
    let future = create(
        &app,
        t,
        &event(json!({"starts_at": "2099-03-14T15:00:00+05:00", "ends_at": "2099-03-14T17:00:00+05:00"})),
    )
    .await;
    let r = app
        .send(
            app.request(Method::PUT, &format!("/api/v1/events/{}/attendance", future["id"].as_str().unwrap()), Some(t))
                .header("if-match", "\"1\"")
                .json(&json!({"total": 3})),
        )
        .await
        .expect(422)
        .json();
    assert_eq!(r["errors"][0]["field"], "starts_at");
}
both_stores!(status_moves_only_as_the_contract_allows);

async fn a_deleted_event_leaves_lists_and_reads(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    app.send(app.request(Method::DELETE, &path, Some(&w.youth_organiser))).await.expect(428);
    app.send(app.request(Method::DELETE, &path, Some(&w.youth_organiser)).header("if-match", "\"1\""))
        .await
        .expect(204);
    app.get(&path, &w.admin).await.expect(404);
    let list = app.get("/api/v1/events", &w.admin).await.json();
    assert!(list["items"].as_array().unwrap().is_empty());
    let entries = app.audit_entries(&w.admin).await;
    assert!(entries.iter().any(|x| x["action"] == "event.delete" && x["entity_id"] == e["id"]));
}
both_stores!(a_deleted_event_leaves_lists_and_reads);

async fn every_filter_selects_what_it_names(app: TestApp) {
    let w = world(&app).await;
    let t = &w.youth_organiser;
    // Almaty is UTC+5 from 2024-03-01: 20:30Z on 31 March is 01:30 on 1 April there.
    let late = create(&app, t, &event(json!({"title": "Наурыздың соңы", "starts_at": "2024-03-31T20:30:00Z", "ends_at": "2024-03-31T22:00:00Z", "kind": "lecture", "audiences": ["civil_servants"]}))).await;
    let march = create(&app, t, &event(json!({"title": "Наурыз", "starts_at": "2024-03-10T10:00:00+05:00", "ends_at": "2024-03-10T12:00:00+05:00", "partner_department_ids": [w.policy]}))).await;
    let by_policy =
        create(&app, &w.policy_organiser, &event(json!({"title": "Саясат бөлімі", "kind": "seminar"}))).await;
    let cancelled = create(&app, t, &event(json!({"title": "Болмаған", "status": "cancelled"}))).await;
    // A plan item to link to, made directly in the store (plans have their own routes).
    let mut conn = app.store.connect();
    conn.batch_execute(&format!(
        "INSERT INTO plans (id, year, title, department_id, version, created_at, updated_at) VALUES ('p1', 2024, 'Жоспар', '{0}', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00');
         INSERT INTO plan_items (id, plan_id, number, title, responsible_department_id, due_date, target_events, target_participants, version, created_at, updated_at)
         VALUES ('i1', 'p1', '1.3', 'Дөңгелек үстелдер', '{0}', '2024-12-31', 4, 200, 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00');",
        w.youth
    ))
    .unwrap();
    let linked = create(&app, t, &event(json!({"title": "Жоспар бойынша", "plan_item_id": "i1"}))).await;

    let ids = |query: &'static str| {
        let app = &app;
        let admin = w.admin.clone();
        async move {
            let r = app.get(&format!("/api/v1/events?{query}"), &admin).await.expect(200).json();
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string())
                .collect::<HashSet<String>>()
        }
    };
    let set =
        |events: &[&Value]| events.iter().map(|e| e["id"].as_str().unwrap().to_string()).collect::<HashSet<String>>();
    assert_eq!(ids("from=2024-04-01&to=2024-04-01").await, set(&[&late]));
    assert_eq!(ids("from=2024-03-01&to=2024-03-31").await, set(&[&march, &by_policy, &cancelled, &linked]));
    let by_dept = app.get(&format!("/api/v1/events?department_id={}", w.policy), &w.admin).await.json();
    let got: HashSet<String> =
        by_dept["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, set(&[&march, &by_policy]), "led or partnered");
    assert_eq!(ids("kind=seminar").await, set(&[&by_policy]));
    assert_eq!(ids("audience=civil_servants").await, set(&[&late]));
    assert_eq!(ids("status=cancelled").await, set(&[&cancelled]));
    assert_eq!(ids("plan_item_id=i1").await, set(&[&linked]));
    // Order: newest start first by default, and the other sorts.
    let order = |query: &'static str| {
        let app = &app;
        let admin = w.admin.clone();
        async move {
            let r = app.get(&format!("/api/v1/events?{query}"), &admin).await.expect(200).json();
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(order("").await.first(), late["id"].as_str().map(str::to_string).as_ref());
    assert_eq!(order("sort=starts_at").await.first(), march["id"].as_str().map(str::to_string).as_ref());
    assert_eq!(order("sort=created_at").await.first(), late["id"].as_str().map(str::to_string).as_ref());
    assert_eq!(order("sort=-created_at").await.first(), linked["id"].as_str().map(str::to_string).as_ref());
    // Bad parameters.
    app.get("/api/v1/events?kind=party", &w.admin).await.expect(400);
    app.get("/api/v1/events?sort=title", &w.admin).await.expect(400);
    app.get("/api/v1/events?from=yesterday", &w.admin).await.expect(400);
    app.get("/api/v1/events?from=2024-05-01&to=2024-04-01", &w.admin).await.expect(422);
}
both_stores!(every_filter_selects_what_it_names);

async fn search_folds_kazakh_and_russian_case_and_takes_wildcards_literally(app: TestApp) {
    let w = world(&app).await;
    let t = &w.youth_organiser;
    let upper = create(&app, t, &event(json!({"title": "ӘДІЛДІК САҒАТЫ"}))).await;
    let russian = create(&app, t, &event(json!({"title": "Урок ЧЕСТНОСТИ", "description": "100% явка"}))).await;
    let organiser = create(
        &app,
        t,
        &event(json!({"title": "Кездесу", "organisers": [{"full_name": "Ұлан Қасымов", "role": "moderator"}]})),
    )
    .await;
    let found = |q: &str| {
        let app = &app;
        let admin = w.admin.clone();
        let q = q.to_string();
        async move {
            let r = app
                .send(app.request(Method::GET, "/api/v1/events", Some(&admin)).query(&[("q", q.as_str())]))
                .await
                .expect(200)
                .json();
            r["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_string())
                .collect::<Vec<String>>()
        }
    };
    assert_eq!(found("әділдік").await, vec![upper["id"].as_str().unwrap().to_string()]);
    assert_eq!(found("честности").await, vec![russian["id"].as_str().unwrap().to_string()]);
    assert_eq!(found("ұлан қасымов").await, vec![organiser["id"].as_str().unwrap().to_string()]);
    assert_eq!(found("100%").await, vec![russian["id"].as_str().unwrap().to_string()]);
    assert!(found("1_0").await.is_empty(), "_ is not a wildcard");
    assert!(found("%").await.len() == 1, "% matches only a literal percent sign");
    // Short queries (under the index's three characters) still find, and quotes are text.
    assert_eq!(found("ЧЕ").await, vec![russian["id"].as_str().unwrap().to_string()]);
    let quoted = create(&app, t, &event(json!({"title": "«Адал» \"жастар\" клубы"}))).await;
    assert_eq!(found("\"жастар\"").await, vec![quoted["id"].as_str().unwrap().to_string()]);
    assert!(found("\"жастар\" OR кездесу").await.is_empty(), "no query syntax: the words as written");
    // Holding every trigram the index looks for (әді, лді, дік) is not holding the text.
    let scattered = create(&app, t, &event(json!({"title": "Әдіс, Алдіңгі дікке"}))).await;
    assert_eq!(found("әділдік").await, vec![upper["id"].as_str().unwrap().to_string()]);
    assert_eq!(found("әдіс").await, vec![scattered["id"].as_str().unwrap().to_string()]);
    // The index follows every write: a changed title is found by its new words only.
    let path = format!("/api/v1/events/{}", upper["id"].as_str().unwrap());
    app.patch(&path, t, "\"1\"", &json!({"title": "Мейірімділік сағаты"})).await.expect(200);
    assert!(found("әділдік").await.is_empty());
    assert_eq!(found("мейірімділік").await, vec![upper["id"].as_str().unwrap().to_string()]);
    if app.backend() == crate::helpers::Backend::Sqlite {
        // VACUUM may renumber rowids; the index is keyed by each event's stored search key.
        app.store.connect().batch_execute("VACUUM").unwrap();
        assert_eq!(found("мейірімділік").await, vec![upper["id"].as_str().unwrap().to_string()]);
        assert_eq!(found("ұлан қасымов").await, vec![organiser["id"].as_str().unwrap().to_string()]);
    }
}
both_stores!(search_folds_kazakh_and_russian_case_and_takes_wildcards_literally);

/// The ids of every page of `path` (a query string without `cursor`), page after page.
async fn walk(app: &TestApp, token: &str, path: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = path.to_string();
    loop {
        let body = app.get(&next, token).await.expect(200).json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(c) => next = format!("{path}&cursor={c}"),
            None => return seen,
        }
    }
}

async fn search_pages_in_start_order_are_the_list_s_own_order(app: TestApp) {
    let w = world(&app).await;
    let t = &w.youth_organiser;
    // 80 matches over four instants (twenty events share each second: only the id orders them),
    // the three oldest of another kind, and events that do not match in between.
    let (mut matching, mut seminars) = (HashSet::new(), HashSet::new());
    for i in 0..80 {
        let (day, kind) = if i < 3 { (10, "seminar") } else { (11 + i % 4, "lecture") };
        let at = |h: u32| format!("2025-02-{day:02}T{h}:00:00+05:00");
        let e = create(
            &app,
            t,
            &event(
                json!({"title": format!("Мөлдірлік сағаты {i}"), "kind": kind, "starts_at": at(10), "ends_at": at(11)}),
            ),
        )
        .await;
        matching.insert(e["id"].as_str().unwrap().to_string());
        if kind == "seminar" {
            seminars.insert(e["id"].as_str().unwrap().to_string());
        }
        if i % 10 == 0 {
            create(&app, t, &event(json!({"starts_at": at(10), "ends_at": at(11)}))).await;
        }
        // Three that do not match around each: more than 256 events, PostgreSQL's first window
        // for a page of one.
        for h in [8, 9, 12] {
            create(&app, t, &event(json!({"starts_at": at(h), "ends_at": at(h + 1)}))).await;
        }
    }
    let q = "q=%D0%BC%D3%A9%D0%BB%D0%B4%D1%96%D1%80%D0%BB%D1%96%D0%BA"; // мөлдірлік
    // Start order reads the index in order; the other sorts take every match.
    for sort in ["-starts_at", "starts_at", "-created_at", "updated_at"] {
        // The list without search, in its own order, kept to the matches: what search must page.
        let all = walk(&app, &w.admin, &format!("/api/v1/events?limit=200&sort={sort}")).await;
        let expected: Vec<String> = all.into_iter().filter(|id| matching.contains(id)).collect();
        assert_eq!(expected.len(), 80);
        // Pages of one and of three: on PostgreSQL a page of one looks in a window of the next 256
        // events first, cut inside a second that twenty events share.
        for limit in [1, 3] {
            let found = walk(&app, &w.admin, &format!("/api/v1/events?limit={limit}&sort={sort}&{q}")).await;
            assert_eq!(found, expected, "sort={sort}, limit={limit}: every match once, in the list's order");
        }
        // A filter that keeps only the oldest three: the index's first answer holds none of them.
        // With a page of one on PostgreSQL, newest first, the first window holds no seminar.
        let want: Vec<String> = expected.iter().filter(|id| seminars.contains(*id)).cloned().collect();
        for limit in [1, 2] {
            let kept =
                walk(&app, &w.admin, &format!("/api/v1/events?limit={limit}&sort={sort}&kind=seminar&{q}")).await;
            assert_eq!(kept, want, "sort={sort}, limit={limit}: the three seminars, in order");
        }
        // Within dates: the days from the 11th to the 14th (more than 256 events, so PostgreSQL's
        // first window for a page of one counts from the first of them), every match in order.
        let dated = "from=2025-02-11&to=2025-02-14";
        let all = walk(&app, &w.admin, &format!("/api/v1/events?limit=200&sort={sort}&{dated}")).await;
        let want: Vec<String> = all.into_iter().filter(|id| matching.contains(id)).collect();
        assert_eq!(want.len(), 77);
        let found = walk(&app, &w.admin, &format!("/api/v1/events?limit=1&sort={sort}&{dated}&{q}")).await;
        assert_eq!(found, want, "sort={sort}, {dated}: the matches of those days, in order");
    }
    // Moving an event moves it in the search order too.
    let moved = seminars.iter().next().unwrap().clone();
    let path = format!("/api/v1/events/{moved}");
    let version = app.get(&path, &w.admin).await.expect(200).json()["version"].as_i64().unwrap();
    let later = json!({"starts_at": "2025-03-01T10:00:00+05:00", "ends_at": "2025-03-01T11:00:00+05:00"});
    app.patch(&path, t, &format!("\"{version}\""), &later).await.expect(200);
    let newest = app.get(&format!("/api/v1/events?limit=1&sort=-starts_at&{q}"), &w.admin).await.expect(200).json();
    assert_eq!(newest["items"][0]["id"].as_str(), Some(moved.as_str()));
}
both_stores!(search_pages_in_start_order_are_the_list_s_own_order);

async fn cursor_pages_are_stable_under_equal_keys_and_inserts(app: TestApp) {
    let w = world(&app).await;
    // Seven events at the same instant: only the id orders them.
    let mut made = HashSet::new();
    for i in 0..7 {
        let e = create(&app, &w.youth_organiser, &event(json!({"title": format!("Бірдей уақыт {i}")}))).await;
        made.insert(e["id"].as_str().unwrap().to_string());
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/events?limit=3".to_string();
    loop {
        let body = app.get(&path, &w.admin).await.expect(200).json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()));
        if seen.len() == 3 {
            // Inserted mid-walk, ahead of the cursor in this order: not seen, and nothing skipped.
            create(
                &app,
                &w.youth_organiser,
                &event(json!({"starts_at": "2025-01-01T10:00:00+05:00", "ends_at": "2025-01-01T11:00:00+05:00"})),
            )
            .await;
        }
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/events?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "no repeats: {seen:?}");
    assert_eq!(seen.iter().cloned().collect::<HashSet<_>>(), made, "no gaps");
    // A cursor from one order is refused in another.
    let first = app.get("/api/v1/events?limit=1", &w.admin).await.json();
    let c = first["next_cursor"].as_str().unwrap();
    app.get(&format!("/api/v1/events?limit=1&sort=created_at&cursor={c}"), &w.admin).await.expect(422);
}
both_stores!(cursor_pages_are_stable_under_equal_keys_and_inserts);

async fn a_sync_walk_sees_every_change_and_deletion(app: TestApp) {
    let w = world(&app).await;
    let t = &w.youth_organiser;
    let a = create(&app, t, &event(json!({"title": "Бірінші"}))).await;
    let b = create(&app, t, &event(json!({"title": "Екінші"}))).await;
    let c = create(&app, t, &event(json!({"title": "Үшінші"}))).await;
    let walk = |since: Option<String>| {
        let app = &app;
        let admin = w.admin.clone();
        async move {
            let mut items = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let mut query: Vec<(&str, String)> =
                    vec![("sort", "updated_at".into()), ("include_deleted", "true".into()), ("limit", "2".into())];
                if let Some(s) = &since {
                    query.push(("updated_since", s.clone()));
                }
                if let Some(c) = &cursor {
                    query.push(("cursor", c.clone()));
                }
                let page = app
                    .send(app.request(Method::GET, "/api/v1/events", Some(&admin)).query(&query))
                    .await
                    .expect(200)
                    .json();
                items.extend(page["items"].as_array().unwrap().iter().cloned());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_string()),
                    None => return items,
                }
            }
        }
    };
    let first = walk(None).await;
    assert_eq!(first.len(), 3);
    let mark = first.last().unwrap()["updated_at"].as_str().unwrap().to_string();
    // Changes after the mark: b edited, c deleted.
    app.patch(&format!("/api/v1/events/{}", b["id"].as_str().unwrap()), t, "\"1\"", &json!({"venue": "Жаңа орын"}))
        .await
        .expect(200);
    app.send(
        app.request(Method::DELETE, &format!("/api/v1/events/{}", c["id"].as_str().unwrap()), Some(t))
            .header("if-match", "\"1\""),
    )
    .await
    .expect(204);
    let second = walk(Some(mark)).await;
    let ids: Vec<&str> = second.iter().map(|e| e["id"].as_str().unwrap()).collect();
    // Oldest change first; the last event seen before may come again (the bound is inclusive).
    let b_pos = ids.iter().position(|i| *i == b["id"].as_str().unwrap()).expect("the edit is seen");
    let c_pos = ids.iter().position(|i| *i == c["id"].as_str().unwrap()).expect("the deletion is seen");
    assert!(b_pos < c_pos);
    assert_eq!(second[c_pos], json!({"id": c["id"], "deleted": true, "updated_at": second[c_pos]["updated_at"]}));
    assert_eq!(second[b_pos]["venue"], "Жаңа орын");
    assert!(!ids.contains(&a["id"].as_str().unwrap()), "unchanged events are not listed again");
    // Without include_deleted, no markers.
    let plain = app.get("/api/v1/events?sort=updated_at", &w.admin).await.json();
    assert!(plain["items"].as_array().unwrap().iter().all(|e| e.get("deleted").is_none()));
}
both_stores!(a_sync_walk_sees_every_change_and_deletion);

async fn concurrent_retries_create_exactly_one_event(app: TestApp) {
    let w = world(&app).await;
    let body = event(json!({"title": "Бір рет қана"}));
    let tries = (0..8).map(|_| {
        app.send(
            app.request(Method::POST, "/api/v1/events", Some(&w.youth_organiser))
                .header("idempotency-key", "ev-1")
                .json(&body),
        )
    });
    let replies = futures_util::future::join_all(tries).await;
    assert!(replies.iter().all(|r| r.status.as_u16() == 201 || r.status.as_u16() == 409));
    let ids: HashSet<String> = replies
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .map(|r| r.json()["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    // A late retry gets the same event.
    let late = app
        .send(
            app.request(Method::POST, "/api/v1/events", Some(&w.youth_organiser))
                .header("idempotency-key", "ev-1")
                .json(&body),
        )
        .await
        .expect(201);
    assert!(ids.contains(late.json()["id"].as_str().unwrap()));
    let list = app.get("/api/v1/events", &w.admin).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
both_stores!(concurrent_retries_create_exactly_one_event);

async fn retried_patch_and_attendance_are_replayed_not_refused(app: TestApp) {
    let w = world(&app).await;
    let t = &w.youth_organiser;
    let e = create(&app, t, &event(json!({}))).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    let patch = || {
        app.send(
            app.request(Method::PATCH, &path, Some(t))
                .header("if-match", "\"1\"")
                .header("idempotency-key", "pa-1")
                .header("content-type", "application/merge-patch+json")
                .body(json!({"venue": "Әкімдік"}).to_string()),
        )
    };
    let first = patch().await.expect(200).json();
    assert_eq!(patch().await.expect(200).json(), first);
    let put = || {
        app.send(
            app.request(Method::PUT, &format!("{path}/attendance"), Some(t))
                .header("if-match", "\"2\"")
                .header("idempotency-key", "at-1")
                .json(&json!({"total": 40})),
        )
    };
    let first = put().await.expect(200).json();
    let again = put().await.expect(200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json(), first);
    assert_eq!(app.get(&path, t).await.json()["version"], 3);
}
both_stores!(retried_patch_and_attendance_are_replayed_not_refused);

async fn concurrent_if_match_writers_on_an_event_cannot_both_win(app: TestApp) {
    let w = world(&app).await;
    let e = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let path = format!("/api/v1/events/{}", e["id"].as_str().unwrap());
    let bodies: Vec<Value> = (0..6).map(|i| json!({"venue": format!("Орын {i}")})).collect();
    let replies =
        futures_util::future::join_all(bodies.iter().map(|b| app.patch(&path, &w.youth_organiser, "\"1\"", b))).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), 5, "{statuses:?}");
}
both_stores!(concurrent_if_match_writers_on_an_event_cannot_both_win);

/// A stored value the registry does not know (a row written by a newer version, or by hand) is an
/// error, never read as a plausible default (`planned`, `viewer`).
async fn an_unknown_stored_value_is_an_error_not_a_default(app: TestApp) {
    let w = world(&app).await;
    let id = create(&app, &w.youth_organiser, &event(json!({}))).await["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/events/{id}");
    app.get(&path, &w.youth_organiser).await.expect(200);
    let mut conn = app.store.connect();
    conn.batch_execute(&format!("UPDATE events SET status = 'archived' WHERE id = '{id}'")).unwrap();
    app.get(&path, &w.youth_organiser).await.expect(500);
    app.get("/api/v1/events", &w.youth_organiser).await.expect(500);
    let (account, _) = app.create_account(&w.admin, "role-check", &w.youth, "viewer").await;
    let account_id = account["id"].as_str().unwrap();
    conn.batch_execute(&format!("UPDATE accounts SET role = 'superuser' WHERE id = '{account_id}'")).unwrap();
    app.get(&format!("/api/v1/accounts/{account_id}"), &w.admin).await.expect(500);
}
both_stores!(an_unknown_stored_value_is_an_error_not_a_default);
