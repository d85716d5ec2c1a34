//! Departments end to end: create, read, list by cursor, merge patch with preconditions,
//! deactivation, validation, access and idempotent retries.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::json;

use crate::both_stores;
use crate::helpers::TestApp;

async fn kazakh_text_round_trips(app: TestApp) {
    let admin = app.admin_token().await;
    let body = json!({"code": "internal-policy", "name_kk": "Ішкі саясат бөлімі — ӘҒҚҢӨҰҮҺІ", "name_ru": "Отдел внутренней политики"});
    let created = app.post("/api/v1/departments", &admin, &body).await.expect(201);
    let location = created.header("location").unwrap();
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let read = app.get(&location, &admin).await.expect(200).json();
    assert_eq!(read["name_kk"], "Ішкі саясат бөлімі — ӘҒҚҢӨҰҮҺІ");
    assert_eq!(read["code"], "internal-policy");
    assert_eq!(read["active"], true);
    assert_eq!(read["version"], 1);
    assert_eq!(read, created.json());
}
both_stores!(kazakh_text_round_trips);

async fn each_invalid_field_is_named(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app
        .post(
            "/api/v1/departments",
            &admin,
            &json!({"code": "Not A Slug", "name_kk": "   ", "name_ru": "x".repeat(301)}),
        )
        .await
        .expect(422)
        .json();
    let fields: HashSet<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, HashSet::from(["code", "name_kk", "name_ru"]));
    let r = app
        .post("/api/v1/departments", &admin, &json!({"code": "orphan", "name_kk": "a", "name_ru": "b", "parent_id": "0193a6f2-0000-7000-8000-000000000000"}))
        .await
        .expect(422)
        .json();
    assert_eq!(r["errors"][0]["field"], "parent_id");
}
both_stores!(each_invalid_field_is_named);

async fn a_duplicate_code_is_a_conflict(app: TestApp) {
    let admin = app.admin_token().await;
    app.create_department(&admin, "legal-support").await;
    let body = json!({"code": "legal-support", "name_kk": "Басқа", "name_ru": "Другой"});
    app.post("/api/v1/departments", &admin, &body).await.expect(409);
}
both_stores!(a_duplicate_code_is_a_conflict);

async fn unknown_and_malformed_ids_are_404(app: TestApp) {
    let admin = app.admin_token().await;
    app.get("/api/v1/departments/0193a6f2-0000-7000-8000-000000000000", &admin).await.expect(404);
    app.get("/api/v1/departments/not-a-uuid", &admin).await.expect(404);
}
both_stores!(unknown_and_malformed_ids_are_404);

async fn patch_needs_if_match_and_refuses_a_stale_one(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "district-akimat").await;
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    let without = app
        .send(
            app.request(Method::PATCH, &path, Some(&admin))
                .header("content-type", "application/merge-patch+json")
                .body("{}"),
        )
        .await;
    assert_eq!(without.status.as_u16(), 428);
    let changed =
        app.patch(&path, &admin, "\"1\"", &json!({"name_kk": "Аудан әкімдігі", "parent_id": null})).await.expect(200);
    assert_eq!(changed.header("etag").as_deref(), Some("\"2\""));
    let body = changed.json();
    assert_eq!(body["name_kk"], "Аудан әкімдігі");
    assert_eq!(body["name_ru"], d["name_ru"]);
    assert_eq!(body["version"], 2);
    app.patch(&path, &admin, "\"1\"", &json!({"name_kk": "Ескі"})).await.expect(412);
    // A patch may not touch what the server owns.
    let r = app.patch(&path, &admin, "\"2\"", &json!({"version": 9})).await.expect(422).json();
    assert_eq!(r["errors"][0]["field"], "version");
    // Nor clear a required field.
    let r = app.patch(&path, &admin, "\"2\"", &json!({"name_ru": null})).await.expect(422).json();
    assert_eq!(r["errors"][0]["field"], "name_ru");
}
both_stores!(patch_needs_if_match_and_refuses_a_stale_one);

async fn deactivation_hides_nothing_but_is_filterable(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "old-unit").await;
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    let off = app.patch(&path, &admin, "\"1\"", &json!({"active": false})).await.expect(200).json();
    assert_eq!(off["active"], false);
    let inactive = app.get("/api/v1/departments?active=false", &admin).await.expect(200).json();
    let codes: Vec<&str> = inactive["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, vec!["old-unit"]);
}
both_stores!(deactivation_hides_nothing_but_is_filterable);

async fn a_department_cannot_be_placed_under_itself(app: TestApp) {
    let admin = app.admin_token().await;
    let parent = app.create_department(&admin, "city-akimat").await;
    let child = app
        .post(
            "/api/v1/departments",
            &admin,
            &json!({"code": "city-youth", "name_kk": "Жастар", "name_ru": "Молодёжь", "parent_id": parent["id"]}),
        )
        .await
        .expect(201)
        .json();
    let path = format!("/api/v1/departments/{}", parent["id"].as_str().unwrap());
    let r = app.patch(&path, &admin, "\"1\"", &json!({"parent_id": child["id"]})).await.expect(422).json();
    assert_eq!(r["errors"][0]["field"], "parent_id");
}
both_stores!(a_department_cannot_be_placed_under_itself);

async fn cursor_pages_have_no_repeats_or_gaps(app: TestApp) {
    let admin = app.admin_token().await;
    for i in 0..7 {
        app.create_department(&admin, &format!("unit-{i:02}")).await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/departments?limit=3".to_string();
    loop {
        let page = app.get(&path, &admin).await.expect(200);
        let link = page.header("link");
        let body = page.json();
        seen.extend(body["items"].as_array().unwrap().iter().map(|d| d["code"].as_str().unwrap().to_string()));
        match body["next_cursor"].as_str() {
            Some(c) => {
                let link = link.expect("a Link header when there is more");
                assert!(link.ends_with("rel=\"next\"") && link.contains(c), "{link}");
                // A department added mid-walk sorts before the cursor and must not disturb it.
                if seen.len() == 3 {
                    app.create_department(&admin, "aaa-late").await;
                }
                path = format!("/api/v1/departments?limit=3&cursor={c}");
            }
            None => {
                assert!(link.is_none());
                break;
            }
        }
    }
    let mut expected: Vec<String> = (0..7).map(|i| format!("unit-{i:02}")).collect();
    expected.insert(0, "administration".into());
    assert_eq!(seen, expected);
}
both_stores!(cursor_pages_have_no_repeats_or_gaps);

async fn only_admins_write_departments_and_everyone_reads_them(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "youth-centre").await;
    let organiser = app.token_for(&admin, "organiser1", d["id"].as_str().unwrap(), "organiser").await;
    app.get("/api/v1/departments", &organiser).await.expect(200);
    app.post("/api/v1/departments", &organiser, &json!({"code": "mine", "name_kk": "a", "name_ru": "b"}))
        .await
        .expect(403);
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    app.patch(&path, &organiser, "\"1\"", &json!({"name_kk": "x"})).await.expect(403);
    app.send(app.client.get(app.url("/api/v1/departments"))).await.expect(401);
}
both_stores!(only_admins_write_departments_and_everyone_reads_them);

async fn a_retried_create_is_replayed_and_changes_nothing(app: TestApp) {
    let admin = app.admin_token().await;
    let body = json!({"code": "retry-dept", "name_kk": "Қайталау", "name_ru": "Повтор"});
    let send = |b: serde_json::Value| {
        app.send(
            app.request(Method::POST, "/api/v1/departments", Some(&admin))
                .header("idempotency-key", "dept-7f3a")
                .json(&b),
        )
    };
    let first = send(body.clone()).await.expect(201);
    let again = send(body.clone()).await.expect(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.json(), again.json());
    assert_eq!(first.header("location"), again.header("location"));
    let list = app.get("/api/v1/departments", &admin).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().iter().filter(|d| d["code"] == "retry-dept").count(), 1);
    // The same key with another body is refused.
    let other = send(json!({"code": "other", "name_kk": "a", "name_ru": "b"})).await.expect(422).json();
    assert_eq!(other["errors"][0]["field"], "Idempotency-Key");
}
both_stores!(a_retried_create_is_replayed_and_changes_nothing);

async fn a_retried_patch_is_replayed_even_though_if_match_is_now_stale(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "patch-retry").await;
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    let send = || {
        app.send(
            app.request(Method::PATCH, &path, Some(&admin))
                .header("if-match", "\"1\"")
                .header("idempotency-key", "p-1")
                .header("content-type", "application/merge-patch+json")
                .body(json!({"name_ru": "Новое"}).to_string()),
        )
    };
    let first = send().await.expect(200);
    let again = send().await.expect(200);
    assert_eq!(first.json(), again.json());
    assert_eq!(app.get(&path, &admin).await.json()["version"], 2);
}
both_stores!(a_retried_patch_is_replayed_even_though_if_match_is_now_stale);

async fn concurrent_retries_create_exactly_one_department(app: TestApp) {
    let admin = app.admin_token().await;
    let body = json!({"code": "race-dept", "name_kk": "Жарыс", "name_ru": "Гонка"});
    let tries = (0..8).map(|_| {
        app.send(
            app.request(Method::POST, "/api/v1/departments", Some(&admin))
                .header("idempotency-key", "race-1")
                .json(&body),
        )
    });
    let replies = futures_util::future::join_all(tries).await;
    let statuses: Vec<u16> = replies.iter().map(|r| r.status.as_u16()).collect();
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let ids: HashSet<String> =
        replies.iter().filter(|r| r.status == 201).map(|r| r.json()["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids.len(), 1, "every 201 names the same department: {statuses:?}");
    let list = app.get("/api/v1/departments?limit=200", &admin).await.json();
    assert_eq!(list["items"].as_array().unwrap().iter().filter(|d| d["code"] == "race-dept").count(), 1);
}
both_stores!(concurrent_retries_create_exactly_one_department);

async fn concurrent_if_match_writers_cannot_both_win(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "contested").await;
    let path = format!("/api/v1/departments/{}", d["id"].as_str().unwrap());
    let bodies: Vec<serde_json::Value> = (0..6).map(|i| json!({"name_ru": format!("писатель {i}")})).collect();
    let writers = bodies.iter().map(|b| app.patch(&path, &admin, "\"1\"", b));
    let replies = futures_util::future::join_all(writers).await;
    let wins = replies.iter().filter(|r| r.status.as_u16() == 200).count();
    let stale = replies.iter().filter(|r| r.status.as_u16() == 412).count();
    assert_eq!((wins, stale), (1, 5));
    assert_eq!(app.get(&path, &admin).await.json()["version"], 2);
}
both_stores!(concurrent_if_match_writers_cannot_both_win);
