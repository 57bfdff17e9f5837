//! `salesops run`: compute (and deliver) reports now.

use super::ConfigArg;
use anyhow::Result;
use clap::Args;
use salesops::app::{self, RunOptions};
use salesops::render::format;
use std::path::PathBuf;

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
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    salesops::period::parse_date(s).map_err(|e| e.to_string())
}

pub fn run(args: RunArgs) -> Result<i32> {
    let (settings, origin) = super::settings(&args.config)?;
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
    let outcomes = rt.block_on(app::run(&settings, &origin, &opts, chrono::Utc::now()))?;
    for o in outcomes.iter().flat_map(|o| o.all()) {
        print_summary(o);
    }
    // 1: some recipient did not get the report (it stays on disk and the
    // next run sends only to them).
    let failed = outcomes.iter().any(|o| o.failed().next().is_some());
    Ok(if failed { 1 } else { 0 })
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
    print_delivery(&o.delivery);
}

fn print_delivery(d: &app::DeliveryOutcome) {
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
    for (who, why) in &d.failed {
        eprintln!("salesops: delivery to {who} failed: {why}");
    }
}
