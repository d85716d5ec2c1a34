//! Hardening of the server's plumbing: who may scrape `/metrics` and how many series a client can
//! make there, the security headers, `HEAD`, the SQLite file's mode, a log fit for a file, stalled
//! bodies, and an OpenAPI document whose every reference resolves.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::attendees::iin;
use crate::both_stores;
use crate::events::event;
use crate::helpers::{Backend, TestApp, TestStore};
use crate::process::ServerProcess;

const METRICS_TOKEN: &str = "scrape-token-0123456789abcdef";

async fn metrics_text(app: &TestApp) -> String {
    app.send(app.request(Method::GET, "/metrics", None)).await.expect(200).text
}

async fn metrics_labels_are_bounded(app: TestApp) {
    for i in 0..3 {
        let probe = Method::from_bytes(format!("PROBE{i}").as_bytes()).expect("a method token");
        app.send(app.request(probe, "/health/live", None)).await.expect(405);
        app.send(app.request(Method::GET, &format!("/no-such-path-{i}"), None)).await.expect(404);
    }
    let text = metrics_text(&app).await;
    assert!(!text.contains("PROBE"), "no series per invented method:\n{text}");
    assert!(!text.contains("no-such-path"), "no series per unmatched path:\n{text}");
    assert!(text.contains(r#"method="other",route="/health/live",status="405"} 3"#), "one series for them:\n{text}");
    assert!(text.contains(r#"method="GET",route="unmatched",status="404"} 3"#), "one series for them:\n{text}");
}
both_stores!(metrics_labels_are_bounded);

async fn metrics_with_a_token_need_it(app: TestApp) {
    let mut config = app.config.clone();
    config.metrics_token = Some(adal::config::Secret::new(METRICS_TOKEN.as_bytes()));
    let (address, handle) = {
        let built = adal::startup::Application::build(config).await.expect("builds");
        let address = format!("http://{}/metrics", built.address());
        let handle = built.handle();
        tokio::spawn(built.run_until_stopped());
        (address, handle)
    };
    let admin = app.admin_token().await;
    for (what, auth) in [
        ("no credentials", None),
        ("a wrong token", Some(format!("Bearer {METRICS_TOKEN}x"))),
        ("the token without Bearer", Some(METRICS_TOKEN.to_string())),
        ("an admin's access token", Some(format!("Bearer {admin}"))),
    ] {
        let mut req = app.client.get(&address);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = app.send(req).await;
        assert_eq!(r.status.as_u16(), 401, "{what}: {}", r.text);
        assert_eq!(r.header("content-type").as_deref(), Some("application/problem+json"), "{what}");
        assert!(!r.text.contains(METRICS_TOKEN), "{what}: the token is not echoed");
    }
    let r = app.send(app.client.get(&address).bearer_auth(METRICS_TOKEN)).await.expect(200);
    assert!(r.text.contains("adal_http_requests_total"), "{}", r.text);
    handle.stop(false).await;
}
both_stores!(metrics_with_a_token_need_it);

/// Without a token the TCP peer decides; a forwarded address, even from a trusted proxy, does not
/// (the refusal of a non-loopback peer is in `health.rs`'s unit tests, since every peer here is loopback).
async fn metrics_without_a_token_go_by_the_tcp_peer(app: TestApp) {
    let mut config = app.config.clone();
    config.trusted_proxies = vec!["127.0.0.0/8".parse().expect("cidr")];
    let built = adal::startup::Application::build(config).await.expect("builds");
    let address = format!("http://{}/metrics", built.address());
    let handle = built.handle();
    tokio::spawn(built.run_until_stopped());
    let r = app.send(app.client.get(&address).header("x-forwarded-for", "203.0.113.9")).await;
    assert_eq!(r.status.as_u16(), 200, "a loopback peer is answered whatever it forwards: {}", r.text);
    handle.stop(false).await;
}
both_stores!(metrics_without_a_token_go_by_the_tcp_peer);

#[track_caller]
fn assert_no_store(what: &str, r: &crate::helpers::Reply) {
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"), "{what}");
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
}

async fn secrets_and_personal_data_are_not_stored_and_nothing_is_sniffed(app: TestApp) {
    let admin = app.admin_token().await;
    let dept = app.create_department(&admin, "legal-support").await;

    let r = app
        .token(&json!({"grant_type": "password", "username": "admin", "password": crate::helpers::ADMIN_PASSWORD}))
        .await
        .expect(200);
    assert_no_store("the token endpoint", &r);
    let r = app
        .post(
            "/api/v1/clients",
            &admin,
            &json!({"name": "Тақта", "department_id": dept["id"], "scopes": ["events:read"]}),
        )
        .await
        .expect(201);
    assert_no_store("a client create", &r);
    let client = r.json();
    let r =
        app.post(&format!("/api/v1/clients/{}/secret", client["id"].as_str().expect("id")), &admin, &json!({})).await;
    assert!(r.json()["client_secret"].is_string(), "a rotation answers the new secret: {}", r.text);
    assert_no_store("a secret rotation", &r);
    let r = app
        .post(
            "/api/v1/accounts",
            &admin,
            &json!({"username": "aigul", "display_name": "Айгүл", "department_id": dept["id"], "role": "viewer", "password": "aigul-пароль-123"}),
        )
        .await
        .expect(201);
    assert_no_store("an account create", &r);

    let e = app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201).json();
    let attendees = format!("/api/v1/events/{}/attendees", e["id"].as_str().expect("id"));
    let person = iin(7);
    let r = app
        .post(&attendees, &admin, &json!({"attendees": [{"full_name": "Ерлан Серікұлы", "iin": person}]}))
        .await
        .expect(201);
    assert_no_store("an attendee add", &r);
    assert_no_store("an attendee list", &app.get(&attendees, &admin).await.expect(200));
    assert_no_store(
        "an erasure",
        &app.post("/api/v1/attendees/erasure", &admin, &json!({"iin": person})).await.expect(200),
    );

    // Answers with nothing of the kind stay cacheable by what they say, and are still nosniff.
    for path in ["/api/v1/departments", "/health/live", "/no-such-path"] {
        let r = app.get(path, &admin).await;
        assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "{path}");
        assert_ne!(r.header("cache-control").as_deref(), Some("no-store"), "{path}");
    }
    let r = app.send(app.request(Method::POST, "/api/v1/auth/token", None).body("not a form")).await;
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"), "an error: {}", r.text);
}
both_stores!(secrets_and_personal_data_are_not_stored_and_nothing_is_sniffed);

async fn html_pages_cannot_be_framed_and_load_only_their_own_origin(app: TestApp) {
    let r = app.send(app.request(Method::GET, "/docs/", None)).await.expect(200);
    assert!(r.header("content-type").unwrap_or_default().starts_with("text/html"), "the docs page is HTML");
    let csp = r.header("content-security-policy").expect("a Content-Security-Policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("http"), "no other origin: {csp}");
    assert_eq!(r.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(r.header("x-content-type-options").as_deref(), Some("nosniff"));
    // JSON is not a page: no policy needed there.
    let r = app.send(app.request(Method::GET, "/api-docs/openapi.json", None)).await.expect(200);
    assert!(r.header("content-security-policy").is_none());
}
both_stores!(html_pages_cannot_be_framed_and_load_only_their_own_origin);

async fn head_is_answered_wherever_get_is(app: TestApp) {
    let admin = app.admin_token().await;
    let e = app.post("/api/v1/events", &admin, &event(json!({}))).await.expect(201).json();
    let event_path = format!("/api/v1/events/{}", e["id"].as_str().expect("id"));
    for path in [
        "/health/live",
        "/health/ready",
        "/metrics",
        "/docs",
        "/docs/",
        "/api-docs/openapi.json",
        "/api/v1/departments",
        "/api/v1/auth/me",
        event_path.as_str(),
        "/api/v1/events/0193a6f2-0000-7000-8000-000000000000",
    ] {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        let get = app.send(client.get(app.url(path)).bearer_auth(&admin)).await;
        let head = app.send(client.head(app.url(path)).bearer_auth(&admin)).await;
        assert_eq!(head.status, get.status, "HEAD {path}");
        assert!(head.text.is_empty(), "HEAD {path} has no body");
        for name in ["content-type", "content-length", "etag", "location", "cache-control", "x-content-type-options"] {
            // The metrics change between two scrapes (the first one is counted in the second).
            if !(path == "/metrics" && name == "content-length") {
                assert_eq!(head.header(name), get.header(name), "HEAD {path}: {name}");
            }
        }
    }
    // Where GET is not answered, neither is HEAD, and the 405 says what is.
    let r = app.send(app.request(Method::HEAD, "/api/v1/auth/token", None)).await.expect(405);
    assert_eq!(r.header("allow").as_deref(), Some("POST"));
    app.send(app.request(Method::HEAD, "/no-such-path", None)).await.expect(404);
}
both_stores!(head_is_answered_wherever_get_is);

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_file_and_its_wal_and_shm_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await.expect("SQLite always runs");
    let admin = app.admin_token().await;
    app.create_department(&admin, "youth-centre").await;
    let db = app.store.url.trim_start_matches("sqlite://").to_string();
    for file in [db.clone(), format!("{db}-wal"), format!("{db}-shm")] {
        let mode = std::fs::metadata(&file).unwrap_or_else(|e| panic!("{file}: {e}")).permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is mode {mode:o}");
    }
}

/// The real binary, its log going to a file: no colour codes and milliseconds to two decimals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_to_a_file_has_no_colour_codes_and_rounded_durations() {
    let store = TestStore::create(Backend::Sqlite).expect("SQLite always runs");
    let server = ServerProcess::start(&store, "plain-log").await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        client.get(server.url("/health/live")).send().await.expect("answered");
    }
    let log = server.log();
    assert!(!log.contains("\x1b["), "no ANSI escapes in a file:\n{log}");
    let durations: Vec<&str> = log.split_whitespace().filter_map(|w| w.strip_prefix("ms=")).collect::<Vec<_>>();
    assert!(durations.len() >= 5, "every request logs its duration:\n{log}");
    for d in durations {
        let decimals = d.split_once('.').map(|(_, f)| f.len()).unwrap_or(0);
        assert!(d.parse::<f64>().is_ok() && decimals <= 2, "ms={d} has at most two decimals");
    }
}

/// Sends `head` and then `pieces` of the body with `gap` between them, then reads until the
/// server closes (or 15 s pass); answers what was read, how long the answer took and whether the
/// connection was closed.
fn raw_request(address: &str, head: &str, pieces: &[&[u8]], gap: Duration) -> (String, Duration, bool) {
    let addr = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let started = Instant::now();
    stream.write_all(head.as_bytes()).expect("send the head");
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(gap);
        }
        stream.write_all(piece).expect("send a piece");
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered = None;
    let closed = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                answered.get_or_insert_with(|| started.elapsed());
                out.extend_from_slice(&buf[..n]);
            }
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&out).into_owned(), answered.unwrap_or_else(|| started.elapsed()), closed)
}

async fn a_stalled_body_is_408_and_the_connection_closed(app: TestApp) {
    let mut config = app.config.clone();
    config.body_idle_timeout = Duration::from_millis(1000);
    let built = adal::startup::Application::build(config).await.expect("builds");
    let address = format!("http://{}", built.address());
    let handle = built.handle();
    tokio::spawn(built.run_until_stopped());
    let admin = app.admin_token().await;
    let head = |length: usize| {
        format!(
            "POST /api/v1/departments HTTP/1.1\r\nHost: adal\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
        )
    };

    let stalled = head(100);
    let a = address.clone();
    let (reply, took, closed) =
        tokio::task::spawn_blocking(move || raw_request(&a, &stalled, &[b"{\"code\": \""], Duration::ZERO))
            .await
            .expect("the client ran");
    assert!(reply.starts_with("HTTP/1.1 408"), "a stalled body is 408: {reply}");
    assert!(reply.contains("application/problem+json"), "{reply}");
    assert!(closed, "the server closed the connection: {reply}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "answered after the idle limit: {took:?}"
    );

    // The limit is on silence, not on the whole body: a slow body that keeps coming is served.
    let body = r#"{"code": "slow-but-steady", "name_kk": "Баяу", "name_ru": "Медленно"}"#.as_bytes();
    let steady = head(body.len());
    let pieces: Vec<&'static [u8]> = body.chunks(body.len() / 4 + 1).collect();
    let (reply, took, _) =
        tokio::task::spawn_blocking(move || raw_request(&address, &steady, &pieces, Duration::from_millis(450)))
            .await
            .expect("the client ran");
    assert!(took > Duration::from_millis(1000), "the body took longer than the idle limit in all: {took:?}");
    assert!(reply.starts_with("HTTP/1.1 201"), "a steady body is served: {reply}");
    handle.stop(false).await;
}
both_stores!(a_stalled_body_is_408_and_the_connection_closed);

/// Every `$ref` in `value`, with where it was found.
fn refs<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a str)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push((at.clone(), r)),
                    _ => refs(v, format!("{at}/{k}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                refs(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

async fn every_reference_in_the_served_document_resolves(app: TestApp) {
    let doc = app.send(app.request(Method::GET, "/api-docs/openapi.json", None)).await.expect(200).json();
    let mut found = Vec::new();
    refs(&doc, String::new(), &mut found);
    assert!(found.len() > 50, "the document uses references: {}", found.len());
    let dangling: Vec<String> = found
        .iter()
        .filter(|(_, r)| r.strip_prefix('#').is_none_or(|pointer| doc.pointer(pointer).is_none()))
        .map(|(at, r)| format!("{at} -> {r}"))
        .collect();
    assert!(dangling.is_empty(), "references that resolve to nothing:\n{}", dangling.join("\n"));
}
both_stores!(every_reference_in_the_served_document_resolves);
