//! tokio-cron-scheduler wiring only: one job that runs the caller's [`Tick`] on the configured
//! cron or interval, tracked so that shutdown waits for (or cuts) a tick in flight. What a tick
//! does is the caller's business (the app passes its poll cycle).

use crate::config::{Schedule, Trigger};
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// The work of one scheduled tick: each call returns a fresh future.
pub type Tick = Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>;

/// Start the scheduler with one job running `tick`.
pub async fn start(
    tick: Tick,
    schedule: &Schedule,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let tracker = tracker.clone();
    let run = move |_id, _sched| {
        let (tick, token, tracker) = (tick.clone(), token.clone(), tracker.clone());
        Box::pin(async move {
            if token.is_cancelled() {
                return;
            }
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
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
    };
    let job = match &schedule.trigger {
        Trigger::Cron(expr) => Job::new_async(expr.as_str(), run)?,
        Trigger::Interval(every) => Job::new_repeated_async(*every, run)?,
    };
    scheduler.add(job).await?;
    scheduler.start().await?;
    Ok(scheduler)
}
