//! Reports read in one snapshot, on a PostgreSQL streaming standby when there is one (`ADAL_REPORTS_DATABASE_URL`): the heaviest reads
//! leave the primary to its writes. Each report first asks the standby how far behind it is; past
//! `ADAL_REPORTS_MAX_LAG` seconds, or when the standby does not answer, the report is read from the
//! primary instead, and the metrics say which and why. A standby that failed is not asked again
//! for a few seconds, so a report does not wait for a dead one each time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::sql_types::Double;

use crate::config::Config;
use crate::error::ApiError;
use crate::store::conn::build_lazy_pool;
use crate::store::{DbConnection, PoolSettings, Store, StoreUrl, snapshot};

/// How long a failed standby is left alone.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// How long a report waits for a standby connection before reading the primary.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(1);

pub struct Replica {
    store: Store,
    max_lag: Duration,
    /// Until when (Unix milliseconds) the standby is not asked, after it failed.
    resting_until: AtomicI64,
}

#[derive(diesel::QueryableByName)]
struct Lag {
    #[diesel(sql_type = Double)]
    seconds: f64,
}

/// How far the standby's replay is behind: 0 when it streams from the primary and has replayed all
/// it received (an idle primary sends nothing, so the age of the last replayed transaction says
/// nothing then), else the age of the last transaction it replayed — also when it no longer
/// streams, whatever it has replayed, since it cannot know what it misses. A server not in
/// recovery is not behind.
fn lag(conn: &mut DbConnection) -> Result<Duration, ApiError> {
    let row: Lag = diesel::sql_query(
        "SELECT CAST(CASE WHEN NOT pg_is_in_recovery() THEN 0 \
         WHEN NOT EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') \
           THEN COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) \
         WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
         ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END AS DOUBLE PRECISION) AS seconds",
    )
    .get_result(conn)?;
    Ok(Duration::from_secs_f64(row.seconds.max(0.0)))
}

impl Replica {
    /// The standby's pool, opened lazily: a standby down at start does not stop the service.
    pub fn from_config(config: &Config) -> Option<Replica> {
        let url: &StoreUrl = config.reports_database.as_ref()?;
        let settings = PoolSettings {
            max_size: config.db_pool_size,
            checkout_timeout: CHECKOUT_TIMEOUT,
            sqlite_busy_timeout: config.db_timeout,
        };
        Some(Replica {
            store: Store::new(build_lazy_pool(url, &settings), url),
            max_lag: config.reports_max_lag,
            resting_until: AtomicI64::new(0),
        })
    }

    fn resting(&self) -> bool {
        chrono::Utc::now().timestamp_millis() < self.resting_until.load(Ordering::Relaxed)
    }

    fn rest(&self) {
        let until = chrono::Utc::now().timestamp_millis() + REST_AFTER_FAILURE.as_millis() as i64;
        self.resting_until.store(until, Ordering::Relaxed);
    }
}

/// Runs a report's reads `f` on the standby when it is configured, answering and caught up, else
/// on the primary. A report's own refusal (a bad parameter, 404) is answered as it is; a failure
/// of the standby reads the primary.
pub async fn run<T, F>(primary: &Store, replica: Option<&Replica>, f: F) -> Result<T, ApiError>
where
    F: Fn(&mut DbConnection) -> Result<T, ApiError> + Clone + Send + 'static,
    T: Send + 'static,
{
    let Some(replica) = replica else {
        crate::metrics::report_read("primary");
        return primary.run(move |conn| snapshot(conn, f)).await;
    };
    if !replica.resting() {
        let max_lag = replica.max_lag;
        let on_replica = f.clone();
        let answer = replica
            .store
            .run(move |conn| {
                let behind = lag(conn)?;
                crate::metrics::replica_lag(behind);
                if behind > max_lag {
                    return Ok(Err(behind));
                }
                snapshot(conn, on_replica).map(Ok)
            })
            .await;
        match answer {
            Ok(Ok(value)) => {
                crate::metrics::report_read("replica");
                return Ok(value);
            }
            Ok(Err(behind)) => {
                tracing::warn!(
                    lag_seconds = behind.as_secs_f64(),
                    "the reports replica is lagging; reading the primary"
                );
                crate::metrics::report_read("fallback_lagging");
            }
            Err(ApiError::NotFound) => {
                // A record made since the standby's last replay (a new department, a new plan):
                // the primary knows it.
                crate::metrics::report_read("fallback_lagging");
            }
            Err(e @ (ApiError::Unavailable(_) | ApiError::Internal(_))) => {
                tracing::warn!(error = %e, "the reports replica failed; reading the primary");
                replica.rest();
                crate::metrics::report_read("fallback_unavailable");
            }
            Err(refusal) => return Err(refusal),
        }
    } else {
        crate::metrics::report_read("fallback_unavailable");
    }
    primary.run(move |conn| snapshot(conn, f)).await
}
