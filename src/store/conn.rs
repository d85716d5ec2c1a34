//! The two stores behind one connection type: SQLite (embedded default) and PostgreSQL, chosen by
//! the URL's scheme, with one pool, per-connection SQLite settings and the write transaction helper.

use std::cell::Cell;
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, CustomizeConnection, ManageConnection};

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which store a URL names. Parsed once from `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite { path: String },
    Postgres { url: String },
}

impl StoreUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path (sqlite://adal.db)".into());
            }
            Ok(StoreUrl::Sqlite { path: path.to_string() })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(StoreUrl::Postgres { url: url.to_string() })
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, StoreUrl::Sqlite { .. })
    }

    /// The URL with any password hidden, for logs.
    pub fn redacted(&self) -> String {
        match self {
            StoreUrl::Sqlite { path } => format!("sqlite://{path}"),
            StoreUrl::Postgres { url } => redact_url_password(url),
        }
    }
}

fn redact_url_password(url: &str) -> String {
    // postgres://user:secret@host/db → postgres://user:***@host/db
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

/// Builds connections of the one backend the URL names, so a bad URL fails at once with the real
/// reason (diesel's generated `establish` would try every backend and hide the errors).
pub struct Manager {
    url: StoreUrl,
}

impl ManageConnection for Manager {
    type Connection = DbConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConnection, r2d2::Error> {
        match &self.url {
            StoreUrl::Sqlite { path } => diesel::SqliteConnection::establish(path)
                .map(DbConnection::Sqlite)
                .map_err(r2d2::Error::ConnectionError),
            StoreUrl::Postgres { url } => {
                diesel::PgConnection::establish(url).map(DbConnection::Postgres).map_err(r2d2::Error::ConnectionError)
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        DISCARD.replace(false)
            || std::thread::panicking()
            || <DbConnection as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}

/// Per-connection settings. SQLite: WAL lets readers run beside the one writer; `synchronous=NORMAL`
/// in WAL mode keeps the database consistent after a crash or power loss, and a process crash loses
/// nothing committed; only a power loss can lose the last transactions before the WAL checkpoint.
#[derive(Debug)]
struct ConnectionSettings {
    busy_timeout_ms: u64,
}

impl CustomizeConnection<DbConnection, r2d2::Error> for ConnectionSettings {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), r2d2::Error> {
        if let DbConnection::Postgres(c) = conn {
            // PostgreSQL's default random_page_cost (4) assumes spinning disks; with it the planner
            // hash-joins a report's month against every audience and attendee row instead of
            // looking up the month's events (66 ms against 5 ms at 100,000 events). 1.1 is the
            // usual value for SSD storage.
            // jit: PostgreSQL compiles a statement whose estimated cost passes jit_above_cost,
            // which every report over a large registry does; compiling a month's summary at
            // 1,000,000 events took 93 ms of its 213 (32 ms without), and the year's ran 4.7 s
            // against 2.2 s. Adal's statements are short and many: none gains from it.
            // parallel_setup_cost: starting a parallel worker costs milliseconds here, which the
            // default (1000) prices as nothing: a month's summary at 1,000,000 events ran three
            // parallel scans of 800 events each and took 62 ms against 25 ms without them. At
            // 50,000 a month runs alone, and the year and the departments report keep one parallel
            // scan where they had five (year 3.4 → 2.7 s, departments 1.7 → 1.1 s; medians, psql).
            c.batch_execute("SET random_page_cost = 1.1; SET jit = off; SET parallel_setup_cost = 50000")
                .map_err(r2d2::Error::QueryError)?;
        }
        if let DbConnection::Sqlite(c) = conn {
            // cache_size: SQLite's default page cache (2 MB) is smaller than what one search
            // touches at 100,000 events (a thousand matches looked up by rowid), so each query
            // read its pages again from the file (2.3 ms against 1.1 ms with 8 MiB, sqlite3 on
            // the bench store; no gain above). 8 MiB per connection: 80 MiB for the default pool.
            c.batch_execute(&format!(
                "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA cache_size = -8192;",
                self.busy_timeout_ms
            ))
            .map_err(r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    pub checkout_timeout: Duration,
    pub sqlite_busy_timeout: Duration,
}

/// Creates a new SQLite file readable by its owner only: it holds attendees' names. SQLite gives
/// the `-wal` and `-shm` files it creates the database file's mode, so they follow. An existing
/// file keeps the mode its operator chose.
fn create_private(path: &std::path::Path) {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // Already there (the usual case), or not creatable: SQLite's own open then decides and
    // reports the real reason.
    let _ = options.open(path);
}

pub fn build_pool(url: &StoreUrl, settings: &PoolSettings) -> Result<Pool, r2d2::PoolError> {
    if let StoreUrl::Sqlite { path } = url {
        // A missing parent directory would otherwise surface as an opaque "unable to open".
        if let Some(parent) = std::path::Path::new(path).parent()
            && !parent.as_os_str().is_empty()
            && !parent.exists()
        {
            let _ = std::fs::create_dir_all(parent);
        }
        create_private(std::path::Path::new(path));
    }
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(1))
        .connection_timeout(settings.checkout_timeout)
        // `checkout` checks connections itself, only when they may be stale.
        .test_on_check_out(false)
        .connection_customizer(Box::new(ConnectionSettings {
            busy_timeout_ms: settings.sqlite_busy_timeout.as_millis() as u64,
        }))
        .build(Manager { url: url.clone() })
}

/// A pool that opens no connection until one is asked for: for a server that may be down when the
/// application starts (a reports replica), which must not stop it starting.
pub fn build_lazy_pool(url: &StoreUrl, settings: &PoolSettings) -> Pool {
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .min_idle(Some(0))
        .connection_timeout(settings.checkout_timeout)
        .test_on_check_out(false)
        .connection_customizer(Box::new(ConnectionSettings {
            busy_timeout_ms: settings.sqlite_busy_timeout.as_millis() as u64,
        }))
        .build_unchecked(Manager { url: url.clone() })
}

/// A PostgreSQL connection that answered within this window is handed out without asking the
/// server first (HikariCP's "alive bypass window", with its default). Asking on every checkout
/// cost each request a second round trip: `SELECT 1` was a third of the PostgreSQL backend's
/// work for `GET /events/{id}`.
const ALIVE_WITHOUT_CHECK: Duration = Duration::from_millis(500);

/// When the connection last answered, kept in the pool's per-connection extensions.
struct LastAnswered(Instant);

thread_local! {
    /// Set just before a pooled connection is dropped to make the pool discard it: r2d2 asks
    /// `has_broken` on the same thread while the connection is being returned.
    static DISCARD: Cell<bool> = const { Cell::new(false) };
}

/// Drops a pooled connection so that the pool forgets it rather than hands it out again.
fn discard(conn: PooledConn) {
    DISCARD.set(true);
    drop(conn);
    DISCARD.set(false);
}

/// A connection from the pool, waiting at most the pool's checkout timeout. An embedded SQLite
/// connection cannot die under the pool; a server connection can (a restart, a network cut), so
/// a PostgreSQL connection that has not answered within [`ALIVE_WITHOUT_CHECK`] is asked `SELECT 1`
/// first and replaced if it does not answer.
pub fn checkout(pool: &Pool) -> Result<PooledConn, r2d2::PoolError> {
    let deadline = Instant::now() + pool.connection_timeout();
    loop {
        let mut conn = pool.get_timeout(deadline.saturating_duration_since(Instant::now()))?;
        let recent = r2d2::PooledConnection::extensions(&conn)
            .get::<LastAnswered>()
            .is_some_and(|t| t.0.elapsed() < ALIVE_WITHOUT_CHECK);
        let alive = match &mut *conn {
            DbConnection::Sqlite(_) => true,
            DbConnection::Postgres(c) => recent || c.batch_execute("SELECT 1").is_ok(),
        };
        if alive {
            return Ok(conn);
        }
        tracing::warn!("a pooled PostgreSQL connection no longer answers; replacing it");
        discard(conn);
    }
}

/// Returns a connection to the pool after use. One whose work failed because the store could not
/// be reached loses its "recently answered" mark, so the next checkout asks it before use.
pub fn check_in(mut conn: PooledConn, store_unreachable: bool) {
    if store_unreachable {
        r2d2::PooledConnection::extensions_mut(&mut conn).remove::<LastAnswered>();
    } else if matches!(&*conn, DbConnection::Postgres(_)) {
        r2d2::PooledConnection::extensions_mut(&mut conn).insert(LastAnswered(Instant::now()));
    }
}

/// Advisory lock key that serialises write transactions on PostgreSQL across every instance, so
/// the audit chain (appended by every write) never forks. "adal" in ASCII.
const PG_WRITE_LOCK: i64 = 0x6164_616c;

/// One SQLite write transaction at a time in this process. SQLite has one writer; a writer that
/// finds the lock taken sleeps in the busy handler and polls with growing sleeps (up to 100 ms
/// each), so under 16 concurrent creates the unluckiest waited 1.45 s (p99). Queued on this mutex
/// instead, the next writer starts the moment the last one commits. Writers in other processes on
/// the same file still meet the busy timeout.
static SQLITE_WRITER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite (a deferred transaction that reads
/// then writes fails at once with SQLITE_BUSY under concurrent writers), and on PostgreSQL a
/// transaction holding the cluster-wide write lock from its start, which keeps lock order simple
/// (no deadlock between a row lock and the audit chain's lock).
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    transaction(conn, true, f)
}

/// Runs `f` in a transaction for the delivery worker's bookkeeping (its leases, results and log),
/// which changes nothing a reader of the registry sees: on SQLite it begins as a writer like every
/// write (`BEGIN IMMEDIATE`, queued on the same mutex); on PostgreSQL it does not take the
/// registry's write lock, so deliveries never queue behind writes, nor writes behind deliveries.
pub fn bookkeeping_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    transaction(conn, false, f)
}

/// A transaction that begins as a writer; on PostgreSQL holding the cluster-wide write lock when
/// `write_lock` says so.
fn transaction<T, E, F>(conn: &mut DbConnection, write_lock: bool, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let _writer = match conn {
        DbConnection::Sqlite(c) => {
            let writer = SQLITE_WRITER.lock().unwrap_or_else(|e| e.into_inner());
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
            Some(writer)
        }
        DbConnection::Postgres(c) => {
            AnsiTransactionManager::begin_transaction(c)?;
            if write_lock
                && let Err(e) = diesel::sql_query(format!("SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")).execute(c)
            {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                return Err(e.into());
            }
            None
        }
    };
    finish(conn, f)
}

/// Runs `f` in the transaction just begun on `conn`, and commits what it did or rolls it back.
fn finish<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // The closure's error is the one to report; a failed rollback marks the connection
            // broken and the pool discards it.
            let _ = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// Runs `f` in one read-only transaction, so every statement it makes reads the same snapshot and
/// what they return cannot disagree while writes go on: `REPEATABLE READ` on PostgreSQL (allowed
/// on a standby too), and on SQLite a read transaction, whose first read fixes what the rest see
/// (WAL). On PostgreSQL the transaction's kind is said in its `BEGIN`: one round trip, not two.
/// Inside a transaction already, `f` reads that transaction's snapshot.
pub fn snapshot<T, E: From<diesel::result::Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let DbConnection::Postgres(c) = conn else { return conn.transaction(f) };
    if AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()?.is_some() {
        return conn.transaction(f);
    }
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
    finish(conn, f)
}
