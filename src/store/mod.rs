//! Storage: the connection type over SQLite and PostgreSQL, its pool, the embedded migrations and
//! the one schema both stores share, plus running blocking store work off the async executor.

pub mod conn;
pub mod prepared;
pub mod schema;

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use conn::{DbConnection, Pool, PoolSettings, StoreUrl, bookkeeping_tx, build_pool, snapshot, write_tx};

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Applies pending migrations of the connection's own backend; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS),
        DbConnection::Postgres(c) => c.run_pending_migrations(POSTGRES_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    Ok(applied.into_iter().map(|v| v.to_string()).collect())
}

/// The migration versions a backend's embedded set holds, in order.
pub fn migration_versions(sqlite: bool) -> Vec<String> {
    let source: &EmbeddedMigrations = if sqlite { &SQLITE_MIGRATIONS } else { &POSTGRES_MIGRATIONS };
    let migrations = if sqlite {
        MigrationSource::<diesel::sqlite::Sqlite>::migrations(source)
            .map(|m| m.into_iter().map(|m| m.name().version().to_string()).collect())
    } else {
        MigrationSource::<diesel::pg::Pg>::migrations(source)
            .map(|m| m.into_iter().map(|m| m.name().version().to_string()).collect())
    };
    migrations.unwrap_or_default()
}

/// What the store itself fails with, before or around the work it runs: no connection within the
/// checkout timeout, or the blocking task lost. `error.rs` turns it into a 503 or a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no store connection: {0}")]
    Pool(#[from] diesel::r2d2::PoolError),
    #[error("blocking task failed: {0}")]
    Task(String),
}

/// What the store needs to know of the error its work ended with: whether it means the store
/// could not be reached, so the connection is asked before its next use.
pub trait WorkError: From<StoreError> {
    fn store_unreachable(&self) -> bool;
}

/// The store as the application holds it: the pool and which backend it is.
#[derive(Clone)]
pub struct Store {
    pool: Pool,
    pub sqlite: bool,
}

impl Store {
    pub fn new(pool: Pool, url: &StoreUrl) -> Self {
        Store { pool, sqlite: url.is_sqlite() }
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs blocking store work on actix's blocking thread pool with a pooled connection. A pool
    /// checkout that times out is a [`StoreError::Pool`], which the edge answers 503 like any other
    /// store outage.
    pub async fn run_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: WorkError + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        actix_web::web::block(move || {
            let _enter = span.enter();
            let started = std::time::Instant::now();
            let conn = conn::checkout(&pool);
            crate::metrics::pool_checkout(started.elapsed(), conn.is_ok());
            use_conn(conn.map_err(StoreError::from)?, f)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs a short read (one indexed statement, such as one event by id). On SQLite, where such a
    /// read takes tens of microseconds and never waits for a writer (WAL), it runs on the calling
    /// worker with an idle pooled connection: the hop to the blocking pool and back (two thread
    /// wake-ups) cost more than the read. With no idle connection, or on PostgreSQL, whose reads are
    /// a network round trip, it goes through [`Store::run_with`]. `f` must only read, in one short
    /// statement: it may run on the async worker, which serves other connections meanwhile.
    pub async fn read_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: WorkError + Send + 'static,
    {
        if self.sqlite
            && let Some(conn) = self.pool.try_get()
        {
            crate::metrics::pool_checkout(std::time::Duration::ZERO, true);
            return use_conn(conn, f);
        }
        self.run_with(f).await
    }
}

/// Runs `f` with a checked-out connection and returns it to the pool.
fn use_conn<T, E: WorkError>(
    mut conn: conn::PooledConn,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let result = f(&mut conn);
    conn::check_in(conn, result.as_ref().is_err_and(WorkError::store_unreachable));
    result
}

pub type SharedStore = Arc<Store>;

/// The current instant as the store keeps it: UTC, truncated to the microsecond (PostgreSQL's
/// precision), so what is written reads back identical on both stores.
pub fn now() -> NaiveDateTime {
    Utc::now().trunc_subsecs(6).naive_utc()
}

pub fn to_utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

/// A fresh id: UUID v7 as text, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Inserts many rows in one statement. diesel's multi-backend connection cannot batch inserts,
/// so this picks the backend's own connection; the rows may be empty.
#[macro_export]
macro_rules! insert_many {
    ($conn:expr, $table:expr, $rows:expr) => {{
        use diesel::RunQueryDsl;
        let rows = $rows;
        if rows.is_empty() {
            Ok(0)
        } else {
            match $conn {
                $crate::store::DbConnection::Sqlite(c) => diesel::insert_into($table).values(rows).execute(c),
                $crate::store::DbConnection::Postgres(c) => diesel::insert_into($table).values(rows).execute(c),
            }
        }
    }};
}

/// Stores an enum as its text on both stores (diesel `FromSql`/`ToSql` over `Text`), through its
/// `as_str` and `parse`. Reading a value the enum does not know is an error naming it, never a
/// default: a bad row must not become a plausible wrong answer.
#[macro_export]
macro_rules! stored_text {
    ($($name:ty),+ $(,)?) => {$(
        impl<DB: diesel::backend::Backend> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
                <$name>::parse(&text)
                    .ok_or_else(|| format!("unknown {} {text:?} in the store", stringify!($name)).into())
            }
        }

        impl<DB: diesel::backend::Backend> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(self.as_str(), out)
            }
        }
    )+};
}
