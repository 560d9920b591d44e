//! Reconnect delays: exponential backoff with jitter.

/// First retry delay, in milliseconds.
pub const BASE_MS: u32 = 500;
/// Longest delay, in milliseconds.
pub const CAP_MS: u32 = 30_000;

/// Delay before reconnect attempt `attempt` (0 = first retry), with
/// `random` in `[0, 1)` injected by the caller so tests are deterministic.
///
/// "Equal jitter": half the exponential step is fixed, half random. After a
/// server restart thousands of widgets reconnect; the random half spreads
/// them out, the fixed half keeps one widget from hammering a dead server.
pub fn delay_ms(attempt: u32, random: f64) -> u32 {
    let step = BASE_MS.saturating_mul(1u32 << attempt.min(16)).min(CAP_MS);
    let half = step / 2;
    let r = if random.is_finite() {
        random.clamp(0.0, 1.0)
    } else {
        0.0
    };
    half + (f64::from(step - half) * r) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        assert_eq!(delay_ms(0, 0.0), 250);
        assert_eq!(delay_ms(0, 0.999_999), 499);
        assert_eq!(delay_ms(1, 0.0), 500);
        assert_eq!(delay_ms(3, 0.5), 3_000);
        assert_eq!(delay_ms(6, 0.0), 15_000);
        assert_eq!(delay_ms(7, 1.0), CAP_MS);
        assert_eq!(delay_ms(100, 0.0), CAP_MS / 2);
        assert_eq!(delay_ms(u32::MAX, 1.0), CAP_MS);
    }

    #[test]
    fn bad_randomness_stays_in_range() {
        for r in [f64::NAN, f64::INFINITY, -1.0, 7.0] {
            let d = delay_ms(2, r);
            assert!((1_000..=2_000).contains(&d), "{r} → {d}");
        }
    }
}
