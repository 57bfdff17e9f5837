//! `salesops run`: compute (and deliver) reports now.

use super::ConfigArg;
use anyhow::{bail, Context, Result};
use clap::Args;
use salesops::app::{self, RunOptions};
use salesops::config::Settings;
use salesops::render::format;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Period: 2026-07, 2026-Q3 or 2026-07-01..2026-09-30. Default: each
    /// report's `period` selector.
    #[arg(long)]
    pub period: Option<String>,
    /// Books as of the start of this local date (YYYY-MM-DD). Default: today,
    /// or the period's end when it is over.
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Run only this configured report. Default: all.
    #[arg(long)]
    pub report: Option<String>,
    /// Make only this team's report (a `[[teams]]` name or a CRM team,
    /// letter case ignored) and deliver it to its manager; with --report.
    #[arg(long, requires = "report")]
    pub team: Option<String>,
    /// Write reports here instead of out_dir.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compute and write files; store nothing and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Send again to recipients who already got this report for this period.
    #[arg(long)]
    pub force: bool,
    /// Also write this run's metrics (Prometheus text format) to this file,
    /// atomically, for node_exporter's textfile collector (name it *.prom);
    /// written whether the run succeeds or not. Default: none.
    #[arg(long, value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    salesops::period::parse_date(s).map_err(|e| e.to_string())
}

pub fn run(args: RunArgs) -> Result<i32> {
    let (settings, origin) = super::settings(&args.config)?;
    if let Some(p) = &args.metrics_file {
        check_metrics_dir(p)?;
    }
    let opts = RunOptions {
        period: args.period,
        as_of: args.as_of,
        report: args.report,
        team: args.team,
        out: args.out,
        dry_run: args.dry_run,
        force: args.force,
        trigger: app::Trigger::Manual,
        fired_at: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = rt.block_on(app::run_each(&settings, &origin, &opts, chrono::Utc::now()));
    let metrics = match &args.metrics_file {
        Some(p) => write_metrics(&settings, &opts, p),
        None => Ok(()),
    };
    let results = match results {
        Ok(r) => r,
        Err(e) => {
            if let Err(m) = metrics {
                eprintln!("salesops: error: {m:#}");
            }
            return Err(e);
        }
    };
    let (mut delivered, mut short) = (0, false);
    let mut failed = Vec::new();
    for r in results {
        match r {
            Ok(o) => {
                for one in o.all() {
                    print_summary(one);
                }
                delivered += 1;
                short |= o.failed().next().is_some();
            }
            Err(e) => failed.push(format!("{e:#}")),
        }
    }
    metrics?;
    // 2: no report got through; 1: some report or some recipient did not
    // (recorded: the next run does only what is missing); 0: all went out.
    if delivered == 0 && !failed.is_empty() {
        anyhow::bail!("{}", failed.join("\n"));
    }
    for e in &failed {
        eprintln!("salesops: error: {}", salesops::redact::clean(e, true));
    }
    Ok(if short || !failed.is_empty() { 1 } else { 0 })
}

/// Fails before the run (which may send) when the metrics file cannot go
/// where it is asked to.
fn check_metrics_dir(p: &Path) -> Result<()> {
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        bail!(
            "--metrics-file {}: the folder {} does not exist; create it or give another path",
            p.display(),
            dir.display()
        );
    }
    Ok(())
}

/// The run's metrics, with the series a run could have moved at 0 and the
/// last success of each report from the state store.
fn write_metrics(s: &Settings, opts: &RunOptions, p: &Path) -> Result<()> {
    use salesops::telemetry;
    let reports: Vec<_> = s
        .reports
        .iter()
        .filter(|r| opts.report.as_ref().is_none_or(|n| *n == r.name))
        .collect();
    if !opts.dry_run {
        let channel = salesops::deliver::channel(&s.delivery);
        telemetry::expect_runs(&reports, &[opts.trigger.as_str()], channel);
    }
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    telemetry::load_last_successes(&s.state_dir, &names)
        .and_then(|()| telemetry::write_file(p))
        .with_context(|| format!("--metrics-file {}", p.display()))
}

fn pct(v: Option<f64>) -> String {
    v.map(format::pct).unwrap_or_else(|| "–".into())
}

/// Money as the report shows it (USD 1,234.56 → $1,234.56; KRW without minor unit).
fn money(cur: &str, v: Option<rust_decimal::Decimal>) -> String {
    v.map(|v| format::money(cur, v))
        .unwrap_or_else(|| "–".into())
}

fn print_summary(o: &app::ReportOutcome) {
    let f = &o.figures;
    let k = &f.kpis;
    let c = o.currency.as_str();
    match &o.team {
        Some(t) => println!(
            "{} · team {t} · {} (as of {})",
            o.name,
            f.period.label(),
            f.as_of
        ),
        None => println!("{} · {} (as of {})", o.name, f.period.label(), f.as_of),
    }
    let rows = [
        ("won revenue", money(c, Some(k.won_revenue))),
        (
            "deals won / lost",
            format!("{} / {}", k.deals_won, k.deals_lost),
        ),
        ("win rate", pct(k.win_rate)),
        ("reps at quota", pct(k.quota_attainment_rate)),
        (
            "pipeline (weighted)",
            format!(
                "{} ({})",
                money(c, Some(k.pipeline_total)),
                money(c, Some(k.pipeline_weighted))
            ),
        ),
        (
            "coverage of next target",
            k.pipeline_coverage
                .map(|v| format!("{v:.2}×"))
                .unwrap_or("–".into()),
        ),
        (
            "forecast",
            format!(
                "{}: weighted {} · commit {} · historical {}",
                f.forecasts.target.label(),
                money(c, Some(f.forecasts.stage_weighted)),
                money(c, Some(f.forecasts.rep_commit)),
                money(c, Some(f.forecasts.historical))
            ),
        ),
    ];
    for (k, v) in rows {
        println!("  {k:<24} {v}");
    }
    for p in &o.files {
        println!("  wrote {}", p.display());
    }
    print_delivery(&o.delivery, o.team.as_deref());
}

/// Who got the report; a failure names the team of a team's report (the
/// same address can be on several teams' reports through `team_cc`).
fn print_delivery(d: &app::DeliveryOutcome, team: Option<&str>) {
    let via = d
        .via
        .as_deref()
        .map(|v| format!(" via {v}"))
        .unwrap_or_default();
    // Email recipients went through [delivery]; chat destinations
    // ("slack:…", "msteams:…") did not.
    let (chat, mail): (Vec<&String>, Vec<&String>) = d
        .sent
        .iter()
        .partition(|s| s.starts_with("slack:") || s.starts_with("msteams:"));
    let list = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    if !mail.is_empty() {
        println!("  sent to {}{via}", list(&mail));
    }
    if !chat.is_empty() {
        println!("  posted to {}", list(&chat));
    }
    if !d.already.is_empty() {
        println!(
            "  already sent to {} (use --force to send again)",
            d.already.join(", ")
        );
    }
    if !d.would_send.is_empty() {
        println!("  dry run: would send to {}", d.would_send.join(", "));
    }
    let of_team = team
        .map(|t| format!(" (team {})", salesops::redact::clean(t, false)))
        .unwrap_or_default();
    for (who, why) in &d.failed {
        eprintln!(
            "salesops: delivery to {who}{of_team} failed: {}",
            salesops::redact::clean(why, false)
        );
    }
}
