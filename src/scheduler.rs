//! The poll schedule: one task that runs the caller's [`Tick`] on the configured cron expression
//! (UTC, seconds first) or fixed interval until its token is cancelled. What a tick does is the
//! caller's business (the app passes its poll cycle, which skips a tick while one is running).
//!
//! Plain tokio timers, spawned into the caller's tracker: when the token is cancelled nothing of
//! the schedule is left, so a configuration reload does not leave the previous app (and its
//! HTTP clients and their sockets) alive behind a scheduler that outlives it.

use crate::clock::Clock as _;
use crate::config::{Schedule, Trigger};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// The work of one scheduled tick: each call returns a fresh future.
pub type Tick = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Why the schedule cannot start (a cron expression that validation let through but that does
/// not parse or never fires).
#[derive(Debug, thiserror::Error)]
#[error("schedule.cron: {0}")]
pub struct Error(String);

/// Start the schedule: `tick` runs at every firing, each run tracked by `tracker` and cut short
/// when `token` is cancelled; the schedule itself stops with the token.
pub fn start(
    tick: Tick,
    schedule: &Schedule,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> Result<(), Error> {
    let next: Box<dyn FnMut() -> Option<Duration> + Send> = match &schedule.trigger {
        Trigger::Interval(every) => {
            let every = *every;
            Box::new(move || Some(every))
        }
        Trigger::Cron(expr) => {
            let cron = crate::config::parse_cron(expr).map_err(Error)?;
            let mut last: Option<chrono::DateTime<chrono::Utc>> = None;
            Box::new(move || {
                let now = wall_now();
                // Strictly after the last firing, so a timer that wakes a little early (or a
                // wall clock that steps back) never fires the same occurrence twice.
                let from = last.map_or(now, |l| l.max(now));
                let at = cron.find_next_occurrence(&from, false).ok()?;
                last = Some(at);
                Some((at - now).to_std().unwrap_or_default())
            })
        }
    };
    let runs = tracker.clone();
    tracker.spawn(run(next, tick, token, runs).instrument(tracing::info_span!("scheduler")));
    Ok(())
}

/// Sleep until each firing, then spawn the tick; return when cancelled or when the schedule
/// has no next firing.
async fn run(
    mut next: Box<dyn FnMut() -> Option<Duration> + Send>,
    tick: Tick,
    token: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let Some(wait) = next() else {
            tracing::warn!("the schedule has no next firing; no more scheduled polls");
            return;
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = token.cancelled() => return,
        }
        let (tick, token) = (tick.clone(), token.clone());
        // Tracked so that shutdown waits for (or cuts) an in-flight poll.
        tracker.spawn(
            async move {
                tokio::select! {
                    _ = tick() => {}
                    _ = token.cancelled() => tracing::info!("scheduled poll interrupted by shutdown"),
                }
            }
            .instrument(tracing::info_span!("scheduled_poll")),
        );
    }
}

/// Now on the wall clock, as cron needs it.
fn wall_now() -> chrono::DateTime<chrono::Utc> {
    let now = crate::clock::SystemClock.now();
    chrono::DateTime::from_timestamp(now.unix_timestamp(), now.nanosecond()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counting() -> (Tick, Arc<AtomicUsize>) {
        let n = Arc::new(AtomicUsize::new(0));
        let c = n.clone();
        let tick: Tick = Arc::new(move || {
            let c = c.clone();
            Box::pin(async move {
                c.fetch_add(1, Ordering::SeqCst);
            })
        });
        (tick, n)
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_fires_after_each_period_and_stops_with_its_token() {
        let (tick, n) = counting();
        let schedule = Schedule {
            trigger: Trigger::Interval(Duration::from_secs(60)),
            run_on_start: false,
            poll_timeout: None,
        };
        let (token, tracker) = (CancellationToken::new(), TaskTracker::new());
        start(tick.clone(), &schedule, token.clone(), &tracker).unwrap();
        tokio::time::sleep(Duration::from_secs(59)).await;
        assert_eq!(n.load(Ordering::SeqCst), 0, "not at start");
        tokio::time::sleep(Duration::from_secs(2 * 60)).await;
        assert_eq!(n.load(Ordering::SeqCst), 2);
        token.cancel();
        tracker.close();
        tracker.wait().await;
        // Nothing keeps the tick alive once the schedule has stopped.
        assert_eq!(Arc::strong_count(&tick), 1);
    }

    #[tokio::test]
    async fn a_cron_schedule_fires_on_its_seconds() {
        let (tick, n) = counting();
        let schedule = Schedule {
            trigger: Trigger::Cron("* * * * * *".into()),
            run_on_start: false,
            poll_timeout: None,
        };
        let (token, tracker) = (CancellationToken::new(), TaskTracker::new());
        start(tick, &schedule, token.clone(), &tracker).unwrap();
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        token.cancel();
        tracker.close();
        tracker.wait().await;
        let fired = n.load(Ordering::SeqCst);
        assert!((1..=3).contains(&fired), "{fired} firings in 2.5 s");
    }
}
