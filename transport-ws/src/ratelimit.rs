//! A token bucket per connection.

use std::time::Instant;

/// Allows `rate` events per second with bursts up to `burst`.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    last: Instant,
}

impl TokenBucket {
    pub(crate) fn new(rate: u32, burst: u32) -> Self {
        TokenBucket {
            tokens: f64::from(burst.max(1)),
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            last: Instant::now(),
        }
    }

    /// Takes one token if there is one.
    pub(crate) fn try_take(&mut self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last);
        self.last = now;
        self.tokens = (self.tokens + elapsed.as_secs_f64() * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills_at_the_rate() {
        let mut b = TokenBucket::new(10, 3);
        let t0 = b.last;
        assert!(b.take_at(t0) && b.take_at(t0) && b.take_at(t0));
        assert!(!b.take_at(t0));
        assert!(!b.take_at(t0 + Duration::from_millis(50)));
        assert!(b.take_at(t0 + Duration::from_millis(110)));
        assert!(!b.take_at(t0 + Duration::from_millis(111)));
        // Idle time refills only up to the burst.
        let later = t0 + Duration::from_secs(60);
        assert!((0..3).all(|_| b.take_at(later)));
        assert!(!b.take_at(later));
    }
}
