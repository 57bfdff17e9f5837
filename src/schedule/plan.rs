//! Pure scheduling decisions, with the clock passed in: which period a
//! fire at instant T covers, the next fires of a report, the latest fire
//! that is due, whether catch-up should run it, and how long to wait
//! before retrying. No I/O, no sleeping: `serve` does that.

use super::cron;
use crate::app::{self, RunOptions};
use crate::config::{ReportSettings, Settings};
use crate::period::Period;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use croner::Cron;
use std::time::Duration;

/// One fire of a report's schedule and what it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Fire {
    pub at: DateTime<Utc>,
    /// `at` in the report's zone.
    pub local: DateTime<Tz>,
    pub period: Period,
    pub as_of: NaiveDate,
    /// `period.key(as_of)`: what "once per period" counts.
    pub key: String,
}

/// What a fire at `at` covers: the period selector read on the local date
/// of `at` in the report's zone, exactly as `salesops run` would then.
pub fn fire(r: &ReportSettings, s: &Settings, at: DateTime<Utc>) -> Fire {
    let (period, as_of) = app::plan(r, s, &RunOptions::default(), at)
        .expect("a plan without --period/--as-of cannot fail");
    Fire {
        at,
        local: at.with_timezone(&r.tz),
        key: period.key(as_of),
        period,
        as_of,
    }
}

/// The report's parsed schedule; None when it has none (run by hand).
pub fn schedule_of(r: &ReportSettings) -> Option<Cron> {
    // resolve() already rejected a bad expression.
    r.schedule.as_deref().and_then(|e| cron::parse(e).ok())
}

/// The next `n` fires strictly after `now`.
pub fn upcoming(
    r: &ReportSettings,
    s: &Settings,
    c: &Cron,
    now: DateTime<Utc>,
    n: usize,
) -> Vec<Fire> {
    cron::next_fires(c, r.tz, now, n)
        .into_iter()
        .map(|t| fire(r, s, t.with_timezone(&Utc)))
        .collect()
}

/// The latest fire at or before `now`, read in zone `tz`.
pub fn latest_due(c: &Cron, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    c.find_previous_occurrence(&now.with_timezone(&tz), true)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// What catch-up does for one report when `serve` starts.
#[derive(Debug, Clone, PartialEq)]
pub enum CatchUp {
    /// `catch_up = false`.
    Off,
    /// The schedule has never fired (nothing is due).
    NothingDue,
    /// The latest fire's period already has an "ok" run.
    Done,
    /// Run the latest fire now, for this reason (logged).
    Run(String),
}

/// Decides catch-up from the latest due fire and how its period key stands
/// in the run log (`Store::period_outcome`; None: never run).
pub fn catch_up(enabled: bool, latest: Option<&Fire>, outcome: Option<&str>) -> CatchUp {
    if !enabled {
        return CatchUp::Off;
    }
    let Some(f) = latest else {
        return CatchUp::NothingDue;
    };
    let when = f.local.format("%Y-%m-%d %H:%M:%S %Z");
    match outcome {
        Some("ok") => CatchUp::Done,
        None => CatchUp::Run(format!(
            "the fire of {when} (period {}) has no run in the state store",
            f.key
        )),
        Some(o) => CatchUp::Run(format!(
            "the last run for the fire of {when} (period {}) ended \"{o}\"",
            f.key
        )),
    }
}

/// Waits before retry number `attempt` (1 = the first retry): 5 s,
/// doubling, at most 5 minutes.
pub fn retry_delay(attempt: u32) -> Duration {
    let secs = 5u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(16));
    Duration::from_secs(secs.min(300))
}

/// The wait before retry `attempt`, or None when it would start after the
/// window (`retry_for_minutes`, counted from the first attempt).
pub fn next_retry(elapsed: Duration, attempt: u32, window: Duration) -> Option<Duration> {
    let d = retry_delay(attempt);
    (elapsed + d <= window).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The issue's example, plus two New York reports for DST and month ends.
    const CONFIG: &str = concat!(
        include_str!("../../tests/fixtures/schedules.toml"),
        r#"
[[reports]]
name = "nightly"
period = "current_month"
schedule = "59 23 * * *"
timezone = "America/New_York"
[[reports]]
name = "early"
period = "current_month"
schedule = "30 2 * * *"
timezone = "America/New_York"
"#
    );

    fn settings() -> Settings {
        Settings::from_toml(CONFIG).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn report<'a>(s: &'a Settings, name: &str) -> &'a ReportSettings {
        s.report(name).unwrap()
    }

    #[test]
    fn seoul_seven_on_the_first_reports_the_month_before() {
        let mut s = settings();
        s.reports[1].period = crate::config::PeriodSelector::PreviousMonth;
        // 07:00 on 1 August in Seoul is still 31 July in UTC.
        let f = fire(&s.reports[1], &s, utc("2026-07-31T22:00:00Z"));
        assert_eq!(f.period.label(), "2026-07");
        assert_eq!(f.key, "2026-07");
        assert_eq!(f.as_of.to_string(), "2026-08-01");
    }

    #[test]
    fn month_end_reads_the_local_date_not_utc() {
        let s = settings();
        let r = report(&s, "nightly");
        // 23:59 on 31 January in New York is 1 February in UTC.
        let c = schedule_of(r).unwrap();
        let f = &upcoming(r, &s, &c, utc("2027-01-31T12:00:00Z"), 1)[0];
        assert_eq!(f.at, utc("2027-02-01T04:59:00Z"));
        assert_eq!(f.key, "2027-01@2027-01-31");
        // And the next one is February's first day.
        let f = &upcoming(r, &s, &c, f.at, 1)[0];
        assert_eq!(f.key, "2027-02@2027-02-01");
    }

    #[test]
    fn quarter_boundary_and_fiscal_year() {
        let s = settings();
        let r = report(&s, "quarterly-board");
        let c = schedule_of(r).unwrap();
        let f = &upcoming(r, &s, &c, utc("2026-12-15T00:00:00Z"), 1)[0];
        assert_eq!(f.local.to_rfc3339(), "2027-01-02T08:00:00+09:00");
        assert_eq!(f.key, "2026-Q4");
    }

    #[test]
    fn dst_days_fire_once_and_cover_that_local_day() {
        let s = settings();
        let r = report(&s, "early");
        let c = schedule_of(r).unwrap();
        // Spring forward, 2027-03-14: 02:30 does not exist; one fire at 03:00.
        let fires = upcoming(r, &s, &c, utc("2027-03-13T12:00:00Z"), 3);
        let got: Vec<String> = fires.iter().map(|f| f.local.to_rfc3339()).collect();
        assert_eq!(
            got,
            [
                "2027-03-14T03:00:00-04:00",
                "2027-03-15T02:30:00-04:00",
                "2027-03-16T02:30:00-04:00"
            ]
        );
        assert_eq!(fires[0].key, "2027-03@2027-03-14");
        // Fall back, 2026-11-01: 01:00-02:00 repeats; "0 1 1 * *"-style
        // monthly reports fire once and cover October.
        let mut monthly = report(&s, "monthly-leadership").clone();
        monthly.schedule = Some("30 1 1 * *".into());
        let c = schedule_of(&monthly).unwrap();
        let fires = upcoming(&monthly, &s, &c, utc("2026-10-31T12:00:00Z"), 2);
        assert_eq!(fires[0].local.to_rfc3339(), "2026-11-01T01:30:00-04:00");
        assert_eq!(fires[0].key, "2026-10");
        assert_eq!(fires[1].local.to_rfc3339(), "2026-12-01T01:30:00-05:00");
    }

    #[test]
    fn next_five_of_the_issue_example() {
        let s = settings();
        let r = report(&s, "monthly-leadership");
        let c = schedule_of(r).unwrap();
        let fires = upcoming(r, &s, &c, utc("2026-09-15T00:00:00Z"), 5);
        let got: Vec<(String, String, String)> = fires
            .iter()
            .map(|f| (f.local.to_rfc3339(), f.at.to_rfc3339(), f.key.clone()))
            .collect();
        let want = [
            (
                "2026-10-01T07:00:00-04:00",
                "2026-10-01T11:00:00+00:00",
                "2026-09",
            ),
            (
                "2026-11-01T07:00:00-05:00",
                "2026-11-01T12:00:00+00:00",
                "2026-10",
            ),
            (
                "2026-12-01T07:00:00-05:00",
                "2026-12-01T12:00:00+00:00",
                "2026-11",
            ),
            (
                "2027-01-01T07:00:00-05:00",
                "2027-01-01T12:00:00+00:00",
                "2026-12",
            ),
            (
                "2027-02-01T07:00:00-05:00",
                "2027-02-01T12:00:00+00:00",
                "2027-01",
            ),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(got, want);
        // A running period names its as_of: Monday 9:00 Seoul, quarter to date.
        let r = report(&s, "weekly-pipeline");
        let c = schedule_of(r).unwrap();
        let f = &upcoming(r, &s, &c, utc("2026-09-15T00:00:00Z"), 1)[0];
        assert_eq!(f.local.to_rfc3339(), "2026-09-21T09:00:00+09:00");
        assert_eq!(f.key, "2026-Q3@2026-09-21");
        // No schedule, no fires.
        let mut manual = r.clone();
        manual.schedule = None;
        assert!(schedule_of(&manual).is_none());
    }

    #[test]
    fn latest_due_is_inclusive_and_dst_aware() {
        let s = settings();
        let r = report(&s, "monthly-leadership");
        let c = schedule_of(r).unwrap();
        let at = utc("2026-11-01T12:00:00Z");
        assert_eq!(latest_due(&c, r.tz, at), Some(at));
        assert_eq!(
            latest_due(&c, r.tz, at - chrono::Duration::seconds(1)),
            Some(utc("2026-10-01T11:00:00Z"))
        );
        let r = report(&s, "early");
        let c = schedule_of(r).unwrap();
        let ny = r.tz;
        let after_gap = ny.with_ymd_and_hms(2027, 3, 14, 3, 10, 0).unwrap();
        assert_eq!(
            latest_due(&c, ny, after_gap.with_timezone(&Utc)),
            Some(utc("2027-03-14T07:00:00Z")) // 03:00 EDT
        );
    }

    #[test]
    fn catch_up_runs_only_what_is_not_done() {
        let s = settings();
        let r = report(&s, "monthly-leadership");
        let f = fire(r, &s, utc("2026-11-01T12:00:00Z"));
        assert_eq!(catch_up(false, Some(&f), None), CatchUp::Off);
        assert_eq!(catch_up(true, None, None), CatchUp::NothingDue);
        assert_eq!(catch_up(true, Some(&f), Some("ok")), CatchUp::Done);
        let CatchUp::Run(why) = catch_up(true, Some(&f), None) else {
            panic!("should run")
        };
        assert!(
            why.contains("2026-11-01 07:00:00 EST") && why.contains("2026-10"),
            "{why}"
        );
        for o in ["failed", "partial", "interrupted", "running"] {
            let CatchUp::Run(why) = catch_up(true, Some(&f), Some(o)) else {
                panic!("{o} should run")
            };
            assert!(why.contains(o), "{why}");
        }
    }

    #[test]
    fn retries_back_off_inside_the_window() {
        let secs: Vec<u64> = (1..=8).map(|a| retry_delay(a).as_secs()).collect();
        assert_eq!(secs, [5, 10, 20, 40, 80, 160, 300, 300]);
        let w = Duration::from_secs(60);
        assert_eq!(
            next_retry(Duration::ZERO, 1, w),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            next_retry(Duration::from_secs(40), 3, w),
            Some(Duration::from_secs(20))
        );
        assert_eq!(next_retry(Duration::from_secs(41), 3, w), None);
        assert_eq!(next_retry(Duration::ZERO, 1, Duration::ZERO), None);
        assert_eq!(retry_delay(u32::MAX).as_secs(), 300);
    }
}
