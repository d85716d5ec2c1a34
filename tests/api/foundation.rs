//! The foundation: problem errors for everything actix itself rejects, request ids, health, the
//! OpenAPI document and the migrations.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_stores;
use crate::helpers::TestApp;

async fn health_reports_live_and_ready(app: TestApp) {
    let live = app.send(app.client.get(app.url("/health/live"))).await.expect(200);
    assert_eq!(live.json()["status"], "ok");
    let ready = app.send(app.client.get(app.url("/health/ready"))).await.expect(200);
    assert_eq!(ready.json()["status"], "ok");
}
both_stores!(health_reports_live_and_ready);

async fn every_response_carries_a_request_id_and_echoes_the_clients(app: TestApp) {
    let mine = app.send(app.client.get(app.url("/health/live")).header("x-request-id", "city-portal-42")).await;
    assert_eq!(mine.header("x-request-id").as_deref(), Some("city-portal-42"));
    let made = app.send(app.client.get(app.url("/health/live"))).await;
    assert!(uuid::Uuid::parse_str(&made.header("x-request-id").unwrap()).is_ok());
    // A problem body names the same id.
    let problem =
        app.send(app.client.get(app.url("/api/v1/nothing")).header("x-request-id", "abc-1")).await.expect(404);
    assert_eq!(problem.json()["request_id"], "abc-1");
    // An id that is not a safe token is replaced, not echoed.
    let hostile = app.send(app.client.get(app.url("/health/live")).header("x-request-id", "a b\"<script>")).await;
    assert_ne!(hostile.header("x-request-id").as_deref(), Some("a b\"<script>"));
}
both_stores!(every_response_carries_a_request_id_and_echoes_the_clients);

fn assert_problem(reply: &crate::helpers::Reply, status: u16, path: &str) -> Value {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.header("content-type").as_deref(), Some("application/problem+json"));
    let body = reply.json();
    assert_eq!(body["status"], status);
    assert_eq!(body["instance"], path);
    assert!(body["type"].as_str().unwrap().starts_with("https://"));
    assert!(body["title"].is_string() && body["detail"].is_string());
    assert_eq!(body["request_id"].as_str(), reply.header("x-request-id").as_deref());
    body
}

async fn unknown_routes_and_methods_are_problems(app: TestApp) {
    let r = app.send(app.client.get(app.url("/api/v1/no-such-thing"))).await;
    assert_problem(&r, 404, "/api/v1/no-such-thing");
    let r = app.send(app.client.delete(app.url("/api/v1/departments"))).await;
    assert_problem(&r, 405, "/api/v1/departments");
    let allow = r.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST") && !allow.contains("DELETE"), "{allow}");
}
both_stores!(unknown_routes_and_methods_are_problems);

async fn bad_bodies_are_answered_with_the_right_problem(app: TestApp) {
    let admin = app.admin_token().await;
    let path = "/api/v1/departments";
    // Not JSON at all.
    let r = app
        .send(
            app.request(Method::POST, path, Some(&admin))
                .header("content-type", "application/json")
                .body("{\"code\": "),
        )
        .await;
    assert_problem(&r, 400, path);
    // Wrong content type.
    let r = app
        .send(app.request(Method::POST, path, Some(&admin)).header("content-type", "text/plain").body("code=x"))
        .await;
    assert_problem(&r, 415, path);
    // Over the 1 MiB limit.
    let big = json!({"code": "big", "name_kk": "x".repeat(1_100_000), "name_ru": "x"});
    let r = app.send(app.request(Method::POST, path, Some(&admin)).json(&big)).await;
    assert_problem(&r, 413, path);
    // Parses, but a field has the wrong type: 422 naming the field.
    let r = app.post(path, &admin, &json!({"code": 5, "name_kk": "a", "name_ru": "b"})).await;
    let body = assert_problem(&r, 422, path);
    assert_eq!(body["errors"][0]["field"], "code");
    // A field the client may not set.
    let r = app.post(path, &admin, &json!({"code": "abc", "name_kk": "a", "name_ru": "b", "version": 7})).await;
    let body = assert_problem(&r, 422, path);
    assert_eq!(body["errors"][0]["field"], "version");
    assert_eq!(body["errors"][0]["code"], "unknown_field");
}
both_stores!(bad_bodies_are_answered_with_the_right_problem);

async fn bad_query_parameters_are_400_and_out_of_range_422(app: TestApp) {
    let admin = app.admin_token().await;
    let r = app.get("/api/v1/departments?limit=lots", &admin).await;
    assert_problem(&r, 400, "/api/v1/departments");
    let r = app.get("/api/v1/departments?limit=500", &admin).await;
    let body = assert_problem(&r, 422, "/api/v1/departments");
    assert_eq!(body["errors"][0]["field"], "limit");
    // Any string is a well-formed cursor, so one the list never returned breaks a rule: 422.
    let r = app.get("/api/v1/departments?cursor=not-ours", &admin).await;
    let body = assert_problem(&r, 422, "/api/v1/departments");
    assert_eq!(body["errors"][0]["field"], "cursor");
}
both_stores!(bad_query_parameters_are_400_and_out_of_range_422);

async fn the_served_openapi_document_is_the_committed_one(app: TestApp) {
    let served = app.send(app.client.get(app.url("/api-docs/openapi.json"))).await.expect(200).json();
    let committed: Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).expect("committed spec is JSON");
    assert!(
        served == committed,
        "openapi/openapi.json differs from the served document; regenerate it with: cargo run -- openapi > openapi/openapi.json"
    );
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(served["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}
both_stores!(the_served_openapi_document_is_the_committed_one);

async fn the_docs_page_needs_no_internet(app: TestApp) {
    let redirect = app.send(app.client.get(app.url("/docs"))).await;
    assert!(redirect.status.is_success(), "/docs should lead to the page: {}", redirect.status);
    let page = app.send(app.client.get(app.url("/docs/"))).await.expect(200);
    assert!(page.text.contains("swagger-ui"));
    for needle in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
        assert!(!page.text.contains(needle), "the docs page loads {needle}… from another host");
    }
}
both_stores!(the_docs_page_needs_no_internet);

async fn metrics_count_requests_by_route_template(app: TestApp) {
    let admin = app.admin_token().await;
    let d = app.create_department(&admin, "metrics-dept").await;
    app.get(&format!("/api/v1/departments/{}", d["id"].as_str().unwrap()), &admin).await.expect(200);
    let text = app.send(app.client.get(app.url("/metrics"))).await.expect(200).text;
    assert!(
        text.contains("adal_http_requests_total{method=\"GET\",route=\"/api/v1/departments/{id}\",status=\"200\"} 1"),
        "{text}"
    );
    assert!(text.contains("adal_http_request_duration_seconds_bucket{route=\"/api/v1/departments/{id}\""));
    assert!(text.contains("adal_db_pool_max 4"));
}
both_stores!(metrics_count_requests_by_route_template);

#[test]
fn both_migration_sets_list_the_same_versions() {
    let sqlite = adal::store::migration_versions(true);
    let postgres = adal::store::migration_versions(false);
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, postgres);
}

async fn rerunning_migrations_applies_nothing(app: TestApp) {
    let mut conn = app.store.connect();
    assert!(adal::store::run_migrations(&mut conn).unwrap().is_empty());
}
both_stores!(rerunning_migrations_applies_nothing);

#[test]
fn every_operation_has_its_own_operation_id() {
    let doc: Value = serde_json::from_str(&adal::openapi::to_pretty_json(&adal::startup::openapi())).unwrap();
    let mut seen = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(seen.insert(id.to_string()), "operationId {id} repeats ({method} {path})");
        }
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn probes(conn: &mut adal::store::DbConnection) -> diesel::QueryResult<i64> {
    let rows: Vec<Count> =
        diesel::RunQueryDsl::load(diesel::sql_query("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM snapshot_probe"), conn)?;
    Ok(rows[0].n)
}

/// What a snapshot reads is fixed by its first read: a row another connection commits meanwhile
/// is not seen by its second, and is by the next snapshot. On PostgreSQL it is read-only too.
async fn a_snapshot_reads_one_state_of_the_store(app: TestApp) {
    use diesel::connection::SimpleConnection;
    let (mut reader, mut writer) = (app.store.connect(), app.store.connect());
    writer.batch_execute("CREATE TABLE snapshot_probe (n BIGINT); INSERT INTO snapshot_probe VALUES (1)").unwrap();
    let (first, second) = adal::store::snapshot(&mut reader, |conn| {
        let first = probes(conn)?;
        writer.batch_execute("INSERT INTO snapshot_probe VALUES (2)")?;
        Ok::<_, diesel::result::Error>((first, probes(conn)?))
    })
    .unwrap();
    assert_eq!((first, second), (1, 1));
    assert_eq!(adal::store::snapshot(&mut reader, probes).unwrap(), 2);
    if matches!(reader, adal::store::DbConnection::Postgres(_)) {
        let refused =
            adal::store::snapshot(&mut reader, |conn| conn.batch_execute("INSERT INTO snapshot_probe VALUES (3)"));
        assert!(refused.unwrap_err().to_string().contains("read-only transaction"));
    }
}
both_stores!(a_snapshot_reads_one_state_of_the_store);
