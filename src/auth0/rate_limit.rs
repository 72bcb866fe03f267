//! Pure rate-limit decisions: `x-ratelimit-*` / `Retry-After` headers → how long to wait.
//!
//! Auth0 uses a token bucket per tenant: `x-ratelimit-limit` is the bucket size,
//! `x-ratelimit-remaining` the tokens left and `x-ratelimit-reset` the Unix second at which the
//! next token is added (API.md §6). certwatch paces itself so that it rarely sees a 429, and when
//! it does it waits as told instead of failing the poll.

use std::time::Duration;

/// The longest single wait certwatch accepts from a header (a bogus reset must not stall a poll).
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// What the last response said about the bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateState {
    /// `x-ratelimit-limit`.
    pub limit: Option<u64>,
    /// `x-ratelimit-remaining`.
    pub remaining: Option<u64>,
    /// `x-ratelimit-reset`, Unix seconds.
    pub reset: Option<i64>,
}

impl RateState {
    /// Read the three headers (missing or garbled headers are `None`).
    pub fn from_headers(h: &reqwest::header::HeaderMap) -> Self {
        let num = |name: &str| h.get(name)?.to_str().ok()?.trim().parse::<i64>().ok();
        Self {
            limit: num("x-ratelimit-limit").and_then(|v| u64::try_from(v).ok()),
            remaining: num("x-ratelimit-remaining").and_then(|v| u64::try_from(v).ok()),
            reset: num("x-ratelimit-reset"),
        }
    }
}

/// Before sending: wait until the bucket refills when the last response said it was empty.
/// `now` is Unix time in seconds (fractional).
pub fn wait_before_request(state: &RateState, now: f64) -> Option<Duration> {
    match (state.remaining, state.reset) {
        (Some(0), Some(reset)) => positive(reset as f64 - now),
        _ => None,
    }
}

/// After a 429 (attempt counts from 1): `Retry-After` (seconds or HTTP date), else
/// `x-ratelimit-reset`, else exponential backoff from 1 s; always capped at `MAX_WAIT` and at
/// least a small floor so a stale reset never turns into a hot loop.
pub fn wait_after_429(
    retry_after: Option<&str>,
    state: &RateState,
    now: f64,
    attempt: u32,
) -> Duration {
    const FLOOR: Duration = Duration::from_millis(50);
    let from_retry_after = retry_after.and_then(|v| parse_retry_after(v, now));
    let from_reset = state.reset.and_then(|r| positive(r as f64 - now));
    let wait = from_retry_after
        .or(from_reset)
        .unwrap_or_else(|| backoff(attempt, Duration::from_secs(1)));
    wait.clamp(FLOOR, MAX_WAIT)
}

/// Exponential backoff: `base · 2^(attempt-1)`, capped at `MAX_WAIT`.
pub fn backoff(attempt: u32, base: Duration) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(MAX_WAIT)
}

fn positive(secs: f64) -> Option<Duration> {
    (secs > 0.0).then(|| Duration::from_secs_f64(secs.min(MAX_WAIT.as_secs_f64())))
}

fn parse_retry_after(v: &str, now: f64) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(MAX_WAIT.as_secs_f64())));
    }
    let at = httpdate_to_unix(v)?;
    positive(at as f64 - now)
}

/// Parse an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate_to_unix(v: &str) -> Option<i64> {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let dt = time::PrimitiveDateTime::parse(v, fmt).ok()?;
    Some(dt.assume_utc().unix_timestamp())
}

/// A client-side pacer for a configured `max_requests_per_second`: requests are spaced evenly.
#[derive(Debug, Clone)]
pub struct Pacer {
    interval: Duration,
    next_at: Option<tokio::time::Instant>,
}

impl Pacer {
    /// At most `per_second` requests per second.
    pub fn new(per_second: f64) -> Self {
        Self {
            interval: Duration::from_secs_f64(1.0 / per_second.max(0.001)),
            next_at: None,
        }
    }

    /// Reserve a slot: how long to wait from `now` before sending.
    pub fn reserve(&mut self, now: tokio::time::Instant) -> Duration {
        let at = self.next_at.map_or(now, |n| n.max(now));
        self.next_at = Some(at + self.interval);
        at - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(remaining: Option<u64>, reset: Option<i64>) -> RateState {
        RateState {
            limit: Some(10),
            remaining,
            reset,
        }
    }

    #[test]
    fn reads_headers() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-ratelimit-limit", "50".parse().unwrap());
        h.insert("x-ratelimit-remaining", "49".parse().unwrap());
        h.insert("x-ratelimit-reset", "1668283107".parse().unwrap());
        assert_eq!(
            RateState::from_headers(&h),
            RateState {
                limit: Some(50),
                remaining: Some(49),
                reset: Some(1_668_283_107)
            }
        );
        h.insert("x-ratelimit-remaining", "lots".parse().unwrap());
        assert_eq!(RateState::from_headers(&h).remaining, None);
    }

    #[test]
    fn waits_only_when_bucket_is_empty() {
        let now = 1000.0;
        assert_eq!(wait_before_request(&state(Some(3), Some(1001)), now), None);
        assert_eq!(
            wait_before_request(&state(Some(0), Some(1001)), now),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            wait_before_request(&state(Some(0), Some(999)), now),
            None,
            "reset passed"
        );
        assert_eq!(wait_before_request(&state(None, None), now), None);
    }

    #[test]
    fn after_429_prefers_retry_after_then_reset_then_backoff() {
        let now = 1000.0;
        let s = state(Some(0), Some(1003));
        assert_eq!(
            wait_after_429(Some("2"), &s, now, 1),
            Duration::from_secs(2)
        );
        assert_eq!(wait_after_429(None, &s, now, 1), Duration::from_secs(3));
        assert_eq!(
            wait_after_429(None, &state(None, None), now, 1),
            Duration::from_secs(1)
        );
        assert_eq!(
            wait_after_429(None, &state(None, None), now, 3),
            Duration::from_secs(4)
        );
        // A reset in the past never means "retry immediately in a hot loop".
        assert_eq!(
            wait_after_429(None, &state(Some(0), Some(990)), now, 1),
            Duration::from_secs(1)
        );
        assert_eq!(
            wait_after_429(Some("0"), &s, now, 1),
            Duration::from_millis(50)
        );
        // Absurd values are capped.
        assert_eq!(wait_after_429(Some("86400"), &s, now, 1), MAX_WAIT);
        assert_eq!(
            wait_after_429(None, &state(Some(0), Some(99_999)), now, 1),
            MAX_WAIT
        );
        assert_eq!(wait_after_429(None, &state(None, None), now, 30), MAX_WAIT);
    }

    #[test]
    fn retry_after_http_date() {
        let at = 784_111_777.0; // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(
            wait_after_429(
                Some("Sun, 06 Nov 1994 08:49:37 GMT"),
                &RateState::default(),
                at - 5.0,
                1
            ),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn pacer_spaces_requests() {
        let t0 = tokio::time::Instant::now();
        let mut p = Pacer::new(4.0);
        assert_eq!(p.reserve(t0), Duration::ZERO);
        assert_eq!(p.reserve(t0), Duration::from_millis(250));
        assert_eq!(p.reserve(t0), Duration::from_millis(500));
        // After a long idle period no burst credit accumulates beyond one slot.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(p.reserve(later), Duration::ZERO);
        assert_eq!(p.reserve(later), Duration::from_millis(250));
    }
}
