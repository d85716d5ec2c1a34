//! The delivery worker, one in every instance: it takes due messages from the outbox (each to one
//! instance: a lease, and on PostgreSQL `SKIP LOCKED`), posts them signed as Standard Webhooks to
//! the address the SSRF check approved, and records each attempt. A failure is retried on the
//! schedule (with jitter, or after the endpoint's `Retry-After`); a 410 disables the subscription
//! at once, and so does failing for five days. A message is delivered at least once: an instance
//! that dies mid-attempt leaves a lease that runs out, and another attempt follows.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use ipnet::IpNet;
use rand::Rng;
use reqwest::Url;
use tokio::task::JoinSet;

use super::secret;
use super::ssrf;
use super::store::{self, Claimed, DeliveryRow};
use crate::audit::Actor;
use crate::config::{Config, Secret};
use crate::error::ApiError;
use crate::metrics;
use crate::store::{DbConnection, Store};

/// Deliveries one instance has in flight at most.
const IN_FLIGHT: usize = 16;

/// How long the messages of a subscription whose secret does not decrypt wait before the next look.
const UNDECRYPTABLE_WAIT: Duration = Duration::from_secs(60);

/// The longest wait a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// What the worker needs to know.
#[derive(Clone)]
pub struct Settings {
    pub allowed: Vec<IpNet>,
    pub schedule: Vec<Duration>,
    pub timeout: Duration,
    pub disable_after: Duration,
    pub poll: Duration,
    /// The key webhook secrets are encrypted under.
    pub key: Secret,
    /// HTTP clients by the host and the checked address they connect to.
    clients: Clients,
}

/// HTTP clients kept per host and checked address: building one loads the system's TLS roots
/// (about 40 ms here), and a kept one keeps its connections open for the next delivery. A host
/// that resolves elsewhere gets a client of its own, pinned to the address checked this time.
#[derive(Clone, Default)]
struct Clients(Arc<std::sync::Mutex<HashMap<(String, SocketAddr), reqwest::Client>>>);

/// Clients kept at most; past it the map starts again.
const MAX_CLIENTS: usize = 256;

impl Clients {
    /// The kept client, or a new one, built on the blocking pool: loading the TLS roots would
    /// otherwise hold the worker's thread for its 40 ms.
    async fn get(&self, target: &ssrf::Target, timeout: Duration) -> Result<reqwest::Client, String> {
        let key = (target.host.clone(), target.address);
        if let Some(client) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(client.clone());
        }
        let (host, address) = key.clone();
        let client = tokio::task::spawn_blocking(move || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(timeout)
                .no_proxy()
                .resolve(&host, address)
                .user_agent(concat!("Adal-Webhooks/", env!("CARGO_PKG_VERSION")))
                .build()
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
        let mut clients = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }
}

impl Settings {
    pub fn new(config: &Config, key: Secret) -> Self {
        Settings {
            allowed: config.webhook_allowed_networks.clone(),
            schedule: config.webhook_retry_schedule.clone(),
            timeout: config.webhook_timeout,
            disable_after: config.webhook_disable_after,
            poll: config.webhook_poll_interval,
            key,
            clients: Clients::default(),
        }
    }

    /// How long a claimed message stays with this instance: an attempt's whole time (the host's
    /// lookup and the request), and a margin for recording it. A lease that runs out all the same
    /// lets another attempt take the message; the late one's end is then not recorded.
    fn lease(&self) -> Duration {
        ssrf::LOOKUP_TIMEOUT + self.timeout + Duration::from_secs(10)
    }
}

/// Starts the worker on the current runtime.
pub fn spawn(store: Store, settings: Settings) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run(store, Arc::new(settings)))
}

/// How long a delivered message is kept (its body is what was sent, for a while after).
const KEEP_DELIVERED: Duration = Duration::from_secs(7 * 86_400);
/// How long a message that gave up, and the log of every attempt, are kept: long enough to
/// redeliver after an outage and to read what happened.
const KEEP_LOG: Duration = Duration::from_secs(30 * 86_400);
/// How often an instance prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

async fn run(store: Store, settings: Arc<Settings>) {
    let mut in_flight = JoinSet::new();
    let mut pruned_at: Option<Instant> = None;
    loop {
        if pruned_at.is_none_or(|t| t.elapsed() >= PRUNE_EVERY) {
            pruned_at = Some(Instant::now());
            let pruned = store
                .run_with(|conn| -> Result<usize, ApiError> {
                    let now = crate::store::now();
                    let ago = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or_default();
                    Ok(crate::store::bookkeeping_tx(conn, |c| store::prune(c, ago(KEEP_DELIVERED), ago(KEEP_LOG)))?)
                })
                .await;
            if let Err(e) = pruned {
                tracing::warn!(error = %e, "webhooks: could not prune the outbox");
            }
        }
        let room = IN_FLIGHT - in_flight.len();
        let mut full = false;
        if room > 0 {
            let s = settings.clone();
            match store.run_with(move |conn| claim(conn, &s, room as i64)).await {
                Ok(jobs) => {
                    full = jobs.len() == room;
                    for job in jobs {
                        in_flight.spawn(attempt(store.clone(), settings.clone(), job));
                    }
                }
                Err(e) => tracing::warn!(error = %e, "webhooks: could not take messages from the outbox"),
            }
        }
        if full {
            // There may be more due: make room first.
            in_flight.join_next().await;
            continue;
        }
        tokio::select! {
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = super::wake::WAKE.notified() => {}
            _ = tokio::time::sleep(settings.poll) => {}
        }
    }
}

/// A claimed message with what its delivery needs.
struct Job {
    message: Claimed,
    url: String,
    /// The signing keys: the current secret's, and the previous one's while it is still valid.
    keys: Vec<Vec<u8>>,
}

fn at(now: NaiveDateTime, after: Duration) -> NaiveDateTime {
    now + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::MAX)
}

/// Takes due messages and reads their subscriptions. A subscription whose principal is gone is
/// switched off (audited) and its messages given back.
fn claim(conn: &mut DbConnection, settings: &Settings, limit: i64) -> Result<Vec<Job>, ApiError> {
    let now = crate::store::now();
    let claimed = crate::store::bookkeeping_tx(conn, |c| store::claim(c, now, at(now, settings.lease()), limit))?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for message in claimed {
        let Some(sub) = store::find(conn, &message.subscription_id)? else {
            continue;
        };
        if crate::auth::store::principal_state(conn, &sub.owner_id)?.is_none() {
            disable(conn, &sub.id, "its principal was deactivated")?;
            store::release(conn, &message, now)?;
            continue;
        }
        let Some(current) = secret::open(&settings.key, &sub.id, &sub.secret).and_then(|s| secret::signing_key(&s))
        else {
            // The key changed (a new token-signing secret): nothing can be signed until the
            // subscription's secret is rotated. Its messages wait; none is lost or sent unsigned.
            tracing::error!(subscription = %sub.id, "webhooks: the subscription's secret does not decrypt under this instance's key; rotate it");
            store::release(conn, &message, at(now, UNDECRYPTABLE_WAIT))?;
            continue;
        };
        let mut keys = vec![current];
        if let (Some(previous), Some(until)) = (&sub.previous_secret, sub.previous_secret_until)
            && until > now
            && let Some(key) = secret::open(&settings.key, &sub.id, previous).and_then(|s| secret::signing_key(&s))
        {
            keys.push(key);
        }
        jobs.push(Job { message, url: sub.url, keys });
    }
    Ok(jobs)
}

/// Switches a subscription off, audited as the registry's own change.
fn disable(conn: &mut DbConnection, id: &str, reason: &str) -> Result<(), ApiError> {
    crate::write::transaction(conn, &Actor::system(), "", |tx| match store::disable(tx.conn(), id, reason)? {
        Some(row) => {
            let details = serde_json::json!({"active": {"from": true, "to": false}, "disabled_reason": {"from": null, "to": reason}});
            tx.record(crate::write::Change::new("webhook.disable", "webhook", Some(id)).at(row.version), details)
        }
        None => {
            tx.without_entry("the subscription was already off");
            Ok(())
        }
    })?;
    tracing::warn!(subscription = %id, reason, "webhooks: subscription disabled");
    Ok(())
}

/// How an attempt ended.
#[derive(Debug)]
pub enum Ending {
    Delivered(u16),
    /// 410 Gone: the endpoint wants no more.
    Gone,
    /// Any other answer, a timeout or a transport failure; `retry_after` when the endpoint said.
    Failed {
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
    /// The address is not one webhooks may reach: nothing was sent.
    Refused(String),
}

async fn attempt(store: Store, settings: Arc<Settings>, job: Job) {
    let started = Instant::now();
    let ending = send(&settings, &job).await;
    let elapsed = started.elapsed();
    metrics::webhook_delivery(match &ending {
        Ending::Delivered(_) => "delivered",
        Ending::Gone => "gone",
        Ending::Failed { .. } => "failed",
        Ending::Refused(_) => "refused",
    });
    let s = settings.clone();
    let id = job.message.id.clone();
    if let Err(e) = store.run_with(move |conn| record(conn, &s, &job, ending, elapsed)).await {
        // The lease runs out and the message is attempted again: at least once, never lost.
        tracing::warn!(message = %id, error = %e, "webhooks: could not record a delivery attempt");
    }
}

/// Posts the message once.
async fn send(settings: &Settings, job: &Job) -> Ending {
    let Ok(url) = Url::parse(&job.url) else {
        return Ending::Refused("the subscription's URL does not parse".into());
    };
    let target = match ssrf::resolve(&url, &settings.allowed).await {
        Ok(t) => t,
        Err(refusal) => return Ending::Refused(refusal.0),
    };
    let client = match settings.clients.get(&target, settings.timeout).await {
        Ok(c) => c,
        Err(e) => return Ending::Failed { status: None, error: format!("no HTTP client: {e}"), retry_after: None },
    };
    let timestamp = chrono::Utc::now().timestamp();
    let body = &job.message.body;
    let signature: Vec<String> = job.keys.iter().map(|k| secret::sign(k, &job.message.id, timestamp, body)).collect();
    let sent = client
        .post(target.url)
        .header("content-type", "application/json")
        .header("webhook-id", &job.message.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature.join(" "))
        .body(body.clone())
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            let error = if e.is_timeout() {
                format!("no answer within {} s", settings.timeout.as_secs_f64())
            } else if e.is_connect() {
                "could not connect".to_string()
            } else {
                "the request failed before an answer came".to_string()
            };
            return Ending::Failed { status: None, error, retry_after: None };
        }
    };
    let status = response.status();
    if status.is_success() {
        return Ending::Delivered(status.as_u16());
    }
    if status.as_u16() == 410 {
        return Ending::Gone;
    }
    let retry_after = if matches!(status.as_u16(), 429 | 503) {
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(retry_after)
    } else {
        None
    };
    let error = if status.is_redirection() {
        "the endpoint answered a redirect, which is not followed".to_string()
    } else {
        format!("the endpoint answered {}", status.as_u16())
    };
    Ending::Failed { status: Some(status.as_u16()), error, retry_after }
}

/// A `Retry-After` value: seconds, or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let wait = match value.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let when = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
            (when.with_timezone(&chrono::Utc) - chrono::Utc::now()).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait before the attempt after `attempts` failed ones: the schedule's, give or take a tenth,
/// so endpoints that failed together are not retried together. `None` once the schedule is spent.
pub fn next_wait(schedule: &[Duration], attempts: usize) -> Option<Duration> {
    let wait = *schedule.get(attempts.checked_sub(1)?)?;
    Some(wait.mul_f64(rand::rng().random_range(0.9..=1.1)))
}

fn record(
    conn: &mut DbConnection,
    settings: &Settings,
    job: &Job,
    ending: Ending,
    elapsed: Duration,
) -> Result<(), ApiError> {
    let now = crate::store::now();
    let m = &job.message;
    let attempt = m.attempts + 1;
    let (status, response_status, error, next) = match &ending {
        Ending::Delivered(code) => (store::DELIVERED, Some(*code), None, None),
        Ending::Gone => (store::FAILED, Some(410), Some("the endpoint answered 410 Gone".to_string()), None),
        Ending::Failed { status, error, retry_after } => {
            // The endpoint's Retry-After may lengthen the wait, never shorten it nor add attempts.
            let wait = next_wait(&settings.schedule, attempt as usize).map(|w| w.max(retry_after.unwrap_or_default()));
            (store::FAILED, *status, Some(error.clone()), wait.map(|w| at(now, w)))
        }
        Ending::Refused(reason) => {
            let wait = next_wait(&settings.schedule, attempt as usize);
            ("refused", None, Some(reason.clone()), wait.map(|w| at(now, w)))
        }
    };
    let recorded = crate::store::bookkeeping_tx(conn, |c| -> Result<Option<Option<NaiveDateTime>>, ApiError> {
        let message_status = match (status, next) {
            (store::DELIVERED, _) => store::DELIVERED,
            (_, Some(_)) => store::PENDING,
            (_, None) => store::FAILED,
        };
        if !store::finish(c, m, message_status, attempt, next)? {
            // The lease ran out and another attempt took the message over (it records its own
            // end), or the subscription was deleted meanwhile: this end is no longer the message's.
            return Ok(None);
        }
        store::insert_delivery(
            c,
            &DeliveryRow {
                id: crate::store::new_id(),
                subscription_id: m.subscription_id.clone(),
                message_id: m.id.clone(),
                event_type: m.event_type.clone(),
                attempt,
                status: status.to_string(),
                response_status: response_status.map(i32::from),
                duration_ms: elapsed.as_millis() as i64,
                error,
                next_attempt_at: next,
                at: now,
            },
        )?;
        Ok(Some(if status == store::DELIVERED {
            store::succeeded(c, &m.subscription_id)?;
            None
        } else {
            store::failing(c, &m.subscription_id, now)?
        }))
    })?;
    let Some(failing_since) = recorded else {
        tracing::warn!(message = %m.id, "webhooks: an attempt ended after its message was taken over or removed; its end is not recorded");
        return Ok(());
    };
    if matches!(ending, Ending::Gone) {
        disable(conn, &m.subscription_id, "the endpoint answered 410 Gone")?;
    } else if let Some(since) = failing_since
        && now - since >= chrono::Duration::from_std(settings.disable_after).unwrap_or(chrono::Duration::MAX)
    {
        let reason = format!(
            "deliveries have failed since {} without a success",
            crate::store::to_utc(since).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        disable(conn, &m.subscription_id, &reason)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_followed_within_a_tenth_and_then_given_up() {
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        for _ in 0..100 {
            let first = next_wait(&schedule, 1).unwrap();
            assert!(first >= Duration::from_millis(4500) && first <= Duration::from_millis(5500), "{first:?}");
        }
        assert!(next_wait(&schedule, 2).unwrap() >= Duration::from_secs(270));
        assert_eq!(next_wait(&schedule, 3), None);
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
        assert_eq!(retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(retry_after("999999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(retry_after("soon"), None);
    }
}
