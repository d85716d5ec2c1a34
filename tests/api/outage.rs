//! A PostgreSQL outage: the store goes away under a running server and comes back. The server must
//! answer 503 with `Retry-After` (never hang, never 500) while it is gone, and recover in the same
//! process once it is back. The test runs its own private cluster, since stopping the machine's
//! shared server would break every other test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::events::event;
use crate::helpers::{TestApp, TestStore, postgres_required, skip_postgres};
use crate::process::free_port;

/// Where Debian installs the PostgreSQL server programs, one directory per major version.
const POSTGRES_LIB: &str = "/usr/lib/postgresql";

/// Where the PostgreSQL server programs are under `root`, if installed (`<root>/<version>/bin`,
/// the newest version).
fn postgres_bin_dir(root: &Path) -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

/// A private PostgreSQL cluster in a temp dir, run as the `postgres` user (initdb refuses root).
/// Dropping it stops the server and removes its files, whatever state the test left it in.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivateCluster {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a PostgreSQL program as the `postgres` user when we are root, else as ourselves.
    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        cmd.args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
    }

    /// `None` (skipped) when no PostgreSQL server programs are installed; a failure then when the
    /// PostgreSQL halves are required.
    pub fn init() -> Option<PrivateCluster> {
        Self::init_under(Path::new(POSTGRES_LIB), postgres_required())
    }

    fn init_under(root: &Path, required: bool) -> Option<PrivateCluster> {
        let Some(bin) = postgres_bin_dir(root) else {
            skip_postgres(
                &format!("no PostgreSQL server programs under {}; the outage test needs them", root.display()),
                required,
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        if is_root() {
            let status = Command::new("chown").arg("postgres:").arg(dir.path()).status().expect("chown runs");
            assert!(status.success(), "chown the cluster's directory to postgres");
        }
        let cluster = PrivateCluster { bin, dir, port: free_port() };
        let data = cluster.data();
        let out = cluster
            .run("initdb", &["-D", path_str(&data), "--auth=trust", "-U", "postgres", "--encoding=UTF8", "--no-sync"]);
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        cluster.start();
        Some(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn start(&self) {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, path_str(self.dir.path()));
        let log = self.dir.path().join("server.log");
        let out =
            self.run("pg_ctl", &["-D", path_str(&self.data()), "-l", path_str(&log), "-o", &options, "-w", "start"]);
        assert!(
            out.status.success(),
            "pg_ctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    /// Stops the server the way a crash or a pulled cable would look to clients: at once, with
    /// every connection cut.
    pub fn stop_immediately(&self) {
        let out = self.run("pg_ctl", &["-D", path_str(&self.data()), "-m", "immediate", "-w", "stop"]);
        assert!(out.status.success(), "pg_ctl stop failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Stopping a stopped cluster fails harmlessly; the temp dir then removes its files.
        let _ = self.run("pg_ctl", &["-D", path_str(&self.data()), "-m", "immediate", "-w", "stop"]);
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// What the server answered a request and how long it took.
async fn timed(app: &TestApp, req: reqwest::RequestBuilder) -> (crate::helpers::Reply, Duration) {
    let started = Instant::now();
    let reply = app.send(req).await;
    (reply, started.elapsed())
}

/// Asserts the outage contract: 503, a problem document, `Retry-After`, within 5 seconds.
#[track_caller]
fn assert_unavailable(what: &str, reply: &crate::helpers::Reply, took: Duration) {
    assert_eq!(reply.status.as_u16(), 503, "{what} during the outage; body: {}", reply.text);
    assert_eq!(reply.header("content-type").as_deref(), Some("application/problem+json"), "{what}");
    assert!(reply.header("retry-after").is_some(), "{what} says when to retry");
    assert_eq!(reply.json()["status"], 503, "{what}");
    assert!(took < Duration::from_secs(5), "{what} answered within 5 seconds, took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_is_503_with_retry_after_within_5_seconds_and_the_same_process_recovers() {
    let Some(cluster) = PrivateCluster::init() else {
        return;
    };
    let store = TestStore::postgres_on(&cluster.url());
    // The default checkout timeout (3 s) is what must keep a request under the 5 s contract.
    let config = store.config();
    let app = TestApp::spawn_with(store, config).await;
    let admin = app.admin_token().await;
    let department = app.create_department(&admin, "youth-centre").await["id"].as_str().expect("id").to_string();
    let body = event(serde_json::json!({"lead_department_id": department}));
    app.post("/api/v1/events", &admin, &body).await.expect(201);
    app.get("/api/v1/events", &admin).await.expect(200);
    app.get("/health/ready", &admin).await.expect(200);

    cluster.stop_immediately();

    // Twice each: the first request meets the pool's dead connections, the second a pool that
    // has discarded them and cannot make new ones.
    for round in 0..2 {
        let (r, took) = timed(&app, app.request(Method::GET, "/health/ready", None)).await;
        assert_unavailable(&format!("GET /health/ready (round {round})"), &r, took);
        let (r, took) = timed(&app, app.request(Method::GET, "/api/v1/events", Some(&admin))).await;
        assert_unavailable(&format!("GET /api/v1/events (round {round})"), &r, took);
        let (r, took) = timed(&app, app.request(Method::POST, "/api/v1/events", Some(&admin)).json(&body)).await;
        assert_unavailable(&format!("POST /api/v1/events (round {round})"), &r, took);
    }

    cluster.start();

    // The same process, not restarted: the pool replaces its dead connections on checkout.
    app.send(app.request(Method::GET, "/health/ready", None)).await.expect(200);
    let created = app.post("/api/v1/events", &admin, &body).await.expect(201).json();
    let list = app.get("/api/v1/events", &admin).await.expect(200).json();
    assert_eq!(list["items"].as_array().expect("items").len(), 2, "the event before and the one after the outage");
    app.get(&format!("/api/v1/events/{}", created["id"].as_str().expect("id")), &admin).await.expect(200);
    let verify = app.get("/api/v1/audit/verify", &admin).await.expect(200).json();
    assert_eq!(verify["ok"], true, "the audit chain holds across the outage: {verify}");
    drop(app);
}

/// A server connection can die while it sits in the pool (an administrator's
/// `pg_terminate_backend`, a failover, an idle timeout). Connections that have not answered for a
/// while are asked before use, so a request after such a loss is served on a fresh connection,
/// never answered with the dead one's error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_killed_under_the_pool_are_replaced_before_use() {
    let Some(app) = TestApp::spawn(crate::helpers::Backend::Postgres).await else {
        return;
    };
    let admin = app.admin_token().await;
    for _ in 0..4 {
        app.get("/api/v1/events", &admin).await.expect(200);
    }
    let (database, killed) = {
        use diesel::prelude::*;
        let mut conn = match app.store.connect() {
            adal::store::DbConnection::Postgres(c) => c,
            adal::store::DbConnection::Sqlite(_) => unreachable!("a PostgreSQL store"),
        };
        #[derive(QueryableByName)]
        struct Killed {
            #[diesel(sql_type = diesel::sql_types::Text)]
            database: String,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            killed: i64,
        }
        let k: Killed = diesel::sql_query(
            "SELECT current_database()::text AS database, count(pg_terminate_backend(pid)) AS killed \
             FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .get_result(&mut conn)
        .expect("terminate the server's connections");
        (k.database, k.killed)
    };
    assert!(killed >= 1, "the server held at least one connection to {database}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    for round in 0..6 {
        let r = app.get("/api/v1/events", &admin).await;
        assert_eq!(r.status.as_u16(), 200, "request {round} after {killed} connections were killed: {}", r.text);
    }
    app.send(app.request(Method::GET, "/health/ready", None)).await.expect(200);
}

/// In CI a missing PostgreSQL installation must fail the outage test, not let it pass unrun.
#[test]
fn without_server_programs_a_required_outage_test_fails_and_an_optional_one_skips() {
    let empty = tempfile::tempdir().expect("temp dir");
    assert!(PrivateCluster::init_under(empty.path(), false).is_none(), "optional: skipped");
    let required = std::panic::catch_unwind(|| PrivateCluster::init_under(empty.path(), true).is_some());
    assert!(required.is_err(), "required: a failure, not a skip");
}
