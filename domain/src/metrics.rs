//! Rules for gateway metrics: the latency histogram every per-minute rollup carries, percentiles
//! read from it, and the time ranges the Metrics tab offers with their bucket sizes.

use serde::{Deserialize, Serialize};

/// Upper bounds (milliseconds) of the latency histogram's buckets; one more bucket holds
/// everything slower than the last bound.
pub const LATENCY_BOUNDS_MS: [u64; 11] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];

/// Number of histogram buckets.
pub const BUCKETS: usize = LATENCY_BOUNDS_MS.len() + 1;

/// A latency histogram: request counts per bucket.
pub type Histogram = [u64; BUCKETS];

/// The bucket a request of `micros` microseconds falls in (bounds are inclusive).
pub fn latency_bucket(micros: u64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|&ms| micros <= ms * 1000)
        .unwrap_or(BUCKETS - 1)
}

/// The `q`-quantile (0 < q ≤ 1) of a histogram in milliseconds, interpolated linearly inside its
/// bucket; `None` for an empty histogram. The open last bucket is read as ending at twice the
/// last bound.
pub fn percentile(hist: &Histogram, q: f64) -> Option<f64> {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return None;
    }
    let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
    let mut seen = 0u64;
    for (i, &n) in hist.iter().enumerate() {
        if n == 0 {
            continue;
        }
        if (seen + n) as f64 >= rank {
            let lower = if i == 0 { 0 } else { LATENCY_BOUNDS_MS[i - 1] } as f64;
            let upper = LATENCY_BOUNDS_MS
                .get(i)
                .copied()
                .unwrap_or(LATENCY_BOUNDS_MS[BUCKETS - 2] * 2) as f64;
            let within = (rank - seen as f64) / n as f64;
            return Some(lower + (upper - lower) * within);
        }
        seen += n;
    }
    None
}

/// Adds one histogram into another.
pub fn merge(into: &mut Histogram, from: &Histogram) {
    for (a, b) in into.iter_mut().zip(from) {
        *a += b;
    }
}

/// The time ranges of the Metrics tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    Hour,
    Day,
    Week,
    Month,
}

impl Range {
    pub const ALL: [Range; 4] = [Range::Hour, Range::Day, Range::Week, Range::Month];

    pub fn parse(s: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// [`Range::parse`], or the message for the `range` field.
    pub fn parse_field(s: &str) -> Result<Range, crate::FieldError> {
        Range::parse(s).ok_or_else(|| {
            crate::FieldError::new("range", "Choose the last hour, day, week or month.")
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "hour",
            Range::Day => "day",
            Range::Week => "week",
            Range::Month => "month",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Range::Hour => "Last hour",
            Range::Day => "Last 24 hours",
            Range::Week => "Last 7 days",
            Range::Month => "Last 30 days",
        }
    }

    /// Minutes per chart bucket: 60 points for an hour, 48 for a day, 28 for a week, 30 for a
    /// month.
    pub fn bucket_minutes(self) -> i64 {
        match self {
            Range::Hour => 1,
            Range::Day => 30,
            Range::Week => 360,
            Range::Month => 1440,
        }
    }

    /// Number of buckets in the range.
    pub fn buckets(self) -> i64 {
        match self {
            Range::Hour => 60,
            Range::Day => 48,
            Range::Week => 28,
            Range::Month => 30,
        }
    }

    /// The first minute (epoch minutes) of the range ending with the bucket that holds `now`,
    /// aligned to the bucket size.
    pub fn start(self, now_minute: i64) -> i64 {
        let size = self.bucket_minutes();
        now_minute.div_euclid(size) * size - (self.buckets() - 1) * size
    }
}

/// Status class index: 0 for 1xx … 4 for 5xx.
pub fn status_class(status: u16) -> usize {
    usize::from(status / 100).clamp(1, 5) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_latency() {
        assert_eq!(latency_bucket(0), 0);
        assert_eq!(latency_bucket(1000), 0);
        assert_eq!(latency_bucket(1001), 1);
        assert_eq!(latency_bucket(5_000_000), 10);
        assert_eq!(latency_bucket(5_000_001), 11);
    }

    #[test]
    fn percentiles_interpolate_within_buckets() {
        let mut h = [0; BUCKETS];
        assert_eq!(percentile(&h, 0.5), None);
        h[0] = 100; // 100 requests ≤ 1 ms
        assert_eq!(percentile(&h, 0.5), Some(0.5));
        assert_eq!(percentile(&h, 1.0), Some(1.0));
        h[6] = 100; // 100 more in (50, 100] ms
        assert_eq!(percentile(&h, 0.5), Some(1.0));
        assert_eq!(percentile(&h, 0.95), Some(95.0));
        let mut slow = [0; BUCKETS];
        slow[BUCKETS - 1] = 1;
        assert_eq!(percentile(&slow, 0.5), Some(10_000.0));
    }

    #[test]
    fn merging_adds() {
        let mut a = [1; BUCKETS];
        merge(&mut a, &[2; BUCKETS]);
        assert_eq!(a, [3; BUCKETS]);
    }

    #[test]
    fn ranges_align_to_their_buckets() {
        assert_eq!(Range::parse("week"), Some(Range::Week));
        assert_eq!(Range::parse("year"), None);
        // 10:17 on some day: the hour range starts at 09:18 and ends with 10:17.
        let now = 1_000_000 * 60 + 17;
        assert_eq!(Range::Hour.start(now), now - 59);
        // The day range: 30-minute buckets, 48 of them, the last one holding now.
        let start = Range::Day.start(now);
        assert_eq!(start % 30, 0);
        assert!(now - start < 48 * 30 && now - start >= 47 * 30);
        assert_eq!(Range::Month.start(now) % 1440, 0);
    }

    #[test]
    fn classes() {
        assert_eq!(status_class(200), 1);
        assert_eq!(status_class(429), 3);
        assert_eq!(status_class(503), 4);
        assert_eq!(status_class(99), 0);
        assert_eq!(status_class(700), 4);
    }
}
