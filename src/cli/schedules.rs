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
        if let Some(line) = reports_per_fire(r, s) {
            out.push_str(&line);
        }
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

/// How many reports a fire of `r` makes, for a report with `fan_out =
/// "teams"`: its own and one per team. The config's teams are known now;
/// a team found only in the CRM data adds one at run time.
fn reports_per_fire(r: &salesops::config::ReportSettings, s: &Settings) -> Option<String> {
    if r.fan_out != salesops::config::FanOut::Teams {
        return None;
    }
    let n = s.teams.len();
    Some(match n {
        0 => "  each fire makes 1 report and one per team of the CRM data (fan_out = \"teams\"; no [[teams]] in the config)\n".to_string(),
        _ => format!(
            "  each fire makes {} reports: the organisation's and {n} team{} of [[teams]] (fan_out = \"teams\"); each team found only in the CRM data adds one\n",
            n + 1,
            if n == 1 { "'s" } else { "s'" }
        ),
    })
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

    #[test]
    fn a_fan_out_report_says_how_many_reports_each_fire_makes() {
        let text = "[[teams]]\nname = \"Seoul\"\n[[teams]]\nname = \"Busan\"\n\
            [[reports]]\nname = \"m\"\nschedule = \"0 7 1 * *\"\nfan_out = \"teams\"\n";
        let s = Settings::from_toml(text).unwrap();
        let now = chrono::Utc.with_ymd_and_hms(2026, 10, 20, 0, 0, 0).unwrap();
        let got = listing(&s, now, 1);
        let want = "\
m: \"0 7 1 * *\" in UTC, period previous_month
  each fire makes 3 reports: the organisation's and 2 teams' of [[teams]] (fan_out = \"teams\"); each team found only in the CRM data adds one
  Sun 2026-11-01 07:00:00 UTC 2026-11-01 07:00:00 UTC covers 2026-10
";
        assert_eq!(got, want);
        let s = Settings::from_toml(&text.replace("[[teams]]\nname = \"Busan\"\n", "")).unwrap();
        assert!(listing(&s, now, 1)
            .contains("each fire makes 2 reports: the organisation's and 1 team's of [[teams]]"));
        let s = Settings::from_toml(&text.replace("fan_out = \"teams\"", "")).unwrap();
        assert!(!listing(&s, now, 1).contains("each fire makes"));
    }
}
