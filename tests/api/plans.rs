//! Action plans and their items: managed by coordinators and admins, read by everyone with
//! events:read, item status derived from the held events linked to them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::events::{create, event, world};
use crate::helpers::TestApp;

async fn coordinators_manage_plans_and_organisers_read_them(app: TestApp) {
    let w = world(&app).await;
    let coordinator = app.token_for(&w.admin, "coordinator", &w.policy, "coordinator").await;
    let plan =
        app.post("/api/v1/plans", &coordinator, &json!({"year": 2024, "title": "2024 жылғы жоспар"})).await.expect(201);
    let location = plan.header("location").unwrap();
    let plan = plan.json();
    assert_eq!(plan["department_id"], w.policy, "the caller's department by default");
    app.post("/api/v1/plans", &w.youth_organiser, &json!({"year": 2024, "title": "Менің жоспарым"})).await.expect(403);
    app.get(&location, &w.youth_organiser).await.expect(200);
    let changed =
        app.patch(&location, &coordinator, "\"1\"", &json!({"title": "Жаңартылған жоспар"})).await.expect(200).json();
    assert_eq!(changed["title"], "Жаңартылған жоспар");
    app.patch(&location, &coordinator, "\"1\"", &json!({"title": "Ескі"})).await.expect(412);
    let r = app
        .post("/api/v1/plans", &coordinator, &json!({"year": 1999, "title": "Ескі жоспар"}))
        .await
        .expect(422)
        .json();
    assert_eq!(r["errors"][0]["field"], "year");
    let list = app.get("/api/v1/plans?year=2024", &w.youth_organiser).await.expect(200).json();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}
both_stores!(coordinators_manage_plans_and_organisers_read_them);

pub async fn plan_with_items(
    app: &TestApp,
    token: &str,
    department: &str,
    items: &[(&str, &str, i32, i32)],
) -> (String, Vec<Value>) {
    let plan =
        app.post("/api/v1/plans", token, &json!({"year": 2024, "title": "2024 жылғы жоспар"})).await.expect(201).json();
    let id = plan["id"].as_str().unwrap().to_string();
    let mut made = Vec::new();
    for (number, due, events, participants) in items {
        let item = app
            .post(
                &format!("/api/v1/plans/{id}/items"),
                token,
                &json!({"number": number, "title": format!("Тармақ {number}"), "responsible_department_id": department,
                        "due_date": due, "target_events": events, "target_participants": participants}),
            )
            .await
            .expect(201)
            .json();
        made.push(item);
    }
    (id, made)
}

async fn items_keep_number_order_and_unique_numbers(app: TestApp) {
    let w = world(&app).await;
    let (plan, _) = plan_with_items(
        &app,
        &w.admin,
        &w.youth,
        &[("1.10", "2024-12-31", 1, 1), ("1.2", "2024-12-31", 1, 1), ("2.1", "2024-12-31", 1, 1)],
    )
    .await;
    let items = app.get(&format!("/api/v1/plans/{plan}/items"), &w.youth_organiser).await.expect(200).json();
    let numbers: Vec<&str> = items["items"].as_array().unwrap().iter().map(|i| i["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, vec!["1.2", "1.10", "2.1"]);
    let dup = json!({"number": "1.2", "title": "Қайталау", "responsible_department_id": w.youth, "due_date": "2024-12-31", "target_events": 1, "target_participants": 1});
    app.post(&format!("/api/v1/plans/{plan}/items"), &w.admin, &dup).await.expect(409);
    let bad = json!({"number": "один", "title": "x", "responsible_department_id": w.youth, "due_date": "2024-12-31", "target_events": -1, "target_participants": 1});
    let r = app.post(&format!("/api/v1/plans/{plan}/items"), &w.admin, &bad).await.expect(422).json();
    let fields: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"number") && fields.contains(&"target_events") && fields.contains(&"title"), "{fields:?}");
}
both_stores!(items_keep_number_order_and_unique_numbers);

async fn item_status_turns_done_and_overdue(app: TestApp) {
    let w = world(&app).await;
    let (plan, items) =
        plan_with_items(&app, &w.admin, &w.youth, &[("1.1", "2024-01-31", 1, 10), ("1.2", "2099-12-31", 2, 30)]).await;
    let path = |i: &Value| format!("/api/v1/plans/{plan}/items/{}", i["id"].as_str().unwrap());
    assert_eq!(app.get(&path(&items[0]), &w.admin).await.json()["status"], "overdue");
    assert_eq!(app.get(&path(&items[1]), &w.admin).await.json()["status"], "open");
    let linked = |total: i32| event(json!({"plan_item_id": items[1]["id"], "attendance": {"total": total}}));
    create(&app, &w.youth_organiser, &linked(12)).await;
    let one = app.get(&path(&items[1]), &w.admin).await.json();
    assert_eq!(
        (one["events_held"].as_i64(), one["participants_total"].as_i64(), one["status"].as_str()),
        (Some(1), Some(12), Some("open"))
    );
    // A planned (not held) event does not count; a second held one reaches both targets.
    create(&app, &w.youth_organiser, &event(json!({"plan_item_id": items[1]["id"]}))).await;
    create(&app, &w.youth_organiser, &linked(18)).await;
    let done = app.get(&path(&items[1]), &w.admin).await.json();
    assert_eq!(
        (done["events_held"].as_i64(), done["participants_total"].as_i64(), done["status"].as_str()),
        (Some(2), Some(30), Some("done"))
    );
    // A linked item cannot be removed; an unlinked one can.
    let r = app.send(app.request(Method::DELETE, &path(&items[1]), Some(&w.admin)).header("if-match", "\"1\"")).await;
    assert_eq!(r.status.as_u16(), 409);
    app.send(app.request(Method::DELETE, &path(&items[0]), Some(&w.admin)).header("if-match", "\"1\""))
        .await
        .expect(204);
    app.get(&path(&items[0]), &w.admin).await.expect(404);
}
both_stores!(item_status_turns_done_and_overdue);
