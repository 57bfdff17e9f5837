//! Forecast accuracy and the track record (METRICS.md "Forecast accuracy"):
//! which forecast is the one of record for a finished period (stored on
//! time, else stored late, else reconstructed from history), and how each
//! method did over the last periods.

use super::forecast::{Forecasts, Method, StoredForecast};
use super::money::cents;
use crate::period::{Period, PeriodKind};
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use std::collections::BTreeMap;

/// One method judged on one finished period.
#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    /// `None`: no forecast of record.
    pub forecast: Option<Decimal>,
    pub actual: Decimal,
    pub accuracy: Option<f64>,
    pub bias: Option<f64>,
    /// No forecast was stored before the period began; this one was stored during it.
    pub late: bool,
    /// Not stored: made from the books as they were when the period began.
    pub reconstructed: bool,
}

/// The track record of a month or quarter report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackRecord {
    /// Most recent first.
    pub periods: Vec<Period>,
    /// Per method, one entry per period in the same order.
    pub methods: BTreeMap<Method, Vec<Accuracy>>,
    pub mean_accuracy: BTreeMap<Method, Option<f64>>,
    pub best_method: Option<Method>,
}

/// The stored forecast of record for `p`: the latest made on or before its
/// start; else the earliest made during it (late).
pub fn stored_record(m: Method, p: &Period, stored: &[StoredForecast]) -> Option<(Decimal, bool)> {
    let mine = stored
        .iter()
        .filter(|f| f.method == m && f.target_start == p.start && f.target_end == p.end);
    let on_time = mine
        .clone()
        .filter(|f| f.as_of <= p.start)
        .max_by_key(|f| f.as_of);
    on_time.map(|f| (f.value, false)).or_else(|| {
        mine.filter(|f| f.as_of > p.start && f.as_of < p.end)
            .min_by_key(|f| f.as_of)
            .map(|f| (f.value, true))
    })
}

/// A method judged against actual `a`: accuracy = max(0, 1 − |A − F| / A),
/// bias = (F − A) / A, both null when A = 0.
pub fn judge(
    forecast: Option<Decimal>,
    actual: Decimal,
    late: bool,
    reconstructed: bool,
) -> Accuracy {
    let (accuracy, bias) = match forecast {
        Some(f) if !actual.is_zero() => (
            (Decimal::ONE - (actual - f).abs() / actual)
                .max(Decimal::ZERO)
                .to_f64(),
            ((f - actual) / actual).to_f64(),
        ),
        _ => (None, None),
    };
    Accuracy {
        forecast,
        actual,
        accuracy,
        bias,
        late,
        reconstructed,
    }
}

/// True when some method has no stored forecast of record for `p`: only
/// then is a reconstruction needed.
pub fn needs_rebuild(p: &Period, stored: &[StoredForecast]) -> bool {
    Method::ALL
        .iter()
        .any(|m| stored_record(*m, p, stored).is_none())
}

/// Every method's forecast of record for `p`: stored first; where a method
/// has none, the reconstruction `rebuilt` (made when there is history),
/// rounded to cents as a stored one is. Methods with no forecast at all
/// are judged with `forecast: None`.
pub fn judge_period(
    p: &Period,
    actual: Decimal,
    stored: &[StoredForecast],
    rebuilt: Option<&Forecasts>,
) -> BTreeMap<Method, Accuracy> {
    let mut out = BTreeMap::new();
    for m in Method::ALL {
        let judged = match stored_record(m, p, stored) {
            Some((f, late)) => judge(Some(f), actual, late, false),
            None => match rebuilt.and_then(|f| f.get(m)) {
                Some(v) => judge(Some(cents(v)), actual, false, true),
                None => judge(None, actual, false, false),
            },
        };
        out.insert(m, judged);
    }
    out
}

/// The periods of a track record: the last `n` periods of `p`'s kind that
/// have ended by `as_of`, most recent first; none for an explicit range.
pub fn periods(p: &Period, as_of: NaiveDate, n: usize) -> Vec<Period> {
    if p.kind == PeriodKind::Range || n == 0 {
        return Vec::new();
    }
    let mut q = *p;
    while q.end > as_of {
        q = q.previous();
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(q);
        q = q.previous();
    }
    out
}

/// Mean accuracy per method and the best method (ties to the earlier in
/// the spec's order).
pub fn summarize(periods: Vec<Period>, methods: BTreeMap<Method, Vec<Accuracy>>) -> TrackRecord {
    let mut mean_accuracy = BTreeMap::new();
    let mut best: Option<(Method, f64)> = None;
    for m in Method::ALL {
        let v: Vec<f64> = methods
            .get(&m)
            .into_iter()
            .flatten()
            .filter_map(|a| a.accuracy)
            .collect();
        let mean = (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        if let Some(x) = mean {
            if best.is_none_or(|(_, b)| x > b) {
                best = Some((m, x));
            }
        }
        mean_accuracy.insert(m, mean);
    }
    TrackRecord {
        periods,
        methods,
        mean_accuracy,
        best_method: best.map(|(m, _)| m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn record_prefers_latest_before_start_then_earliest_late() {
        let p = Period::parse("2026-07", 1).unwrap();
        let d = |s: &str| NaiveDate::from_str(s).unwrap();
        let sf = |as_of: &str, v: &str| StoredForecast {
            method: Method::StageWeighted,
            target_start: p.start,
            target_end: p.end,
            as_of: d(as_of),
            value: dec(v),
        };
        let stored = vec![
            sf("2026-06-01", "50"),
            sf("2026-07-01", "90"),
            sf("2026-07-10", "100"),
        ];
        assert_eq!(
            stored_record(Method::StageWeighted, &p, &stored),
            Some((dec("90"), false))
        );
        assert_eq!(
            stored_record(Method::StageWeighted, &p, &stored[2..]),
            Some((dec("100"), true))
        );
        let a = judge(Some(dec("90")), dec("100"), false, false);
        assert!((a.accuracy.unwrap() - 0.9).abs() < 1e-12);
        assert!((a.bias.unwrap() + 0.1).abs() < 1e-12);
        // A 3x over-forecast floors at 0; a zero actual judges nothing.
        assert_eq!(
            judge(Some(dec("90")), dec("30"), false, false).accuracy,
            Some(0.0)
        );
        assert_eq!(
            judge(Some(dec("90")), dec("0"), false, false).accuracy,
            None
        );
    }

    #[test]
    fn stored_wins_over_reconstructed_per_method() {
        let p = Period::parse("2026-07", 1).unwrap();
        let stored = vec![StoredForecast {
            method: Method::RepCommit,
            target_start: p.start,
            target_end: p.end,
            as_of: p.start,
            value: dec("10"),
        }];
        let rebuilt = Forecasts {
            target: p,
            stage_weighted: dec("20.005"),
            cycle_length: None,
            rep_commit: dec("30"),
            best_case: dec("40"),
            historical: dec("50"),
        };
        let j = judge_period(&p, dec("100"), &stored, Some(&rebuilt));
        assert_eq!(j[&Method::RepCommit].forecast, Some(dec("10")));
        assert!(!j[&Method::RepCommit].reconstructed);
        assert!(j[&Method::StageWeighted].reconstructed);
        assert_eq!(j[&Method::CycleLength].forecast, None);
        assert!(!j[&Method::CycleLength].reconstructed);
    }

    #[test]
    fn quarters_cross_the_fiscal_year() {
        // Fiscal year from April: 2026-Q1 is April–June 2026.
        let p = Period::parse("2026-Q2", 4).unwrap();
        let got: Vec<String> = periods(&p, p.end, 4).iter().map(|q| q.label()).collect();
        assert_eq!(got, ["2026-Q2", "2026-Q1", "2025-Q4", "2025-Q3"]);
        // A running period is left out.
        let got: Vec<String> = periods(&p, p.start, 2).iter().map(|q| q.label()).collect();
        assert_eq!(got, ["2026-Q1", "2025-Q4"]);
        assert!(periods(
            &Period::parse("2026-07-01..2026-07-31", 1).unwrap(),
            p.end,
            6
        )
        .is_empty());
    }
}
