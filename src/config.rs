//! Typed settings, read once at start from the environment (and the optional TOML file named by
//! `ADAL_CONFIG`, whose keys are the same names), then passed explicitly. A bad value stops the
//! start with one line naming the variable.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;

use crate::store::StoreUrl;

/// A secret value: never printed, not even by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Secret(bytes.into())
    }
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: StoreUrl,
    pub bind: SocketAddr,
    pub jwt_secret: Option<Secret>,
    pub jwt_keys_dir: Option<PathBuf>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub timezone: chrono_tz::Tz,
    pub iin_key: Option<Secret>,
    pub key_file: PathBuf,
    pub trusted_proxies: Vec<IpNet>,
    pub log: String,
    pub log_format: LogFormat,
    pub body_limit: usize,
    pub db_pool_size: u32,
    pub db_timeout: Duration,
    pub admin_password: Option<Secret>,
    pub workers: usize,
    /// How long an instance trusts its cached view of a principal (active, role, department)
    /// before reading it again: the bound on how late another instance sees a deactivation.
    pub principal_cache_ttl: Duration,
    /// When set, `/metrics` needs it as a bearer token; unset, it answers loopback peers only.
    pub metrics_token: Option<Secret>,
    /// How long a request body may go without a byte before it is answered 408.
    pub body_idle_timeout: Duration,
    /// Webhooks: CIDRs that subscription URLs may reach over `http` and despite being private.
    pub webhook_allowed_networks: Vec<IpNet>,
    /// Webhooks: the waits between delivery attempts (after the first, the second, …).
    pub webhook_retry_schedule: Vec<Duration>,
    /// Webhooks: how long one delivery attempt may take.
    pub webhook_timeout: Duration,
    /// Webhooks: how long a subscription may fail without a success before it is disabled.
    pub webhook_disable_after: Duration,
    /// Webhooks: how often an instance looks for messages another instance wrote.
    pub webhook_poll_interval: Duration,
    /// A PostgreSQL streaming standby that serves reports; the primary serves the rest.
    pub reports_database: Option<StoreUrl>,
    /// How far behind the primary the standby may be before reports fall back to the primary.
    pub reports_max_lag: Duration,
}

/// A list of CIDRs (a bare address is its own /32 or /128).
fn parse_networks(source: &Source, name: &'static str) -> Result<Vec<IpNet>, ConfigError> {
    match source.get(name) {
        None => Ok(Vec::new()),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
                    .map_err(|_| bad(name, format!("not a CIDR: {s:?}")))
            })
            .collect(),
    }
}

/// One wait of a retry schedule: a whole number and a unit, `ms`, `s`, `m` or `h` (`500ms`, `5m`).
pub fn parse_wait(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    let seconds = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

fn parse_schedule(source: &Source, name: &'static str, default: &str) -> Result<Vec<Duration>, ConfigError> {
    let text = source.get(name).unwrap_or(default);
    let waits: Vec<Duration> = text
        .split(',')
        .map(|w| parse_wait(w).ok_or_else(|| bad(name, format!("{w:?} is not a wait such as 500ms, 5s, 5m or 2h"))))
        .collect::<Result<_, _>>()?;
    if waits.len() > 50 || waits.iter().any(|w| *w > Duration::from_secs(7 * 86_400)) {
        return Err(bad(name, "at most 50 waits, each at most 7 days"));
    }
    Ok(waits)
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct ConfigError {
    pub name: &'static str,
    pub reason: String,
}

fn bad(name: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError { name, reason: reason.into() }
}

/// Where settings come from: the environment first, then the TOML file.
pub struct Source {
    values: HashMap<String, String>,
}

impl Source {
    /// Reads the process environment and, when `ADAL_CONFIG` names one, the TOML file.
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_map(env)
    }

    pub fn from_map(env: HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut values = HashMap::new();
        if let Some(path) = env.get("ADAL_CONFIG").filter(|p| !p.is_empty()) {
            let text =
                std::fs::read_to_string(path).map_err(|e| bad("ADAL_CONFIG", format!("cannot read {path}: {e}")))?;
            let table: toml::Table =
                text.parse().map_err(|e| bad("ADAL_CONFIG", format!("{path} is not TOML: {e}")))?;
            for (key, value) in table {
                let text = match value {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                values.insert(key.to_ascii_uppercase(), text);
            }
        }
        values.extend(env);
        Ok(Source { values })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str).filter(|v| !v.is_empty())
    }
}

fn parse_u64(source: &Source, name: &'static str, default: u64, min: u64, max: u64) -> Result<u64, ConfigError> {
    match source.get(name) {
        None => Ok(default),
        Some(v) => {
            let n: u64 = v.trim().parse().map_err(|_| bad(name, format!("not a whole number: {v:?}")))?;
            if n < min || n > max {
                return Err(bad(name, format!("must be between {min} and {max}")));
            }
            Ok(n)
        }
    }
}

impl Config {
    pub fn load(source: &Source) -> Result<Self, ConfigError> {
        let database = StoreUrl::parse(source.get("DATABASE_URL").unwrap_or("sqlite://adal.db"))
            .map_err(|r| bad("DATABASE_URL", r))?;
        let bind = source
            .get("ADAL_BIND")
            .unwrap_or("127.0.0.1:8080")
            .parse()
            .map_err(|_| bad("ADAL_BIND", "not an address such as 127.0.0.1:8080"))?;
        let jwt_secret = match source.get("ADAL_JWT_SECRET") {
            Some(s) if s.len() < 32 => {
                return Err(bad("ADAL_JWT_SECRET", "must be at least 32 bytes"));
            }
            Some(s) => Some(Secret::new(s.as_bytes())),
            None => None,
        };
        let iin_key = match source.get("ADAL_IIN_KEY") {
            Some(s) if s.len() < 32 => {
                return Err(bad("ADAL_IIN_KEY", "must be at least 32 bytes"));
            }
            Some(s) => Some(Secret::new(s.as_bytes())),
            None => None,
        };
        let timezone = source
            .get("ADAL_TIMEZONE")
            .unwrap_or("Asia/Almaty")
            .parse()
            .map_err(|_| bad("ADAL_TIMEZONE", "not a tz database name such as Asia/Almaty"))?;
        let key_file = match source.get("ADAL_KEY_FILE") {
            Some(p) => PathBuf::from(p),
            None => match &database {
                StoreUrl::Sqlite { path } => {
                    let dir = std::path::Path::new(path).parent().map(PathBuf::from).unwrap_or_default();
                    dir.join("adal.keys")
                }
                StoreUrl::Postgres { .. } => PathBuf::from("adal.keys"),
            },
        };
        let trusted_proxies = parse_networks(source, "ADAL_TRUSTED_PROXIES")?;
        let log_format = match source.get("ADAL_LOG_FORMAT").unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(bad("ADAL_LOG_FORMAT", format!("must be text or json, not {other:?}")));
            }
        };
        let admin_password = match source.get("ADAL_ADMIN_PASSWORD") {
            Some(p) if !(12..=256).contains(&p.chars().count()) => {
                return Err(bad("ADAL_ADMIN_PASSWORD", "must be 12 to 256 characters"));
            }
            Some(p) => Some(Secret::new(p.as_bytes())),
            None => None,
        };
        let metrics_token = match source.get("ADAL_METRICS_TOKEN") {
            Some(t) if t.len() < 16 => return Err(bad("ADAL_METRICS_TOKEN", "must be at least 16 bytes")),
            Some(t) => Some(Secret::new(t.as_bytes())),
            None => None,
        };
        let reports_database = match source.get("ADAL_REPORTS_DATABASE_URL") {
            None => None,
            Some(url) => match StoreUrl::parse(url).map_err(|r| bad("ADAL_REPORTS_DATABASE_URL", r))? {
                StoreUrl::Sqlite { .. } => {
                    return Err(bad("ADAL_REPORTS_DATABASE_URL", "must be a postgres:// streaming replica"));
                }
                _ if database.is_sqlite() => {
                    return Err(bad("ADAL_REPORTS_DATABASE_URL", "a replica serves a PostgreSQL primary, not SQLite"));
                }
                replica => Some(replica),
            },
        };
        let default_workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) as u64;
        Ok(Config {
            database,
            bind,
            jwt_secret,
            jwt_keys_dir: source.get("ADAL_JWT_KEYS_DIR").map(PathBuf::from),
            jwt_issuer: source.get("ADAL_JWT_ISSUER").unwrap_or("adal").to_string(),
            jwt_audience: source.get("ADAL_JWT_AUDIENCE").unwrap_or("adal-api").to_string(),
            access_token_ttl: Duration::from_secs(parse_u64(source, "ADAL_ACCESS_TOKEN_TTL", 900, 30, 86_400)?),
            refresh_token_ttl: Duration::from_secs(parse_u64(
                source,
                "ADAL_REFRESH_TOKEN_TTL",
                30 * 86_400,
                300,
                365 * 86_400,
            )?),
            timezone,
            iin_key,
            key_file,
            trusted_proxies,
            log: source.get("ADAL_LOG").unwrap_or("info").to_string(),
            log_format,
            body_limit: parse_u64(source, "ADAL_BODY_LIMIT", 1 << 20, 1024, 64 << 20)? as usize,
            db_pool_size: parse_u64(source, "ADAL_DB_POOL_SIZE", 10, 1, 500)? as u32,
            db_timeout: Duration::from_millis(parse_u64(source, "ADAL_DB_TIMEOUT_MS", 3000, 100, 60_000)?),
            admin_password,
            workers: parse_u64(source, "ADAL_WORKERS", default_workers, 1, 256)? as usize,
            principal_cache_ttl: Duration::from_millis(parse_u64(source, "ADAL_PRINCIPAL_CACHE_MS", 5000, 0, 5000)?),
            metrics_token,
            body_idle_timeout: Duration::from_millis(parse_u64(
                source,
                "ADAL_BODY_IDLE_TIMEOUT_MS",
                30_000,
                100,
                600_000,
            )?),
            webhook_allowed_networks: parse_networks(source, "ADAL_WEBHOOK_ALLOWED_NETWORKS")?,
            webhook_retry_schedule: parse_schedule(source, "ADAL_WEBHOOK_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h")?,
            webhook_timeout: Duration::from_secs(15),
            webhook_disable_after: Duration::from_secs(5 * 86_400),
            webhook_poll_interval: Duration::from_secs(1),
            reports_database,
            reports_max_lag: Duration::from_secs(parse_u64(source, "ADAL_REPORTS_MAX_LAG", 30, 0, 86_400)?),
        })
    }

    /// Settings for tests and tools: the defaults over the given store.
    pub fn for_store(database: StoreUrl) -> Self {
        let mut c = Config::load(&Source { values: HashMap::new() }).expect("defaults are valid");
        c.database = database;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::load(&Source::from_map(map)?)
    }

    #[test]
    fn defaults_follow_the_contract() {
        let c = load(&[]).unwrap();
        assert_eq!(c.database, StoreUrl::Sqlite { path: "adal.db".into() });
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.jwt_issuer, "adal");
        assert_eq!(c.jwt_audience, "adal-api");
        assert_eq!(c.timezone, chrono_tz::Asia::Almaty);
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.body_limit, 1 << 20);
        assert_eq!(c.key_file, PathBuf::from("adal.keys"));
        assert_eq!(c.metrics_token, None);
        assert_eq!(c.body_idle_timeout, Duration::from_secs(30));
        assert!(c.webhook_allowed_networks.is_empty());
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            c.webhook_retry_schedule,
            [
                Duration::from_secs(5),
                Duration::from_secs(300),
                Duration::from_secs(1800),
                hours(2),
                hours(5),
                hours(10),
                hours(10)
            ]
        );
    }

    #[test]
    fn a_retry_schedule_takes_units_and_refuses_what_it_cannot_read() {
        let c = load(&[("ADAL_WEBHOOK_RETRY_SCHEDULE", "100ms, 2s,1m")]).unwrap();
        assert_eq!(
            c.webhook_retry_schedule,
            [Duration::from_millis(100), Duration::from_secs(2), Duration::from_secs(60)]
        );
        for bad in ["5", "5d", "", "1s,,2s", "-1s"] {
            let e = load(&[("ADAL_WEBHOOK_RETRY_SCHEDULE", bad)]);
            // An empty value is the default, like every other variable.
            if bad.is_empty() {
                assert!(e.is_ok());
            } else {
                assert_eq!(e.unwrap_err().name, "ADAL_WEBHOOK_RETRY_SCHEDULE", "{bad:?}");
            }
        }
    }

    #[test]
    fn a_bad_value_is_reported_with_its_variable_name() {
        let e = load(&[("ADAL_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(e.name, "ADAL_JWT_SECRET");
        let e = load(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(e.name, "DATABASE_URL");
        let e = load(&[("ADAL_TIMEZONE", "Mars/Olympus")]).unwrap_err();
        assert_eq!(e.name, "ADAL_TIMEZONE");
        let e = load(&[("ADAL_TRUSTED_PROXIES", "10.0.0.0/8, nonsense")]).unwrap_err();
        assert_eq!(e.name, "ADAL_TRUSTED_PROXIES");
    }

    #[test]
    fn the_key_file_defaults_to_beside_the_sqlite_file() {
        let c = load(&[("DATABASE_URL", "sqlite://data/reg.db")]).unwrap();
        assert_eq!(c.key_file, PathBuf::from("data/adal.keys"));
    }

    #[test]
    fn the_toml_file_sets_keys_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adal.toml");
        std::fs::write(&path, "ADAL_BIND = \"0.0.0.0:9000\"\nadal_timezone = \"Asia/Aqtobe\"\n").unwrap();
        let c = load(&[("ADAL_CONFIG", path.to_str().unwrap()), ("ADAL_BIND", "127.0.0.1:7000")]).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:7000");
        assert_eq!(c.timezone, chrono_tz::Asia::Aqtobe);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = load(&[
            ("ADAL_JWT_SECRET", "0123456789abcdef0123456789abcdef-secret"),
            ("ADAL_METRICS_TOKEN", "scrape-token-fedcba9876543210"),
        ])
        .unwrap();
        let printed = format!("{c:?}");
        assert!(!printed.contains("0123456789abcdef"));
        assert!(!printed.contains("fedcba9876543210"));
    }

    #[test]
    fn the_metrics_token_and_the_body_idle_timeout_come_from_the_toml_file_too() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("adal.toml");
        std::fs::write(&path, "ADAL_METRICS_TOKEN = \"scrape-token-0123456789\"\nADAL_BODY_IDLE_TIMEOUT_MS = 1500\n")
            .unwrap();
        let c = load(&[("ADAL_CONFIG", path.to_str().unwrap())]).unwrap();
        assert_eq!(c.metrics_token, Some(Secret::new(b"scrape-token-0123456789".to_vec())));
        assert_eq!(c.body_idle_timeout, Duration::from_millis(1500));
        assert_eq!(load(&[("ADAL_METRICS_TOKEN", "short")]).unwrap_err().name, "ADAL_METRICS_TOKEN");
    }
}
