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

    fn keys(email: &str, ip: &str) -> [(String, bool); 2] {
        [
            (format!("account:{}", email.trim().to_lowercase()), true),
            (format!("ip:{ip}"), false),
        ]
    }

    /// Whether another attempt is allowed now.
    pub fn allowed(&self, email: &str, ip: &str) -> bool {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(email, ip).iter().all(|(key, is_account)| {
            let limit = if *is_account {
                self.per_account
            } else {
                self.per_ip
            };
            match map.get_mut(key) {
                Some(times) => {
                    times.retain(|t| now.duration_since(*t) < self.window);
                    times.len() < limit
                }
                None => true,
            }
        })
    }

    pub fn record_failure(&self, email: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            // Bound memory under a spray of random keys: forget stale entries.
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        for (key, _) in Self::keys(email, ip) {
            map.entry(key).or_default().push(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the IP's).
    pub fn record_success(&self, email: &str, ip: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(&Self::keys(email, ip)[0].0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_per_account_and_per_ip() {
        let l = SignInLimiter::new(Duration::from_secs(60), 2, 3);
        assert!(l.allowed("a@x.io", "1.1.1.1"));
        l.record_failure("a@x.io", "1.1.1.1");
        l.record_failure("A@x.io ", "1.1.1.1");
        assert!(!l.allowed("a@x.io", "2.2.2.2"), "account limit");
        assert!(l.allowed("b@x.io", "2.2.2.2"));
        l.record_failure("b@x.io", "1.1.1.1");
        assert!(!l.allowed("c@x.io", "1.1.1.1"), "ip limit");
        l.record_success("a@x.io", "3.3.3.3");
        assert!(l.allowed("a@x.io", "3.3.3.3"));
    }

    #[test]
    fn window_expires() {
        let l = SignInLimiter::new(Duration::from_millis(1), 1, 1);
        l.record_failure("a@x.io", "1.1.1.1");
        std::thread::sleep(Duration::from_millis(5));
        assert!(l.allowed("a@x.io", "1.1.1.1"));
    }
}
