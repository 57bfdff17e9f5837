//! The five forecast methods and their accuracy against forecasts stored by
//! earlier runs.

use super::quota::months;
use super::Settings;
use crate::period::Period;
use crate::snapshot::ForecastCategory;
use chrono::NaiveDate;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    StageWeighted,
    CycleLength,
    RepCommit,
    BestCase,
    Historical,
}

impl Method {
    pub const ALL: [Method; 5] = [
        Method::StageWeighted,
        Method::CycleLength,
        Method::RepCommit,
        Method::BestCase,
        Method::Historical,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Method::StageWeighted => "stage_weighted",
            Method::CycleLength => "cycle_length",
            Method::RepCommit => "rep_commit",
            Method::BestCase => "best_case",
            Method::Historical => "historical",
        }
    }

    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Forecasts {
    pub target: Period,
    pub stage_weighted: Decimal,
    pub cycle_length: Option<Decimal>,
    pub rep_commit: Decimal,
    pub best_case: Decimal,
    pub historical: Decimal,
}

impl Forecasts {
    pub fn get(&self, m: Method) -> Option<Decimal> {
        match m {
            Method::StageWeighted => Some(self.stage_weighted),
            Method::CycleLength => self.cycle_length,
            Method::RepCommit => Some(self.rep_commit),
            Method::BestCase => Some(self.best_case),
            Method::Historical => Some(self.historical),
        }
    }
}

/// A forecast a previous run stored (value already rounded to cents).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredForecast {
    pub method: Method,
    pub target_start: NaiveDate,
    pub target_end: NaiveDate,
    pub as_of: NaiveDate,
    pub value: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Accuracy {
    pub forecast: Decimal,
    pub actual: Decimal,
    pub accuracy: Option<f64>,
    pub bias: Option<f64>,
    /// No forecast was made before the period began; this one was made during it.
    pub late: bool,
    pub forecast_as_of: NaiveDate,
}

/// The forecast target: P while it is still running at `as_of`, else the period after it.
pub fn target(p: &Period, as_of: NaiveDate) -> Period {
    if as_of < p.end {
        *p
    } else {
        p.next()
    }
}

/// An open deal whose close date is in the target.
pub struct OpenInTarget {
    pub amount: Decimal,
    pub weighted: Decimal,
    pub age_days: i64,
    pub category: Option<ForecastCategory>,
}

pub struct Inputs<'a> {
    pub target: Period,
    pub won_so_far: Decimal,
    pub open_in_target: &'a [OpenInTarget],
    /// Mean cycle (days) of deals won in the 365 days before as_of.
    pub typical_cycle: Option<Decimal>,
    /// Won revenue of the three whole calendar months before the target.
    pub hist_base: Decimal,
    /// Reps whose start date falls in the target.
    pub new_reps: u64,
    pub settings: &'a Settings,
}

pub fn forecasts(i: Inputs) -> Forecasts {
    let mut weighted = Decimal::ZERO;
    let mut by_cycle = Decimal::ZERO;
    let mut commit = Decimal::ZERO;
    let mut best = Decimal::ZERO;
    for d in i.open_in_target {
        weighted += d.weighted;
        if let Some(typical) = i.typical_cycle {
            let share = (Decimal::from(d.age_days) / typical).min(Decimal::ONE);
            by_cycle += d.amount * share;
        }
        match d.category {
            Some(ForecastCategory::Commit) => commit += d.amount,
            Some(ForecastCategory::BestCase) => best += d.amount,
            _ => {}
        }
    }
    let s = i.settings;
    let months = months(&i.target);
    let base = i.hist_base / Decimal::from(3) * months;
    let rep_commit = i.won_so_far + commit;
    Forecasts {
        target: i.target,
        stage_weighted: i.won_so_far + weighted,
        cycle_length: i.typical_cycle.map(|_| i.won_so_far + by_cycle),
        rep_commit,
        best_case: rep_commit + best,
        historical: base * (Decimal::ONE + s.growth_rate)
            + Decimal::from(i.new_reps) * s.new_rep_first_month_revenue * months,
    }
}

/// Accuracy of each method for `p` once it has finished at `as_of`. The
/// forecast of record is the stored one with the latest `as_of` on or before
/// P's start; without one, the earliest made during P, flagged late.
pub fn accuracy(
    p: &Period,
    as_of: NaiveDate,
    actual: Decimal,
    stored: &[StoredForecast],
) -> BTreeMap<Method, Accuracy> {
    let mut out = BTreeMap::new();
    if as_of < p.end {
        return out;
    }
    for m in Method::ALL {
        let mine = stored
            .iter()
            .filter(|f| f.method == m && f.target_start == p.start && f.target_end == p.end);
        let on_time = mine
            .clone()
            .filter(|f| f.as_of <= p.start)
            .max_by_key(|f| f.as_of);
        let record = on_time.map(|f| (f, false)).or_else(|| {
            mine.filter(|f| f.as_of > p.start && f.as_of < p.end)
                .min_by_key(|f| f.as_of)
                .map(|f| (f, true))
        });
        let Some((f, late)) = record else { continue };
        let (acc, bias) = if actual.is_zero() {
            (None, None)
        } else {
            let err = (actual - f.value).abs() / actual;
            (
                (Decimal::ONE - err).max(Decimal::ZERO).to_f64(),
                ((f.value - actual) / actual).to_f64(),
            )
        };
        out.insert(
            m,
            Accuracy {
                forecast: f.value,
                actual,
                accuracy: acc,
                bias,
                late,
                forecast_as_of: f.as_of,
            },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn settings() -> Settings {
        crate::config::Settings::from_toml("").unwrap().metrics
    }

    #[test]
    fn seed_example_historical_is_1_075_000() {
        let s = settings();
        let target = Period::parse("2026-07", 1).unwrap();
        let f = forecasts(Inputs {
            target,
            won_so_far: Decimal::ZERO,
            open_in_target: &[],
            typical_cycle: None,
            hist_base: dec("3000000"),
            new_reps: 5,
            settings: &s,
        });
        assert_eq!(f.historical, dec("1075000"));
        assert_eq!(f.cycle_length, None);
    }

    #[test]
    fn seed_examples_trial_stage_and_half_cycle() {
        let s = settings();
        let target = Period::parse("2026-07", 1).unwrap();
        // $1,000 in the trial stage (60 %) is worth $600; a deal two months
        // into a four-month cycle counts 50 %.
        let open = [OpenInTarget {
            amount: dec("1000"),
            weighted: dec("600"),
            age_days: 60,
            category: None,
        }];
        let f = forecasts(Inputs {
            target,
            won_so_far: Decimal::ZERO,
            open_in_target: &open,
            typical_cycle: Some(dec("120")),
            hist_base: Decimal::ZERO,
            new_reps: 0,
            settings: &s,
        });
        assert_eq!(f.stage_weighted, dec("600"));
        assert_eq!(f.cycle_length, Some(dec("500")));
    }

    #[test]
    fn accuracy_prefers_latest_before_start_then_earliest_late() {
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
        let a = accuracy(&p, d("2026-08-01"), dec("100"), &stored);
        let acc = &a[&Method::StageWeighted];
        assert_eq!((acc.forecast, acc.late), (dec("90"), false));
        assert!((acc.accuracy.unwrap() - 0.9).abs() < 1e-12);
        assert!((acc.bias.unwrap() + 0.1).abs() < 1e-12);
        let late = accuracy(&p, d("2026-08-01"), dec("100"), &stored[2..]);
        assert!(late[&Method::StageWeighted].late);
        // A 3x over-forecast floors at 0; a running period has no accuracy yet.
        let over = accuracy(&p, d("2026-08-01"), dec("30"), &stored[1..2]);
        assert_eq!(over[&Method::StageWeighted].accuracy, Some(0.0));
        assert!(accuracy(&p, d("2026-07-20"), dec("100"), &stored).is_empty());
        // Zero actual: accuracy and bias are null.
        assert_eq!(
            accuracy(&p, d("2026-08-01"), dec("0"), &stored)[&Method::StageWeighted].accuracy,
            None
        );
    }
}
