//! Rate-limit and quota counters of a gateway node.
//!
//! - **Local** (default): counters live in this node's memory, in 16 shards. Every second the
//!   ones that changed are written to the database (`service::limits`), and a starting node
//!   loads the counters whose window has not ended, so a restart does not reset a quota.
//! - **Redis** (`REDIS_URL`): several nodes share their counters. A rate limit (GCRA) is a
//!   compare-and-set on the stored theoretical arrival time, starting from this node's last known
//!   value, so the usual case is one round trip; a quota is an atomic check-and-add on a key per
//!   window. If Redis does not answer within [`REDIS_WAIT`] (a reconnection included), the node counts on its own, says so in the log,
//!   and leaves Redis alone for [`REDIS_BACKOFF`] before trying again, rather than refusing
//!   traffic or making every request wait. Without Redis, several nodes each write their own
//!   view of a counter to the database (the last write wins).
//!
//! Counters of scopes the caller chooses (its address, its user header: see
//! `domain::policy::caller_chosen`) are kept for at most [`CALLERS_PER_POLICY`] callers per
//! policy; one more drops the least recently used (whose count starts again if it comes back).
//! A user header's value is only ever kept as a short hash (`domain::policy::user_scope`), so
//! every key has a short bounded length, in memory, in Redis and in the database.
//!
//! Algorithms are `domain::policy::{gcra, quota_check, Period::window}`; this module only keeps
//! state.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::LazyLock;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use domain::policy::{GcraOutcome, Period, caller_chosen, gcra, quota_check};
use service::limits::{Counter, split_key};

use crate::cache::Lru;

const SHARDS: usize = 16;

/// Counters kept per policy for scopes the caller chooses (addresses, user headers).
pub const CALLERS_PER_POLICY: usize = 10_000;

/// How long a node counts on its own after Redis failed to answer.
pub const REDIS_BACKOFF: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a request waits for Redis in all, a reconnection included.
pub const REDIS_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// A Redis call bounded by [`REDIS_WAIT`]: past it, the call fails like an unreachable Redis.
async fn bounded<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> redis::RedisResult<T> {
    tokio::time::timeout(REDIS_WAIT, call)
        .await
        .unwrap_or_else(|_| {
            Err(
                std::io::Error::new(std::io::ErrorKind::TimedOut, "Redis did not answer in time")
                    .into(),
            )
        })
}

#[derive(Debug, Clone, Copy, Default)]
struct Entry {
    used: u64,
    /// GCRA theoretical arrival time (µs); 0 for quotas.
    state: i64,
    /// Epoch seconds when the window ends.
    window_end: i64,
    dirty: bool,
}

/// The outcome of a quota check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaOutcome {
    pub allowed: bool,
    pub remaining: u64,
    pub reset_secs: u64,
}

/// One shard of the counters.
#[derive(Default)]
struct Shard {
    /// Per client and per API (as many as the snapshot has).
    fixed: HashMap<String, Entry>,
    /// Per caller-chosen scope, by policy (the part of the key before `|`).
    chosen: HashMap<String, Lru<String, Entry>>,
}

impl Shard {
    fn entries(&mut self) -> impl Iterator<Item = (&String, &mut Entry)> {
        self.fixed
            .iter_mut()
            .chain(self.chosen.values_mut().flat_map(Lru::iter_mut))
    }
}

/// A node's counters.
pub struct Limits {
    shards: Vec<Mutex<Shard>>,
    callers_per_policy: usize,
    redis: Option<redis::aio::ConnectionManager>,
    redis_down: AtomicBool,
    /// Until when (ms since the epoch) Redis is left alone after a failure.
    redis_retry_at: AtomicI64,
}

fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

static CAS: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(CAS_LUA));
static QUOTA: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(QUOTA_LUA));

const CAS_LUA: &str = r"
local cur = redis.call('GET', KEYS[1]) or '0'
if cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return '+'
end
return cur
";

const QUOTA_LUA: &str = r"
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if ARGV[4] == '1' and v + cost > tonumber(ARGV[2]) then return {0, v} end
v = redis.call('INCRBY', KEYS[1], cost)
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {1, v}
";

impl Limits {
    /// Counters in memory only.
    pub fn local() -> Limits {
        Limits {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            callers_per_policy: CALLERS_PER_POLICY,
            redis: None,
            redis_down: AtomicBool::new(false),
            redis_retry_at: AtomicI64::new(0),
        }
    }

    /// Counters shared through Redis at `url` (`redis://127.0.0.1:6379`).
    pub async fn redis(url: &str) -> Result<Limits, redis::RedisError> {
        let client = redis::Client::open(url)?;
        // Reconnecting: one attempt, and a second one a moment later. redis-rs hands the factor
        // to backon as the growth of its delay (from 1 s, up to 60 s): its default of 100 made a
        // Redis that came back wait minutes before the node tried it again. Between attempts,
        // [`REDIS_BACKOFF`] keeps requests on local counting.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_millis(500))
            .set_factor(2)
            .set_max_delay(1_000)
            .set_number_of_retries(1);
        let manager = redis::aio::ConnectionManager::new_with_config(client, config).await?;
        Ok(Limits {
            redis: Some(manager),
            ..Limits::local()
        })
    }

    /// Keeps at most `n` caller-chosen counters per policy (default [`CALLERS_PER_POLICY`]).
    pub fn with_callers_per_policy(mut self, n: usize) -> Limits {
        self.callers_per_policy = n.max(1);
        self
    }

    pub fn shared(&self) -> bool {
        self.redis.is_some()
    }

    fn shard(&self, part: &str) -> std::sync::MutexGuard<'_, Shard> {
        let mut h = DefaultHasher::new();
        part.hash(&mut h);
        match self.shards[(h.finish() as usize) % SHARDS].lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    fn with<R>(&self, key: &str, f: impl FnOnce(&mut Entry) -> R) -> R {
        // A policy's caller-chosen counters share one shard, which keeps the most recent.
        if let Some((policy, scope)) = split_key(key)
            && caller_chosen(scope)
        {
            let mut shard = self.shard(policy);
            let cap = self.callers_per_policy;
            let callers = match shard.chosen.get_mut(policy) {
                Some(lru) => lru,
                None => shard
                    .chosen
                    .entry(policy.to_owned())
                    .or_insert_with(|| Lru::new(cap)),
            };
            return f(callers.get_or_insert_with(&key.to_owned(), Entry::default));
        }
        let mut shard = self.shard(key);
        let entry = match shard.fixed.get_mut(key) {
            Some(e) => e,
            None => shard.fixed.entry(key.to_owned()).or_default(),
        };
        f(entry)
    }

    /// Redis, unless it failed less than [`REDIS_BACKOFF`] ago.
    fn redis_now(&self) -> Option<redis::aio::ConnectionManager> {
        let redis = self.redis.as_ref()?;
        let now = chrono::Utc::now().timestamp_millis();
        (now >= self.redis_retry_at.load(Ordering::Relaxed)).then(|| redis.clone())
    }

    fn redis_failed(&self, e: &redis::RedisError) {
        let until = chrono::Utc::now().timestamp_millis() + REDIS_BACKOFF.as_millis() as i64;
        self.redis_retry_at.store(until, Ordering::Relaxed);
        if !self.redis_down.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %e, "Redis unreachable: limits are counted on this node only until it answers again");
        }
    }

    fn redis_ok(&self) {
        if self.redis_down.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis answers again: limits are shared");
        }
    }

    /// One request against a rate limit of `limit` per `period` for `key`.
    pub async fn rate(&self, key: &str, limit: u64, period: Period) -> GcraOutcome {
        let now = now_us();
        let local = self.with(key, |e| e.state);
        if let Some(mut conn) = self.redis_now() {
            let mut guess = local;
            for attempt in 0..5 {
                let out = gcra(limit, period, guess, now);
                if !out.allowed {
                    // The stored time only grows: refused on a stale guess is refused for real.
                    self.store_rate(key, limit, &out);
                    return out;
                }
                let ttl_ms = ((out.tat_us - now) / 1000).max(1) + 1000;
                let reply: Result<String, _> = bounded(
                    CAS.key(format!("tollgate:rl:{key}"))
                        .arg(guess.to_string())
                        .arg(out.tat_us.to_string())
                        .arg(ttl_ms)
                        .invoke_async(&mut conn),
                )
                .await;
                match reply {
                    Ok(r) if r == "+" => {
                        self.redis_ok();
                        self.store_rate(key, limit, &out);
                        return out;
                    }
                    Ok(current) => {
                        guess = current.parse().unwrap_or(0);
                        if attempt == 4 {
                            tracing::warn!(
                                key,
                                "rate limit contended in Redis: counted on this node"
                            );
                        }
                    }
                    Err(e) => {
                        self.redis_failed(&e);
                        break;
                    }
                }
            }
        }
        self.with(key, |e| {
            let out = gcra(limit, period, e.state, now);
            if out.allowed {
                e.state = out.tat_us;
            }
            e.used = limit - out.remaining.min(limit);
            e.window_end = (out.tat_us.max(now) + 999_999) / 1_000_000;
            e.dirty = true;
            out
        })
    }

    fn store_rate(&self, key: &str, limit: u64, out: &GcraOutcome) {
        self.with(key, |e| {
            e.state = e.state.max(out.tat_us);
            e.used = limit - out.remaining.min(limit);
            e.window_end = (out.tat_us + 999_999) / 1_000_000;
            e.dirty = true;
        });
    }

    /// Counts `cost` against a quota of `limit` per `period` for `key`. With `check`, a cost
    /// that would go over the limit is refused and not counted; without, it is counted anyway
    /// (bytes already sent).
    pub async fn quota(
        &self,
        key: &str,
        limit: u64,
        period: Period,
        cost: u64,
        check: bool,
    ) -> QuotaOutcome {
        let now = chrono::Utc::now();
        let (_, end) = period.window(now);
        let window_end = end.timestamp();
        let reset_secs = u64::try_from(window_end - now.timestamp()).unwrap_or(0);
        if let Some(mut conn) = self.redis_now() {
            let reply: Result<(i64, i64), _> = bounded(
                QUOTA
                    .key(format!("tollgate:q:{key}:{window_end}"))
                    .arg(cost)
                    .arg(limit)
                    .arg(end.timestamp_millis())
                    .arg(if check { "1" } else { "0" })
                    .invoke_async(&mut conn),
            )
            .await;
            match reply {
                Ok((ok, used)) => {
                    self.redis_ok();
                    let used = u64::try_from(used).unwrap_or(0);
                    self.with(key, |e| {
                        e.used = used;
                        e.window_end = window_end;
                        e.dirty = true;
                    });
                    return QuotaOutcome {
                        allowed: ok == 1,
                        remaining: limit.saturating_sub(used),
                        reset_secs,
                    };
                }
                Err(e) => self.redis_failed(&e),
            }
        }
        self.with(key, |e| {
            if e.window_end != window_end {
                e.used = 0;
                e.window_end = window_end;
            }
            let (allowed, remaining) = if check {
                quota_check(limit, e.used, cost)
            } else {
                (true, limit.saturating_sub(e.used + cost))
            };
            if allowed {
                e.used += cost;
                e.dirty = true;
            }
            QuotaOutcome {
                allowed,
                remaining,
                reset_secs,
            }
        })
    }

    /// The counters that changed since the last call (marked clean).
    pub fn take_dirty(&self) -> Vec<Counter> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let mut shard = match shard.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            for (key, e) in shard.entries().filter(|(_, e)| e.dirty) {
                e.dirty = false;
                out.push(Counter {
                    key: key.clone(),
                    used: i64::try_from(e.used).unwrap_or(i64::MAX),
                    state: e.state,
                    window_end: e.window_end,
                });
            }
        }
        out
    }

    /// Puts back counters that could not be written (with their values, if they were dropped
    /// meanwhile).
    pub fn mark_dirty(&self, counters: &[Counter]) {
        for c in counters {
            self.with(&c.key, |e| {
                if e.window_end == 0 {
                    e.used = u64::try_from(c.used).unwrap_or(0);
                    e.state = c.state;
                    e.window_end = c.window_end;
                }
                e.dirty = true;
            });
        }
    }

    /// Starts from stored counters (at node start-up).
    pub fn restore(&self, counters: Vec<Counter>) {
        for c in counters {
            self.with(&c.key, |e| {
                e.used = u64::try_from(c.used).unwrap_or(0);
                e.state = c.state;
                e.window_end = c.window_end;
            });
        }
    }

    /// Drops counters whose window ended (the memory of a long-running node stays bounded).
    pub fn evict_expired(&self) {
        let now = chrono::Utc::now().timestamp();
        for shard in &self.shards {
            let mut shard = match shard.lock() {
                Ok(s) => s,
                Err(p) => p.into_inner(),
            };
            let live = |_: &String, e: &mut Entry| e.dirty || e.window_end >= now;
            shard.fixed.retain(live);
            shard.chosen.retain(|_, callers| {
                callers.retain(live);
                callers.len() > 0
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_rate_limit_refuses_past_the_burst() {
        let l = Limits::local();
        for i in 0..3 {
            let out = l.rate("1|c:1", 3, Period::Minute).await;
            assert!(out.allowed, "request {i}");
        }
        assert!(!l.rate("1|c:1", 3, Period::Minute).await.allowed);
        // Another scope has its own counter.
        assert!(l.rate("1|c:2", 3, Period::Minute).await.allowed);
        let dirty = l.take_dirty();
        assert_eq!(dirty.len(), 2);
        assert!(l.take_dirty().is_empty());
    }

    #[tokio::test]
    async fn caller_chosen_counters_keep_the_most_recent_callers_of_each_policy() {
        let l = Limits::local().with_callers_per_policy(3);
        let user = |n: u32| format!("5|{}", domain::policy::user_scope(n.to_string().as_bytes()));
        for n in 0..3 {
            assert!(l.quota(&user(n), 1, Period::Day, 1, true).await.allowed);
        }
        // User 0 comes back (refused: its count is kept), so user 1 is now the oldest.
        assert!(!l.quota(&user(0), 1, Period::Day, 1, true).await.allowed);
        assert!(l.quota(&user(3), 1, Period::Day, 1, true).await.allowed);
        let kept = |l: &Limits| {
            let mut keys: Vec<String> = Vec::new();
            for shard in &l.shards {
                let mut shard = shard.lock().unwrap();
                keys.extend(shard.entries().map(|(k, _)| k.clone()));
            }
            keys.sort();
            keys
        };
        let mut expected = vec![user(0), user(2), user(3)];
        expected.sort();
        assert_eq!(kept(&l), expected, "user 1 gave way, alone");
        // Dropped, user 1 starts again; user 0 still counts.
        assert!(l.quota(&user(1), 1, Period::Day, 1, true).await.allowed);
        assert!(!l.quota(&user(0), 1, Period::Day, 1, true).await.allowed);
        // Each policy has its own room; client and API counters are never dropped.
        let ip = |n: u32| format!("6|i:10.0.0.{n}");
        for n in 0..3 {
            assert!(l.rate(&ip(n), 1, Period::Minute).await.allowed);
        }
        for n in 0..10 {
            assert!(l.rate(&format!("5|c:{n}"), 1, Period::Minute).await.allowed);
        }
        assert!(!l.quota(&user(0), 1, Period::Day, 1, true).await.allowed);
        let all = kept(&l);
        assert_eq!(all.iter().filter(|k| k.starts_with("5|u:")).count(), 3);
        assert_eq!(all.iter().filter(|k| k.starts_with("6|i:")).count(), 3);
        assert_eq!(all.iter().filter(|k| k.starts_with("5|c:")).count(), 10);
    }

    #[tokio::test]
    async fn local_quota_counts_and_survives_a_restore() {
        let l = Limits::local();
        assert!(l.quota("2|c:1", 2, Period::Day, 1, true).await.allowed);
        let out = l.quota("2|c:1", 2, Period::Day, 1, true).await;
        assert!(out.allowed);
        assert_eq!(out.remaining, 0);
        let saved = l.take_dirty();
        let restarted = Limits::local();
        restarted.restore(saved);
        assert!(
            !restarted
                .quota("2|c:1", 2, Period::Day, 1, true)
                .await
                .allowed
        );
        // Unchecked adds count past the limit (bytes already sent).
        let out = restarted.quota("2|c:1", 2, Period::Day, 5, false).await;
        assert!(out.allowed);
        assert_eq!(out.remaining, 0);
    }
}
