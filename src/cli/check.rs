//! `salesops check`: validate the config and say what it would do.

use super::ConfigArg;
use anyhow::Result;

pub fn check(args: ConfigArg) -> Result<i32> {
    let (s, origin) = super::settings(&args)?;
    let now = chrono::Utc::now();
    println!(
        "config ok: {}",
        match &origin {
            salesops::config::ConfigOrigin::File(p) => p.display().to_string(),
            salesops::config::ConfigOrigin::Embedded => "built-in default".into(),
        }
    );
    println!(
        "  source: {}{}",
        s.source.kind.as_str(),
        s.source
            .path
            .as_deref()
            .map(|p| format!(" ({p})"))
            .unwrap_or_default()
    );
    println!(
        "  time zone {}, currency {}, state in {}, reports in {}",
        s.tz,
        s.currency.as_deref().unwrap_or("as the CRM data says"),
        s.state_dir.display(),
        s.out_dir.display()
    );
    for r in &s.reports {
        let opts = salesops::app::RunOptions::default();
        let (period, as_of) = salesops::app::plan(r, &s, &opts, now)?;
        println!(
            "  report {:?}: a run now covers {} as of {}; schedule {}; to {}",
            r.name,
            period.label(),
            as_of,
            r.schedule.as_deref().unwrap_or("none (by hand)"),
            if r.to.is_empty() {
                "nobody (files only)".to_string()
            } else {
                r.to.join(", ")
            }
        );
    }
    println!("next fires (salesops schedules):");
    print!("{}", super::schedules::listing(&s, now, 5));
    Ok(0)
}
