//! Two server processes on one PostgreSQL database: conditional writes and idempotent retries
//! hold across instances, and the audit chain stays one chain.

use std::collections::HashSet;

use diesel::prelude::*;
use serde_json::json;

use crate::events::event;
use crate::helpers::{Backend, TestStore};
use crate::process::{ServerProcess, send};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_database_agree_on_if_match_idempotency_and_the_audit_chain() {
    let Some(store) = TestStore::create(Backend::Postgres) else {
        return;
    };
    // One after the other: the first applies the migrations and makes the admin.
    let a = ServerProcess::start(&store, "a").await;
    let b = ServerProcess::start(&store, "b").await;
    let servers = [&a, &b];
    let client = reqwest::Client::new();
    let admin = a.admin_token(&client).await;

    // Concurrent PATCHes with the same If-Match, alternating between the processes.
    const PATCHES: usize = 10;
    let created = send(client.post(a.url("/api/v1/events")).bearer_auth(&admin).json(&event(json!({})))).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.text);
    let id = created.json()["id"].as_str().expect("id").to_string();
    let etag = created.header("etag").expect("etag");
    let patches: Vec<_> = (0..PATCHES)
        .map(|i| {
            let req = client
                .patch(servers[i % 2].url(&format!("/api/v1/events/{id}")))
                .bearer_auth(&admin)
                .header("if-match", &etag)
                .header("content-type", "application/merge-patch+json")
                .body(json!({"title": format!("Адалдық мектебі, нұсқа {i}")}).to_string());
            tokio::spawn(send(req))
        })
        .collect();
    let mut statuses = Vec::new();
    for p in patches {
        statuses.push(p.await.expect("patch task").status.as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "exactly one PATCH wins: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 412).count(), PATCHES - 1, "the rest are 412: {statuses:?}");
    let after = send(client.get(b.url(&format!("/api/v1/events/{id}"))).bearer_auth(&admin)).await;
    assert_eq!(after.json()["version"], 2, "one change, one version");

    // Concurrent retries of one keyed create, alternating between the processes.
    const RETRIES: usize = 10;
    let body = event(json!({"title": "Бір рет қана: адалдық форумы"}));
    let retries: Vec<_> = (0..RETRIES)
        .map(|i| {
            let req = client
                .post(servers[i % 2].url("/api/v1/events"))
                .bearer_auth(&admin)
                .header("idempotency-key", "forum-2024")
                .json(&body);
            tokio::spawn(send(req))
        })
        .collect();
    let mut locations = HashSet::new();
    for r in retries {
        let r = r.await.expect("retry task");
        match r.status.as_u16() {
            201 => {
                locations.insert(r.header("location").expect("location"));
            }
            409 => {} // the original is still running; the client retries later
            other => panic!("a retry answered {other}: {}", r.text),
        }
    }
    assert!(locations.len() <= 1, "every 201 names the same event: {locations:?}");
    // A retry after the race settles replays the one event.
    let replay = send(
        client.post(b.url("/api/v1/events")).bearer_auth(&admin).header("idempotency-key", "forum-2024").json(&body),
    )
    .await;
    assert_eq!(replay.status.as_u16(), 201, "{}", replay.text);
    assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
    locations.insert(replay.header("location").expect("location"));
    assert_eq!(locations.len(), 1, "one event for one key: {locations:?}");
    {
        use adal::store::schema::events;
        let mut conn = store.connect();
        let n: i64 = events::table
            .filter(events::title.eq("Бір рет қана: адалдық форумы"))
            .count()
            .get_result(&mut conn)
            .expect("count");
        assert_eq!(n, 1, "the store holds the keyed create once");
    }

    for server in servers {
        let verify = send(client.get(server.url("/api/v1/audit/verify")).bearer_auth(&admin)).await;
        assert_eq!(verify.json()["ok"], true, "the audit chain is unbroken: {}", verify.text);
    }
    use adal::store::schema::audit_log;
    let mut conn = store.connect();
    let actions: Vec<String> = audit_log::table
        .filter(audit_log::entity.eq("event"))
        .order(audit_log::seq)
        .select(audit_log::action)
        .load(&mut conn)
        .expect("audit");
    assert_eq!(actions, ["event.create", "event.update", "event.create"], "one entry per effective write");
}
