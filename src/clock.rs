//! The only place that reads wall-clock time: a `Clock` trait, the system clock and a manual clock
//! for tests. `clippy.toml` forbids the wall-clock reads everywhere else (`wall` below is the one
//! allowed call); measuring durations with a monotonic `Instant` is fine anywhere.

use std::fmt::Debug;
use std::sync::Mutex;
use time::OffsetDateTime;

/// A source of "now". Pure code takes `now` as an argument; I/O code asks a `Clock`.
pub trait Clock: Send + Sync + Debug {
    /// The current instant, UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        wall()
    }
}

/// The one wall-clock read of the program.
#[allow(clippy::disallowed_methods)]
fn wall() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A clock that only moves when told to (tests, scenario replays).
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// A clock frozen at `at`.
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    /// Set the current instant.
    pub fn set(&self, at: OffsetDateTime) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    /// Move the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Wall-clock Unix time in fractional seconds, for comparing with Auth0's `x-ratelimit-reset`
/// (which is wall-clock by definition, so it is never read from an injected clock).
pub fn unix_now() -> f64 {
    (wall() - OffsetDateTime::UNIX_EPOCH)
        .as_seconds_f64()
        .max(0.0)
}
