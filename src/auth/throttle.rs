//! Slowing password guessing: after 5 failures in 15 minutes for one username, or 20 from one
//! client address, each further attempt must wait a delay that doubles with every failure (429
//! with `Retry-After`). Never a lockout: the delay ends, so nobody can lock an official out for
//! good. Counters are per process by design (several instances each apply the limits).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(15 * 60);
const USERNAME_FREE: u32 = 5;
const ADDRESS_FREE: u32 = 20;
const MAX_DELAY_SECONDS: u64 = 15 * 60;

#[derive(Debug, Clone)]
struct Counter {
    failures: u32,
    first: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Default)]
pub struct LoginThrottle {
    users: Mutex<HashMap<String, Counter>>,
    addresses: Mutex<HashMap<IpAddr, Counter>>,
}

fn wait_in<K: std::hash::Hash + Eq>(map: &HashMap<K, Counter>, key: &K, now: Instant) -> Option<u64> {
    let until = map.get(key)?.blocked_until?;
    (until > now).then(|| ((until - now).as_secs_f64().ceil() as u64).max(1))
}

fn record<K: std::hash::Hash + Eq + Clone>(map: &mut HashMap<K, Counter>, key: &K, free: u32, now: Instant) {
    if map.len() > 100_000 {
        map.retain(|_, c| now.duration_since(c.first) < WINDOW);
    }
    let c = map.entry(key.clone()).or_insert(Counter { failures: 0, first: now, blocked_until: None });
    if now.duration_since(c.first) >= WINDOW && c.blocked_until.is_none_or(|u| u <= now) {
        *c = Counter { failures: 0, first: now, blocked_until: None };
    }
    c.failures += 1;
    if c.failures >= free {
        let over = c.failures - free;
        let delay = 1u64.checked_shl(over).unwrap_or(u64::MAX).min(MAX_DELAY_SECONDS);
        c.blocked_until = Some(now + Duration::from_secs(delay));
    }
}

/// Takes back one counted attempt: it turned out to be a success.
fn uncount<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Counter>, key: &K, free: u32) {
    if let Some(c) = map.get_mut(key) {
        c.failures = c.failures.saturating_sub(1);
        if c.failures < free {
            c.blocked_until = None;
        }
    }
}

impl LoginThrottle {
    /// Lets an attempt at `key` (a folded username, or `client:ID`) from `address` go ahead and
    /// counts it as a failure at once, or says how many seconds to wait. Counting before the
    /// password check, under one lock with the check of the delay, is what keeps N parallel
    /// guesses from all being checked: only the first `free` get past. The attempt must be settled:
    /// a success takes its count back, and one dropped without a verdict (the store failed, the
    /// client went away) takes it back too, so only real guesses count.
    pub fn attempt(&self, key: &str, address: Option<IpAddr>) -> Result<Attempt<'_>, u64> {
        let now = Instant::now();
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let mut addresses = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let user = wait_in(&users, &key.to_string(), now);
        let addr = address.and_then(|a| wait_in(&addresses, &a, now));
        if let Some(wait) = user.into_iter().chain(addr).max() {
            return Err(wait);
        }
        record(&mut users, &key.to_string(), USERNAME_FREE, now);
        if let Some(a) = address {
            record(&mut addresses, &a, ADDRESS_FREE, now);
        }
        Ok(Attempt { throttle: self, key: key.to_string(), address, settled: false })
    }

    /// The attempt succeeded: the key starts afresh and the address's count loses this attempt.
    fn succeeded(&self, key: &str, address: Option<IpAddr>) {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        if let Some(a) = address {
            uncount(&mut self.addresses.lock().unwrap_or_else(|e| e.into_inner()), &a, ADDRESS_FREE);
        }
    }

    /// The attempt reached no verdict: its count is taken back everywhere.
    fn withdrawn(&self, key: &str, address: Option<IpAddr>) {
        uncount(&mut self.users.lock().unwrap_or_else(|e| e.into_inner()), &key.to_string(), USERNAME_FREE);
        if let Some(a) = address {
            uncount(&mut self.addresses.lock().unwrap_or_else(|e| e.into_inner()), &a, ADDRESS_FREE);
        }
    }
}

/// An attempt let through by `LoginThrottle::attempt`, counted as a failure until settled.
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    key: String,
    address: Option<IpAddr>,
    settled: bool,
}

impl Attempt<'_> {
    /// The credentials were right.
    pub fn succeeded(mut self) {
        self.settled = true;
        self.throttle.succeeded(&self.key, self.address);
    }

    /// The credentials were wrong: the count stands.
    pub fn failed(mut self) {
        self.settled = true;
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.throttle.withdrawn(&self.key, self.address);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_counted_attempts_start_a_delay_that_doubles() {
        let t = LoginThrottle::default();
        for _ in 0..5 {
            t.attempt("aigerim", None).unwrap().failed();
        }
        assert_eq!(t.attempt("aigerim", None).err(), Some(1));
        t.attempt("someone-else", None).unwrap().failed();
        t.succeeded("aigerim", None);
        assert!(t.attempt("aigerim", None).is_ok());
    }

    #[test]
    fn an_attempt_dropped_without_a_verdict_does_not_count() {
        let t = LoginThrottle::default();
        for _ in 0..10 {
            drop(t.attempt("aigerim", None).unwrap());
        }
        assert!(t.attempt("aigerim", None).is_ok(), "a store failure is no guess");
    }

    #[test]
    fn the_delay_doubles_with_each_failure_after_the_free_ones() {
        let t = LoginThrottle::default();
        let mut users = t.users.lock().unwrap();
        let now = Instant::now();
        for _ in 0..7 {
            record(&mut users, &"aigerim".to_string(), USERNAME_FREE, now);
        }
        assert_eq!(wait_in(&users, &"aigerim".to_string(), now), Some(4));
    }

    #[test]
    fn an_address_is_slowed_after_twenty_attempts_across_usernames_but_not_by_successes() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..30 {
            t.attempt(&format!("ok{i}"), Some(ip)).unwrap().succeeded();
        }
        for i in 0..20 {
            t.attempt(&format!("user{i}"), Some(ip)).unwrap().failed();
        }
        assert_eq!(t.attempt("fresh", Some(ip)).err(), Some(1));
        assert!(t.attempt("fresh", Some("192.0.2.8".parse().unwrap())).is_ok());
    }

    #[test]
    fn parallel_attempts_get_no_more_checks_than_the_free_ones() {
        let t = std::sync::Arc::new(LoginThrottle::default());
        let handles: Vec<_> = (0..12)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.attempt("admin", None).map(|a| a.failed()).is_ok())
            })
            .collect();
        let let_through = handles.into_iter().map(|h| h.join().unwrap()).filter(|ok| *ok).count();
        assert_eq!(let_through, USERNAME_FREE as usize);
    }
}
