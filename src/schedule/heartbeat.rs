//! The scheduler's heartbeat, for /healthz: a one-shot job armed every
//! `HEARTBEAT` the way a report's fire is armed (`serve::arm`), which tells
//! `telemetry::health` the loop is alive and arms the next one when it goes
//! off. A scheduler that stops firing jobs stops the heartbeat with them.

use crate::telemetry::health::{Health, HEARTBEAT};
use futures::future::BoxFuture;
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

/// Beats now and arms the next beat; stops re-arming on shutdown.
pub(super) fn start(
    sched: JobScheduler,
    health: Arc<Health>,
    token: CancellationToken,
) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        if token.is_cancelled() {
            return;
        }
        health.beat();
        let (h, t) = (Arc::clone(&health), token.clone());
        let job = Job::new_one_shot_at_instant_async(
            std::time::Instant::now() + HEARTBEAT,
            move |_id, sched| start(sched, Arc::clone(&h), t.clone()),
        );
        let added = match job {
            Ok(job) => sched.add(job).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = added {
            tracing::error!(
                error_code = crate::error_code::ErrorCode::ArmFailed.as_str(),
                "cannot arm the scheduler's heartbeat ({e}); /healthz turns 503"
            );
        }
    })
}
