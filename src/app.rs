//! The whole pipeline of one run: pull → snapshot → figures → report files
//! → (state, delivery). The CLI and the scheduler both call `run`; every
//! run is written to the run log (see `runlog`), and every run that may
//! send holds the claims on its (report, period key)s while it works (see
//! `claim`).

pub mod claim;
mod runlog;

use crate::config::{ConfigOrigin, ReportSettings, Settings};
use crate::metrics::{self, Figures, Method};
use crate::period::Period;
use crate::report;
use crate::source::{self, Pulled};
use crate::state::Store;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use std::path::PathBuf;

mod output;

pub use crate::deliver::DeliveryOutcome;

/// What the caller asks for; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Period to report; default: each report's own `period` selector.
    pub period: Option<String>,
    /// Books as of the start of this local date; default: today, or the
    /// period's end when the period is over.
    pub as_of: Option<NaiveDate>,
    /// Run only this report; default: all.
    pub report: Option<String>,
    /// Replaces `out_dir`.
    pub out: Option<PathBuf>,
    /// Compute and write files; change no state and send nothing.
    pub dry_run: bool,
    /// Send again to recipients who already got this report.
    pub force: bool,
    /// What started the run (recorded in the run log). Default: manual.
    pub trigger: Trigger,
    /// The scheduled instant that started the run; default: none (manual).
    pub fired_at: Option<DateTime<Utc>>,
}

/// What started a run, as the run log shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Trigger {
    /// `salesops run`.
    #[default]
    Manual,
    /// A schedule fired.
    Schedule,
    /// `serve` started and found the latest scheduled period not done.
    CatchUp,
    /// A failed scheduled run, tried again.
    Retry,
}

impl Trigger {
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::CatchUp => "catch-up",
            Trigger::Retry => "retry",
        }
    }
}

/// How one report's run ended.
#[derive(Debug)]
pub struct ReportOutcome {
    pub name: String,
    pub figures: Figures,
    pub currency: String,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub delivery: DeliveryOutcome,
}

/// The period and as_of for one report: the selector (or `--period`) read
/// on the local date of `now` in the report's zone.
pub fn plan(
    r: &ReportSettings,
    s: &Settings,
    opts: &RunOptions,
    now: DateTime<Utc>,
) -> Result<(Period, NaiveDate)> {
    let today = now.with_timezone(&r.tz).date_naive();
    let fiscal = s.metrics.fiscal_start_month;
    let period = match &opts.period {
        Some(p) => Period::parse(p, fiscal).with_context(|| "--period")?,
        None => r.period.period(today, fiscal),
    };
    let as_of = opts.as_of.unwrap_or(if period.end <= today {
        period.end
    } else {
        today
    });
    Ok((period, as_of))
}

/// Runs the selected reports on one pull of the source, and records each
/// in the run log (a dry run only in the tracing log).
pub async fn run(
    s: &Settings,
    origin: &ConfigOrigin,
    opts: &RunOptions,
    now: DateTime<Utc>,
) -> Result<Vec<ReportOutcome>> {
    let mut log = runlog::RunLog::new(s, opts);
    let res = run_logged(s, origin, opts, now, &mut log).await;
    log.finish(&res);
    res
}

async fn run_logged(
    s: &Settings,
    origin: &ConfigOrigin,
    opts: &RunOptions,
    now: DateTime<Utc>,
    log: &mut runlog::RunLog,
) -> Result<Vec<ReportOutcome>> {
    let reports: Vec<&ReportSettings> = match &opts.report {
        Some(name) => vec![s.report(name).with_context(|| {
            format!(
                "--report {name:?} is not configured; configured reports: {}",
                s.reports
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?],
        None => s.reports.iter().collect(),
    };
    if reports.is_empty() {
        bail!("the config has no [[reports]]; add one (see config/example.toml)");
    }
    // Plan every report before pulling, so a bad --period fails fast.
    let plans = reports
        .iter()
        .map(|r| plan(r, s, opts, now))
        .collect::<Result<Vec<_>>>()?;
    // Claimed before anything is recorded or pulled. A manual run waits
    // for another process running one of its periods; a scheduled one
    // has claimed its key already (`schedule::attempt`) and never waits.
    // A dry run sends nothing and claims nothing.
    let held = if opts.dry_run {
        None
    } else {
        let keys: Vec<(String, String)> = reports
            .iter()
            .zip(&plans)
            .map(|(r, (p, as_of))| (r.name.clone(), p.key(*as_of)))
            .collect();
        let wait = match opts.trigger {
            Trigger::Manual => claim::MANUAL_WAIT,
            _ => std::time::Duration::ZERO,
        };
        Some(claim::Held::take(&s.state_dir, &keys, wait).await?)
    };
    log.started(&reports, &plans)?;

    let today = now.with_timezone(&s.tz).date_naive();
    let pulled = source::pull(s, origin, today)
        .await
        .context("pulling the CRM data")?;
    tracing::info!(
        source = s.source.kind.as_str(),
        rows = pulled.rows(),
        "{}",
        pulled.description
    );
    log.pulled(pulled.rows());
    crate::telemetry::snapshot_rows(s.source.kind.as_str(), &pulled.snapshot);

    let mut out = Vec::new();
    for (r, (period, as_of)) in reports.into_iter().zip(plans) {
        let res = run_one(s, r, &pulled, period, as_of, opts, held.as_ref())
            .await
            .with_context(|| format!("report {:?}", r.name));
        log.report_done(&r.name, &res);
        out.push(res?);
    }
    Ok(out)
}

async fn run_one(
    s: &Settings,
    r: &ReportSettings,
    pulled: &Pulled,
    period: Period,
    as_of: NaiveDate,
    opts: &RunOptions,
    held: Option<&claim::Held>,
) -> Result<ReportOutcome> {
    let mut msettings = s.metrics.clone();
    msettings.tz = r.tz;

    // A dry run reads history when there is some, and never creates it.
    let mut store = if opts.dry_run && !s.state_dir.join(crate::state::FILE_NAME).exists() {
        None
    } else {
        Some(Store::open(&s.state_dir)?)
    };
    let stored = match store.as_mut() {
        Some(st) => st.forecasts_for(&period)?,
        None => Vec::new(),
    };
    let mut figures = metrics::compute(&pulled.snapshot, period, as_of, &msettings, &stored);
    let currency = s
        .currency
        .clone()
        .unwrap_or_else(|| pulled.snapshot.currency.clone());
    if currency != pulled.snapshot.currency {
        figures.data_quality.push(format!(
            "the CRM data says its amounts are in {} but the config says currency = {currency:?}: amounts are shown as they are, not converted",
            pulled.snapshot.currency
        ));
    }

    let json = report::report_json(&figures, &currency);
    let mut bytes = serde_json::to_vec_pretty(&json)?;
    bytes.push(b'\n');
    let out_dir = opts.out.clone().unwrap_or_else(|| s.out_dir.clone());
    let dir = out_dir.join(&r.name).join(period.label());
    // report.json and the rendered report are published together, whole.
    let rendered = output::render(s, r, pulled, &figures, &msettings, store.as_mut())?;
    let mut outputs = vec![("report.json".to_string(), bytes)];
    outputs.extend(rendered.files());
    let files = crate::deliver::files::publish_dir(&dir, &outputs)?;

    if !opts.dry_run {
        let values: Vec<(Method, rust_decimal::Decimal)> = Method::ALL
            .into_iter()
            .filter_map(|m| figures.forecasts.get(m).map(|v| (m, report::cents(v))))
            .collect();
        if let Some(st) = store.as_mut() {
            st.save_forecasts(&r.name, &figures.forecasts.target, as_of, &values)?;
        }
    }
    if let (Some(h), Some(st)) = (held, store.as_mut()) {
        h.confirm(st, &r.name, &period.key(as_of))?;
    }
    let delivery =
        output::deliver(s, r, &rendered, &figures, &out_dir, opts, store.as_mut()).await?;
    Ok(ReportOutcome {
        name: r.name.clone(),
        figures,
        currency,
        dir,
        files,
        delivery,
    })
}
