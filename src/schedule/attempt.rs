//! One fire of one report, the way `serve` runs it: no overlap (a fire
//! while the report's previous run is still going is skipped and logged),
//! a claim on (report, period key) in the state store before anything is
//! pulled or sent (a key with an "ok" run is done: nothing to do; `app::run`
//! then holds the claim, with its heartbeat, while it works), and retries
//! with backoff inside `retry_for_minutes`. The period and as_of come from
//! the fire instant, never from when the work starts.

use super::plan;
use crate::app::claim::CLAIM_TTL;
use crate::app::{self, RunOptions, Trigger};
use crate::config::{ConfigOrigin, ReportSettings, Settings};
use crate::state::{holder, Claim, Store};
use anyhow::{bail, Result};
use chrono::{DateTime, Utc};
use croner::Cron;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often a fire whose period another process holds checks again.
const BUSY_RECHECK: Duration = Duration::from_secs(5);

/// Everything the scheduled runs share.
pub(super) struct Ctx {
    pub settings: Settings,
    pub origin: ConfigOrigin,
    pub reports: Vec<Scheduled>,
    pub tracker: TaskTracker,
    pub token: CancellationToken,
}

/// A report with a schedule.
pub(super) struct Scheduled {
    pub report: ReportSettings,
    pub cron: Cron,
    /// Held while a run of this report (with its retries) goes on.
    pub busy: Arc<Mutex<()>>,
    /// The fire instant armed in the scheduler: a second activation of the
    /// same fire (the scheduler can deliver one twice) is ignored.
    pub armed: std::sync::Mutex<Option<DateTime<Utc>>>,
}

enum Attempt {
    Ran,
    Done,
    Busy(String),
}

/// Starts the run of report `i` for the fire at `at` in the background,
/// unless shutting down or the report's previous run is still going.
pub(super) fn fire(ctx: &Arc<Ctx>, i: usize, at: DateTime<Utc>, trigger: Trigger) {
    let name = &ctx.reports[i].report.name;
    let fired_at = crate::state::ts(at);
    if ctx.token.is_cancelled() {
        tracing::info!(report = %name, fired_at, "shutting down: not starting this run");
        return;
    }
    let Ok(guard) = ctx.reports[i].busy.clone().try_lock_owned() else {
        tracing::warn!(
            report = %name,
            fired_at,
            error_code = "tick_skipped",
            "skipped this fire: the previous run of this report is still going"
        );
        return;
    };
    let ctx2 = Arc::clone(ctx);
    ctx.tracker.spawn(async move {
        let _guard = guard;
        with_retries(&ctx2, i, at, trigger).await;
    });
}

async fn with_retries(ctx: &Ctx, i: usize, at: DateTime<Utc>, mut trigger: Trigger) {
    let r = &ctx.reports[i].report;
    let f = plan::fire(r, &ctx.settings, at);
    let window = Duration::from_secs(ctx.settings.retry_for_minutes.saturating_mul(60));
    let first = Instant::now();
    tracing::info!(
        report = %r.name,
        period = %f.key,
        trigger = trigger.as_str(),
        fired_at = crate::state::ts(at),
        local = %f.local.format("%Y-%m-%d %H:%M:%S %Z"),
        "schedule fired"
    );
    let mut failures = 0u32;
    loop {
        let wait = match once(ctx, i, &f, trigger).await {
            Ok(Attempt::Ran) => return,
            Ok(Attempt::Done) => {
                tracing::info!(
                    report = %r.name,
                    period = %f.key,
                    "already ran successfully for this period: nothing to do"
                );
                return;
            }
            Ok(Attempt::Busy(h)) => {
                // Wait for the holder to finish (done) or die (take over).
                let wait = BUSY_RECHECK;
                if first.elapsed() + wait > window {
                    tracing::warn!(
                        report = %r.name,
                        period = %f.key,
                        error_code = "claim_busy",
                        "another process ({h}) still holds this period after retry_for_minutes; leaving it to that process (catch-up checks it at the next start)"
                    );
                    return;
                }
                tracing::info!(
                    report = %r.name,
                    period = %f.key,
                    "another process ({h}) is running this period; checking again in {} s",
                    wait.as_secs()
                );
                wait
            }
            Err(e) => {
                failures += 1;
                let Some(wait) = plan::next_retry(first.elapsed(), failures, window) else {
                    tracing::error!(
                        report = %r.name,
                        period = %f.key,
                        attempts = failures,
                        retry_for_minutes = ctx.settings.retry_for_minutes,
                        error_code = "run_given_up",
                        error = %format!("{e:#}"),
                        "giving up on this period after {failures} failed attempt(s); it runs again at the next start of serve (catch-up) or with salesops run --report {}",
                        r.name
                    );
                    return;
                };
                tracing::warn!(
                    report = %r.name,
                    period = %f.key,
                    attempt = failures,
                    retry_in_seconds = wait.as_secs(),
                    error = %format!("{e:#}"),
                    "attempt {failures} failed; trying again in {} s",
                    wait.as_secs()
                );
                trigger = Trigger::Retry;
                wait
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = ctx.token.cancelled() => {
                tracing::warn!(
                    report = %r.name,
                    period = %f.key,
                    "shutting down: no longer waiting to run this period; catch-up checks it at the next start"
                );
                return;
            }
        }
    }
}

/// Claims the period key, runs, releases. Err: the run failed (or some
/// recipient did) and is worth retrying; the next attempt sends only to
/// the recipients the delivery log does not have yet.
async fn once(ctx: &Ctx, i: usize, f: &plan::Fire, trigger: Trigger) -> Result<Attempt> {
    let s = &ctx.settings;
    let r = &ctx.reports[i].report;
    let me = holder::this_process();
    let ttl = chrono::Duration::from_std(CLAIM_TTL)?;
    let mut store = Store::open(&s.state_dir)?;
    match store.claim(&r.name, &f.key, me, Utc::now(), ttl, holder::is_dead)? {
        Claim::Done => return Ok(Attempt::Done),
        Claim::Busy { holder, .. } => return Ok(Attempt::Busy(holder)),
        Claim::Acquired {
            replaced: Some(dead),
        } => tracing::warn!(
            report = %r.name,
            period = %f.key,
            "took over the claim of {dead}, which stopped before it finished"
        ),
        Claim::Acquired { replaced: None } => {}
    }
    let opts = RunOptions {
        report: Some(r.name.clone()),
        trigger,
        fired_at: Some(f.at),
        ..RunOptions::default()
    };
    // app::run takes this claim again (same holder: a renewal), keeps it
    // alive and releases it; releasing here too covers a run that failed
    // before it got that far.
    let res = app::run(s, &ctx.origin, &opts, f.at).await;
    if let Err(e) = store.release(&r.name, &f.key, me) {
        tracing::warn!(report = %r.name, "cannot release the claim (it expires by itself): {e:#}");
    }
    let failed: Vec<String> = res?
        .iter()
        .flat_map(|o| o.failed())
        .map(|(to, why)| format!("{to}: {why}"))
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} recipient(s) did not get the report: {}",
            failed.len(),
            failed.join("; ")
        );
    }
    Ok(Attempt::Ran)
}
