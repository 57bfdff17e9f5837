//! Periods (months, fiscal quarters, explicit ranges), their labels, and the
//! instants at which local days begin in the report time zone.
//!
//! Pure: no clock, no I/O. `as_of` and the zone always come in as arguments.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;

/// What kind of period this is; decides its label, its previous period and
/// how many "months" it counts for quotas and forecasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Month,
    /// A fiscal quarter; `fiscal_year` is the year the label shows.
    Quarter {
        fiscal_year: i32,
        quarter: u32,
        fiscal_start_month: u32,
    },
    Range,
}

/// A half-open range of local dates `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub kind: PeriodKind,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PeriodError {
    #[error("{0:?} is not a period: write a month (2026-07), a quarter (2026-Q3) or a range (2026-07-01..2026-09-30)")]
    Syntax(String),
    #[error("{0:?} is not a valid date (YYYY-MM-DD)")]
    BadDate(String),
    #[error("range {0:?} ends before it starts")]
    Reversed(String),
}

impl Period {
    pub fn month(year: i32, month: u32) -> Period {
        let start = NaiveDate::from_ymd_opt(year, month, 1).expect("month 1-12");
        Period {
            start,
            end: add_months(start, 1),
            kind: PeriodKind::Month,
        }
    }

    /// Fiscal quarter `q` of fiscal year `fy`: fiscal year Y starts on the
    /// first day of `fiscal_start_month` of calendar year Y.
    pub fn quarter(fy: i32, q: u32, fiscal_start_month: u32) -> Period {
        let fy_start = NaiveDate::from_ymd_opt(fy, fiscal_start_month, 1).expect("month 1-12");
        let start = add_months(fy_start, 3 * (q as i32 - 1));
        Period {
            start,
            end: add_months(start, 3),
            kind: PeriodKind::Quarter {
                fiscal_year: fy,
                quarter: q,
                fiscal_start_month,
            },
        }
    }

    /// An explicit range; `last` is inclusive, as written on the command line.
    pub fn range(first: NaiveDate, last: NaiveDate) -> Period {
        Period {
            start: first,
            end: last + Duration::days(1),
            kind: PeriodKind::Range,
        }
    }

    /// Parses `2026-07`, `2026-Q3` or `2026-07-01..2026-09-30`.
    pub fn parse(s: &str, fiscal_start_month: u32) -> Result<Period, PeriodError> {
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let first = parse_date(a)?;
            let last = parse_date(b)?;
            if last < first {
                return Err(PeriodError::Reversed(s.to_string()));
            }
            return Ok(Period::range(first, last));
        }
        let (y, rest) = s
            .split_once('-')
            .ok_or_else(|| PeriodError::Syntax(s.into()))?;
        let year: i32 = parse_num(y, s, 4)?;
        if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
            let q: u32 = parse_num(q, s, 1)?;
            if !(1..=4).contains(&q) {
                return Err(PeriodError::Syntax(s.into()));
            }
            return Ok(Period::quarter(year, q, fiscal_start_month));
        }
        let m: u32 = parse_num(rest, s, 2)?;
        if !(1..=12).contains(&m) {
            return Err(PeriodError::Syntax(s.into()));
        }
        Ok(Period::month(year, m))
    }

    /// The month that contains `d`.
    pub fn month_of(d: NaiveDate) -> Period {
        Period::month(d.year(), d.month())
    }

    /// The fiscal quarter that contains `d`.
    pub fn quarter_of(d: NaiveDate, fiscal_start_month: u32) -> Period {
        let months_into_fy = (d.month() as i32 - fiscal_start_month as i32).rem_euclid(12);
        let fy = if d.month() >= fiscal_start_month {
            d.year()
        } else {
            d.year() - 1
        };
        Period::quarter(fy, (months_into_fy / 3) as u32 + 1, fiscal_start_month)
    }

    /// The period before this one of the same kind; for a range, the range of
    /// the same number of days that ends the day before it starts.
    pub fn previous(&self) -> Period {
        match self.kind {
            PeriodKind::Month => Period::month_of(add_months(self.start, -1)),
            PeriodKind::Quarter {
                fiscal_start_month, ..
            } => Period::quarter_of(add_months(self.start, -3), fiscal_start_month),
            PeriodKind::Range => {
                let days = self.days();
                Period {
                    start: self.start - Duration::days(days),
                    end: self.start,
                    kind: PeriodKind::Range,
                }
            }
        }
    }

    /// The period right after this one of the same kind.
    pub fn next(&self) -> Period {
        match self.kind {
            PeriodKind::Month => Period::month_of(self.end),
            PeriodKind::Quarter {
                fiscal_start_month, ..
            } => Period::quarter_of(self.end, fiscal_start_month),
            PeriodKind::Range => {
                let days = self.days();
                Period {
                    start: self.end,
                    end: self.end + Duration::days(days),
                    kind: PeriodKind::Range,
                }
            }
        }
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days()
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.start <= d && d < self.end
    }

    /// The last day of the period (inclusive).
    pub fn last_day(&self) -> NaiveDate {
        self.end - Duration::days(1)
    }

    pub fn label(&self) -> String {
        self.to_string()
    }

    /// What "once per period" counts in the run log, claims and delivery
    /// log: the label for a period that is over at `as_of`; `label@as_of`
    /// for one still running, whose report differs from day to day.
    pub fn key(&self, as_of: NaiveDate) -> String {
        if as_of >= self.end {
            self.label()
        } else {
            format!("{}@{as_of}", self.label())
        }
    }

    /// Local instants bounding the period in zone `tz`.
    pub fn instants(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (day_start(self.start, tz), day_start(self.end, tz))
    }
}

/// Which period a report covers, seen from the local date it runs on
/// (`[[reports]] period`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    PreviousMonth,
    PreviousQuarter,
    CurrentMonth,
    CurrentQuarter,
}

impl Selector {
    /// The period this selector picks for a run on local date `today`.
    pub fn period(&self, today: NaiveDate, fiscal_start_month: u32) -> Period {
        match self {
            Selector::PreviousMonth => Period::month_of(today).previous(),
            Selector::CurrentMonth => Period::month_of(today),
            Selector::PreviousQuarter => Period::quarter_of(today, fiscal_start_month).previous(),
            Selector::CurrentQuarter => Period::quarter_of(today, fiscal_start_month),
        }
    }
}

/// The period and `as_of` of a run on local date `today`, the one rule that
/// manual runs, schedules and `check` share: the explicit period
/// (`--period`) or the report's selector; the explicit `as_of` (`--as-of`),
/// else the period's end once it is over, else today.
pub fn select(
    selector: Selector,
    explicit: Option<&str>,
    as_of: Option<NaiveDate>,
    today: NaiveDate,
    fiscal_start_month: u32,
) -> Result<(Period, NaiveDate), PeriodError> {
    let period = match explicit {
        Some(p) => Period::parse(p, fiscal_start_month)?,
        None => selector.period(today, fiscal_start_month),
    };
    let as_of = as_of.unwrap_or(if period.end <= today {
        period.end
    } else {
        today
    });
    Ok((period, as_of))
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            PeriodKind::Month => write!(f, "{}", self.start.format("%Y-%m")),
            PeriodKind::Quarter {
                fiscal_year,
                quarter,
                ..
            } => write!(f, "{fiscal_year}-Q{quarter}"),
            PeriodKind::Range => write!(f, "{}..{}", self.start, self.last_day()),
        }
    }
}

/// The first instant whose local date in `tz` is `d`. Local midnight can fall
/// into a daylight-saving gap in a few zones; the day then starts when the gap
/// ends.
pub fn day_start(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
    match tz.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, _) => a.with_timezone(&Utc),
        chrono::LocalResult::None => {
            // Walk forward minute by minute out of the gap (gaps are at most a few hours).
            let mut probe = midnight;
            loop {
                probe += Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
        }
    }
}

/// The local date of an instant in `tz`.
pub fn local_date(t: DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// A `YYYY-MM-DD` date (hand-parsed: millions of records carry one).
pub fn parse_date(s: &str) -> Result<NaiveDate, PeriodError> {
    let t = s.trim();
    ymd(t.as_bytes()).ok_or_else(|| PeriodError::BadDate(t.into()))
}

/// Exactly `YYYY-MM-DD`, a real date, with nothing around it; `None`
/// otherwise. The snapshot reader calls it first on every bare date (a
/// close date on each deal and history entry), before any trimming.
#[inline]
pub fn ymd(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| b[i].wrapping_sub(b'0') as u32;
    if [0, 1, 2, 3, 5, 6, 8, 9].iter().any(|&i| d(i) > 9) {
        return None;
    }
    let two = |i: usize| d(i) * 10 + d(i + 1);
    NaiveDate::from_ymd_opt((two(0) * 100 + two(2)) as i32, two(5), two(8))
}

fn parse_num<T: std::str::FromStr>(
    part: &str,
    whole: &str,
    width: usize,
) -> Result<T, PeriodError> {
    if part.len() != width || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PeriodError::Syntax(whole.into()));
    }
    part.parse().map_err(|_| PeriodError::Syntax(whole.into()))
}

/// `d` moved by whole months; `d` is always a first of the month here.
pub fn add_months(d: NaiveDate, months: i32) -> NaiveDate {
    let total = d.year() * 12 + d.month0() as i32 + months;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1)
        .expect("valid month")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_selectors() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(Selector::PreviousMonth.period(d, 1).label(), "2026-07");
        assert_eq!(Selector::CurrentMonth.period(d, 1).label(), "2026-08");
        assert_eq!(Selector::PreviousQuarter.period(d, 1).label(), "2026-Q2");
        assert_eq!(Selector::CurrentQuarter.period(d, 1).label(), "2026-Q3");
    }

    #[test]
    fn select_takes_the_period_end_once_it_is_over() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (p, as_of) = select(Selector::PreviousMonth, None, None, d("2026-08-15"), 1).unwrap();
        assert_eq!((p.label(), as_of), ("2026-07".to_string(), d("2026-08-01")));
        let (p, as_of) = select(Selector::CurrentMonth, None, None, d("2026-08-15"), 1).unwrap();
        assert_eq!((p.label(), as_of), ("2026-08".to_string(), d("2026-08-15")));
        let (p, as_of) = select(
            Selector::CurrentMonth,
            Some("2026-Q2"),
            Some(d("2026-05-02")),
            d("2026-08-15"),
            1,
        )
        .unwrap();
        assert_eq!((p.label(), as_of), ("2026-Q2".to_string(), d("2026-05-02")));
        assert!(select(
            Selector::CurrentMonth,
            Some("2026-13"),
            None,
            d("2026-08-15"),
            1
        )
        .is_err());
    }

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn labels_round_trip() {
        for s in ["2026-07", "2026-Q3", "2026-07-01..2026-09-30"] {
            assert_eq!(Period::parse(s, 1).unwrap().label(), s);
        }
    }

    #[test]
    fn fiscal_quarters_follow_the_start_month() {
        let q1 = Period::parse("2026-Q1", 4).unwrap();
        assert_eq!((q1.start, q1.end), (d("2026-04-01"), d("2026-07-01")));
        let q4 = Period::parse("2026-Q4", 4).unwrap();
        assert_eq!((q4.start, q4.end), (d("2027-01-01"), d("2027-04-01")));
        assert_eq!(Period::quarter_of(d("2027-02-10"), 4).label(), "2026-Q4");
        assert_eq!(q4.next().label(), "2027-Q1");
        assert_eq!(q1.previous().label(), "2025-Q4");
    }

    #[test]
    fn previous_and_next() {
        assert_eq!(
            Period::parse("2026-01", 1).unwrap().previous().label(),
            "2025-12"
        );
        assert_eq!(
            Period::parse("2026-12", 1).unwrap().next().label(),
            "2027-01"
        );
        let r = Period::parse("2026-07-01..2026-07-10", 1).unwrap();
        assert_eq!(r.days(), 10);
        assert_eq!(r.previous().label(), "2026-06-21..2026-06-30");
        assert_eq!(r.next().label(), "2026-07-11..2026-07-20");
    }

    #[test]
    fn key_names_the_as_of_only_while_running() {
        let jul = Period::parse("2026-07", 1).unwrap();
        assert_eq!(jul.key(d("2026-08-01")), "2026-07");
        assert_eq!(jul.key(d("2026-07-31")), "2026-07@2026-07-31");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(Period::parse("2026-13", 1).is_err());
        assert!(Period::parse("2026-Q5", 1).is_err());
        assert!(Period::parse("July", 1).is_err());
        assert!(Period::parse("2026-07-10..2026-07-01", 1).is_err());
        assert!(Period::parse("2026-02-30..2026-03-01", 1).is_err());
    }

    #[test]
    fn day_starts_in_zone() {
        let seoul: Tz = "Asia/Seoul".parse().unwrap();
        assert_eq!(
            day_start(d("2026-07-01"), seoul).to_rfc3339(),
            "2026-06-30T15:00:00+00:00"
        );
        // Santiago skips local midnight when DST begins (2026-09-06).
        let scl: Tz = "America/Santiago".parse().unwrap();
        let t = day_start(d("2026-09-06"), scl);
        assert_eq!(local_date(t, scl), d("2026-09-06"));
        assert_eq!(local_date(t - Duration::seconds(1), scl), d("2026-09-05"));
    }
}
