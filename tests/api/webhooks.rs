//! Webhooks against a real HTTP receiver on loopback: what is delivered, how it is signed (checked
//! by a verifier written here from the Standard Webhooks specification, not the server's code),
//! retries, 410, rollbacks, SSRF refusals, who sees which subscription, a crash, and two
//! instances sharing one outbox.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::attendees::iin;
use crate::events::event;
use crate::helpers::{Backend, TestApp, TestStore};
use crate::process::ServerProcess;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a delivery is JSON")
    }
}

/// An answer the receiver gives 3 s late (then 200): past a short delivery timeout.
const HANG: u16 = 599;

/// A webhook endpoint on loopback: it records every request and answers the statuses it is told
/// to, in order, then 200.
#[derive(Clone, Default)]
pub struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
    pub url: String,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let mut receiver = Receiver::default();
        let (got, answers) = (receiver.got.clone(), receiver.answers.clone());
        let server = HttpServer::new(move || {
            let (got, answers) = (got.clone(), answers.clone());
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let (got, answers) = (got.clone(), answers.clone());
                async move {
                    let header =
                        |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                    got.lock().unwrap().push(Received {
                        at: Instant::now(),
                        path: req.path().to_string(),
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let mut status = answers.lock().unwrap().pop_front().unwrap_or(200);
                    if status == HANG {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        status = 200;
                    }
                    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                    if (300..400).contains(&status) {
                        // A redirect to another path of this receiver: following it would show.
                        answer.insert_header(("location", "/moved"));
                    }
                    if status == 503 {
                        answer.insert_header(("retry-after", "1"));
                    }
                    answer.finish()
                }
            }))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("the receiver binds");
        receiver.url = format!("http://{}/hook", server.addrs()[0]);
        tokio::spawn(server.run());
        receiver
    }

    pub fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds of what arrived, for at most `limit`.
    pub async fn wait_for(&self, limit: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(started.elapsed() < limit, "waited {limit:?}; the receiver got {} requests: {got:?}", got.len());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Standard Webhooks verification, from the specification: the signed content is
/// `id.timestamp.body`, HMAC-SHA256 under the base64-decoded part of the secret after `whsec_`,
/// and the header lists space-separated `v1,<base64>` signatures, any of which may match.
pub fn verifies(secret: &str, got: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ prefix")).expect("base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", got.id, got.timestamp, got.body).as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    got.signature.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

/// The server with webhooks allowed to reach loopback over http, retried quickly.
async fn spawn(backend: Backend, retries: usize) -> Option<TestApp> {
    spawn_allowing(backend, "127.0.0.0/8", retries).await
}

/// Where a subscription may point when nothing should arrive: allowed (127.0.0.2 alone is), yet
/// nothing listens there, so no test ever sends a request off this machine.
const INERT: &str = "http://127.0.0.2:9/hook";

/// The server with webhooks allowed to reach 127.0.0.2 only: the rest of loopback stays refused.
async fn spawn_inert(backend: Backend) -> Option<TestApp> {
    spawn_allowing(backend, "127.0.0.2/32", 5).await
}

async fn spawn_allowing(backend: Backend, network: &str, retries: usize) -> Option<TestApp> {
    spawn_configured(backend, network, retries, |_| {}).await
}

/// Loopback allowed, and an attempt gets 1 s (15 s in production).
async fn spawn_hasty(backend: Backend) -> Option<TestApp> {
    spawn_configured(backend, "127.0.0.0/8", 5, |c| c.webhook_timeout = Duration::from_secs(1)).await
}

/// Loopback allowed, and a subscription that has failed for half a second is disabled (five days in
/// production).
async fn spawn_impatient(backend: Backend) -> Option<TestApp> {
    spawn_configured(backend, "127.0.0.0/8", 50, |c| c.webhook_disable_after = Duration::from_millis(500)).await
}

async fn spawn_configured(
    backend: Backend,
    network: &str,
    retries: usize,
    more: impl FnOnce(&mut adal::config::Config),
) -> Option<TestApp> {
    let store = TestStore::create(backend)?;
    let mut config = store.config();
    config.webhook_allowed_networks = vec![network.parse().unwrap()];
    config.webhook_retry_schedule = vec![Duration::from_millis(100); retries];
    config.webhook_poll_interval = Duration::from_millis(100);
    config.webhook_timeout = Duration::from_secs(5);
    more(&mut config);
    Some(TestApp::spawn_with(store, config).await)
}

/// Runs a test once per store on a server made by `$spawn` (with its extra arguments).
macro_rules! both_stores_with {
    ($name:ident, $spawn:ident $(, $arg:expr)*) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = super::$spawn($crate::helpers::Backend::Sqlite $(, $arg)*).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = super::$spawn($crate::helpers::Backend::Postgres $(, $arg)*).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

/// A client of another city system with `scopes`; answers its token.
async fn client_token(app: &TestApp, admin: &str, name: &str, scopes: &[&str]) -> String {
    let me = app.get("/api/v1/auth/me", admin).await.expect(200).json();
    let created = app
        .post(
            "/api/v1/clients",
            admin,
            &json!({"client_id": name, "name": name, "department_id": me["department_id"], "scopes": scopes}),
        )
        .await
        .expect(201)
        .json();
    let secret = created["client_secret"].as_str().unwrap();
    let token = app
        .token(&json!({"grant_type": "client_credentials", "client_id": name, "client_secret": secret}))
        .await
        .expect(200)
        .json();
    token["access_token"].as_str().unwrap().to_string()
}

/// A subscription to `url`; answers it with its secret.
async fn subscribe(app: &TestApp, token: &str, url: &str, types: &[&str]) -> Value {
    app.post("/api/v1/webhooks", token, &json!({"url": url, "event_types": types, "description": "тест"}))
        .await
        .expect(201)
        .json()
}

const WAIT: Duration = Duration::from_secs(20);

both_stores_with!(changes_arrive_signed_as_standard_webhooks_with_the_record_as_get_answered_it, spawn, 5);
async fn changes_arrive_signed_as_standard_webhooks_with_the_record_as_get_answered_it(app: TestApp) {
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let system = client_token(&app, &admin, "edo", &["events:read", "webhooks:manage"]).await;
    let sub = subscribe(&app, &system, &receiver.url, &[]).await;
    let secret = sub["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(sub["active"], true);

    let created = app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201).json();
    let id = created["id"].as_str().unwrap().to_string();
    let as_read = app.get(&format!("/api/v1/events/{id}"), &admin).await.expect(200).json();
    let got = receiver.wait_for(WAIT, |g| !g.is_empty()).await;
    let first = &got[0];
    assert!(verifies(&secret, first), "the signature verifies under the subscription's secret: {first:?}");
    assert!(!verifies(&crate::webhooks::other_secret(), first), "and under no other");
    let message = first.json();
    assert_eq!(message["type"], "event.created");
    assert_eq!(message["data"], as_read, "data is the record as GET answers it");
    let timestamp: i64 = first.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);

    // Attendees travel as a count: no name, no IIN, in any delivered body.
    let person = iin(7);
    app.post(
        &format!("/api/v1/events/{id}/attendees"),
        &admin,
        &json!({"attendees": [{"full_name": "Әлия Серікқызы", "iin": person}]}),
    )
    .await
    .expect(201);
    let etag = app.get(&format!("/api/v1/events/{id}"), &admin).await.header("etag").unwrap();
    app.send(
        app.request(reqwest::Method::DELETE, &format!("/api/v1/events/{id}"), Some(&admin)).header("if-match", etag),
    )
    .await
    .expect(204);
    let got = receiver.wait_for(WAIT, |g| g.iter().any(|r| r.json()["type"] == "event.deleted")).await;
    let types: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["event.created", "event.attendees_changed", "event.deleted"], "in commit order");
    let changed = got[1].json();
    assert_eq!(changed["data"]["attendees_count"], 1);
    assert_eq!(changed["data"]["attendance"]["total"], 1);
    for r in &got {
        assert!(verifies(&secret, r));
        assert!(!r.body.contains("Әлия") && !r.body.contains(&person), "{}", r.body);
    }
    let deleted = got[2].json()["data"].clone();
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["deleted"], true);
    assert!(deleted["updated_at"].is_string());
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "each message has its own webhook-id");

    // The log says what happened, and the metrics count it.
    // Each attempt is recorded just after its answer arrives: wait for the third record.
    let started = Instant::now();
    let log = loop {
        let log = app
            .get(&format!("/api/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap()), &system)
            .await
            .expect(200)
            .json();
        if log["items"].as_array().unwrap().len() >= 3 || started.elapsed() > WAIT {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(log["items"].as_array().unwrap().len(), 3);
    assert!(log["items"].as_array().unwrap().iter().all(|d| d["status"] == "delivered" && d["response_status"] == 200));
    let metrics = app.send(app.client.get(app.url("/metrics"))).await.expect(200).text;
    assert!(metrics.contains("adal_webhook_queue_depth 0"), "{metrics}");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("adal_webhook_deliveries_total{outcome=\"delivered\"} ") && !l.ends_with(" 0"))
    );
}

both_stores_with!(a_receiver_that_fails_twice_gets_the_same_webhook_id_three_times, spawn, 5);
async fn a_receiver_that_fails_twice_gets_the_same_webhook_id_three_times(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &["event.created"]).await;
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let got = receiver.wait_for(WAIT, |g| g.len() >= 3).await;
    // A change of a type the subscription did not ask for is not sent.
    let id = got[0].json()["data"]["id"].as_str().unwrap().to_string();
    let etag = app.get(&format!("/api/v1/events/{id}"), &admin).await.header("etag").unwrap();
    app.patch(&format!("/api/v1/events/{id}"), &admin, &etag, &json!({"title": "Өзгерген атау"})).await.expect(200);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let got_after = receiver.received();
    assert_eq!(got_after.len(), 3, "delivered once it answered 200, then no more, and no event.updated");
    assert!(got.iter().all(|r| r.id == got[0].id && r.body == got[0].body), "one message, one id, one body");
    let secret = sub["secret"].as_str().unwrap();
    assert!(got.iter().all(|r| verifies(secret, r)));
    let log = app
        .get(&format!("/api/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap()), &admin)
        .await
        .expect(200)
        .json();
    let attempts: Vec<(i64, String, i64)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_i64().unwrap(),
                d["status"].as_str().unwrap().to_string(),
                d["response_status"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [(3, "delivered".to_string(), 200), (2, "failed".to_string(), 503), (1, "failed".to_string(), 500)],
        "newest first"
    );
}

both_stores_with!(a_redirect_is_a_failure_and_is_not_followed, spawn, 5);
async fn a_redirect_is_a_failure_and_is_not_followed(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[307, 302]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &[]).await;
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let got = receiver.wait_for(WAIT, |g| g.len() >= 3).await;
    assert!(got.iter().all(|r| r.path == "/hook"), "no request followed a redirect: {got:?}");
    assert!(got.iter().all(|r| r.id == got[0].id));
    let log = app
        .get(&format!("/api/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap()), &admin)
        .await
        .expect(200)
        .json();
    let items = log["items"].as_array().unwrap();
    let last = &items[items.len() - 1];
    assert_eq!((last["status"].as_str(), last["response_status"].as_i64()), (Some("failed"), Some(307)));
    assert!(last["error"].as_str().unwrap().contains("redirect"), "{last}");
}

both_stores_with!(a_deactivated_principal_s_subscriptions_are_disabled_and_a_lost_scope_stops_deliveries, spawn, 5);
async fn a_deactivated_principal_s_subscriptions_are_disabled_and_a_lost_scope_stops_deliveries(app: TestApp) {
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let system = client_token(&app, &admin, "watcher", &["events:read", "webhooks:manage"]).await;
    let sub = subscribe(&app, &system, &receiver.url, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    let client_id = app.get("/api/v1/auth/me", &system).await.expect(200).json()["id"].as_str().unwrap().to_string();
    let client_path = format!("/api/v1/clients/{client_id}");

    // Without events:read it is told of no event.
    let etag = app.get(&client_path, &admin).await.header("etag").unwrap();
    app.patch(&client_path, &admin, &etag, &json!({"scopes": ["webhooks:manage"]})).await.expect(200);
    app.post("/api/v1/events", &admin, &event(json!({"title": "Көрінбейтін іс-шара"}))).await.expect(201);
    // Given it back, it is told of the next one, and only that one.
    let etag = app.get(&client_path, &admin).await.header("etag").unwrap();
    app.patch(&client_path, &admin, &etag, &json!({"scopes": ["events:read", "webhooks:manage"]})).await.expect(200);
    app.post("/api/v1/events", &admin, &event(json!({"title": "Көрінетін іс-шара"}))).await.expect(201);
    let got = receiver.wait_for(WAIT, |g| !g.is_empty()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let titles: Vec<Value> = receiver.received().iter().map(|r| r.json()["data"]["title"].clone()).collect();
    assert_eq!(titles, [json!("Көрінетін іс-шара")], "{got:?}");

    // Deactivated, its subscriptions are switched off with the reason.
    let etag = app.get(&client_path, &admin).await.header("etag").unwrap();
    app.patch(&client_path, &admin, &etag, &json!({"active": false})).await.expect(200);
    let now = app.get(&path, &admin).await.expect(200).json();
    assert_eq!(now["active"], false);
    assert_eq!(now["disabled_reason"], "its principal was deactivated");
    app.post("/api/v1/events", &admin, &event(json!({"title": "Кейінгі іс-шара"}))).await.expect(201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received().len(), 1);
}

both_stores_with!(one_record_s_messages_arrive_in_order_behind_a_failing_one, spawn, 5);
async fn one_record_s_messages_arrive_in_order_behind_a_failing_one(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 500]);
    let admin = app.admin_token().await;
    subscribe(&app, &admin, &receiver.url, &[]).await;
    let created = app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let id = created.json()["id"].as_str().unwrap().to_string();
    let etag = created.header("etag").unwrap();
    // Another record's message beside it: the two failures fall on the first two requests, so
    // this record's creation fails at least once.
    app.post("/api/v1/events", &admin, &event(json!({"title": "Басқа іс-шара"}))).await.expect(201);
    app.patch(&format!("/api/v1/events/{id}"), &admin, &etag, &json!({"title": "Жаңа атау"})).await.expect(200);
    let got = receiver.wait_for(WAIT, |g| g.iter().any(|r| r.json()["type"] == "event.updated")).await;
    let about_it: Vec<String> = got
        .iter()
        .map(|r| r.json())
        .filter(|m| m["data"]["id"] == id.as_str())
        .map(|m| m["type"].as_str().unwrap().to_string())
        .collect();
    let (last, before) = about_it.split_last().unwrap();
    assert_eq!(last, "event.updated", "the update came last: {about_it:?}");
    assert!(
        before.len() >= 2 && before.iter().all(|t| t == "event.created"),
        "the creation was retried first: {about_it:?}"
    );
}

both_stores_with!(a_503_with_retry_after_is_retried_no_sooner, spawn, 5);
async fn a_503_with_retry_after_is_retried_no_sooner(app: TestApp) {
    let receiver = Receiver::start().await;
    // The receiver answers its 503 with Retry-After: 1; the schedule alone would wait 100 ms.
    receiver.answer(&[503]);
    let admin = app.admin_token().await;
    subscribe(&app, &admin, &receiver.url, &[]).await;
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let got = receiver.wait_for(WAIT, |g| g.len() >= 2).await;
    let waited = got[1].at - got[0].at;
    assert!(waited >= Duration::from_millis(950), "retried after {waited:?}");
}

both_stores_with!(a_url_that_leads_somewhere_private_at_delivery_is_refused_without_a_request, spawn_inert);
async fn a_url_that_leads_somewhere_private_at_delivery_is_refused_without_a_request(app: TestApp) {
    use adal::store::schema::webhook_subscriptions as ws;
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, INERT, &[]).await;
    let id = sub["id"].as_str().unwrap();
    // Written past the API's check, as a URL whose name now resolves elsewhere would be: the
    // delivery must check again and send nothing. The receiver listens on 127.0.0.1, outside this
    // server's allowed 127.0.0.2/32, so a request that slipped through would show there.
    let mut conn = app.store.connect();
    if let adal::store::DbConnection::Sqlite(c) = &mut conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA busy_timeout = 5000").unwrap();
    }
    diesel::update(ws::table.find(id)).set(ws::url.eq(&receiver.url)).execute(&mut conn).unwrap();
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let started = Instant::now();
    let log = loop {
        let log = app.get(&path, &admin).await.expect(200).json();
        if !log["items"].as_array().unwrap().is_empty() {
            break log;
        }
        assert!(started.elapsed() < WAIT, "no attempt logged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let attempt = &log["items"][0];
    assert_eq!(attempt["status"], "refused", "{attempt}");
    assert_eq!(attempt["response_status"], Value::Null);
    assert!(attempt["error"].as_str().unwrap().contains("not a public address"), "{attempt}");
    assert!(receiver.received().is_empty(), "nothing reached the address it refused");
}

both_stores_with!(an_endpoint_that_does_not_answer_in_time_is_a_failure_and_is_tried_again, spawn_hasty);
async fn an_endpoint_that_does_not_answer_in_time_is_a_failure_and_is_tried_again(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[HANG]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &[]).await;
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let path = format!("/api/v1/webhooks/{}/deliveries", sub["id"].as_str().unwrap());
    let started = Instant::now();
    let log = loop {
        let log = app.get(&path, &admin).await.expect(200).json();
        if log["items"].as_array().unwrap().iter().any(|d| d["status"] == "delivered") {
            break log;
        }
        assert!(started.elapsed() < WAIT, "never delivered: {log}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let items = log["items"].as_array().unwrap();
    let first = &items[items.len() - 1];
    assert_eq!((first["status"].as_str(), first["response_status"].as_i64()), (Some("failed"), None), "{first}");
    assert!(first["error"].as_str().unwrap().starts_with("no answer within 1"), "{first}");
}

both_stores_with!(a_410_disables_the_subscription_at_once, spawn, 5);
async fn a_410_disables_the_subscription_at_once(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[410]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    receiver.wait_for(WAIT, |g| g.len() == 1).await;
    let started = Instant::now();
    let now = loop {
        let now = app.get(&path, &admin).await.expect(200).json();
        if now["active"] == false || started.elapsed() > WAIT {
            break now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(now["active"], false);
    assert!(now["disabled_reason"].as_str().unwrap().contains("410"), "{now}");
    app.post("/api/v1/events", &admin, &event(json!({"title": "Тағы бір іс-шара"}))).await.expect(201);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1, "a disabled subscription gets nothing more");
    let audit = app.audit_entries(&admin).await;
    assert!(audit.iter().any(|e| e["action"] == "webhook.disable" && e["actor_kind"] == "system"));

    // Switched on again by its manager, it forgets the reason and is delivered to again (what
    // changed while it was off was never queued for it).
    let etag = app.get(&path, &admin).await.header("etag").unwrap();
    let on = app.patch(&path, &admin, &etag, &json!({"active": true})).await.expect(200).json();
    assert_eq!(on["disabled_reason"], Value::Null);
    app.post("/api/v1/events", &admin, &event(json!({"title": "Үшінші іс-шара"}))).await.expect(201);
    let got = receiver.wait_for(WAIT, |g| g.len() == 2).await;
    assert_eq!(got[1].json()["data"]["title"], "Үшінші іс-шара");
}

both_stores_with!(a_rolled_back_write_sends_nothing_and_a_committed_one_is_queued, spawn_inert);
async fn a_rolled_back_write_sends_nothing_and_a_committed_one_is_queued(app: TestApp) {
    use adal::audit::Actor;
    use adal::store::schema::webhook_messages as wm;
    use adal::write::{Change, transaction};
    let admin = app.admin_token().await;
    // A subscription whose URL no one listens on: nothing here is meant to arrive.
    subscribe(&app, &admin, INERT, &[]).await;
    let count = |conn: &mut adal::store::DbConnection| wm::table.count().get_result::<i64>(conn).unwrap();
    let mut conn = app.store.connect();
    if let adal::store::DbConnection::Sqlite(c) = &mut conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA busy_timeout = 5000").unwrap();
    }
    let before = count(&mut conn);
    let department = serde_json::json!({"id": "x", "code": "x", "name_kk": "x", "name_ru": "x"});
    let failed: Result<(), adal::error::ApiError> = transaction(&mut conn, &Actor::system(), "", |tx| {
        let mut change = Change::new("department.update", "department", Some("x")).at(2);
        change.record = Some(department.clone());
        tx.record(change, Value::Null)?;
        Err(adal::error::ApiError::conflict("the work failed after recording its change"))
    });
    assert!(failed.is_err());
    assert_eq!(count(&mut conn), before, "a rolled-back write queued nothing");
    transaction(&mut conn, &Actor::system(), "", |tx| {
        let mut change = Change::new("department.update", "department", Some("x")).at(2);
        change.record = Some(department.clone());
        tx.record(change, Value::Null)
    })
    .unwrap();
    assert_eq!(count(&mut conn), before + 1, "a committed one queued its message");
}

both_stores_with!(a_subscription_failing_past_the_limit_is_disabled_with_its_reason, spawn_impatient);
async fn a_subscription_failing_past_the_limit_is_disabled_with_its_reason(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[500; 100]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    let started = Instant::now();
    let now = loop {
        let now = app.get(&path, &admin).await.expect(200).json();
        if now["active"] == false {
            break now;
        }
        assert!(started.elapsed() < WAIT, "still active after {WAIT:?}: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(now["disabled_reason"].as_str().unwrap().starts_with("deliveries have failed since "), "{now}");
    let attempts = receiver.received().len();
    assert!(attempts >= 2, "it failed more than once before giving up on the endpoint: {attempts}");
}

both_stores_with!(pruning_forgets_what_is_done_and_keeps_what_is_pending, spawn_inert);
async fn pruning_forgets_what_is_done_and_keeps_what_is_pending(app: TestApp) {
    use adal::store::schema::webhook_messages as wm;
    use adal::webhooks::store::{self as hooks, NewMessage};
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, INERT, &[]).await;
    let now = adal::store::now();
    let days = |n: i64| now - chrono::Duration::days(n);
    let message = |name: &str, status: &'static str, created: chrono::NaiveDateTime| NewMessage {
        id: name.to_string(),
        subscription_id: sub["id"].as_str().unwrap().to_string(),
        event_type: "event.updated".into(),
        subject: format!("event:{name}"),
        body: "{}".into(),
        status,
        attempts: 1,
        // Far off, so the worker leaves them alone.
        next_attempt_at: now + chrono::Duration::days(365),
        created_at: created,
    };
    let mut conn = app.store.connect();
    // The server writes beside this connection (its logins, its worker): wait for it, not fail.
    if let adal::store::DbConnection::Sqlite(c) = &mut conn {
        diesel::connection::SimpleConnection::batch_execute(c, "PRAGMA busy_timeout = 5000").unwrap();
    }
    hooks::insert_messages(
        &mut conn,
        &[
            message("old-delivered", "delivered", days(8)),
            message("new-delivered", "delivered", days(6)),
            message("old-failed", "failed", days(31)),
            message("new-failed", "failed", days(29)),
            message("old-pending", "pending", days(40)),
        ],
    )
    .unwrap();
    hooks::prune(&mut conn, days(7), days(30)).unwrap();
    let mut left: Vec<String> = wm::table.select(wm::id).load(&mut conn).unwrap();
    left.sort();
    assert_eq!(left, ["new-delivered", "new-failed", "old-pending"]);
}

both_stores_with!(urls_that_lead_anywhere_but_public_https_are_refused_naming_the_field, spawn_inert);
async fn urls_that_lead_anywhere_but_public_https_are_refused_naming_the_field(app: TestApp) {
    let admin = app.admin_token().await;
    for (url, code) in [
        ("https://10.0.0.1/hook", "address"),
        ("https://127.0.0.1/hook", "address"),
        ("http://127.0.0.1:9/hook", "address"),
        ("https://localhost/hook", "address"),
        ("https://[::ffff:127.0.0.1]/hook", "address"),
        ("https://[::1]/hook", "address"),
        ("https://0.0.0.0/hook", "address"),
        ("https://169.254.169.254/latest/meta-data", "address"),
        ("https://100.64.0.1/hook", "address"),
        ("http://8.8.8.8/hook", "format"),
        ("ftp://127.0.0.2/hook", "format"),
        ("/relative", "format"),
    ] {
        let r = app.post("/api/v1/webhooks", &admin, &json!({"url": url})).await.expect(422).json();
        assert_eq!(r["errors"][0]["field"], "url", "{url}: {r}");
        assert_eq!(r["errors"][0]["code"], code, "{url}: {r}");
    }
    // Every bad field at once.
    let r = app
        .post("/api/v1/webhooks", &admin, &json!({"url": "https://10.1.2.3/", "description": "ә".repeat(501)}))
        .await
        .expect(422)
        .json();
    let fields: Vec<&str> = r["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["url", "description"]);
    let r = app
        .post("/api/v1/webhooks", &admin, &json!({"url": INERT, "event_types": ["event.exploded"]}))
        .await
        .expect(422)
        .json();
    assert_eq!(r["errors"][0]["field"], "event_types[0]", "{r}");
    assert!(r["errors"][0]["message"].as_str().unwrap().contains("event.created"), "the allowed values are named: {r}");
    // A PATCH to a private address is refused the same way.
    let sub = subscribe(&app, &admin, INERT, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    let etag = app.get(&path, &admin).await.header("etag").unwrap();
    let r = app.patch(&path, &admin, &etag, &json!({"url": "https://192.168.0.10/"})).await.expect(422).json();
    assert_eq!(r["errors"][0]["code"], "address");
    // At most 20 a principal.
    for n in 1..20 {
        subscribe(&app, &admin, &format!("{INERT}/{n}"), &[]).await;
    }
    let r = app.post("/api/v1/webhooks", &admin, &json!({"url": format!("{INERT}/21")})).await.expect(422).json();
    assert_eq!(r["errors"][0]["code"], "limit", "{r}");
}

both_stores_with!(a_subscription_is_seen_and_changed_only_by_its_principal_and_admins, spawn_inert);
async fn a_subscription_is_seen_and_changed_only_by_its_principal_and_admins(app: TestApp) {
    let admin = app.admin_token().await;
    let a = client_token(&app, &admin, "system-a", &["events:read", "webhooks:manage"]).await;
    let b = client_token(&app, &admin, "system-b", &["events:read", "webhooks:manage"]).await;
    let reader = client_token(&app, &admin, "reader", &["events:read"]).await;
    let sub = subscribe(&app, &a, INERT, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    let read = app.get(&path, &a).await.expect(200);
    assert!(read.json().get("secret").is_none(), "the secret is shown once only");
    app.get(&path, &b).await.expect(404);
    app.get(&format!("{path}/deliveries"), &b).await.expect(404);
    app.post(&format!("{path}/test"), &b, &json!({})).await.expect(404);
    app.post(&format!("{path}/secret"), &b, &json!({})).await.expect(404);
    let etag = read.header("etag").unwrap();
    app.patch(&path, &b, &etag, &json!({"active": false})).await.expect(404);
    app.get(&path, &reader).await.expect(403);
    app.get("/api/v1/webhooks", &reader).await.expect(403);
    assert_eq!(app.get("/api/v1/webhooks", &b).await.expect(200).json()["items"], json!([]));
    assert_eq!(app.get("/api/v1/webhooks", &admin).await.expect(200).json()["items"].as_array().unwrap().len(), 1);
    app.get(&path, &admin).await.expect(200);
    // A principal that cannot read events may only ask for test messages.
    let blind = client_token(&app, &admin, "blind", &["webhooks:manage"]).await;
    let r = app.post("/api/v1/webhooks", &blind, &json!({"url": INERT})).await.expect(422).json();
    assert_eq!(r["errors"][0]["code"], "scope");
    subscribe(&app, &blind, INERT, &["webhook.test"]).await;
}

both_stores_with!(a_rotated_secret_signs_beside_the_old_one_and_a_test_message_arrives, spawn, 5);
async fn a_rotated_secret_signs_beside_the_old_one_and_a_test_message_arrives(app: TestApp) {
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &["event.created"]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    let old = sub["secret"].as_str().unwrap().to_string();
    let rotated = app.post(&format!("{path}/secret"), &admin, &json!({})).await.expect(200).json();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(old, new);
    // The database holds neither secret in the clear: a dump cannot sign a delivery.
    {
        use adal::store::schema::webhook_subscriptions as ws;
        let mut conn = app.store.connect();
        let (current, previous): (String, Option<String>) =
            ws::table.select((ws::secret, ws::previous_secret)).first(&mut conn).unwrap();
        for stored in [current, previous.expect("the replaced secret is kept, sealed")] {
            assert!(
                !stored.contains(&new[6..]) && !stored.contains(&old[6..]) && !stored.starts_with("whsec_"),
                "{stored}"
            );
        }
        let audit = app.audit_entries(&admin).await.iter().map(|e| e.to_string()).collect::<String>();
        assert!(!audit.contains(&new[6..]) && !audit.contains(&old[6..]), "no secret in the audit trail");
    }
    let test = app.post(&format!("{path}/test"), &admin, &json!({})).await.expect(202).json();
    let got = receiver.wait_for(WAIT, |g| !g.is_empty()).await;
    assert_eq!(got[0].id, test["message_id"].as_str().unwrap());
    assert_eq!(got[0].json()["type"], "webhook.test", "delivered though the filter names event.created only");
    assert_eq!(got[0].signature.split(' ').count(), 2, "two signatures while both secrets live");
    assert!(verifies(&new, &got[0]) && verifies(&old, &got[0]));
}

// One retry only: two failures give up.
both_stores_with!(redelivery_queues_again_what_gave_up, spawn, 1);
async fn redelivery_queues_again_what_gave_up(app: TestApp) {
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 500]);
    let admin = app.admin_token().await;
    let sub = subscribe(&app, &admin, &receiver.url, &[]).await;
    let path = format!("/api/v1/webhooks/{}", sub["id"].as_str().unwrap());
    let since = chrono::Utc::now().to_rfc3339();
    app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201);
    receiver.wait_for(WAIT, |g| g.len() == 2).await;
    let started = Instant::now();
    while app.get(&format!("{path}/deliveries"), &admin).await.json()["items"].as_array().unwrap().len() < 2 {
        assert!(started.elapsed() < WAIT);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = app.get(&format!("{path}/deliveries"), &admin).await.json();
    assert_eq!(log["items"][0]["next_attempt_at"], Value::Null, "given up: {log}");
    let r = app.post(&format!("{path}/redeliver"), &admin, &json!({"since": since})).await.expect(202).json();
    assert_eq!(r["queued"], 1);
    let got = receiver.wait_for(WAIT, |g| g.len() == 3).await;
    assert_eq!(got[2].id, got[0].id, "the same message, the same webhook-id");
}

/// Two server processes on one PostgreSQL, each taking half the writes, deliver 200 changes:
/// every message arrives, none twice, and both processes delivered some.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_of_200_changes_exactly_once() {
    let Some(store) = TestStore::create(Backend::Postgres) else { return };
    let receiver = Receiver::start().await;
    let env = [("ADAL_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")];
    let first = ServerProcess::start_with(&store, "first", &env).await;
    let second = ServerProcess::start_with(&store, "second", &env).await;
    let client = reqwest::Client::new();
    let admin = first.admin_token(&client).await;
    crate::process::send(
        client
            .post(first.url("/api/v1/webhooks"))
            .bearer_auth(&admin)
            .json(&json!({"url": receiver.url, "event_types": ["department.changed"]})),
    )
    .await
    .expect(201);
    for n in 0..200 {
        let server = if n % 2 == 0 { &first } else { &second };
        crate::process::send(
            client
                .post(server.url("/api/v1/departments"))
                .bearer_auth(&admin)
                .json(&json!({"code": format!("d-{n}"), "name_kk": "бөлім", "name_ru": "отдел"})),
        )
        .await
        .expect(201);
    }
    receiver.wait_for(Duration::from_secs(60), |g| g.len() >= 200).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in &receiver.received() {
        *by_id.entry(r.id.clone()).or_default() += 1;
    }
    assert_eq!(by_id.len(), 200, "every change delivered");
    let twice = by_id.values().filter(|n| **n > 1).count();
    assert_eq!(twice, 0, "none twice");
    let delivered_by = |server: &ServerProcess| {
        let server_url = server.url("/metrics");
        let client = client.clone();
        async move {
            let text = client.get(server_url).send().await.unwrap().text().await.unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("adal_webhook_deliveries_total{outcome=\"delivered\"}"))
                .expect("the delivered counter")
                .to_string();
            line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
        }
    };
    let (a, b) = (delivered_by(&first).await, delivered_by(&second).await);
    assert_eq!(a + b, 200, "each message delivered by one process: {a} + {b}");
    assert!(a > 0 && b > 0, "both processes delivered: {a} and {b}");
}

/// `kill -9` with messages pending, then a restart: every message is delivered.
async fn a_crash_with_messages_pending_loses_none(store: TestStore) {
    let receiver = Receiver::start().await;
    // Refused at first: nothing is delivered before the crash.
    receiver.answer(&[503; 400]);
    let env = [
        ("ADAL_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8"),
        (
            "ADAL_WEBHOOK_RETRY_SCHEDULE",
            "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms",
        ),
    ];
    let mut server = ServerProcess::start_with(&store, "before", &env).await;
    let client = reqwest::Client::new();
    let admin = server.admin_token(&client).await;
    let sub = crate::process::send(
        client.post(server.url("/api/v1/webhooks")).bearer_auth(&admin).json(&json!({"url": receiver.url})),
    )
    .await
    .expect(201);
    let _ = sub;
    for n in 0..20 {
        crate::process::send(
            client
                .post(server.url("/api/v1/departments"))
                .bearer_auth(&admin)
                .json(&json!({"code": format!("c-{n}"), "name_kk": "бөлім", "name_ru": "отдел"})),
        )
        .await
        .expect(201);
    }
    receiver.wait_for(WAIT, |g| !g.is_empty()).await;
    server.kill_9();
    // The receiver recovers; a new process takes over.
    receiver.answers.lock().unwrap().clear();
    let _restarted = ServerProcess::start_with(&store, "after", &env).await;
    let got = receiver
        .wait_for(Duration::from_secs(60), |g| {
            let ok: std::collections::HashSet<&str> =
                g.iter().filter(|r| r.json()["type"] == "department.changed").map(|r| r.id.as_str()).collect();
            ok.len() >= 20
        })
        .await;
    let ids: std::collections::HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 20, "20 changes, 20 messages");
}

mod a_crash_with_messages_pending_loses_none {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        if let Some(store) = crate::helpers::TestStore::create(crate::helpers::Backend::Sqlite) {
            super::a_crash_with_messages_pending_loses_none(store).await;
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        if let Some(store) = crate::helpers::TestStore::create(crate::helpers::Backend::Postgres) {
            super::a_crash_with_messages_pending_loses_none(store).await;
        }
    }
}

/// A secret no subscription has, for checking that a signature is not one anyone could make.
pub fn other_secret() -> String {
    format!("whsec_{}", STANDARD.encode([9u8; 32]))
}

both_stores_with!(a_verification_is_an_event_verified_and_evidence_an_event_updated, spawn, 5);
async fn a_verification_is_an_event_verified_and_evidence_an_event_updated(app: TestApp) {
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let system = client_token(&app, &admin, "edo", &["events:read", "webhooks:manage"]).await;
    let sub = subscribe(&app, &system, &receiver.url, &["event.verified", "event.updated"]).await;
    let secret = sub["secret"].as_str().unwrap().to_string();
    // Led by a department the admin does not belong to, so the admin may verify it.
    let dept = app.create_department(&admin, "youth-centre").await;
    let body = event(json!({"lead_department_id": dept["id"], "attendance": {"total": 30, "basis": "sign_in_sheet"}}));
    let created = app.post("/api/v1/events", &admin, &body).await.expect(201).json();
    let id = created["id"].as_str().unwrap();
    let photo = [&[0xFF, 0xD8, 0xFF, 0xE0][..], "Әлия Серікқызының суреті".as_bytes()].concat();
    let upload = app
        .request(reqwest::Method::POST, &format!("/api/v1/events/{id}/evidence?kind=photo"), Some(&admin))
        .header("content-type", "image/jpeg")
        .header("content-disposition", "attachment; filename=aliya.jpg")
        .body(photo);
    app.send(upload).await.expect(201);
    let now = app.get(&format!("/api/v1/events/{id}"), &admin).await.expect(200);
    let verify = app
        .request(reqwest::Method::PUT, &format!("/api/v1/events/{id}/verification"), Some(&admin))
        .header("if-match", now.header("etag").unwrap())
        .json(&json!({"status": "verified", "note": "Сурет пен тіркеу парағы бар"}));
    let verified = app.send(verify).await.expect(200).json();

    let got = receiver.wait_for(WAIT, |g| g.len() >= 2).await;
    let types: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_string()).collect();
    assert_eq!(types, ["event.updated", "event.verified"], "the create was not asked for");
    let updated = got[0].json();
    assert_eq!(updated["data"]["evidence_count"], 1);
    assert!(!updated["data"]["flags"].as_array().unwrap().iter().any(|f| f == "no_evidence"));
    assert_eq!(got[1].json()["data"], verified, "the record as the verification answered it");
    for r in &got {
        assert!(verifies(&secret, r));
        assert!(!r.body.contains("aliya") && !r.body.contains("Әлия"), "no file name nor bytes: {}", r.body);
    }
}

both_stores_with!(a_district_s_system_hears_only_of_its_district, spawn, 5);
async fn a_district_s_system_hears_only_of_its_district(app: TestApp) {
    use adal::store::schema::webhook_messages as wm;
    let receiver = Receiver::start().await;
    let admin = app.admin_token().await;
    let unit = |code: &str, kind: &str, parent: Option<String>| json!({"code": code, "name_kk": code, "name_ru": code, "kind": kind, "parent_id": parent});
    let mk = |body: Value| {
        let (app, admin) = (&app, &admin);
        async move {
            app.post("/api/v1/departments", admin, &body).await.expect(201).json()["id"].as_str().unwrap().to_string()
        }
    };
    let region = mk(unit("region", "administration", None)).await;
    let a = mk(unit("district-a", "administration", Some(region.clone()))).await;
    let b = mk(unit("district-b", "administration", Some(region))).await;
    let youth_a = mk(unit("youth-a", "unit", Some(a))).await;
    let youth_b = mk(unit("youth-b", "unit", Some(b.clone()))).await;
    // District B's document system, a client of district B's akimat.
    let created = app
        .post(
            "/api/v1/clients",
            &admin,
            &json!({"client_id": "edo-b", "name": "edo-b", "department_id": b, "scopes": ["events:read", "webhooks:manage"]}),
        )
        .await
        .expect(201)
        .json();
    let token = app
        .token(&json!({"grant_type": "client_credentials", "client_id": "edo-b", "client_secret": created["client_secret"]}))
        .await
        .expect(200)
        .json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let sub = subscribe(&app, &token, &receiver.url, &["event.created"]).await;
    let org_a = app.token_for(&admin, "org-a", &youth_a, "organiser").await;
    let org_b = app.token_for(&admin, "org-b", &youth_b, "organiser").await;
    app.post("/api/v1/events", &org_a, &event(json!({"title": "Аудан А-ның іс-шарасы"}))).await.expect(201);
    let theirs =
        app.post("/api/v1/events", &org_b, &event(json!({"title": "Аудан Б-ның іс-шарасы"}))).await.expect(201).json();

    let got = receiver.wait_for(WAIT, |g| !g.is_empty()).await;
    assert_eq!(got[0].json()["data"]["id"], theirs["id"]);
    // The outbox wrote nothing about district A's event for this subscription.
    let mut conn = app.store.connect();
    let queued: i64 =
        wm::table.filter(wm::subscription_id.eq(sub["id"].as_str().unwrap())).count().get_result(&mut conn).unwrap();
    assert_eq!(queued, 1, "one message: district B's event only");
    assert!(receiver.received().iter().all(|r| !r.body.contains("Аудан А")));
}
