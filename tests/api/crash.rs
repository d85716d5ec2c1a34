//! The real binary killed mid-burst and stopped with SIGTERM: what was answered stays, nothing is
//! half-written, and a graceful stop finishes what it started.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::json;

use crate::events::event;
use crate::helpers::TestStore;
use crate::process::{ServerProcess, send, try_send};

/// Runs a subprocess test once per store, as `name::sqlite` and `name::postgres`.
macro_rules! both_stores_process {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(store) = $crate::helpers::TestStore::create($crate::helpers::Backend::Sqlite) {
                    super::$name(store).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(store) = $crate::helpers::TestStore::create($crate::helpers::Backend::Postgres) {
                    super::$name(store).await;
                }
            }
        }
    };
}

/// What the store holds after the crash, read directly (the API would hide a half-written row).
struct Stored {
    events: HashSet<String>,
    with_audiences: HashSet<String>,
    with_organisers: HashSet<String>,
    audited_creates: Vec<String>,
    /// Idempotency keys recorded as done, with the event id their `Location` names.
    done_keys: Vec<(String, Option<String>)>,
}

fn read_store(store: &TestStore) -> Stored {
    use adal::store::schema::{audit_log, event_audiences, event_organisers, events, idempotency_keys};
    let mut conn = store.connect();
    let events: Vec<String> = events::table.select(events::id).load(&mut conn).expect("events");
    let with_audiences: Vec<String> =
        event_audiences::table.select(event_audiences::event_id).load(&mut conn).expect("audiences");
    let with_organisers: Vec<String> =
        event_organisers::table.select(event_organisers::event_id).load(&mut conn).expect("organisers");
    let audited_creates = audit_log::table
        .filter(audit_log::action.eq("event.create"))
        .select(audit_log::entity_id)
        .load::<Option<String>>(&mut conn)
        .expect("audit")
        .into_iter()
        .flatten()
        .collect();
    let keys: Vec<(String, String, Option<String>)> = idempotency_keys::table
        .select((idempotency_keys::idem_key, idempotency_keys::state, idempotency_keys::headers))
        .load(&mut conn)
        .expect("idempotency keys");
    let done_keys = keys
        .into_iter()
        .filter(|(_, state, _)| state == "done")
        .map(|(key, _, headers)| {
            let headers: Vec<(String, String)> =
                headers.and_then(|h| serde_json::from_str(&h).ok()).unwrap_or_default();
            let id = headers
                .into_iter()
                .find(|(name, _)| name == "location")
                .and_then(|(_, l)| l.rsplit('/').next().map(str::to_string));
            (key, id)
        })
        .collect();
    Stored {
        events: events.into_iter().collect(),
        with_audiences: with_audiences.into_iter().collect(),
        with_organisers: with_organisers.into_iter().collect(),
        audited_creates,
        done_keys,
    }
}

async fn every_create_answered_201_survives_kill_9_and_nothing_is_half_written(store: TestStore) {
    const BURST: usize = 80;
    let mut first = ServerProcess::start(&store, "first").await;
    let client = reqwest::Client::new();
    let admin = first.admin_token(&client).await;
    let body = |i: usize| event(json!({"title": format!("Адалдық сабағы №{i}")}));

    let answered = Arc::new(AtomicUsize::new(0));
    let mut burst = Vec::new();
    for i in 0..BURST {
        let req = client
            .post(first.url("/api/v1/events"))
            .bearer_auth(&admin)
            .header("idempotency-key", format!("crash-{i}"))
            .json(&body(i));
        let answered = answered.clone();
        burst.push(tokio::spawn(async move {
            let reply = try_send(req).await;
            if reply.is_some() {
                answered.fetch_add(1, Ordering::SeqCst);
            }
            (i, reply)
        }));
    }
    // The kill lands once the burst is flowing: some answered, the rest in flight.
    let started = Instant::now();
    while answered.load(Ordering::SeqCst) < 5 {
        assert!(started.elapsed() < Duration::from_secs(60), "the burst was not answered; log:\n{}", first.log());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    first.kill_9();

    let mut created: HashMap<usize, String> = HashMap::new();
    let mut cut = Vec::new();
    for task in burst {
        let (i, reply) = task.await.expect("the request task");
        match reply {
            Some(r) => {
                assert_eq!(r.status.as_u16(), 201, "create {i} before the kill: {}", r.text);
                created.insert(i, r.json()["id"].as_str().expect("id").to_string());
            }
            None => cut.push(i),
        }
    }
    assert!(!cut.is_empty(), "the kill landed mid-burst (every create was already answered)");

    let second = ServerProcess::start(&store, "second").await;
    for (i, id) in &created {
        let r = send(client.get(second.url(&format!("/api/v1/events/{id}"))).bearer_auth(&admin)).await;
        assert_eq!(r.status.as_u16(), 200, "create {i}, answered 201 before the kill, is still there: {}", r.text);
        assert_eq!(r.json()["title"], body(*i)["title"]);
    }

    let stored = read_store(&store);
    for id in &stored.events {
        assert!(stored.with_audiences.contains(id), "event {id} has its audiences");
        assert!(stored.with_organisers.contains(id), "event {id} has its organisers");
    }
    let audited: HashSet<String> = stored.audited_creates.iter().cloned().collect();
    assert_eq!(stored.audited_creates.len(), audited.len(), "one audit entry per create");
    assert_eq!(audited, stored.events, "every event has its audit entry, and every entry its event");
    for (key, id) in &stored.done_keys {
        let id = id.as_ref().unwrap_or_else(|| panic!("done key {key} records a Location"));
        assert!(stored.events.contains(id), "done key {key} names an event that exists");
    }
    let verify = send(client.get(second.url("/api/v1/audit/verify")).bearer_auth(&admin)).await;
    assert_eq!(verify.status.as_u16(), 200);
    assert_eq!(verify.json()["ok"], true, "the audit chain verifies after the crash: {}", verify.text);

    // A client retrying a create the crash cut off gets the event exactly once: either replayed or
    // (if the crashed attempt committed nothing) run now; a lease the crash left may say 409.
    for i in &cut {
        let req = client
            .post(second.url("/api/v1/events"))
            .bearer_auth(&admin)
            .header("idempotency-key", format!("crash-{i}"))
            .json(&body(*i));
        let r = send(req).await;
        assert!([201, 409].contains(&r.status.as_u16()), "retry of cut create {i}: {} {}", r.status, r.text);
    }
    let mut conn = store.connect();
    for i in &cut {
        use adal::store::schema::events;
        let title = body(*i)["title"].as_str().expect("title").to_string();
        let n: i64 = events::table.filter(events::title.eq(&title)).count().get_result(&mut conn).expect("count");
        assert!(n <= 1, "create {i} exists at most once after its retry, found {n}");
    }
}
both_stores_process!(every_create_answered_201_survives_kill_9_and_nothing_is_half_written);

/// Reads one HTTP/1.1 response (headers and a `Content-Length` body) from a raw connection.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("read the response head");
        assert_eq!(n, 1, "the connection closed before the response head: {}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let length: usize = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read the response body");
    (status, String::from_utf8_lossy(&body).to_string())
}

async fn sigterm_finishes_in_flight_requests_and_exits_0(store: TestStore) {
    const SLOW: usize = 3;
    let mut server = ServerProcess::start(&store, "server").await;
    // Logged in on a client that is then dropped, so no idle connection of ours lingers.
    let admin = server.admin_token(&reqwest::Client::new()).await;
    let body = event(json!({})).to_string();
    let (first_half, second_half) = body.as_bytes().split_at(body.len() / 2);

    // Each slow request: a connection the server has surely accepted (it answered on it), then a
    // create whose body stops halfway, so its handler is waiting when SIGTERM arrives.
    let mut slow = Vec::new();
    for _ in 0..SLOW {
        let mut s = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(60))).expect("hang guard");
        s.write_all(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("write");
        assert_eq!(read_response(&mut s).0, 200, "the connection is served");
        let head = format!(
            "POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {admin}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).expect("write the head");
        s.write_all(first_half).expect("write half the body");
        slow.push(s);
    }

    // Let the server read each request's head before the stop: a connection whose head is still
    // unread in the socket buffer looks idle, and closing idle connections is what a stop should
    // do. (Only the ordering needs this pause; no assertion rests on its length.)
    tokio::time::sleep(Duration::from_millis(1000)).await;
    server.sigterm();
    // The stop has begun once the listener is closed: new connections are refused.
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() {
        assert!(started.elapsed() < Duration::from_secs(60), "the listener never closed; log:\n{}", server.log());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    for (i, s) in slow.iter_mut().enumerate() {
        s.write_all(second_half).expect("the in-flight connection is still open after SIGTERM");
        let (status, text) = read_response(s);
        assert_eq!(status, 201, "slow create {i} finishes after SIGTERM: {text}");
    }
    drop(slow);
    let status = server.wait_for_exit().await;
    assert_eq!(status.code(), Some(0), "exit status after SIGTERM; log:\n{}", server.log());

    let again = ServerProcess::start(&store, "again").await;
    let client = reqwest::Client::new();
    let list = send(client.get(again.url("/api/v1/events")).bearer_auth(&admin)).await;
    assert_eq!(list.json()["items"].as_array().expect("items").len(), SLOW, "every slow create was committed");
}
both_stores_process!(sigterm_finishes_in_flight_requests_and_exits_0);
