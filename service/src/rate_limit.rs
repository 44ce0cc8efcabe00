//! Sign-in throttling: a sliding window of failed attempts per account and per IP address,
//! kept in memory (a restart forgets it, which only ever helps a legitimate user).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct SignInLimiter {
    window: Duration,
    per_account: usize,
    per_ip: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Default for SignInLimiter {
    /// 5 failures per account and 20 per IP address in 15 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 5, 20)
    }
}

impl SignInLimiter {
    pub fn new(window: Duration, per_account: usize, per_ip: usize) -> Self {
        Self {
            window,
            per_account,
            per_ip,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn account_key(email: &str) -> String {
        format!("account:{}", email.trim().to_lowercase())
    }

    fn address_key(ip: &str) -> String {
        format!("ip:{ip}")
    }

    /// Admits one attempt under every key (each with its limit) or none.
    fn admit(&self, keys: &[(String, usize)]) -> bool {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of random keys: forget stale entries.
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let allowed = keys.iter().all(|(key, limit)| {
            map.get_mut(key).is_none_or(|times| {
                times.retain(|t| now.duration_since(*t) < self.window);
                times.len() < *limit
            })
        });
        if allowed {
            for (key, _) in keys {
                map.entry(key.clone()).or_default().push(now);
            }
        }
        allowed
    }

    /// Admits one sign-in attempt, or refuses it when the account or the address has used up
    /// its window. An admitted attempt counts as a failure until [`SignInLimiter::record_success`]
    /// takes it back, so that concurrent guesses cannot all pass the check before any is counted.
    pub fn try_begin(&self, email: &str, ip: &str) -> bool {
        self.admit(&[
            (Self::account_key(email), self.per_account),
            (Self::address_key(ip), self.per_ip),
        ])
    }

    /// Admits one attempt from an address (sign-up), counted like a sign-in attempt.
    pub fn try_begin_address(&self, ip: &str) -> bool {
        self.admit(&[(Self::address_key(ip), self.per_ip)])
    }

    /// A success clears the account's attempts and takes this attempt back from the address.
    pub fn record_success(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Self::account_key(email));
        if let Some(times) = map.get_mut(&Self::address_key(ip)) {
            times.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_account_and_per_ip() {
        let l = SignInLimiter::new(Duration::from_secs(60), 2, 3);
        assert!(l.try_begin("a@x.io", "1.1.1.1"));
        assert!(l.try_begin("A@x.io ", "1.1.1.1"));
        assert!(!l.try_begin("a@x.io", "2.2.2.2"), "account limit");
        assert!(l.try_begin("b@x.io", "2.2.2.2"));
        assert!(l.try_begin("b@x.io", "1.1.1.1"));
        assert!(!l.try_begin("c@x.io", "1.1.1.1"), "ip limit");
        l.record_success("a@x.io", "3.3.3.3");
        assert!(l.try_begin("a@x.io", "3.3.3.3"));
    }

    #[test]
    fn a_success_gives_the_attempt_back() {
        let l = SignInLimiter::new(Duration::from_secs(60), 1, 1);
        assert!(l.try_begin("a@x.io", "1.1.1.1"));
        l.record_success("a@x.io", "1.1.1.1");
        assert!(l.try_begin("a@x.io", "1.1.1.1"));
        assert!(!l.try_begin("a@x.io", "1.1.1.1"));
    }

    #[test]
    fn sign_ups_count_per_address_only() {
        let l = SignInLimiter::new(Duration::from_secs(60), 1, 2);
        assert!(l.try_begin_address("1.1.1.1"));
        assert!(l.try_begin_address("1.1.1.1"));
        assert!(!l.try_begin_address("1.1.1.1"));
        l.record_success("", "1.1.1.1");
        assert!(l.try_begin_address("1.1.1.1"));
        assert!(l.try_begin("a@x.io", "2.2.2.2"), "accounts are not touched");
    }

    #[test]
    fn window_expires() {
        let l = SignInLimiter::new(Duration::from_millis(1), 1, 1);
        assert!(l.try_begin("a@x.io", "1.1.1.1"));
        std::thread::sleep(Duration::from_millis(5));
        assert!(l.try_begin("a@x.io", "1.1.1.1"));
    }
}
