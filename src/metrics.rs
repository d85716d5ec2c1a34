//! Prometheus metrics: requests by route template and status, a latency histogram, the pool's
//! state and waits, and store errors. Kept per process; each instance is scraped on its own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::Method;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += seconds;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {}", self.counts[i]);
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// Counts kept by the store layer, which runs outside any request's reach of app data.
pub static STORE_ERRORS: AtomicU64 = AtomicU64::new(0);
pub static POOL_WAITS: AtomicU64 = AtomicU64::new(0);
pub static POOL_WAIT_MICROS: AtomicU64 = AtomicU64::new(0);
pub static POOL_TIMEOUTS: AtomicU64 = AtomicU64::new(0);

/// Records how long a pool checkout took.
pub fn pool_checkout(waited: Duration, ok: bool) {
    POOL_WAITS.fetch_add(1, Ordering::Relaxed);
    POOL_WAIT_MICROS.fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
    if !ok {
        POOL_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
    }
}

/// Webhook delivery attempts by how they ended; the outcomes are a fixed set.
const WEBHOOK_OUTCOMES: [&str; 4] = ["delivered", "failed", "gone", "refused"];
static WEBHOOK_DELIVERIES: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

/// Counts a webhook delivery attempt that ended in `outcome`, one of [`WEBHOOK_OUTCOMES`].
pub fn webhook_delivery(outcome: &str) {
    if let Some(i) = WEBHOOK_OUTCOMES.iter().position(|o| *o == outcome) {
        WEBHOOK_DELIVERIES[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Where reports were read, and why not from the standby: served by the standby, by the primary
/// with no standby configured, or by the primary because the standby was down or lagging.
const REPORT_READS: [&str; 4] = ["replica", "primary", "fallback_unavailable", "fallback_lagging"];
static REPORT_READ_COUNTS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// The reports replica's lag at the last look, in milliseconds.
static REPLICA_LAG_MS: AtomicU64 = AtomicU64::new(0);

/// Counts a report read as `read`, one of [`REPORT_READS`].
pub fn report_read(read: &str) {
    if let Some(i) = REPORT_READS.iter().position(|r| *r == read) {
        REPORT_READ_COUNTS[i].fetch_add(1, Ordering::Relaxed);
    }
}

/// Keeps the reports replica's lag as last seen.
pub fn replica_lag(lag: Duration) {
    REPLICA_LAG_MS.store(lag.as_millis() as u64, Ordering::Relaxed);
}

/// The webhook outbox at the moment of a scrape.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookQueue {
    /// Messages waiting for delivery to active subscriptions, on every instance.
    pub pending: i64,
    /// How long the oldest of them has waited.
    pub oldest_age: Duration,
}

/// The route label of a request that matched no route: one series, whatever paths are probed.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The method label. Any client can send any token as a method, and each label value is a series
/// kept for the life of the process, so only the standard methods are named.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The pool's gauges at the moment of a scrape.
#[derive(Debug, Clone, Copy)]
pub struct PoolState {
    pub connections: u32,
    pub idle: u32,
    pub max: u32,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(route.to_string())
            .or_default()
            .observe(elapsed.as_secs_f64());
    }

    pub fn render(&self, pool: PoolState, queue: Option<WebhookQueue>) -> String {
        let mut out = String::new();
        out.push_str("# HELP adal_http_requests_total Requests served, by method, route template and status.\n");
        out.push_str("# TYPE adal_http_requests_total counter\n");
        for ((method, route, status), n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "adal_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP adal_http_request_duration_seconds Request latency by route template.\n");
        out.push_str("# TYPE adal_http_request_duration_seconds histogram\n");
        for (route, h) in self.latency.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            h.render(&mut out, "adal_http_request_duration_seconds", &format!("route=\"{}\"", escape(route)));
        }
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_connections Connections the pool holds.\n# TYPE adal_db_pool_connections gauge\nadal_db_pool_connections {}",
            pool.connections
        );
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_idle Idle connections in the pool.\n# TYPE adal_db_pool_idle gauge\nadal_db_pool_idle {}",
            pool.idle
        );
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_max Largest pool size.\n# TYPE adal_db_pool_max gauge\nadal_db_pool_max {}",
            pool.max
        );
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_checkouts_total Connections checked out.\n# TYPE adal_db_pool_checkouts_total counter\nadal_db_pool_checkouts_total {}",
            POOL_WAITS.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_wait_seconds_total Time spent waiting for a connection.\n# TYPE adal_db_pool_wait_seconds_total counter\nadal_db_pool_wait_seconds_total {}",
            POOL_WAIT_MICROS.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "# HELP adal_db_pool_timeouts_total Checkouts that timed out.\n# TYPE adal_db_pool_timeouts_total counter\nadal_db_pool_timeouts_total {}",
            POOL_TIMEOUTS.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP adal_store_errors_total Store failures answered 503.\n# TYPE adal_store_errors_total counter\nadal_store_errors_total {}",
            STORE_ERRORS.load(Ordering::Relaxed)
        );
        out.push_str("# HELP adal_webhook_deliveries_total Webhook delivery attempts by this instance, by outcome.\n");
        out.push_str("# TYPE adal_webhook_deliveries_total counter\n");
        for (outcome, n) in WEBHOOK_OUTCOMES.iter().zip(&WEBHOOK_DELIVERIES) {
            let _ =
                writeln!(out, "adal_webhook_deliveries_total{{outcome=\"{outcome}\"}} {}", n.load(Ordering::Relaxed));
        }
        out.push_str("# HELP adal_reports_reads_total Reports read, by where: the replica, the primary (no replica), or the primary instead of a replica that was unavailable or lagging.\n");
        out.push_str("# TYPE adal_reports_reads_total counter\n");
        for (read, n) in REPORT_READS.iter().zip(&REPORT_READ_COUNTS) {
            let _ = writeln!(out, "adal_reports_reads_total{{read=\"{read}\"}} {}", n.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP adal_reports_replica_lag_seconds The reports replica's replay lag at the last report.\n# TYPE adal_reports_replica_lag_seconds gauge\nadal_reports_replica_lag_seconds {}",
            REPLICA_LAG_MS.load(Ordering::Relaxed) as f64 / 1000.0
        );
        let Some(queue) = queue else {
            return out;
        };
        let _ = writeln!(
            out,
            "# HELP adal_webhook_queue_depth Webhook messages waiting for delivery.\n# TYPE adal_webhook_queue_depth gauge\nadal_webhook_queue_depth {}",
            queue.pending
        );
        let _ = writeln!(
            out,
            "# HELP adal_webhook_oldest_pending_seconds Age of the oldest webhook message waiting for delivery.\n# TYPE adal_webhook_oldest_pending_seconds gauge\nadal_webhook_oldest_pending_seconds {}",
            queue.oldest_age.as_secs_f64()
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_are_labelled_by_name() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"PROBE1").unwrap()), "other");
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "other");
    }

    #[test]
    fn a_histogram_counts_cumulatively() {
        let mut h = Histogram::default();
        h.observe(0.003);
        h.observe(0.2);
        let mut out = String::new();
        h.render(&mut out, "x", "route=\"/a\"");
        assert!(out.contains("x_bucket{route=\"/a\",le=\"0.0025\"} 0"));
        assert!(out.contains("x_bucket{route=\"/a\",le=\"0.005\"} 1"));
        assert!(out.contains("x_bucket{route=\"/a\",le=\"0.25\"} 2"));
        assert!(out.contains("x_count{route=\"/a\"} 2"));
    }
}
