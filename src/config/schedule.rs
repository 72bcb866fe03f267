//! `[schedule]`: when polls run, a 6-field cron expression (seconds first) or a fixed interval,
//! whether one runs at start, and how long one tenant's poll may take. See docs/polling.md.

use super::Error;
use super::context::Ctx;
use super::raw::RawSchedule;
use std::time::Duration;

/// How polls are triggered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A 6-field cron expression (seconds first).
    Cron(String),
    /// A fixed interval.
    Interval(Duration),
}

/// `[schedule]`, validated.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// When to poll.
    pub trigger: Trigger,
    /// Poll once at start.
    pub run_on_start: bool,
    /// `poll_timeout`, when set (see [`Schedule::poll_timeout`]).
    pub poll_timeout: Option<Duration>,
}

impl Schedule {
    /// The nominal time between polls (for `/readyz` and staleness).
    pub fn interval(&self) -> Duration {
        match &self.trigger {
            Trigger::Interval(d) => *d,
            Trigger::Cron(expr) => cron_interval(expr).unwrap_or(Duration::from_secs(900)),
        }
    }

    /// How long one tenant's poll may take before it is stopped: `poll_timeout`, by default
    /// nine tenths of the interval (so a stopped poll is published, and the cycle over, before
    /// the next one is due), at least a second.
    pub fn poll_timeout(&self) -> Duration {
        self.poll_timeout
            .unwrap_or_else(|| (self.interval() / 10 * 9).max(Duration::from_secs(1)))
    }
}

/// Parse a 6-field cron expression (seconds first; day of month and day of week both apply).
pub fn parse_cron(expr: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expr.trim())
        .map_err(|e| format!("{expr:?} is not a 6-field cron expression with seconds: {e}"))
}

/// Parse a 6-field cron expression and return the gap between its next two firings.
pub fn cron_interval(expr: &str) -> Result<Duration, String> {
    let cron = parse_cron(expr)?;
    let now = crate::clock::Clock::now(&crate::clock::SystemClock);
    let now = chrono::DateTime::from_timestamp(now.unix_timestamp(), 0).unwrap_or_default();
    let a = cron
        .find_next_occurrence(&now, false)
        .map_err(|e| format!("{expr:?} never fires: {e}"))?;
    let b = cron
        .find_next_occurrence(&a, false)
        .map_err(|e| format!("{expr:?} fires only once: {e}"))?;
    (b - a).to_std().map_err(|e| e.to_string())
}

/// `[schedule]`: `cron` or `interval` (at least 1s), every 15 minutes by default; `poll_timeout`
/// at least 1s.
pub(super) fn validate(cx: &Ctx<'_>, raw: &RawSchedule) -> Result<Schedule, Error> {
    let trigger = match (&raw.cron, &raw.interval) {
        (Some(_), Some(_)) => {
            return Err(cx.err("schedule", "set either `cron` or `interval`, not both"));
        }
        (Some(c), None) => {
            cron_interval(c).map_err(|e| cx.err("schedule.cron", e))?;
            Trigger::Cron(c.trim().to_string())
        }
        (None, Some(i)) => {
            let d = cx.duration("schedule.interval", Some(i), Duration::ZERO)?;
            if d < Duration::from_secs(1) {
                return Err(cx.err("schedule.interval", "must be at least 1s"));
            }
            Trigger::Interval(d)
        }
        (None, None) => Trigger::Cron("0 */15 * * * *".to_string()),
    };
    let poll_timeout = match &raw.poll_timeout {
        None => None,
        Some(t) => {
            let d = cx.duration("schedule.poll_timeout", Some(t), Duration::ZERO)?;
            if d < Duration::from_secs(1) {
                return Err(cx.err("schedule.poll_timeout", "must be at least 1s"));
            }
            Some(d)
        }
    };
    Ok(Schedule {
        trigger,
        run_on_start: raw.run_on_start.unwrap_or(true),
        poll_timeout,
    })
}
