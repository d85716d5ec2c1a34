//! The real `adal` binary as a subprocess, for what an in-process server cannot show: a process
//! killed with SIGKILL, stopped with SIGTERM, or several processes on one database.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, IIN_KEY, JWT_SECRET, Reply, TestStore};

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().expect("address").port()
}

/// One `adal serve` process over a test's store. Dropping it kills the process.
pub struct ServerProcess {
    child: Option<Child>,
    pub address: String,
    pub port: u16,
    log: std::path::PathBuf,
}

impl ServerProcess {
    /// Starts `adal serve` on a free port over `store` and waits until it answers.
    pub async fn start(store: &TestStore, name: &str) -> ServerProcess {
        Self::start_with(store, name, &[]).await
    }

    /// [`ServerProcess::start`] with more environment variables.
    pub async fn start_with(store: &TestStore, name: &str, env: &[(&str, &str)]) -> ServerProcess {
        let port = free_port();
        let log = store.dir.path().join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).expect("create the server log");
        let child = Command::new(env!("CARGO_BIN_EXE_adal"))
            .arg("serve")
            .env_remove("ADAL_CONFIG")
            .env("DATABASE_URL", &store.url)
            .env("ADAL_BIND", format!("127.0.0.1:{port}"))
            .env("ADAL_JWT_SECRET", JWT_SECRET)
            .env("ADAL_IIN_KEY", IIN_KEY)
            .env("ADAL_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ADAL_KEY_FILE", store.dir.path().join("adal.keys"))
            .env("ADAL_WORKERS", "2")
            .env("ADAL_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .spawn()
            .expect("the adal binary starts");
        let server = ServerProcess { child: Some(child), address: format!("http://127.0.0.1:{port}"), port, log };
        server.wait_until_live().await;
        server
    }

    async fn wait_until_live(&self) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = client.get(format!("{}/health/ready", self.address)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not come up; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the process wrote to its log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the process is running").id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// SIGKILL: no cleanup, no flush, like a crash or the OOM killer.
    pub fn kill_9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM, as a service manager stopping the server does.
    pub fn sigterm(&self) {
        let status = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().expect("kill runs");
        assert!(status.success(), "SIGTERM delivered");
    }

    /// Waits for the process to exit on its own (a hang guard of 60 s, not a measurement).
    pub async fn wait_for_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        let child = self.child.as_mut().expect("the process is running");
        loop {
            if let Some(status) = child.try_wait().expect("wait on the server") {
                self.child = None;
                return status;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "the server did not exit; log:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An admin access token, logged in on this process.
    pub async fn admin_token(&self, client: &reqwest::Client) -> String {
        let r = client
            .post(self.url("/api/v1/auth/token"))
            .json(&json!({"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("the token endpoint answers");
        assert_eq!(r.status().as_u16(), 200, "admin login");
        let body: Value = r.json().await.expect("token JSON");
        body["access_token"].as_str().expect("access_token").to_string()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_9();
    }
}

/// Sends a request and reads the whole response; `None` when the connection failed or was cut.
pub async fn try_send(req: reqwest::RequestBuilder) -> Option<Reply> {
    let res = req.send().await.ok()?;
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.ok()?;
    Some(Reply { status, headers, text })
}

/// Sends a request that must be answered.
pub async fn send(req: reqwest::RequestBuilder) -> Reply {
    try_send(req).await.expect("the request is answered")
}
