//! The tenant's rate-limit budget certwatch may use (docs/polling.md, budget share): with
//! `budget_share` s, certwatch never drives `x-ratelimit-remaining` below `(1 - s) × limit`,
//! the part of the bucket left to the tenant's own applications; it waits for the bucket to
//! refill instead. Pure: the `rate_limit::Governor` asks these questions with its model's
//! numbers.

use std::time::Duration;

/// The default `budget_share` of a tenant.
pub const DEFAULT_SHARE: f64 = 0.5;

/// How long after the last answer a request held back only by the floor may go when no refill
/// rate is known yet: every Auth0 plan refills at least two tokens a second, so the bucket has
/// gained more than the one token the probe takes, and its answer teaches the rate.
pub const FLOOR_PROBE_AFTER: Duration = Duration::from_secs(1);

/// The share of a tenant's bucket certwatch may draw on, `0 < share ≤ 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Share(f64);

impl Default for Share {
    fn default() -> Self {
        Self(DEFAULT_SHARE)
    }
}

impl Share {
    /// The whole bucket: no floor (how certwatch paced before budgets existed).
    pub const WHOLE: Share = Share(1.0);

    /// A share, when `0 < share ≤ 1` (what config validation accepts).
    pub fn new(share: f64) -> Option<Self> {
        (share > 0.0 && share <= 1.0).then_some(Self(share))
    }

    /// The share as configured.
    pub fn get(self) -> f64 {
        self.0
    }

    /// The lowest `x-ratelimit-remaining` certwatch may leave in a bucket of `limit` tokens:
    /// `(1 - share) × limit`, rounded up (remaining is a whole number), but never the whole
    /// bucket: one token always stays usable, or a bucket of 1 would never let a request go.
    /// 0 for the whole bucket or an unknown limit.
    pub fn floor(self, limit: Option<f64>) -> f64 {
        match limit {
            Some(limit) if limit > 0.0 => ((1.0 - self.0) * limit - 1e-9)
                .ceil()
                .min(limit.floor() - 1.0)
                .max(0.0),
            _ => 0.0,
        }
    }

    /// Whether a request may go when the bucket holds `tokens` (the model's lower bound): taking
    /// one must leave at least the floor.
    pub fn allows(self, tokens: f64, limit: Option<f64>) -> bool {
        tokens - 1.0 >= self.floor(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_part_left_to_others_rounded_up() {
        let half = Share::default();
        assert_eq!(half.floor(Some(50.0)), 25.0);
        assert_eq!(half.floor(Some(2.0)), 1.0);
        assert_eq!(Share::new(0.35).unwrap().floor(Some(10.0)), 7.0);
        assert_eq!(Share::WHOLE.floor(Some(50.0)), 0.0);
        assert_eq!(half.floor(None), 0.0, "unknown limit: no floor yet");
        assert_eq!(half.floor(Some(1.0)), 0.0, "one token always stays usable");
        assert_eq!(Share::new(0.01).unwrap().floor(Some(10.0)), 9.0);
    }

    #[test]
    fn a_request_goes_only_when_it_leaves_the_floor() {
        let half = Share::default();
        assert!(half.allows(26.0, Some(50.0)));
        assert!(!half.allows(25.9, Some(50.0)));
        assert!(Share::WHOLE.allows(1.0, Some(50.0)));
        assert!(!Share::WHOLE.allows(0.5, Some(50.0)));
    }

    #[test]
    fn shares_outside_zero_to_one_are_refused() {
        for bad in [0.0, -0.1, 1.01, f64::NAN, f64::INFINITY] {
            assert!(Share::new(bad).is_none(), "{bad}");
        }
        assert_eq!(Share::new(1.0), Some(Share::WHOLE));
    }
}
