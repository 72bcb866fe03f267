//! Pure rate-limit decisions: `x-ratelimit-*` / `Retry-After` headers → how long to wait.
//!
//! Auth0 uses a token bucket per tenant: `x-ratelimit-limit` is the bucket size,
//! `x-ratelimit-remaining` the tokens left and `x-ratelimit-reset` the Unix second at which the
//! next token is added (docs/auth0-api.md, rate limits). certwatch paces itself so that it rarely sees a 429, and when
//! it does it waits as told instead of failing the poll.
//!
//! [`Governor`] is the pacing model: a client-side copy of the tenant's bucket, corrected by
//! every response's headers, whose refill rate is *estimated* from how `remaining` moves over
//! time (Auth0 never sends the rate, and `x-ratelimit-reset` is rounded to whole seconds, so
//! waiting for it costs up to a second per wait and makes every waiting task fire at once).
//! With a budget share (`super::budget`), the model keeps the bucket above the floor left to the
//! tenant's own applications and waits for refill there, instead of at empty.

use super::budget::{FLOOR_PROBE_AFTER, Share};
use std::time::Duration;
use tokio::time::Instant;

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
/// `now` is Unix time in seconds (fractional). This is the coarse, whole-second rule; the client
/// paces with [`Governor`], which refines it with an estimated refill rate.
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
    next_at: Option<Instant>,
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
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let at = self.next_at.map_or(now, |n| n.max(now));
        self.next_at = Some(at + self.interval);
        at - now
    }
}

/// Longest single sleep the governor asks for: waiters re-check this often, so a correction
/// that arrives while they sleep (a response showing more tokens) is acted on promptly.
pub const MAX_GOVERNOR_WAIT: Duration = Duration::from_millis(100);
/// How often a waiter re-checks while a probe request is still in flight.
const PROBE_RECHECK: Duration = Duration::from_millis(5);
/// Shortest observation window a rate estimate is taken from (clock granularity).
const MIN_RATE_WINDOW: Duration = Duration::from_millis(10);
/// A probe goes this long after the announced `x-ratelimit-reset`: the reset is the server's
/// wall clock, ours may run a little ahead of it.
const RESET_MARGIN: Duration = Duration::from_millis(50);
/// The model refills this much slower than the estimate: an estimate can be exact (measured
/// from a full bucket), and rounding or a clock running fast must not turn that into a 429.
const RATE_SAFETY: f64 = 0.999;
/// Requests a governor held at the budget floor lets the bucket gather before it lets them go
/// again, one right after the other: a wake-up of the process per request costs more CPU than
/// the request itself, and the pace stays the refill rate.
const FLOOR_BATCH: f64 = 4.0;

/// What [`Governor::acquire`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Send now; hand the ticket back to [`Governor::complete`] when the request is done.
    Go(Ticket),
    /// Sleep this long, then ask again (nothing was reserved).
    Wait(Duration),
}

/// One allowed request, from `acquire` to `complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    sent_at: Instant,
    /// Requests finished before this one was sent.
    finished_before: u64,
}

/// The observation a rate estimate is measured from.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    /// When the request that observed it was sent (the earliest the server can have counted).
    sent_at: Instant,
    remaining: f64,
    /// `remaining` was exact, not rounded down: the bucket had just been full.
    exact: bool,
    accepted: u64,
    outstanding: u32,
}

/// A client-side model of the tenant's token bucket (pure: time comes in as arguments).
///
/// - Until the first answer, one request at a time; when answers carry no `x-ratelimit-*`
///   headers, everything may go.
/// - Each request takes a token from the model; the model refills at the estimated rate, capped
///   at `x-ratelimit-limit`. Each response corrects it: the server had `remaining` (rounded
///   down) after that request, and the requests still in flight will take theirs, so the model
///   is kept below `remaining + 1 - in_flight`, and above that minus the answers that
///   overtook this one (they may have been counted after it).
/// - The refill rate is a *lower bound* measured over a window between two responses: tokens the
///   server gained (`remaining` then → now, plus the requests it accepted meanwhile, minus one
///   for rounding and every answer that may have been counted outside the window) / the
///   longest the window can have been (from sending the first request to the second answer).
///   Two windows run: one from the first answer, one from the last answer that showed a full
///   bucket (`remaining = limit - 1`, an exact value; refill lost while full makes a longer
///   window read low). The estimate only grows; a 429 discards it (the tenant's limit, or
///   another consumer, changed) and it is learned again.
/// - Waits never run past `x-ratelimit-reset`: when nothing is in flight and nothing was sent
///   since answers said when the next token comes, one probe goes then. Before any rate estimate this is
///   the only way to proceed, and only one probe is in flight at a time, so concurrent tasks
///   never stampede an empty bucket.
#[derive(Debug, Clone, Default)]
pub struct Governor {
    limit: Option<f64>,
    tokens: Option<f64>,
    at: Option<Instant>,
    rate: Option<f64>,
    /// The latest time an answer since the last send said the next token is added.
    reset_at: Option<Instant>,
    outstanding: u32,
    /// Requests finished (with or without an answer).
    finished: u64,
    /// Answers that took a token (not 429s).
    accepted: u64,
    /// The first answer of this estimate (since the start or the last 429).
    first: Option<Anchor>,
    /// The last answer that showed a full bucket (or `first`).
    since_full: Option<Anchor>,
    /// The part of the bucket certwatch may use; `None` is all of it.
    share: Option<Share>,
    /// When the last answer with `x-ratelimit-remaining` came.
    answered_at: Option<Instant>,
    /// Held at the floor: waiting for [`FLOOR_BATCH`] tokens above it (fewer when the bucket is
    /// small) before the next request.
    gathering: bool,
}

impl Governor {
    /// A governor that never takes the bucket below the floor of `share`
    /// (`budget::Share::floor`); [`Governor::default`] may use the whole bucket.
    pub fn with_share(share: Share) -> Self {
        Self {
            share: Some(share),
            ..Self::default()
        }
    }

    /// The lowest `remaining` this governor leaves (0 until the limit is known).
    pub fn floor(&self) -> f64 {
        self.share.unwrap_or(Share::WHOLE).floor(self.limit)
    }

    /// The estimated refill rate (tokens per second), once known.
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// The modelled tokens left (negative: owed to requests in flight), once known.
    pub fn tokens(&self) -> Option<f64> {
        self.tokens
    }

    /// Ask to send one request at `now`. On [`Permit::Go`] the request counts as in flight
    /// until [`Governor::complete`].
    pub fn acquire(&mut self, now: Instant) -> Permit {
        self.refill(now);
        let Some(tokens) = self.tokens else {
            // Nothing known yet: the first answer tells whether (and how) the tenant limits.
            if self.finished == 0 && self.outstanding > 0 {
                return Permit::Wait(PROBE_RECHECK);
            }
            return self.go(now);
        };
        let floor = self.floor();
        let share = self.share.unwrap_or(Share::WHOLE);
        let level = if self.gathering {
            // Never a full bucket: refill past it would be lost while the model catches up.
            (floor + FLOOR_BATCH).min(self.limit.map_or(f64::INFINITY, |l| l - 1.0))
        } else {
            floor + 1.0
        };
        if share.allows(tokens, self.limit) && tokens >= level {
            self.gathering = false;
            return self.go(now);
        }
        if floor > 0.0 {
            self.gathering = true;
            return self.above_floor(now, tokens, level.max(floor + 1.0));
        }
        // With nothing in flight, a probe at the announced reset is safe (the server said a
        // token is added then); without any announcement or estimate, probing is all there is.
        let idle = self.outstanding == 0;
        let until_reset = self.reset_at.map(|at| at.saturating_duration_since(now));
        let wait = match (self.rate, until_reset) {
            (_, Some(Duration::ZERO)) | (None, None) if idle => return self.go(now),
            (Some(rate), until_reset) => {
                // Any overflow or odd value waits the longest slice and asks again.
                let model = Duration::try_from_secs_f64((1.0 - tokens) / (rate * RATE_SAFETY))
                    .unwrap_or(MAX_GOVERNOR_WAIT);
                match until_reset {
                    Some(r) if idle => r.min(model),
                    _ => model,
                }
            }
            (None, Some(r)) if idle => r,
            (None, _) => PROBE_RECHECK,
        };
        Permit::Wait(wait.clamp(Duration::from_millis(1), MAX_GOVERNOR_WAIT))
    }

    /// Below `level` (the floor plus the tokens to gather, at least the one a request takes):
    /// wait until the estimated refill lifts the bucket to it. Without an estimate, one probe
    /// goes (nothing else in flight) a while after the last answer, and no earlier than an
    /// announced reset: its answer shows the refill and teaches the rate.
    fn above_floor(&mut self, now: Instant, tokens: f64, level: f64) -> Permit {
        let wait = match self.rate {
            Some(rate) => Duration::try_from_secs_f64((level - tokens) / (rate * RATE_SAFETY))
                .unwrap_or(MAX_GOVERNOR_WAIT),
            None if self.outstanding == 0 => {
                let after = self.answered_at.map_or(now, |a| a + FLOOR_PROBE_AFTER);
                let at = self.reset_at.map_or(after, |r| r.max(after));
                if now >= at {
                    self.gathering = false;
                    return self.go(now);
                }
                at - now
            }
            None => PROBE_RECHECK,
        };
        // With nothing in flight no answer can correct the model before the wait is over: no
        // need to wake up in slices.
        let longest = if self.outstanding == 0 {
            FLOOR_PROBE_AFTER
        } else {
            MAX_GOVERNOR_WAIT
        };
        Permit::Wait(wait.clamp(Duration::from_millis(1), longest))
    }

    fn go(&mut self, now: Instant) -> Permit {
        if let Some(t) = &mut self.tokens {
            *t -= 1.0;
        }
        self.reset_at = None;
        self.outstanding += 1;
        Permit::Go(Ticket {
            sent_at: now,
            finished_before: self.finished,
        })
    }

    fn refill(&mut self, now: Instant) {
        if let (Some(tokens), Some(rate), Some(at)) = (&mut self.tokens, self.rate, self.at) {
            let gained = rate * RATE_SAFETY * now.saturating_duration_since(at).as_secs_f64();
            *tokens = (*tokens + gained).min(self.limit.unwrap_or(f64::INFINITY));
        }
        self.at = Some(now);
    }

    /// The request of `ticket` finished at `now` (`unix_now`: wall-clock seconds, to read
    /// `x-ratelimit-reset`). `observed` is `None` when no response (or no headers) came back;
    /// `throttled` means the response was a 429.
    pub fn complete(
        &mut self,
        ticket: Ticket,
        now: Instant,
        unix_now: f64,
        observed: Option<&RateState>,
        throttled: bool,
    ) {
        self.outstanding = self.outstanding.saturating_sub(1);
        // Requests that finished while this one was in flight may have been counted after it.
        let overtaken = self.finished - ticket.finished_before;
        self.finished += 1;
        let Some(state) = observed else { return };
        let Some(remaining) = state.remaining else {
            return;
        };
        self.refill(now);
        self.answered_at = Some(now);
        if let Some(limit) = state.limit {
            self.limit = Some(limit as f64);
        }
        let remaining = remaining as f64;
        // An empty bucket's reset announces when the next token is added (a non-empty one
        // says "now"). Of the answers since the last send, the latest announcement counts: it
        // comes from the last request the server counted, which took the earlier ones' token.
        if let Some(reset) = state.reset.filter(|_| remaining < 1.0) {
            let ahead = (reset as f64 - unix_now).clamp(0.0, MAX_WAIT.as_secs_f64());
            let at = now + Duration::from_secs_f64(ahead) + RESET_MARGIN;
            self.reset_at = Some(self.reset_at.map_or(at, |r| r.max(at)));
        }
        // After this request the server had `remaining` (rounded down); since then, at most
        // the requests still in flight and those that overtook this one took tokens.
        let low = remaining - f64::from(self.outstanding) - overtaken as f64;
        let high = remaining + 1.0 - f64::from(self.outstanding);
        let model = self.tokens.unwrap_or(low);
        let mut tokens = if model < low || model >= high {
            low
        } else {
            model
        };
        if let Some(limit) = self.limit {
            tokens = tokens.min(limit);
        }
        self.tokens = Some(tokens);
        if throttled {
            self.rate = None;
            self.first = None;
            self.since_full = None;
            return;
        }
        self.accepted += 1;
        self.estimate_rate(ticket.sent_at, now, remaining, overtaken);
    }

    fn estimate_rate(&mut self, sent_at: Instant, now: Instant, remaining: f64, overtaken: u64) {
        for a in [self.first, self.since_full].into_iter().flatten() {
            // The server counted both answers within [a.sent_at, now]: the longest window.
            let window = now.saturating_duration_since(a.sent_at);
            if window < MIN_RATE_WINDOW {
                continue;
            }
            let rounding = if a.exact { 0.0 } else { 1.0 };
            // Answers counted in between that the server may have counted outside the window:
            // in flight when the anchor's answer came, or overtaking this one.
            let unsure = f64::from(a.outstanding) + overtaken as f64;
            let gained =
                remaining - a.remaining + (self.accepted - a.accepted) as f64 - rounding - unsure;
            if gained > 0.0 {
                let rate = gained / window.as_secs_f64();
                self.rate = Some(self.rate.map_or(rate, |r| r.max(rate)));
            }
        }
        let full = self.limit.is_some_and(|l| remaining + 1.0 >= l);
        let here = Anchor {
            sent_at,
            remaining,
            exact: full,
            accepted: self.accepted,
            outstanding: self.outstanding,
        };
        // Refill lost while the bucket was full makes a window that spans it read low (still a
        // lower bound), so a second window restarts at every full bucket, from an exact value.
        if self.first.is_none() {
            self.first = Some(here);
        }
        if full || self.since_full.is_none() {
            self.since_full = Some(here);
        }
    }
}

#[cfg(test)]
mod tests;
