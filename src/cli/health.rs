//! `salesops health`: a health check for containers and supervisors. With
//! `[serve] listen` it asks the running `serve` (`GET /healthz`, or
//! `/readyz` with `--ready`); without, it only checks the config, as
//! `salesops check` does. Exit 0 healthy, 1 not (what Docker's HEALTHCHECK
//! expects; never 2).

use super::ConfigArg;
use anyhow::Result;
use clap::Args;
use std::time::Duration;

#[derive(Args, Debug)]
pub struct HealthArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Ask /readyz (ready to run schedules) instead of /healthz (alive).
    #[arg(long)]
    pub ready: bool,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
}

pub fn health(args: HealthArgs) -> Result<i32> {
    match probe(&args) {
        Ok(code) => Ok(code),
        Err(e) => {
            eprintln!("salesops: unhealthy: {e:#}");
            Ok(1)
        }
    }
}

fn probe(args: &HealthArgs) -> Result<i32> {
    let (settings, _) = super::settings(&args.config)?;
    let Some(listen) = settings.serve.listen else {
        println!("config ok; no [serve] listen, so there is no running serve to ask");
        return Ok(0);
    };
    let path = if args.ready { "/readyz" } else { "/healthz" };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    let (status, body) = rt.block_on(salesops::telemetry::server::ask(listen, path, timeout))?;
    let body = body.trim();
    if status == 200 {
        println!("{path}: {body}");
        Ok(0)
    } else {
        eprintln!("salesops: unhealthy: {path} answered {status}: {body}");
        Ok(1)
    }
}
