//! The simulator's token bucket (pure: time comes in as the elapsed duration since the bucket
//! was created), mirroring Auth0's documented algorithm: a bucket of `burst` tokens refilled
//! continuously at `per_second` tokens per second; each Management API request takes one.

use std::time::Duration;

/// Longest delay ever reported for the next token (a bucket that never refills says "in a day").
const MAX_WAIT: Duration = Duration::from_secs(86_400);

/// The outcome of offering one request to the bucket.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Whether the request may proceed (a token was taken).
    pub allowed: bool,
    /// Bucket size (`x-ratelimit-limit`).
    pub limit: u32,
    /// Whole tokens left after this request (`x-ratelimit-remaining`).
    pub remaining: u32,
    /// Time until the next token is added, zero while tokens remain (`x-ratelimit-reset` is
    /// now + this, and `Retry-After` on a 429).
    pub reset_after: Duration,
}

/// A continuously refilled token bucket.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    burst: u32,
    per_second: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket of `burst` tokens refilled at `per_second`, created at elapsed time zero.
    pub fn new(burst: u32, per_second: f64) -> Self {
        Self {
            burst,
            per_second: per_second.max(0.0),
            tokens: f64::from(burst),
            last: Duration::ZERO,
        }
    }

    /// Offers one request at `elapsed` (time since creation; must not go backwards — if it does,
    /// no refill happens).
    pub fn take(&mut self, elapsed: Duration) -> Decision {
        self.refill(elapsed);
        let allowed = self.tokens >= 1.0;
        if allowed {
            self.tokens -= 1.0;
        }
        let remaining = self.tokens.floor() as u32;
        let reset_after = if remaining >= 1 {
            Duration::ZERO
        } else {
            self.time_until_one_token()
        };
        Decision {
            allowed,
            limit: self.burst,
            remaining,
            reset_after,
        }
    }

    fn refill(&mut self, elapsed: Duration) {
        if elapsed > self.last {
            let added = (elapsed - self.last).as_secs_f64() * self.per_second;
            self.tokens = (self.tokens + added).min(f64::from(self.burst));
            self.last = elapsed;
        }
    }

    fn time_until_one_token(&self) -> Duration {
        let missing = (1.0 - self.tokens).max(0.0);
        if self.per_second <= 0.0 {
            return MAX_WAIT;
        }
        // Whole microseconds, so float noise does not turn 400 ms into 399.999999 ms.
        let micros = (missing / self.per_second * 1e6).round();
        if micros >= MAX_WAIT.as_micros() as f64 {
            MAX_WAIT
        } else {
            Duration::from_micros(micros as u64)
        }
    }
}

/// Rounds a delay up to whole seconds (for `Retry-After` and `x-ratelimit-reset`).
pub fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn burst_then_429_then_refill() {
        let mut bucket = TokenBucket::new(3, 2.0);
        let d = bucket.take(ms(0));
        assert_eq!((d.allowed, d.limit, d.remaining), (true, 3, 2));
        assert_eq!(d.reset_after, Duration::ZERO);
        assert!(bucket.take(ms(0)).allowed);
        let last = bucket.take(ms(0));
        assert_eq!((last.allowed, last.remaining), (true, 0));
        assert_eq!(last.reset_after, ms(500));
        let denied = bucket.take(ms(100));
        assert!(!denied.allowed);
        assert_eq!(denied.remaining, 0);
        // 0.2 tokens accumulated; 0.8 more at 2/s = 400 ms.
        assert_eq!(denied.reset_after, ms(400));
        let again = bucket.take(ms(500));
        assert!(again.allowed, "one token refilled after 500 ms");
        assert_eq!(again.remaining, 0);
    }

    #[test]
    fn refill_is_capped_at_burst() {
        let mut bucket = TokenBucket::new(2, 10.0);
        bucket.take(ms(0));
        bucket.take(ms(0));
        let d = bucket.take(Duration::from_secs(3600));
        assert_eq!((d.allowed, d.remaining), (true, 1));
    }

    #[test]
    fn zero_rate_never_refills() {
        let mut bucket = TokenBucket::new(1, 0.0);
        assert!(bucket.take(ms(0)).allowed);
        let d = bucket.take(Duration::from_secs(10_000));
        assert!(!d.allowed);
        assert_eq!(d.reset_after, MAX_WAIT);
    }

    #[test]
    fn time_going_backwards_does_not_refill() {
        let mut bucket = TokenBucket::new(1, 1.0);
        assert!(bucket.take(Duration::from_secs(5)).allowed);
        assert!(!bucket.take(Duration::from_secs(1)).allowed);
    }

    #[test]
    fn ceil_secs_rounds_up() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(ms(1)), 1);
        assert_eq!(ceil_secs(ms(1000)), 1);
        assert_eq!(ceil_secs(ms(1001)), 2);
    }

    proptest::proptest! {
        #[test]
        fn never_allows_more_than_burst_plus_refill(
            burst in 1u32..20,
            rate in 0.1f64..50.0,
            steps in proptest::collection::vec(0u64..300, 1..200),
        ) {
            let mut bucket = TokenBucket::new(burst, rate);
            let mut now = 0u64;
            let mut allowed = 0u32;
            for step in steps {
                now += step;
                if bucket.take(ms(now)).allowed {
                    allowed += 1;
                }
            }
            let ceiling = f64::from(burst) + rate * (now as f64 / 1000.0) + 1e-9;
            proptest::prop_assert!(f64::from(allowed) <= ceiling);
        }
    }
}
