//! Cron expressions as ops write them: 5 fields (min hour dom mon dow), or 6
//! with seconds first, POSIX day matching (day-of-month OR day-of-week), read
//! in the report's zone with croner 4 (whose DST rules are right: a time in
//! a spring-forward gap runs once, right after the gap; a repeated hour
//! runs once).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

pub fn parse(expr: &str) -> Result<Cron, String> {
    let fields = expr.split_whitespace().count();
    if !(fields == 5 || fields == 6 || expr.trim_start().starts_with('@')) {
        return Err(format!(
            "{expr:?} has {fields} fields; write 5 (minute hour day month weekday, e.g. \"0 7 1 * *\") or 6 with seconds first"
        ));
    }
    CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(expr)
        .map_err(|e| format!("{expr:?} is not a valid cron expression: {e}"))
}

/// The next `n` fire times strictly after `after`, in zone `tz`.
pub fn next_fires(cron: &Cron, tz: Tz, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
    let mut out = Vec::with_capacity(n);
    let mut t = after.with_timezone(&tz);
    while out.len() < n {
        match cron.find_next_occurrence(&t, false) {
            Ok(next) => {
                out.push(next);
                t = next;
            }
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn accepts_five_and_six_fields() {
        assert!(parse("0 7 1 * *").is_ok());
        assert!(parse("0 0 7 1 * *").is_ok());
        assert!(parse("0 9 * * MON").is_ok());
        assert!(parse("0 7 1 * * * *").is_err());
        assert!(parse("0 7 *").is_err());
        assert!(parse("61 7 1 * *").is_err());
    }

    #[test]
    fn fires_in_the_report_zone() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        let c = parse("0 7 1 * *").unwrap();
        let after = Utc.with_ymd_and_hms(2026, 7, 15, 0, 0, 0).unwrap();
        let next = next_fires(&c, seoul, after, 2);
        assert_eq!(next[0].to_rfc3339(), "2026-08-01T07:00:00+09:00");
        assert_eq!(next[1].to_rfc3339(), "2026-09-01T07:00:00+09:00");
    }

    #[test]
    fn spring_forward_gap_fires_once() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let c = parse("30 2 * * *").unwrap();
        // 2027-03-14: clocks go from 02:00 to 03:00 in New York.
        let after = ny
            .with_ymd_and_hms(2027, 3, 13, 12, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let fires = next_fires(&c, ny, after, 3);
        let days: Vec<String> = fires.iter().map(|f| f.date_naive().to_string()).collect();
        assert_eq!(days, ["2027-03-14", "2027-03-15", "2027-03-16"]);
    }

    #[test]
    fn fall_back_overlap_fires_once() {
        let ny: Tz = "America/New_York".parse().unwrap();
        let c = parse("30 1 * * *").unwrap();
        // 2026-11-01: 01:00-02:00 happens twice in New York.
        let after = ny
            .with_ymd_and_hms(2026, 10, 31, 12, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let fires = next_fires(&c, ny, after, 2);
        let days: Vec<String> = fires.iter().map(|f| f.date_naive().to_string()).collect();
        assert_eq!(days, ["2026-11-01", "2026-11-02"]);
    }
}
