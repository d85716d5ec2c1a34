//! The test harness: the real server on port 0 over a fresh store per test — a new SQLite file,
//! or a new PostgreSQL database on the server named by `ADAL_TEST_POSTGRES_URL`, dropped after
//! the test — and small helpers to call it.

use std::sync::atomic::{AtomicU32, Ordering};

use adal::config::{Config, Secret};
use adal::startup::Application;
use adal::store::{DbConnection, StoreUrl};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
pub const IIN_KEY: &str = "test-iin-key-0123456789abcdef0123456789abcdef";
pub const ADMIN_PASSWORD: &str = "Әкімші-құпия-сөз-2024";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs the async test body `name` once per store, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await;
                }
            }
        }
    };
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// Whether the PostgreSQL halves must run (`ADAL_TEST_REQUIRE_POSTGRES=1`, as CI sets).
pub fn postgres_required() -> bool {
    std::env::var("ADAL_TEST_REQUIRE_POSTGRES").as_deref() == Ok("1")
}

/// A PostgreSQL test cannot run for `reason`: a failure when the halves are `required`, else a
/// message saying what was skipped. The one way any test skips, so none passes by skipping in CI.
pub fn skip_postgres(reason: &str, required: bool) {
    if required {
        panic!("ADAL_TEST_REQUIRE_POSTGRES=1 but {reason}");
    }
    eprintln!("SKIPPED: {reason}");
}

/// The PostgreSQL server URL for tests, or `None` (with a message) when the half is skipped.
pub fn postgres_server() -> Option<String> {
    match std::env::var("ADAL_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip_postgres("ADAL_TEST_POSTGRES_URL is unset, so the PostgreSQL half did not run", postgres_required());
            None
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

/// A store made for one test and removed after it.
pub struct TestStore {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestStore {
    pub fn create(backend: Backend) -> Option<TestStore> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("adal.db").display());
                Some(TestStore { backend, url, dir, pg: None })
            }
            Backend::Postgres => Some(Self::postgres_on(&postgres_server()?)),
        }
    }

    /// A fresh database on the PostgreSQL server `server` (a URL whose user may create
    /// databases), dropped with the store.
    pub fn postgres_on(server: &str) -> TestStore {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = server.to_string();
        let name = format!(
            "adal_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            uuid::Uuid::now_v7().simple().to_string().get(20..).unwrap_or("x")
        );
        let mut admin = diesel::PgConnection::establish(&server).expect("the PostgreSQL server connects");
        admin.batch_execute(&format!("CREATE DATABASE {name}")).expect("create the test database");
        let url = with_database(&server, &name);
        TestStore { backend: Backend::Postgres, url, dir, pg: Some((server, name)) }
    }

    /// A direct connection to the test's store, for checks the API cannot make.
    pub fn connect(&self) -> DbConnection {
        match self.backend {
            Backend::Sqlite => DbConnection::Sqlite(
                diesel::SqliteConnection::establish(self.url.trim_start_matches("sqlite://")).expect("open sqlite"),
            ),
            Backend::Postgres => {
                DbConnection::Postgres(diesel::PgConnection::establish(&self.url).expect("connect pg"))
            }
        }
    }

    pub fn config(&self) -> Config {
        let mut config = Config::for_store(StoreUrl::parse(&self.url).expect("test url"));
        config.bind = "127.0.0.1:0".parse().expect("addr");
        config.jwt_secret = Some(Secret::new(JWT_SECRET.as_bytes()));
        config.iin_key = Some(Secret::new(IIN_KEY.as_bytes()));
        config.key_file = self.dir.path().join("adal.keys");
        config.admin_password = Some(Secret::new(ADMIN_PASSWORD.as_bytes()));
        config.workers = 1;
        config.db_pool_size = 4;
        config
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((server, name)) = self.pg.take()
            && let Ok(mut admin) = diesel::PgConnection::establish(&server)
        {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: TestStore,
    pub config: Config,
    handle: actix_web::dev::ServerHandle,
}

impl TestApp {
    /// The server over a fresh store; `None` when that store is skipped.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        let store = TestStore::create(backend)?;
        let config = store.config();
        Some(Self::spawn_with(store, config).await)
    }

    pub async fn spawn_with(store: TestStore, config: Config) -> TestApp {
        let app = Application::build(config.clone()).await.expect("the application builds");
        let address = format!("http://{}", app.address());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        TestApp { address, client: reqwest::Client::new(), store, config, handle }
    }

    /// A second server process-equivalent on the same store (another instance).
    pub async fn another_instance(&self) -> (String, actix_web::dev::ServerHandle) {
        let app = Application::build(self.config.clone()).await.expect("the second instance builds");
        let address = format!("http://{}", app.address());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        (address, handle)
    }

    pub fn backend(&self) -> Backend {
        self.store.backend
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let res = req.send().await.expect("the request is answered");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("the body reads");
        Reply { status, headers, text }
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let mut r = self.client.request(method, self.url(path));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.send(self.request(Method::GET, path, Some(token))).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path, Some(token)).json(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, etag: &str, body: &Value) -> Reply {
        self.send(
            self.request(Method::PATCH, path, Some(token))
                .header("if-match", etag)
                .header("content-type", "application/merge-patch+json")
                .body(body.to_string()),
        )
        .await
    }

    /// The token endpoint with a JSON body.
    pub async fn token(&self, body: &Value) -> Reply {
        self.send(self.client.post(self.url("/api/v1/auth/token")).json(body)).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Value {
        self.token(&json!({"grant_type": "password", "username": username, "password": password}))
            .await
            .expect(200)
            .json()
    }

    pub async fn admin_token(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await["access_token"].as_str().expect("token").to_string()
    }

    pub async fn create_department(&self, admin: &str, code: &str) -> Value {
        self.post(
            "/api/v1/departments",
            admin,
            &json!({"code": code, "name_kk": format!("{code} бөлімі"), "name_ru": format!("отдел {code}")}),
        )
        .await
        .expect(201)
        .json()
    }

    /// An account of `role` in `department_id`; answers (account, password).
    pub async fn create_account(
        &self,
        admin: &str,
        username: &str,
        department_id: &str,
        role: &str,
    ) -> (Value, String) {
        let password = format!("{username}-пароль-123");
        let account = self
            .post(
                "/api/v1/accounts",
                admin,
                &json!({"username": username, "display_name": username, "department_id": department_id, "role": role, "password": password}),
            )
            .await
            .expect(201)
            .json();
        (account, password)
    }

    /// A token for a new account of `role` in `department_id`.
    pub async fn token_for(&self, admin: &str, username: &str, department_id: &str, role: &str) -> String {
        let (_, password) = self.create_account(admin, username, department_id, role).await;
        self.login(username, &password).await["access_token"].as_str().expect("token").to_string()
    }

    /// Every audit entry, in order, through the API.
    pub async fn audit_entries(&self, admin: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/audit?limit=200&cursor={c}"),
                None => "/api/v1/audit?limit=200".to_string(),
            };
            let page = self.get(&path, admin).await.expect(200).json();
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return out,
            }
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sent at once; the workers stop even if nobody awaits the answer.
        drop(self.handle.stop(false));
    }
}
