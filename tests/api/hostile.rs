//! Hostile input and errors a person can act on (contract, "Hostile input, leaks and errors a
//! person can act on"): the login throttle under parallel guesses and folded names, CSV formula
//! cells, refused characters wherever text enters, keyed idempotency fingerprints, the plan item
//! rule, the token endpoint's field limit, the years an instant may name, and errors that name
//! every field with the form expected.

use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::both_stores;
use crate::events::{create, event, world};
use crate::helpers::TestApp;

fn fields_and_codes(problem: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("no errors[] in {problem}"))
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect();
    v.sort();
    v
}

async fn form_login_reply(app: &TestApp, username: &str, password: &str) -> crate::helpers::Reply {
    app.send(app.request(Method::POST, "/api/v1/auth/token", None).form(&[
        ("grant_type", "password"),
        ("username", username),
        ("password", password),
    ]))
    .await
}

async fn form_login(app: &TestApp, username: &str, password: &str) -> reqwest::StatusCode {
    form_login_reply(app, username, password).await.status
}

async fn parallel_wrong_passwords_get_no_more_checks_than_the_throttle_allows(app: TestApp) {
    let attempts = (0..12).map(|i| {
        let app = &app;
        async move { form_login(app, "admin", &format!("wrong-password-{i}")).await.as_u16() }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let checked = statuses.iter().filter(|s| **s == 400).count();
    let slowed = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, slowed), (5, 7), "only 5 of 12 parallel guesses are checked: {statuses:?}");
}
both_stores!(parallel_wrong_passwords_get_no_more_checks_than_the_throttle_allows);

async fn the_throttle_counts_the_folded_name_the_lookup_uses(app: TestApp) {
    for i in 0..5 {
        assert_eq!(form_login(&app, "admin", &format!("wrong-{i}")).await, 400);
    }
    for variant in ["admin ", " admin", "\tadmin", "ADMIN", "Admin\n"] {
        assert_eq!(
            form_login(&app, variant, crate::helpers::ADMIN_PASSWORD).await,
            429,
            "{variant:?} is the throttled admin, even with the right password"
        );
    }
}
both_stores!(the_throttle_counts_the_folded_name_the_lookup_uses);

async fn csv_exports_neutralise_formula_cells(app: TestApp) {
    let w = world(&app).await;
    let formulas = ["=HYPERLINK(\"http://x\",\"click\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"];
    let mut ids = Vec::new();
    for (i, f) in formulas.iter().enumerate() {
        let d = app
            .post("/api/v1/departments", &w.admin, &json!({"code": format!("formula-{i}"), "name_kk": f, "name_ru": f}))
            .await
            .expect(201)
            .json();
        ids.push(d["id"].as_str().unwrap().to_string());
    }
    let csv =
        app.get("/api/v1/reports/departments?from=2024-01-01&to=2024-12-31&format=csv", &w.admin).await.expect(200);
    let mut reader = csv::Reader::from_reader(csv.text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().unwrap().clone();
    let name = header.iter().position(|h| h == "name_kk").expect("a name_kk column");
    let names: Vec<String> = reader.records().map(|r| r.unwrap()[name].to_string()).collect();
    for f in formulas {
        assert!(names.contains(&format!("'{f}")), "{f} is written with a leading quote: {names:?}");
        assert!(!names.contains(&f.to_string()), "{f} is never written as it is");
    }
    let (plan, _) = crate::plans::plan_with_items(&app, &w.admin, &w.youth, &[("1.1", "2024-12-31", 1, 1)]).await;
    let items = app.get(&format!("/api/v1/plans/{plan}/items"), &w.admin).await.json();
    let item = items["items"][0]["id"].as_str().unwrap().to_string();
    app.patch(&format!("/api/v1/plans/{plan}/items/{item}"), &w.admin, "\"1\"", &json!({"title": "@SUM(1+1) тармақ"}))
        .await
        .expect(200);
    let csv =
        app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}&format=csv"), &w.admin).await.expect(200);
    assert!(csv.text.contains("'@SUM(1+1) тармақ"), "{}", csv.text);
    assert!(!csv.text.contains(",@SUM"), "{}", csv.text);
}
both_stores!(csv_exports_neutralise_formula_cells);

async fn nul_control_and_bidi_characters_are_refused_wherever_text_enters(app: TestApp) {
    let w = world(&app).await;
    // The token form, before anything is looked up: a clear 400, never a 500.
    let r = app
        .send(
            app.request(Method::POST, "/api/v1/auth/token", None)
                .body("grant_type=password&username=ad%00min&password=x")
                .header("content-type", "application/x-www-form-urlencoded"),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_request");
    // A body: every member that carries one is named, multi-line fields may hold line breaks.
    let bad = event(json!({"title": "Дәріс\u{0}", "venue": "Зал\u{202E}", "description": "бір\nекі\tүш",
                            "organisers": [{"full_name": "Ай\u{7}гүл", "role": "speaker"}]}));
    let r = app.post("/api/v1/events", &w.youth_organiser, &bad).await.expect(422);
    assert_eq!(
        fields_and_codes(&r.json()),
        vec![
            ("organisers[0].full_name".into(), "invalid_characters".into()),
            ("title".into(), "invalid_characters".into()),
            ("venue".into(), "invalid_characters".into()),
        ]
    );
    // Refused characters and a missing member are named in the same answer.
    let mut both = bad.clone();
    both.as_object_mut().unwrap().remove("ends_at");
    let both = app.post("/api/v1/events", &w.youth_organiser, &both).await.expect(422).json();
    assert!(fields_and_codes(&both).contains(&("ends_at".into(), "required".into())), "{both}");
    assert!(fields_and_codes(&both).contains(&("title".into(), "invalid_characters".into())), "{both}");
    // A member given twice is refused, as before: the body is ambiguous.
    let twice = app
        .send(
            app.request(Method::POST, "/api/v1/departments", Some(&w.admin))
                .header("content-type", "application/json")
                .body(r#"{"code": "twice", "name_kk": "a", "name_kk": "b", "name_ru": "c"}"#),
        )
        .await;
    assert_eq!(twice.status, 422, "{}", twice.text);
    let d = app
        .post("/api/v1/departments", &w.admin, &json!({"code": "bidi", "name_kk": "Бөлім\u{202E}", "name_ru": "Отдел"}))
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&d.json()), vec![("name_kk".into(), "invalid_characters".into())]);
    // Query parameters: 422 naming the parameter; `q=%00abc` matches nothing because it is refused.
    for (path, parameter) in [
        ("/api/v1/events?q=%00abc", "q"),
        ("/api/v1/events?department_id=%00", "department_id"),
        ("/api/v1/audit?entity=%00event", "entity"),
        ("/api/v1/events?q=a%E2%80%AEb", "q"),
        ("/api/v1/accounts?cursor=%C2%88_", "cursor"),
    ] {
        let token = if path.starts_with("/api/v1/events") { &w.youth_organiser } else { &w.admin };
        let r = app.get(path, token).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text);
        assert_eq!(
            fields_and_codes(&r.json()),
            vec![(parameter.to_string(), "invalid_characters".to_string())],
            "{path}"
        );
    }
    // A cursor is text too, once decoded: one that carries a NUL names no position.
    let encode = |raw: &[u8]| base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, raw);
    let nul_cursor = encode(br#"["2024-01-01T00:00:00","\u0000"]"#);
    let r = app.get(&format!("/api/v1/events?cursor={nul_cursor}"), &w.youth_organiser).await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app.get(&format!("/api/v1/departments?cursor={}", encode(br#""\u0000""#)), &w.admin).await;
    assert_eq!(r.status, 422, "{}", r.text);
    // A path segment: no such record.
    for path in ["/api/v1/events/%00", "/api/v1/departments/abc%00def", "/api/v1/events/x%E2%80%AE"] {
        assert_eq!(app.get(path, &w.admin).await.status, 404, "{path}");
    }
    // A password may hold anything but NUL.
    let odd = "pass\tword\u{202E}-long-enough";
    let made = app
        .post(
            "/api/v1/accounts",
            &w.admin,
            &json!({"username": "odd.password", "display_name": "Odd", "password": odd, "department_id": w.youth, "role": "viewer"}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(form_login(&app, "odd.password", odd).await, 200);
    let nul = app
        .post(
            "/api/v1/accounts",
            &w.admin,
            &json!({"username": "nul.password", "display_name": "Nul", "password": "pass\u{0}word-long-enough", "department_id": w.youth, "role": "viewer"}),
        )
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&nul.json()), vec![("password".into(), "invalid_characters".into())]);
    // A sign-in sheet's cells are text too.
    let past = create(&app, &w.youth_organiser, &event(json!({}))).await;
    let sheet = "full_name,organisation\nӘлия\u{202E}Серікова,Мектеп\n";
    let r = app
        .send(
            app.request(
                Method::POST,
                &format!("/api/v1/events/{}/attendees", past["id"].as_str().unwrap()),
                Some(&w.youth_organiser),
            )
            .header("content-type", "text/csv")
            .body(sheet),
        )
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&r.json()), vec![("rows[0].full_name".into(), "invalid_characters".into())]);
}
both_stores!(nul_control_and_bidi_characters_are_refused_wherever_text_enters);

async fn a_patch_judges_only_what_it_sets(app: TestApp) {
    let w = world(&app).await;
    let e = create(
        &app,
        &w.youth_organiser,
        &event(json!({"starts_at": "2030-03-14T15:00:00+05:00", "ends_at": "2030-03-14T17:00:00+05:00"})),
    )
    .await;
    let id = e["id"].as_str().unwrap();
    // A title stored before the rule, with a bidi override in it.
    app.store
        .connect()
        .batch_execute(&format!("UPDATE events SET title = 'Old' || '\u{202E}' || 'title' WHERE id = '{id}'"))
        .unwrap();
    let r =
        app.patch(&format!("/api/v1/events/{id}"), &w.youth_organiser, "\"1\"", &json!({"venue": "Жаңа зал"})).await;
    assert_eq!(r.status, 200, "an old stored value never blocks a later edit: {}", r.text);
    assert_eq!(r.json()["venue"], "Жаңа зал");
    let r = app
        .patch(&format!("/api/v1/events/{id}"), &w.youth_organiser, "\"2\"", &json!({"venue": "Зал\u{0}"}))
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&r.json()), vec![("venue".into(), "invalid_characters".into())]);
}
both_stores!(a_patch_judges_only_what_it_sets);

#[derive(diesel::QueryableByName)]
struct StoredFingerprint {
    #[diesel(sql_type = diesel::sql_types::Text)]
    fingerprint: String,
}

fn fingerprints(app: &TestApp) -> Vec<String> {
    diesel::sql_query("SELECT fingerprint FROM idempotency_keys")
        .load::<StoredFingerprint>(&mut app.store.connect())
        .unwrap()
        .into_iter()
        .map(|r| r.fingerprint)
        .collect()
}

async fn idempotency_fingerprints_are_keyed_and_replay_on_another_instance(app: TestApp) {
    let w = world(&app).await;
    let body = json!({"username": "keyed.fp", "display_name": "Keyed", "password": "a-password-in-the-body", "department_id": w.youth, "role": "viewer"});
    let send = |address: Option<&str>, key: &str| {
        let url = match address {
            Some(a) => format!("{a}/api/v1/accounts"),
            None => app.url("/api/v1/accounts"),
        };
        app.client.post(url).bearer_auth(&w.admin).header("idempotency-key", key).json(&body)
    };
    let first = app.send(send(None, "fp-1")).await.expect(201);
    let raw = serde_json::to_vec(&body).unwrap();
    let plain = hex::encode(Sha256::new().chain_update(b"POST\n/api/v1/accounts\n").chain_update(&raw).finalize());
    let stored = fingerprints(&app);
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("h1:"), "keyed: {}", stored[0]);
    assert!(!stored[0].contains(&plain), "a dump gives no plain hash of a body that held a password");
    let (other, handle) = app.another_instance().await;
    let replay = app.send(send(Some(&other), "fp-1")).await.expect(201);
    assert_eq!(
        replay.header("idempotent-replayed").as_deref(),
        Some("true"),
        "the other instance computes the same key"
    );
    assert_eq!(replay.json()["id"], first.json()["id"]);
    // A row stored before fingerprints were keyed is honoured until it expires.
    app.store.connect().batch_execute(&format!("UPDATE idempotency_keys SET fingerprint = '{plain}'")).unwrap();
    let legacy = app.send(send(None, "fp-1")).await.expect(201);
    assert_eq!(legacy.header("idempotent-replayed").as_deref(), Some("true"));
    handle.stop(true).await;
}
both_stores!(idempotency_fingerprints_are_keyed_and_replay_on_another_instance);

async fn an_event_links_only_to_plan_items_of_departments_taking_part(app: TestApp) {
    let w = world(&app).await;
    let legal = app.create_department(&w.admin, "legal-support").await["id"].as_str().unwrap().to_string();
    let (plan, items) = crate::plans::plan_with_items(&app, &w.admin, &legal, &[("1.3", "2024-12-31", 1, 1)]).await;
    let legal_item = items[0]["id"].as_str().unwrap().to_string();
    let policy_item = app
        .post(
            &format!("/api/v1/plans/{plan}/items"),
            &w.admin,
            &json!({"number": "1.2", "title": "Саясат тармағы", "responsible_department_id": w.policy, "due_date": "2024-12-31", "target_events": 1, "target_participants": 1}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inflated = event(json!({"plan_item_id": legal_item, "attendance": {"total": 100000}}));
    let r = app.post("/api/v1/events", &w.youth_organiser, &inflated).await.expect(422);
    assert_eq!(fields_and_codes(&r.json()), vec![("plan_item_id".into(), "not_responsible".into())]);
    let report = app.get(&format!("/api/v1/reports/plan-fulfilment?plan_id={plan}"), &w.admin).await.json();
    let legal_row = report["items"].as_array().unwrap().iter().find(|i| i["number"] == "1.3").unwrap().clone();
    assert_eq!(legal_row["participants_total"], 0, "another department's line is not inflated");
    // A partner's item is fine; dropping that partner later is not.
    let linked = create(
        &app,
        &w.youth_organiser,
        &event(json!({"plan_item_id": policy_item, "partner_department_ids": [w.policy]})),
    )
    .await;
    let id = linked["id"].as_str().unwrap();
    let r = app
        .patch(&format!("/api/v1/events/{id}"), &w.youth_organiser, "\"1\"", &json!({"partner_department_ids": []}))
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&r.json()), vec![("plan_item_id".into(), "not_responsible".into())]);
    // A link made before the rule stays through an unrelated edit, but setting it again checks it.
    app.store
        .connect()
        .batch_execute(&format!("UPDATE events SET plan_item_id = '{legal_item}' WHERE id = '{id}'"))
        .unwrap();
    let kept =
        app.patch(&format!("/api/v1/events/{id}"), &w.youth_organiser, "\"1\"", &json!({"venue": "Басқа зал"})).await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(kept.json()["plan_item_id"], legal_item.as_str());
    let again = app
        .patch(&format!("/api/v1/events/{id}"), &w.youth_organiser, "\"2\"", &json!({"plan_item_id": legal_item}))
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&again.json()), vec![("plan_item_id".into(), "not_responsible".into())]);
    // A department below the responsible one takes part for it.
    let unit = app
        .post(
            "/api/v1/departments",
            &w.admin,
            &json!({"code": "legal-unit", "name_kk": "Бөлімше", "name_ru": "Подотдел", "parent_id": legal}),
        )
        .await
        .expect(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let unit_organiser = app.token_for(&w.admin, "unit-org", &unit, "organiser").await;
    create(&app, &unit_organiser, &event(json!({"plan_item_id": legal_item}))).await;
}
both_stores!(an_event_links_only_to_plan_items_of_departments_taking_part);

async fn the_token_endpoint_refuses_fields_over_256_characters_and_audits_none_of_them(app: TestApp) {
    let huge = "c".repeat(200 * 1024);
    let r = app
        .send(app.request(Method::POST, "/api/v1/auth/token", None).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", huge.as_str()),
            ("client_secret", "x"),
        ]))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "invalid_request");
    let error_of = async |username: String| form_login_reply(&app, &username, "whatever").await.json()["error"].clone();
    assert_eq!(error_of("u".repeat(257)).await, "invalid_request", "257 characters are refused unread");
    assert_eq!(error_of("u".repeat(256)).await, "invalid_grant", "256 are checked, and fail as a wrong login");
    let admin = app.admin_token().await;
    for entry in app.audit_entries(&admin).await {
        let text = entry.to_string();
        assert!(text.len() < 4096, "no audit entry carries a long anonymous value: {} bytes", text.len());
        assert!(!text.contains("ccccccccccccccccccccccccc"));
    }
}
both_stores!(the_token_endpoint_refuses_fields_over_256_characters_and_audits_none_of_them);

async fn instants_outside_1900_to_2100_are_refused(app: TestApp) {
    let w = world(&app).await;
    for (starts, code) in
        [("0000-01-01T10:00:00Z", "range"), ("1899-12-31T10:00:00Z", "range"), ("10000-01-01T10:00:00Z", "format")]
    {
        let r = app.post("/api/v1/events", &w.youth_organiser, &event(json!({"starts_at": starts}))).await.expect(422);
        let errors = fields_and_codes(&r.json());
        assert!(errors.contains(&("starts_at".to_string(), code.to_string())), "{starts}: {errors:?}");
    }
    let r = app
        .get("/api/v1/events?sort=updated_at&updated_since=2101-06-01T00:00:00Z", &w.youth_organiser)
        .await
        .expect(422);
    assert_eq!(fields_and_codes(&r.json()), vec![("updated_since".into(), "range".into())]);
    app.get("/api/v1/events?from=0001-01-01", &w.youth_organiser).await.expect(422);
    app.get("/api/v1/reports/summary?from=0001-01-01&to=0001-12-31", &w.youth_organiser).await.expect(422);
}
both_stores!(instants_outside_1900_to_2100_are_refused);

async fn errors_say_what_was_expected_and_name_every_field_at_once(app: TestApp) {
    let w = world(&app).await;
    let mut body = event(json!({"starts_at": "2026-12-01", "attendance": 45, "kind": "party"}));
    for missing in ["format", "ends_at", "audiences"] {
        body.as_object_mut().unwrap().remove(missing);
    }
    let r = app.post("/api/v1/events", &w.youth_organiser, &body).await.expect(422);
    let problem = r.json();
    assert_eq!(
        fields_and_codes(&problem),
        vec![
            ("attendance".into(), "type".into()),
            ("audiences".into(), "required".into()),
            ("ends_at".into(), "required".into()),
            ("format".into(), "required".into()),
            ("kind".into(), "enum".into()),
            ("starts_at".into(), "format".into()),
        ]
    );
    let message = |f: &str| {
        problem["errors"].as_array().unwrap().iter().find(|e| e["field"] == f).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(message("starts_at").contains("RFC 3339 instant with an offset, e.g. 2024-03-14T10:00:00+05:00"));
    assert_eq!(message("attendance"), "expected an object");
    assert!(message("kind").contains("lecture, seminar, round_table"), "{}", message("kind"));
    assert!(message("format").contains("in_person, online, hybrid"), "{}", message("format"));
    let text = r.text.to_lowercase();
    for internal in ["struct", "premature end of input", "i32", "deserialize"] {
        assert!(!text.contains(internal), "no implementation words ({internal}): {}", r.text);
    }
    let r = app.get("/api/v1/reports/plan-fulfilment", &w.admin).await.expect(400);
    assert_eq!(r.json()["detail"], "the query parameter plan_id is required");
    let r = app.get("/api/v1/events?kind=party", &w.admin).await.expect(400);
    assert!(
        r.json()["detail"].as_str().unwrap().starts_with("the query parameter kind must be one of: lecture"),
        "{}",
        r.text
    );
}
both_stores!(errors_say_what_was_expected_and_name_every_field_at_once);
