//! `salesops serve`: every scheduled report on its cron, in its zone, until
//! SIGTERM/SIGINT.
//!
//! tokio-cron-scheduler runs the timers, but its own cron handling is not
//! trusted (it freezes the zone's UTC offset when a job is created, #107,
//! and wants 6-field cron): each report's next fire is computed with croner
//! 4 in the report's zone (`schedule::cron`) and armed as a one-shot job,
//! which arms the following fire when it goes off. So a 02:30 schedule on
//! a spring-forward day fires once, at 03:00, and an 08:00 one stays at
//! 08:00 across the change. What a fire does is in `attempt`.
//!
//! Shutdown: stop arming and starting runs, let a run in flight finish
//! within `shutdown_timeout_seconds` (the scheduler's own shutdown does not
//! wait), exit 0; a second signal, or the timeout, exits 1 at once.
//!
//! With `[serve] listen`, /healthz, /readyz and /metrics are answered from
//! before the state store is opened (`telemetry::server`): ready once every
//! first fire is armed, not ready from the first signal on, alive while the
//! scheduler's heartbeat (`heartbeat`) keeps going off.

use super::attempt::{self, Ctx, Scheduled};
use super::{cron, heartbeat, plan};
use crate::app::Trigger;
use crate::config::{ConfigOrigin, Settings, SourceKind};
use crate::state::{holder, Store};
use crate::telemetry::{self, health::Health};
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A fire this much later than planned means the host slept or the clock
/// jumped: say so (missed fires in between are not replayed; catch-up at
/// the next start covers a period that was not done).
const LATE: chrono::Duration = chrono::Duration::seconds(60);

/// Runs the scheduler until a signal; returns the exit code.
pub async fn serve(settings: Settings, origin: ConfigOrigin) -> Result<i32> {
    let reports: Vec<Scheduled> = settings
        .reports
        .iter()
        .filter_map(|r| {
            plan::schedule_of(r).map(|cron| Scheduled {
                report: r.clone(),
                cron,
                busy: Default::default(),
                armed: Default::default(),
            })
        })
        .collect();
    if reports.is_empty() {
        bail!(
            "no report has a schedule, so serve has nothing to do: add schedule = \"0 7 1 * *\" (cron, in the report's time zone) to a [[reports]] entry, or use salesops run"
        );
    }
    let mut signals = Signals::install()?;
    let health = Arc::new(Health::new());
    listen(&settings, &health)?;
    expect_metrics(&settings, &reports);
    // Off the runtime's threads: the store may wait for another process,
    // and the probes keep answering meanwhile (not ready).
    let s2 = settings.clone();
    tokio::task::spawn_blocking(move || close_dead_runs(&s2))
        .await
        .context("opening the state store")??;

    let sched = JobScheduler::new()
        .await
        .context("starting the scheduler")?;
    sched.start().await.context("starting the scheduler")?;
    let ctx = Arc::new(Ctx {
        settings,
        origin,
        reports,
        tracker: TaskTracker::new(),
        token: CancellationToken::new(),
    });
    tracing::info!(
        reports = ctx.reports.len(),
        holder = holder::this_process(),
        catch_up = ctx.settings.catch_up,
        "serving scheduled reports"
    );

    if ctx.settings.serve.listen.is_some() {
        heartbeat::start(sched.clone(), Arc::clone(&health), ctx.token.clone()).await;
    }
    let now = Utc::now();
    for i in 0..ctx.reports.len() {
        catch_up(&ctx, i, now);
        arm(Arc::clone(&ctx), sched.clone(), i, now, true).await;
    }
    health.set_ready();

    let signal = signals.recv().await;
    // First, so probes stop counting on this process while it drains.
    health.set_stopping();
    shutdown(&ctx, sched, &mut signals, signal).await
}

/// `[serve] listen`: probes and metrics, from before the store is opened.
fn listen(s: &Settings, health: &Arc<Health>) -> Result<()> {
    let Some(addr) = s.serve.listen else {
        return Ok(());
    };
    let dir = s.state_dir.clone();
    let names: Vec<String> = s.reports.iter().map(|r| r.name.clone()).collect();
    // Each scrape reads the last successes (of manual runs too) from the store.
    let refresh = move || {
        if let Err(e) = telemetry::load_last_successes(&dir, &names) {
            tracing::debug!("metrics: cannot read the last successes: {e:#}");
        }
    };
    let bound = telemetry::server::start(addr, Arc::clone(health), Box::new(refresh))?;
    tracing::info!(listen = %bound, "answering /healthz, /readyz and /metrics on http://{bound}");
    Ok(())
}

/// The series a scheduled run may move, at 0 (see `telemetry::expect_runs`).
fn expect_metrics(s: &Settings, reports: &[Scheduled]) {
    let scheduled: Vec<_> = reports.iter().map(|r| &r.report).collect();
    let channel = crate::deliver::channel(&s.delivery);
    let triggers = [Trigger::Schedule, Trigger::CatchUp, Trigger::Retry].map(|t| t.as_str());
    telemetry::expect_runs(&scheduled, &triggers, channel);
    if !matches!(s.source.kind, SourceKind::Demo | SourceKind::File) {
        telemetry::expect_source(s.source.kind.as_str());
    }
}

/// On start: close "running" rows left by processes of this host that died.
fn close_dead_runs(s: &Settings) -> Result<()> {
    let mut store = Store::open(&s.state_dir)?;
    for h in store.running_holders()? {
        if holder::is_dead(&h) {
            let n = store.mark_interrupted(&h, Utc::now())?;
            tracing::warn!(
                holder = %h,
                runs = n,
                "marked {n} run(s) of a process that stopped mid-run as interrupted"
            );
        }
    }
    Ok(())
}

fn catch_up(ctx: &Arc<Ctx>, i: usize, now: DateTime<Utc>) {
    let sc = &ctx.reports[i];
    let r = &sc.report;
    let latest = plan::latest_due(&sc.cron, r.tz, now).map(|t| plan::fire(r, &ctx.settings, t));
    let last = match &latest {
        Some(f) if ctx.settings.catch_up => {
            match Store::open(&ctx.settings.state_dir)
                .and_then(|mut st| st.period_outcome(&r.name, &f.key))
            {
                Ok(o) => o,
                Err(e) => {
                    tracing::error!(report = %r.name, "catch-up cannot read the state store: {e:#}");
                    return;
                }
            }
        }
        _ => None,
    };
    match plan::catch_up(ctx.settings.catch_up, latest.as_ref(), last.as_deref()) {
        plan::CatchUp::Run(why) => {
            tracing::info!(report = %r.name, "catch-up: {why}; running it now");
            let f = latest.expect("Run implies a fire");
            attempt::fire(ctx, i, f.at, Trigger::CatchUp);
        }
        plan::CatchUp::Done => tracing::info!(
            report = %r.name,
            period = latest.as_ref().map(|f| f.key.as_str()),
            "catch-up: the latest scheduled period already ran ok; nothing to run"
        ),
        plan::CatchUp::NothingDue | plan::CatchUp::Off => {}
    }
}

/// Arms the first fire of report `i` strictly after `after` as a one-shot
/// job; when it goes off it starts the run and arms the next one.
/// `announce`: log it at info (at start) rather than debug.
fn arm(
    ctx: Arc<Ctx>,
    sched: JobScheduler,
    i: usize,
    after: DateTime<Utc>,
    announce: bool,
) -> BoxFuture<'static, ()> {
    Box::pin(async move {
        if ctx.token.is_cancelled() {
            return;
        }
        let sc = &ctx.reports[i];
        let Some(next) = cron::next_fires(&sc.cron, sc.report.tz, after, 1).pop() else {
            tracing::warn!(report = %sc.report.name, "the schedule has no further fire time");
            return;
        };
        let next = next.with_timezone(&Utc);
        *sc.armed.lock().expect("armed lock") = Some(next);
        telemetry::next_fire(&sc.report.name, next);
        let f = plan::fire(&sc.report, &ctx.settings, next);
        let local = f.local.format("%Y-%m-%d %H:%M:%S %Z").to_string();
        if announce {
            tracing::info!(report = %sc.report.name, next_fire = %local, next_fire_utc = crate::state::ts(next), period = %f.key, "next fire armed");
        } else {
            tracing::debug!(report = %sc.report.name, next_fire = %local, next_fire_utc = crate::state::ts(next), period = %f.key, "next fire armed");
        }
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        let ctx2 = Arc::clone(&ctx);
        let job = Job::new_one_shot_at_instant_async(
            std::time::Instant::now() + wait,
            move |_id, sched| Box::pin(went_off(Arc::clone(&ctx2), sched, i, next)),
        );
        let added = match job {
            Ok(job) => sched.add(job).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = added {
            tracing::error!(
                report = %sc.report.name,
                error_code = crate::error_code::ErrorCode::ArmFailed.as_str(),
                "cannot arm the next fire in the scheduler: {e}"
            );
        }
    })
}

async fn went_off(ctx: Arc<Ctx>, sched: JobScheduler, i: usize, next: DateTime<Utc>) {
    // The scheduler ticks in whole seconds and may go off up to a second
    // early: wait for the real instant.
    if let Ok(early) = (next - Utc::now()).to_std() {
        tokio::select! {
            _ = tokio::time::sleep(early) => {}
            _ = ctx.token.cancelled() => return,
        }
    }
    let sc = &ctx.reports[i];
    {
        let mut armed = sc.armed.lock().expect("armed lock");
        if *armed != Some(next) {
            tracing::debug!(report = %sc.report.name, "duplicate activation ignored");
            return;
        }
        *armed = None;
    }
    let late = Utc::now() - next;
    if late > LATE {
        tracing::warn!(
            report = %sc.report.name,
            late_seconds = late.num_seconds(),
            "this fire went off late (the host slept or the clock jumped); fires missed meanwhile are not replayed"
        );
    }
    attempt::fire(&ctx, i, next, Trigger::Schedule);
    arm(Arc::clone(&ctx), sched, i, next.max(Utc::now()), false).await;
}

/// SIGTERM and SIGINT, caught from the start (so a signal during start-up
/// is a clean shutdown too, not the default abrupt exit).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
                int: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

async fn shutdown(
    ctx: &Ctx,
    mut sched: JobScheduler,
    signals: &mut Signals,
    signal: &str,
) -> Result<i32> {
    let limit = Duration::from_secs(ctx.settings.shutdown_timeout_seconds);
    let in_flight = ctx.tracker.len();
    tracing::info!(
        signal,
        runs_in_flight = in_flight,
        shutdown_timeout_seconds = limit.as_secs(),
        "shutting down: no new runs; waiting for runs in flight"
    );
    ctx.token.cancel();
    if let Err(e) = sched.shutdown().await {
        tracing::warn!("stopping the scheduler: {e}");
    }
    ctx.tracker.close();
    tokio::select! {
        _ = ctx.tracker.wait() => {
            tracing::info!("shut down cleanly");
            Ok(0)
        }
        _ = tokio::time::sleep(limit) => {
            tracing::error!(
                error_code = crate::error_code::ErrorCode::ShutdownTimeout.as_str(),
                runs_in_flight = ctx.tracker.len(),
                "runs still going after shutdown_timeout_seconds = {}; exiting anyway (their claims are taken over at the next start, and catch-up runs the period again)",
                limit.as_secs()
            );
            Ok(1)
        }
        s = signals.recv() => {
            tracing::error!(
                signal = s,
                error_code = crate::error_code::ErrorCode::ShutdownForced.as_str(),
                runs_in_flight = ctx.tracker.len(),
                "second signal: exiting now without waiting for runs in flight"
            );
            Ok(1)
        }
    }
}
