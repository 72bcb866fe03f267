//! Rotation windows (docs/rotation.md): `[rotation] windows = [{ cron, duration }]`, in UTC. A
//! window opens at every firing of its cron expression and stays open for its duration; an
//! applying pass writes only while one is open (no windows = always open). Pure: the caller
//! passes `now`.

use crate::config::Window;
use time::OffsetDateTime;

/// Whether writes are allowed at some instant, and if not, when they next are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// No windows are configured: always open.
    Always,
    /// Inside a window, open until this instant.
    OpenUntil(OffsetDateTime),
    /// Outside every window; the next one opens then (`None`: no window ever opens again).
    ClosedUntil(Option<OffsetDateTime>),
}

impl Gate {
    /// Whether an applying pass may write now.
    pub fn is_open(self) -> bool {
        !matches!(self, Gate::ClosedUntil(_))
    }
}

fn to_chrono(t: OffsetDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.unix_timestamp(), t.nanosecond()).unwrap_or_default()
}

fn from_chrono(t: chrono::DateTime<chrono::Utc>) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.timestamp()).ok()
}

/// The window `w` open at `now`: the instant it closes. A window that opened at `s` covers
/// `s <= now < s + duration`.
fn open_until(w: &Window, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let duration = time::Duration::try_from(w.duration).ok()?;
    let since = to_chrono(now - duration);
    let start = w.schedule.find_next_occurrence(&since, false).ok()?;
    let start = from_chrono(start)?;
    (start <= now).then(|| start + duration)
}

/// When `w` next opens at or after `now`.
fn next_start(w: &Window, now: OffsetDateTime) -> Option<OffsetDateTime> {
    let next = w
        .schedule
        .find_next_occurrence(&to_chrono(now), true)
        .ok()?;
    from_chrono(next)
}

/// Where `now` stands against `windows`.
pub fn gate(windows: &[Window], now: OffsetDateTime) -> Gate {
    if windows.is_empty() {
        return Gate::Always;
    }
    if let Some(until) = windows.iter().filter_map(|w| open_until(w, now)).max() {
        return Gate::OpenUntil(until);
    }
    Gate::ClosedUntil(windows.iter().filter_map(|w| next_start(w, now)).min())
}

/// The window to show an operator: the one open now, or the next to open.
impl std::fmt::Display for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::timefmt::rfc3339;
        match self {
            Gate::Always => f.write_str("no rotation windows: an apply may write at any time"),
            Gate::OpenUntil(t) => write!(f, "inside a rotation window until {}", rfc3339(*t)),
            Gate::ClosedUntil(Some(t)) => write!(
                f,
                "outside every rotation window; the next opens at {}",
                rfc3339(*t)
            ),
            Gate::ClosedUntil(None) => {
                f.write_str("outside every rotation window; none opens again")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use time::macros::datetime;

    fn window(cron: &str, hours: u64) -> Window {
        Window {
            cron: cron.into(),
            schedule: crate::config::parse_cron(cron).unwrap(),
            duration: Duration::from_secs(hours * 3600),
        }
    }

    #[test]
    fn no_windows_is_always_open() {
        assert_eq!(gate(&[], datetime!(2026-12-01 12:00 UTC)), Gate::Always);
    }

    #[test]
    fn tuesday_two_am_for_two_hours() {
        // 2026-12-01 is a Tuesday.
        let w = [window("0 0 2 * * TUE", 2)];
        assert_eq!(
            gate(&w, datetime!(2026-12-01 02:00 UTC)),
            Gate::OpenUntil(datetime!(2026-12-01 04:00 UTC))
        );
        assert_eq!(
            gate(&w, datetime!(2026-12-01 03:59:59 UTC)),
            Gate::OpenUntil(datetime!(2026-12-01 04:00 UTC))
        );
        assert_eq!(
            gate(&w, datetime!(2026-12-01 04:00 UTC)),
            Gate::ClosedUntil(Some(datetime!(2026-12-08 02:00 UTC)))
        );
        assert_eq!(
            gate(&w, datetime!(2026-12-01 01:59:59 UTC)),
            Gate::ClosedUntil(Some(datetime!(2026-12-01 02:00 UTC)))
        );
        assert!(!gate(&w, datetime!(2026-12-03 12:00 UTC)).is_open());
    }

    #[test]
    fn the_soonest_window_wins() {
        let w = [window("0 0 2 * * TUE", 2), window("0 30 22 * * *", 1)];
        assert_eq!(
            gate(&w, datetime!(2026-12-03 12:00 UTC)),
            Gate::ClosedUntil(Some(datetime!(2026-12-03 22:30 UTC)))
        );
        assert_eq!(
            gate(&w, datetime!(2026-12-03 23:00 UTC)),
            Gate::OpenUntil(datetime!(2026-12-03 23:30 UTC))
        );
        let shown = gate(&w, datetime!(2026-12-03 12:00 UTC)).to_string();
        assert!(shown.contains("2026-12-03T22:30:00Z"), "{shown}");
    }
}
