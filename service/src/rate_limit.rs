//! Throttling, kept in memory (a restart forgets it, which only ever helps a legitimate user):
//!
//! - sign-in: failures slow an account down with growing delays ([`delay_after`]: none for the
//!   first three, then 1 s, 2 s, 4 s … up to 30 s) instead of locking it out, so that nobody can
//!   lock the administrator out with a few wrong guesses; an IP address has a sliding window of
//!   failures (20 in 15 minutes) against sprays over many accounts;
//! - [`ActionLimiter`]: a sliding window per key, e.g. members added per acting user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures that cost no delay.
pub const FREE_FAILURES: u32 = 3;
/// An account's failures are forgotten after this long without one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);
/// The longest delay after failures.
pub const MAX_DELAY: Duration = Duration::from_secs(30);

/// How long an account waits after `failures` consecutive failed sign-ins: 0 for the first
/// [`FREE_FAILURES`], then doubling from 1 s, at most [`MAX_DELAY`].
pub fn delay_after(failures: u32) -> Duration {
    if failures < FREE_FAILURES {
        return Duration::ZERO;
    }
    let exp = (failures - FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << exp).min(MAX_DELAY)
}

/// "Too many attempts. Try again in N seconds." (whole seconds, rounded up, at least 1).
pub fn retry_message(wait: Duration) -> String {
    let secs = wait.as_millis().div_ceil(1000).max(1);
    format!(
        "Too many attempts. Try again in {secs} second{}.",
        if secs == 1 { "" } else { "s" }
    )
}

#[derive(Debug, Default, Clone, Copy)]
struct AccountFailures {
    count: u32,
    last: Option<Instant>,
}

/// A sliding window of events per key. Memory is bounded: past 100 000 keys, stale ones go.
#[derive(Debug)]
pub struct ActionLimiter {
    window: Duration,
    limit: usize,
    events: Mutex<HashMap<String, Vec<Instant>>>,
}

impl ActionLimiter {
    pub fn new(window: Duration, limit: usize) -> Self {
        Self {
            window,
            limit,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one event for `key`, or refuses it with how long to wait.
    pub fn try_acquire(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < self.window));
        }
        let times = map.entry(key.to_owned()).or_default();
        times.retain(|t| now.duration_since(*t) < self.window);
        if times.len() >= self.limit {
            let oldest = times.first().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        times.push(now);
        Ok(())
    }

    /// Takes the last event of `key` back (it turned out not to count).
    pub fn give_back(&self, key: &str) {
        let mut map = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(times) = map.get_mut(key) {
            times.pop();
        }
    }
}

#[derive(Debug)]
pub struct SignInLimiter {
    per_ip: ActionLimiter,
    accounts: Mutex<HashMap<[u8; 32], AccountFailures>>,
    /// Scales [`delay_after`] (1 in production; tests shorten it).
    delay_unit: Duration,
}

impl Default for SignInLimiter {
    /// Growing delays per account; 20 failures per IP address in 15 minutes.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60), 20)
    }
}

impl SignInLimiter {
    pub fn new(window: Duration, per_ip: usize) -> Self {
        Self {
            per_ip: ActionLimiter::new(window, per_ip),
            accounts: Mutex::new(HashMap::new()),
            delay_unit: Duration::from_secs(1),
        }
    }

    /// A fixed-size key whatever the caller typed (an email of any length costs 32 bytes).
    fn account_key(email: &str) -> [u8; 32] {
        crate::sessions::token_digest(&email.trim().to_lowercase())
    }

    fn address_key(ip: &str) -> String {
        format!("ip:{ip}")
    }

    fn accounts(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], AccountFailures>> {
        self.accounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits one sign-in attempt, or refuses it with how long to wait: while the account's
    /// delay runs, or when the address has used up its window. An admitted attempt counts as a
    /// failure until [`SignInLimiter::record_success`] takes it back, so that concurrent guesses
    /// cannot all pass the check before any is counted.
    pub fn try_begin(&self, email: &str, ip: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let key = Self::account_key(email);
        let mut accounts = self.accounts();
        if accounts.len() > 100_000 {
            let stale = MAX_DELAY.max(self.delay_unit * 30);
            accounts.retain(|_, a| a.last.is_some_and(|t| now.duration_since(t) < stale));
        }
        // Failures are forgotten after a quiet quarter of an hour, as the address window is.
        let failures = accounts
            .get(&key)
            .copied()
            .filter(|f| f.last.is_some_and(|t| now.duration_since(t) < FORGET_AFTER))
            .unwrap_or_default();
        if let Some(last) = failures.last {
            let ends = last + delay_after(failures.count).mul_f64(self.delay_unit.as_secs_f64());
            if now < ends {
                return Err(ends - now);
            }
        }
        self.per_ip.try_acquire(&Self::address_key(ip))?;
        accounts.insert(
            key,
            AccountFailures {
                count: failures.count.saturating_add(1),
                last: Some(now),
            },
        );
        Ok(())
    }

    /// Admits one attempt from an address (sign-up), counted like a sign-in attempt.
    pub fn try_begin_address(&self, ip: &str) -> Result<(), Duration> {
        self.per_ip.try_acquire(&Self::address_key(ip))
    }

    /// A success clears the account's failures and takes this attempt back from the address.
    pub fn record_success(&self, email: &str, ip: &str) {
        self.accounts().remove(&Self::account_key(email));
        self.per_ip.give_back(&Self::address_key(ip));
    }

    /// The same limiter with delays of `unit` instead of a second each (for tests).
    pub fn with_delay_unit(mut self, unit: Duration) -> Self {
        self.delay_unit = unit;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let secs: Vec<u64> = (0..12).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(secs, [0, 0, 0, 1, 2, 4, 8, 16, 30, 30, 30, 30]);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn retry_messages() {
        assert_eq!(
            retry_message(Duration::from_millis(200)),
            "Too many attempts. Try again in 1 second."
        );
        assert_eq!(
            retry_message(Duration::from_millis(1500)),
            "Too many attempts. Try again in 2 seconds."
        );
    }

    #[test]
    fn failures_slow_an_account_down_instead_of_locking_it() {
        let l = SignInLimiter::new(Duration::from_secs(60), 100)
            .with_delay_unit(Duration::from_millis(50));
        for _ in 0..3 {
            assert!(l.try_begin("a@x.io", "1.1.1.1").is_ok());
        }
        let wait = l.try_begin("A@x.io ", "2.2.2.2").unwrap_err();
        assert!(wait <= Duration::from_millis(50), "{wait:?}");
        assert!(l.try_begin("b@x.io", "1.1.1.1").is_ok(), "other accounts");
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            l.try_begin("a@x.io", "1.1.1.1").is_ok(),
            "the delay ran out"
        );
        assert!(
            l.try_begin("a@x.io", "1.1.1.1").is_err(),
            "a longer one now"
        );
        l.record_success("a@x.io", "1.1.1.1");
        assert!(
            l.try_begin("a@x.io", "1.1.1.1").is_ok(),
            "a success clears it"
        );
    }

    #[test]
    fn addresses_have_a_window() {
        let l = SignInLimiter::new(Duration::from_secs(60), 2);
        assert!(l.try_begin("a@x.io", "1.1.1.1").is_ok());
        assert!(l.try_begin("b@x.io", "1.1.1.1").is_ok());
        let wait = l.try_begin("c@x.io", "1.1.1.1").unwrap_err();
        assert!(wait > Duration::from_secs(50));
        assert!(l.try_begin("c@x.io", "2.2.2.2").is_ok());
        l.record_success("b@x.io", "1.1.1.1");
        assert!(
            l.try_begin("c@x.io", "1.1.1.1").is_ok(),
            "a success gives back"
        );
    }

    #[test]
    fn sign_ups_count_per_address_only() {
        let l = SignInLimiter::new(Duration::from_secs(60), 2);
        assert!(l.try_begin_address("1.1.1.1").is_ok());
        assert!(l.try_begin_address("1.1.1.1").is_ok());
        assert!(l.try_begin_address("1.1.1.1").is_err());
        l.record_success("", "1.1.1.1");
        assert!(l.try_begin_address("1.1.1.1").is_ok());
        assert!(
            l.try_begin("a@x.io", "2.2.2.2").is_ok(),
            "accounts are not touched"
        );
    }

    #[test]
    fn action_window_expires() {
        let l = ActionLimiter::new(Duration::from_millis(5), 1);
        assert!(l.try_acquire("k").is_ok());
        assert!(l.try_acquire("k").is_err());
        assert!(l.try_acquire("other").is_ok());
        std::thread::sleep(Duration::from_millis(10));
        assert!(l.try_acquire("k").is_ok());
    }
}
