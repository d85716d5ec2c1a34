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

fn wait_of<K: std::hash::Hash + Eq>(map: &Mutex<HashMap<K, Counter>>, key: &K) -> Option<u64> {
    let map = map.lock().unwrap_or_else(|e| e.into_inner());
    let until = map.get(key)?.blocked_until?;
    let now = Instant::now();
    (until > now).then(|| ((until - now).as_secs_f64().ceil() as u64).max(1))
}

fn record<K: std::hash::Hash + Eq + Clone>(map: &Mutex<HashMap<K, Counter>>, key: &K, free: u32) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
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

impl LoginThrottle {
    /// Seconds to wait before another attempt for this username or from this address, if any.
    pub fn wait(&self, username: &str, address: Option<IpAddr>) -> Option<u64> {
        let user = wait_of(&self.users, &username.to_lowercase());
        let addr = address.and_then(|a| wait_of(&self.addresses, &a));
        user.into_iter().chain(addr).max()
    }

    pub fn failed(&self, username: &str, address: Option<IpAddr>) {
        record(&self.users, &username.to_lowercase(), USERNAME_FREE);
        if let Some(a) = address {
            record(&self.addresses, &a, ADDRESS_FREE);
        }
    }

    pub fn succeeded(&self, username: &str) {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_start_a_delay_that_doubles() {
        let t = LoginThrottle::default();
        for _ in 0..4 {
            t.failed("aigerim", None);
            assert_eq!(t.wait("aigerim", None), None);
        }
        t.failed("aigerim", None);
        assert_eq!(t.wait("Aigerim", None), Some(1));
        t.failed("aigerim", None);
        assert_eq!(t.wait("aigerim", None), Some(2));
        t.failed("aigerim", None);
        assert_eq!(t.wait("aigerim", None), Some(4));
        assert_eq!(t.wait("someone-else", None), None);
        t.succeeded("aigerim");
        assert_eq!(t.wait("aigerim", None), None);
    }

    #[test]
    fn an_address_is_slowed_after_twenty_failures_across_usernames() {
        let t = LoginThrottle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for i in 0..19 {
            t.failed(&format!("user{i}"), Some(ip));
        }
        assert_eq!(t.wait("fresh", Some(ip)), None);
        t.failed("user19", Some(ip));
        assert_eq!(t.wait("fresh", Some(ip)), Some(1));
        assert_eq!(t.wait("fresh", Some("192.0.2.8".parse().unwrap())), None);
    }
}
