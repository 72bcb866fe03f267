//! tokio-cron-scheduler wiring only: one job that calls `App::tick` on the configured cron or
//! interval. The job body is one call; all logic is in `App`.

use crate::app::App;
use crate::config::{Schedule, Trigger};
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument as _;

/// Start the scheduler with the poll job.
pub async fn start(
    app: Arc<App>,
    schedule: &Schedule,
    token: CancellationToken,
    tracker: &TaskTracker,
) -> Result<JobScheduler, JobSchedulerError> {
    let scheduler = JobScheduler::new().await?;
    let tracker = tracker.clone();
    let run = move |_id, _sched| {
        let (app, token, tracker) = (app.clone(), token.clone(), tracker.clone());
        Box::pin(async move {
            if token.is_cancelled() {
                return;
            }
            // Tracked so that shutdown waits for (or cuts) an in-flight poll.
            tracker.spawn(
                async move {
                    tokio::select! {
                        _ = app.tick() => {}
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
