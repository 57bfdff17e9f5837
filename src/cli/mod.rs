//! The command line: parsing (clap derive) and one function per command.
//! Commands only parse, wire and print; the work happens in the library.

mod bench;
mod check;
mod health;
mod history;
mod pull;
mod run;
mod schedules;
mod send_test;
mod serve;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "salesops",
    version,
    about = "Sales operations review: KPIs, forecasts, quadrants and commission from your CRM, as a report by email."
)]
pub struct Cli {
    /// Log format: text for people, json for containers.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// More of salesops' own log output (-v debug, -vv trace). Other
    /// crates' logs only through SALESOPS_LOG (e.g. SALESOPS_LOG=lettre=debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArg {
    /// The config file (TOML). Default: the built-in demo config.
    #[arg(long, short, env = "SALESOPS_CONFIG")]
    pub config: Option<PathBuf>,
}

use clap::Args;

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Compute the reports now, write them under out_dir and deliver them.
    Run(run::RunArgs),
    /// Validate the config and say what it would do; --pull also shows the
    /// teams as matched against the CRM data.
    Check(check::CheckArgs),
    /// Run every scheduled report on its cron until SIGTERM/SIGINT.
    Serve(ConfigArg),
    /// List each report's next fire times (its zone and UTC) and the period each covers.
    Schedules(schedules::SchedulesArgs),
    /// List recorded runs, newest first.
    History(history::HistoryArgs),
    /// Measure parse and compute time on a generated snapshot (performance budget).
    #[command(hide = true)]
    Bench(bench::BenchArgs),
    /// Send a small test message to check the [delivery] settings.
    SendTest(send_test::SendTestArgs),
    /// Pull the CRM now; with --save, write it as a canonical snapshot.
    Pull(pull::PullArgs),
    /// Ask a running serve whether it is healthy ([serve] listen), for a
    /// container's HEALTHCHECK; exit 0 healthy, 1 not.
    Health(health::HealthArgs),
}

/// Runs the parsed command; the exit code is 0 on success, 1 when some
/// delivery failed, 2 on error (returned as Err).
pub fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(args),
        Command::Serve(args) => serve::serve(args),
        Command::Schedules(args) => schedules::schedules(args),
        Command::History(args) => history::history(args),
        Command::Bench(args) => bench::bench(args),
        Command::SendTest(args) => send_test::send_test(args),
        Command::Pull(args) => pull::pull(args),
        Command::Health(args) => health::health(args),
    }
}

/// Loads and resolves the config, reporting every problem at once.
pub fn settings(
    arg: &ConfigArg,
) -> anyhow::Result<(salesops::config::Settings, salesops::config::ConfigOrigin)> {
    let (raw, origin) = salesops::config::load(arg.config.as_deref())?;
    let name = match &origin {
        salesops::config::ConfigOrigin::File(p) => p.display().to_string(),
        salesops::config::ConfigOrigin::Embedded => "the built-in config".into(),
    };
    // Credentials in a snapshot URL are secrets like any other.
    if let Some(p) = raw.source.path.as_deref() {
        salesops::redact::register_url(p);
    }
    let s = salesops::config::Settings::resolve(raw).map_err(|errs| {
        anyhow::anyhow!(
            "{} problem(s) in {name}:\n  {}",
            errs.len(),
            errs.join("\n  ")
        )
    })?;
    Ok((s, origin))
}
