//! In-memory token buckets keyed by client IP or account (one process; a
//! multi-node deployment gets N times the quota, which is acceptable for
//! brute-force protection and needs no shared store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Quota;

/// One bucket: tokens as of `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets of one quota, keyed by string.
#[derive(Debug)]
pub(crate) struct KeyedLimiter {
    quota: Quota,
    max_keys: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl KeyedLimiter {
    pub(crate) fn new(quota: Quota, max_keys: usize) -> Self {
        KeyedLimiter {
            quota,
            max_keys: max_keys.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`, or says how long until one is available.
    pub(crate) fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let burst = f64::from(self.quota.burst.max(1));
        let refill = self.quota.refill.as_secs_f64();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.max_keys {
            evict(&mut buckets, now, burst, refill, self.max_keys);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let earned = if refill > 0.0 {
            now.saturating_duration_since(bucket.at).as_secs_f64() / refill
        } else {
            burst
        };
        bucket.tokens = (bucket.tokens + earned).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) * refill))
        }
    }
}

/// Drops buckets that have refilled completely (they hold no information);
/// if that frees nothing, drops the oldest half, so a flood of distinct keys
/// cannot grow memory without bound.
fn evict(buckets: &mut HashMap<String, Bucket>, now: Instant, burst: f64, refill: f64, max: usize) {
    buckets.retain(|_, b| {
        let earned = if refill > 0.0 {
            now.saturating_duration_since(b.at).as_secs_f64() / refill
        } else {
            burst
        };
        b.tokens + earned < burst
    });
    if buckets.len() >= max {
        let mut ages: Vec<Instant> = buckets.values().map(|b| b.at).collect();
        ages.sort_unstable();
        let cutoff = ages[ages.len() / 2];
        buckets.retain(|_, b| b.at > cutoff);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = KeyedLimiter::new(Quota::new(2, Duration::from_secs(10)), 10);
        let t0 = Instant::now();
        assert!(l.check("a", t0).is_ok());
        assert!(l.check("a", t0).is_ok());
        let wait = l.check("a", t0).unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10));
        assert!(l.check("b", t0).is_ok(), "keys are independent");
        assert!(l.check("a", t0 + Duration::from_secs(10)).is_ok());
        assert!(l.check("a", t0 + Duration::from_secs(10)).is_err());
    }

    #[test]
    fn memory_is_bounded() {
        let l = KeyedLimiter::new(Quota::new(1, Duration::from_secs(60)), 8);
        let t0 = Instant::now();
        for i in 0..1000 {
            let _ = l.check(&format!("k{i}"), t0 + Duration::from_millis(i));
        }
        assert!(l.buckets.lock().unwrap().len() <= 8);
    }
}
