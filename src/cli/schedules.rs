//! `salesops schedules` (also printed by `check`): every report's next fire
//! times, in its own zone and in UTC, and the period each would cover.

use super::ConfigArg;
use anyhow::Result;
use clap::Args;
use salesops::config::Settings;
use salesops::schedule::plan;

#[derive(Args, Debug)]
pub struct SchedulesArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// How many fire times to list per report.
    #[arg(long, short = 'n', default_value_t = 5)]
    pub count: usize,
}

pub fn schedules(args: SchedulesArgs) -> Result<i32> {
    let (s, _) = super::settings(&args.config)?;
    print!("{}", listing(&s, chrono::Utc::now(), args.count));
    Ok(0)
}

/// The listing for fires after `now`.
pub fn listing(s: &Settings, now: chrono::DateTime<chrono::Utc>, n: usize) -> String {
    let mut out = String::new();
    for r in &s.reports {
        let Some(cron) = plan::schedule_of(r) else {
            out.push_str(&format!(
                "{}: no schedule (runs only with salesops run --report {})\n",
                r.name, r.name
            ));
            continue;
        };
        out.push_str(&format!(
            "{}: \"{}\" in {}, period {}\n",
            r.name,
            r.schedule.as_deref().unwrap_or_default(),
            r.tz,
            selector_name(r)
        ));
        let fires = plan::upcoming(r, s, &cron, now, n);
        if fires.is_empty() {
            out.push_str("  never fires again\n");
        }
        for f in fires {
            out.push_str(&format!(
                "  {:<27} {:<22} covers {}\n",
                f.local.format("%a %Y-%m-%d %H:%M:%S %Z"),
                f.at.format("%Y-%m-%d %H:%M:%S UTC"),
                if f.key == f.period.label() {
                    f.key
                } else {
                    format!("{} as of {}", f.period.label(), f.as_of)
                }
            ));
        }
    }
    out
}

fn selector_name(r: &salesops::config::ReportSettings) -> &'static str {
    use salesops::config::PeriodSelector::*;
    match r.period {
        PreviousMonth => "previous_month",
        PreviousQuarter => "previous_quarter",
        CurrentMonth => "current_month",
        CurrentQuarter => "current_quarter",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn lists_zone_utc_and_period() {
        let text = include_str!("../../tests/fixtures/schedules.toml");
        let s = Settings::from_toml(&format!("{text}\n[[reports]]\nname = \"adhoc\"\n")).unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
        let got = listing(&s, now, 2);
        let want = "\
monthly-leadership: \"0 7 1 * *\" in America/New_York, period previous_month
  Sun 2026-11-01 07:00:00 EST 2026-11-01 12:00:00 UTC covers 2026-10
  Tue 2026-12-01 07:00:00 EST 2026-12-01 12:00:00 UTC covers 2026-11
quarterly-board: \"0 8 2 1,4,7,10 *\" in Asia/Seoul, period previous_quarter
  Sat 2027-01-02 08:00:00 KST 2027-01-01 23:00:00 UTC covers 2026-Q4
  Fri 2027-04-02 08:00:00 KST 2027-04-01 23:00:00 UTC covers 2027-Q1
weekly-pipeline: \"0 9 * * MON\" in Asia/Seoul, period current_quarter
  Mon 2026-10-26 09:00:00 KST 2026-10-26 00:00:00 UTC covers 2026-Q4 as of 2026-10-26
  Mon 2026-11-02 09:00:00 KST 2026-11-02 00:00:00 UTC covers 2026-Q4 as of 2026-11-02
adhoc: no schedule (runs only with salesops run --report adhoc)
";
        assert_eq!(got, want);
    }
}
