//! Reports on a streaming replica: with `reports_database` set, reports read a real PostgreSQL
//! standby (made by `pg_basebackup -R`; `.ci/standby.sh`), and fall back to the primary when the
//! standby lags past the bound or does not answer, saying so in the metrics.
//!
//! `ADAL_TEST_REPLICA_URL` names the standby server (`postgres://postgres@127.0.0.1:5433/postgres`);
//! without it the test is skipped, unless `ADAL_TEST_REQUIRE_REPLICA=1` (as CI sets), which makes
//! its absence a failure.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use adal::startup::Application;
use adal::store::StoreUrl;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use crate::events::{create, event};
use crate::helpers::{TestApp, TestStore, postgres_server, with_database};

fn replica_server() -> Option<String> {
    match std::env::var("ADAL_TEST_REPLICA_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let reason = "ADAL_TEST_REPLICA_URL is unset, so the reports-replica test did not run";
            assert!(
                std::env::var("ADAL_TEST_REQUIRE_REPLICA").as_deref() != Ok("1"),
                "ADAL_TEST_REQUIRE_REPLICA=1 but {reason}"
            );
            eprintln!("SKIPPED: {reason}");
            None
        }
    }
}

/// `adal_reports_reads_total` by `read`, scraped from the server's metrics.
async fn reads(app: &TestApp, address: &str) -> HashMap<String, u64> {
    let text = app.client.get(format!("{address}/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("adal_reports_reads_total{read=\""))
        .filter_map(|l| l.split_once("\"} "))
        .map(|(read, n)| (read.to_string(), n.parse().unwrap()))
        .collect()
}

async fn summary(app: &TestApp, address: &str, token: &str) -> Value {
    let url = format!("{address}/api/v1/reports/summary?from=2024-01-01&to=2024-12-31");
    let r = app.client.get(url).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

/// Replay on the standby paused, and resumed when dropped, whatever happens in between.
struct Paused(String);

impl Paused {
    fn pause(standby_url: &str) -> Paused {
        let mut c = diesel::PgConnection::establish(standby_url).expect("the standby connects");
        c.batch_execute("SELECT pg_wal_replay_pause()").expect("pause replay");
        Paused(standby_url.to_string())
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        if let Ok(mut c) = diesel::PgConnection::establish(&self.0) {
            let _ = c.batch_execute("SELECT pg_wal_replay_resume()");
        }
    }
}

/// Waits until `done` holds, for at most 60 s.
async fn until<F: std::future::Future<Output = bool>>(what: &str, mut done: impl FnMut() -> F) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(60), "waited 60 s for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_read_the_replica_and_fall_back_to_the_primary_when_it_lags_or_fails() {
    let Some(standby) = replica_server() else { return };
    let Some(primary) = postgres_server() else { return };
    let store = TestStore::postgres_on(&primary);
    let db = store.url.rsplit('/').next().unwrap().to_string();
    let standby_db = with_database(&standby, &db);
    let mut config = store.config();
    config.reports_database = Some(StoreUrl::parse(&standby_db).unwrap());
    config.reports_max_lag = Duration::from_secs(2);
    // A second instance whose replica answers nowhere.
    let mut broken = config.clone();
    broken.reports_database = Some(StoreUrl::parse(&with_database("postgres://postgres@127.0.0.1:1/x", &db)).unwrap());
    let app = TestApp::spawn_with(store, config).await;
    let admin = app.admin_token().await;
    let address = app.address.clone();

    // Caught up, the replica answers: the new event is counted, and read there.
    create(&app, &admin, &event(json!({"attendance": {"total": 25, "basis": "headcount"}}))).await;
    // (Until the standby has replayed the new database, it cannot answer and the primary serves.)
    until("the replica to replay the first event and serve it", || async {
        let before = reads(&app, &address).await;
        let held = summary(&app, &address, &admin).await["events_held"].clone();
        let after = reads(&app, &address).await;
        held == 1 && after["replica"] > before["replica"]
    })
    .await;

    // Replay paused: past the bound, reports read the primary, which has the second event.
    {
        let _paused = Paused::pause(&standby_db);
        create(&app, &admin, &event(json!({"attendance": {"total": 15, "basis": "headcount"}}))).await;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let before = reads(&app, &address).await;
        assert_eq!(
            summary(&app, &address, &admin).await["events_held"],
            2,
            "the primary's figures, not the stale ones"
        );
        let after = reads(&app, &address).await;
        assert!(after["fallback_lagging"] > before["fallback_lagging"], "{before:?} → {after:?}");
        let metrics = app.client.get(format!("{address}/metrics")).send().await.unwrap().text().await.unwrap();
        let lag: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("adal_reports_replica_lag_seconds "))
            .expect("the lag gauge")
            .parse()
            .unwrap();
        assert!(lag > 2.0, "the lag it saw: {lag}");
    }
    // Resumed, the replica catches up and serves again.
    until("the replica to catch up", || async {
        let before = reads(&app, &address).await;
        let held = summary(&app, &address, &admin).await["events_held"].clone();
        let after = reads(&app, &address).await;
        held == 2 && after["replica"] > before["replica"]
    })
    .await;

    // A replica that does not answer: the primary serves, and says why.
    let other = Application::build(broken).await.expect("the instance starts though its replica is down");
    let other_address = format!("http://{}", other.address());
    let handle = other.handle();
    tokio::spawn(other.run_until_stopped());
    let before = reads(&app, &other_address).await;
    assert_eq!(summary(&app, &other_address, &admin).await["events_held"], 2);
    let after = reads(&app, &other_address).await;
    assert!(after["fallback_unavailable"] > before["fallback_unavailable"], "{before:?} → {after:?}");
    handle.stop(true).await;
}
