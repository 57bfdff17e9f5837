//! The whole pipeline of one run: pull → snapshot → figures → report files
//! → (state, delivery). The CLI and the scheduler both call `run`; every
//! run is written to the run log (see `runlog`), and every run that may
//! send holds the claims on its (report, period key)s while it works (see
//! `claim`).

pub(crate) mod claim;
mod empty;
pub mod panics;
mod preflight;
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
pub use preflight::preflight;

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
    /// Make only this team's report (of each report run); default: the
    /// organisation's report, and each team's with `fan_out = "teams"`.
    pub team: Option<String>,
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
    /// The team of a team's report (`--team`, or each of `teams`).
    pub team: Option<String>,
    pub figures: Figures,
    pub currency: String,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub delivery: DeliveryOutcome,
    /// With `fan_out = "teams"`: each team's report.
    pub teams: Vec<ReportOutcome>,
}

impl ReportOutcome {
    /// This report's and its teams' outcomes.
    pub fn all(&self) -> impl Iterator<Item = &ReportOutcome> {
        std::iter::once(self).chain(self.teams.iter())
    }

    /// The deliveries of this report and its teams as one outcome; a team's
    /// recipients are named with their team (`ann@x.com (team Seoul)`).
    pub fn delivery_all(&self) -> DeliveryOutcome {
        let mut d = self.delivery.clone();
        for t in &self.teams {
            let name = |a: &String| format!("{a} (team {})", t.team.as_deref().unwrap_or(""));
            d.sent.extend(t.delivery.sent.iter().map(name));
            d.already.extend(t.delivery.already.iter().map(name));
            d.would_send.extend(t.delivery.would_send.iter().map(name));
            d.failed
                .extend(t.delivery.failed.iter().map(|(a, w)| (name(a), w.clone())));
        }
        d
    }

    /// Every recipient that failed, the teams' included.
    pub fn failed(&self) -> impl Iterator<Item = &(String, String)> {
        self.all().flat_map(|o| o.delivery.failed.iter())
    }
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
    crate::period::select(
        r.period,
        opts.period.as_deref(),
        opts.as_of,
        today,
        s.metrics.fiscal_start_month,
    )
    .context("--period")
}

/// Runs the selected reports on one pull of the source, and records each
/// in the run log (a dry run only in the tracing log). Fails with the
/// first report's error when any report failed (see `run_each`).
pub async fn run(
    s: &Settings,
    origin: &ConfigOrigin,
    opts: &RunOptions,
    now: DateTime<Utc>,
) -> Result<Vec<ReportOutcome>> {
    run_each(s, origin, opts, now).await?.into_iter().collect()
}

/// `run`, giving each report's own result: one report's failure (a
/// template error, a delivery log that cannot be written) is recorded and
/// the other reports still run. `Err` when the run as a whole failed
/// (claims, the pull) and no report ran. A panic (a bug) becomes an
/// error and a failed run-log row.
pub async fn run_each(
    s: &Settings,
    origin: &ConfigOrigin,
    opts: &RunOptions,
    now: DateTime<Utc>,
) -> Result<Vec<Result<ReportOutcome>>> {
    use futures::FutureExt;
    let mut log = runlog::RunLog::new(s, opts);
    let res = std::panic::AssertUnwindSafe(run_logged(s, origin, opts, now, &mut log))
        .catch_unwind()
        .await
        .unwrap_or_else(|payload| {
            let msg = panics::message(payload.as_ref());
            tracing::error!(
                error_code = crate::error_code::ErrorCode::InternalError.as_str(),
                "{msg}"
            );
            Err(anyhow::anyhow!(msg))
        });
    log.finish(res.as_ref().err());
    res
}

async fn run_logged(
    s: &Settings,
    origin: &ConfigOrigin,
    opts: &RunOptions,
    now: DateTime<Utc>,
    log: &mut runlog::RunLog,
) -> Result<Vec<Result<ReportOutcome>>> {
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
    // What `check` checks, before anything is claimed or pulled.
    preflight(s).map_err(|errs| {
        anyhow::anyhow!(
            "{} problem(s) in the config:\n  {}",
            errs.len(),
            errs.join("\n  ")
        )
    })?;
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
    log.pulled(pulled.rows(), pulled.snapshot.deals.len());
    crate::telemetry::snapshot_rows(s.source.kind.as_str(), &pulled.snapshot);
    empty::check(s, &pulled)?;
    panics::injected();

    let mut out = Vec::new();
    for (r, (period, as_of)) in reports.into_iter().zip(plans) {
        let res = run_one(s, r, &pulled, period, as_of, opts, held.as_ref(), log)
            .await
            .with_context(|| format!("report {:?}", r.name));
        log.report_done(&r.name, &res);
        out.push(res);
    }
    // Freeing millions of records takes a noticeable part of a second: a
    // thread of its own does it, so the run's outcome is not kept waiting
    // (a one-shot run may well exit before it is done).
    std::thread::spawn(move || drop(pulled));
    Ok(out)
}

/// One report's run: the organisation's report (unless `--team` asks for
/// one team), and with `fan_out = "teams"` (or `--team`) each team's, all
/// from one pull and one split of the snapshot by team. Each team report
/// gets its own run-log row (`runlog`).
#[allow(clippy::too_many_arguments)]
async fn run_one(
    s: &Settings,
    r: &ReportSettings,
    pulled: &Pulled,
    period: Period,
    as_of: NaiveDate,
    opts: &RunOptions,
    held: Option<&claim::Held>,
    log: &mut runlog::RunLog,
) -> Result<ReportOutcome> {
    let mut msettings = s.metrics.clone();
    msettings.tz = r.tz;

    // A dry run reads history when there is some, and never creates it.
    let mut store = if opts.dry_run && !s.state_dir.join(crate::state::FILE_NAME).exists() {
        None
    } else {
        Some(Store::open(&s.state_dir)?)
    };
    // The follow-up index and the team split are independent: one on each core.
    let (engine, teams) = std::thread::scope(|sc| {
        let teams = sc.spawn(|| metrics::scope::split(&pulled.snapshot, &s.teams));
        let engine = metrics::Engine::new(&pulled.snapshot, &msettings);
        let teams = teams
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (engine, teams)
    });
    let mut teams = teams.map_err(anyhow::Error::msg)?;
    // Which team reports this run makes: only they read a team's
    // activities and leads, so only then are those listed.
    let team_units: Vec<usize> = match &opts.team {
        Some(name) => vec![team_index(&teams, name)?],
        None if r.fan_out == crate::config::FanOut::Teams => teams
            .teams
            .iter()
            .enumerate()
            .filter(|(_, t)| t.name.is_some())
            .map(|(i, _)| i)
            .collect(),
        None => Vec::new(),
    };
    if !team_units.is_empty() {
        teams.list_records(&pulled.snapshot);
    }
    // Decided once, by the pull (`source::pull`), for every output.
    let currency = pulled.snapshot.currency.clone();
    let out_dir = opts.out.clone().unwrap_or_else(|| s.out_dir.clone());
    let ctx = Unit {
        s,
        r,
        pulled,
        engine: &engine,
        teams: &teams,
        ms: &msettings,
        currency: &currency,
        out_dir: &out_dir,
        period,
        as_of,
        opts,
    };

    // Every file is written and every forecast stored before anything is
    // sent: a failure here sends nothing.
    let mut made = Vec::new();
    if opts.team.is_none() {
        made.push(ctx.make(None, store.as_mut())?);
    }
    for i in team_units {
        made.push(ctx.make(Some(i), store.as_mut())?);
    }
    if let (Some(h), Some(st)) = (held, store.as_mut()) {
        h.confirm(st, &r.name, &period.key(as_of))?;
    }
    if opts.team.is_none() {
        log.teams_started(&r.name, made.iter().filter_map(|m| m.team.as_deref()));
    }
    let mut outcomes = Vec::new();
    for m in made {
        let fanned_out = m.team.is_some() && opts.team.is_none();
        let o = ctx.deliver(m, store.as_mut()).await?;
        if fanned_out {
            log.team_done(&r.name, &o);
        }
        outcomes.push(o);
    }
    let mut main = outcomes.remove(0);
    main.teams = outcomes;
    Ok(main)
}

/// The index of the team `name` (letter case and surrounding spaces ignored).
fn team_index(teams: &metrics::Teams, name: &str) -> Result<usize> {
    let key = name.trim().to_lowercase();
    teams
        .teams
        .iter()
        .position(|t| {
            t.name
                .as_deref()
                .is_some_and(|n| n.trim().to_lowercase() == key)
        })
        .with_context(|| {
            let names: Vec<&str> = teams
                .teams
                .iter()
                .filter_map(|t| t.name.as_deref())
                .collect();
            format!(
                "--team {name:?}: no such team; teams in the config and the CRM data: {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
}

/// What one report's run shares between the organisation's report and
/// the teams'.
struct Unit<'a> {
    s: &'a Settings,
    r: &'a ReportSettings,
    pulled: &'a Pulled,
    engine: &'a metrics::Engine<'a>,
    teams: &'a metrics::Teams,
    ms: &'a metrics::Settings,
    currency: &'a str,
    out_dir: &'a std::path::Path,
    period: Period,
    as_of: NaiveDate,
    opts: &'a RunOptions,
}

/// A report made and on disk, not yet delivered.
struct Made {
    team: Option<String>,
    manager: Option<String>,
    /// A config team's own Slack channel and Teams webhook.
    chat: crate::config::TeamChat,
    figures: Figures,
    rendered: crate::render::Rendered,
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Unit<'_> {
    /// Computes, writes and (unless a dry run) stores the forecasts of the
    /// organisation's report (`team: None`) or team `team`'s.
    fn make(&self, team: Option<usize>, mut store: Option<&mut Store>) -> Result<Made> {
        let (r, period, as_of) = (self.r, self.period, self.as_of);
        let all = metrics::Scope::all();
        let (scope, name, manager, chat) = match team {
            None => (&all, None, None, Default::default()),
            Some(i) => {
                let t = &self.teams.teams[i];
                let chat = t
                    .config_index
                    .and_then(|c| self.s.team_chat.get(c))
                    .cloned()
                    .unwrap_or_default();
                (
                    &self.teams.scopes[i],
                    t.name.clone(),
                    t.manager.clone(),
                    chat,
                )
            }
        };
        let key = name.as_deref().unwrap_or("");
        let stored = match store.as_deref_mut() {
            Some(st) => st.stored_forecasts(&r.name, key)?,
            None => Vec::new(),
        };
        // The organisation's team rows are computed beside its report (which
        // leaves a core idle now and then), not after it.
        let (mut figures, rows) = std::thread::scope(|sc| {
            let rows = team
                .is_none()
                .then(|| sc.spawn(|| self.engine.team_rows(self.teams, period, as_of)));
            let figures = self.engine.report(scope, period, as_of, &stored);
            let rows = rows.map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            (figures, rows)
        });
        for (t, member) in &self.teams.unmatched {
            if name.is_none() || name.as_deref() == Some(t.as_str()) {
                figures.data_quality.push(format!(
                    "team {t:?}: member {member:?} is not a rep in the CRM data (check [[teams]] members)"
                ));
            }
        }
        let pulled = self.pulled;
        let json = report::report_json(&figures, self.currency, name.as_deref(), rows.as_deref());
        let mut bytes = serde_json::to_vec_pretty(&json)?;
        bytes.push(b'\n');
        let dir = match &name {
            None => self.out_dir.join(&r.name).join(period.label()),
            Some(t) => self
                .out_dir
                .join(&r.name)
                .join("teams")
                .join(team_folder(t))
                .join(period.label()),
        };
        // report.json and the rendered report are published together, whole.
        let rendered = output::render(
            self.s,
            r,
            pulled,
            &figures,
            self.ms,
            name.as_deref(),
            rows.as_deref().unwrap_or_default(),
        )?;
        let mut outputs = vec![("report.json".to_string(), bytes)];
        outputs.extend(rendered.files());
        let files = crate::deliver::files::publish_dir(&dir, &outputs)?;

        if !self.opts.dry_run {
            let values: Vec<(Method, rust_decimal::Decimal)> = Method::ALL
                .into_iter()
                .filter_map(|m| figures.forecasts.get(m).map(|v| (m, metrics::cents(v))))
                .collect();
            if let Some(st) = store {
                st.save_forecasts(&r.name, key, &figures.forecasts.target, as_of, &values)?;
            }
        }
        Ok(Made {
            team: name,
            manager,
            chat,
            figures,
            rendered,
            dir,
            files,
        })
    }

    /// Sends a made report: the organisation's to the report's recipients
    /// and chat destinations, a team's to its manager and `team_cc` and to
    /// its own Slack channel and Teams webhook.
    async fn deliver(&self, m: Made, store: Option<&mut Store>) -> Result<ReportOutcome> {
        let r = self.r;
        let delivery = match &m.team {
            None => {
                output::deliver(
                    self.s,
                    r,
                    &m.rendered,
                    &m.figures,
                    self.out_dir,
                    self.opts,
                    store,
                )
                .await?
            }
            Some(t) => {
                output::deliver_team(
                    self.s,
                    r,
                    &output::TeamDestinations {
                        team: t,
                        manager: m.manager.as_deref(),
                        chat: &m.chat,
                    },
                    &m.rendered,
                    &m.figures,
                    self.out_dir,
                    self.opts,
                    store,
                )
                .await?
            }
        };
        Ok(ReportOutcome {
            name: r.name.clone(),
            team: m.team,
            figures: m.figures,
            currency: self.currency.to_string(),
            dir: m.dir,
            files: m.files,
            delivery,
            teams: Vec::new(),
        })
    }
}

/// A team's folder name: the team name, with anything a file system could
/// misread (a CRM team may be called "EMEA/North") replaced by `_`.
pub fn team_folder(name: &str) -> String {
    let safe: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    match safe.trim_start_matches('.') {
        "" => "_".to_string(),
        s if s.len() < safe.len() => format!("_{s}"),
        _ => safe,
    }
}
