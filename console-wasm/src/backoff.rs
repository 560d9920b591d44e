//! Reconnect delays: exponential with full jitter, capped.

/// Delay before the first retry, in milliseconds.
pub const BASE_MS: u64 = 500;
/// The longest delay, in milliseconds.
pub const CAP_MS: u64 = 30_000;

/// Reconnect backoff state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// A fresh backoff (the next delay is the shortest).
    pub fn new() -> Self {
        Self::default()
    }

    /// Failed attempts since the last success.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt, given a random number in `[0, 1)`
    /// (full jitter over half the ceiling: `ceil/2 + r * ceil/2`), and counts
    /// the attempt.
    pub fn next_delay_ms(&mut self, random: f64) -> u64 {
        let ceiling = BASE_MS
            .saturating_mul(1u64 << self.attempt.min(16))
            .min(CAP_MS);
        self.attempt = self.attempt.saturating_add(1);
        let r = if random.is_finite() {
            random.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let half = ceiling / 2;
        half + (half as f64 * r) as u64
    }

    /// A connection succeeded: start over.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_and_caps() {
        let mut b = Backoff::new();
        let d: Vec<u64> = (0..10).map(|_| b.next_delay_ms(1.0)).collect();
        assert_eq!(d[0], 500);
        assert_eq!(d[1], 1000);
        assert_eq!(d[2], 2000);
        assert!(d.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*d.last().unwrap_or(&0), CAP_MS);
        assert_eq!(b.attempt(), 10);
    }

    #[test]
    fn jitter_stays_within_half_to_full_ceiling() {
        let mut b = Backoff::new();
        assert_eq!(b.next_delay_ms(0.0), 250);
        assert_eq!(b.next_delay_ms(f64::NAN), 500);
        b.reset();
        assert_eq!(b.attempt(), 0);
        assert_eq!(b.next_delay_ms(0.5), 375);
    }
}
