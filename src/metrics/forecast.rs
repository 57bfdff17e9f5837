//! The five forecast methods (METRICS.md "Forecasts"); how they are judged
//! afterwards is `track`.

use super::deals::ForecastInputs;
use super::quota::months;
use super::Settings;
use crate::period::Period;
use crate::snapshot::ForecastCategory;
use chrono::NaiveDate;
use rust_decimal::Decimal;

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

/// The five forecasts of `target` from the pass's inputs; `new_reps` are
/// the reps whose start date falls in the target.
pub fn forecasts(target: Period, i: &ForecastInputs, new_reps: u64, s: &Settings) -> Forecasts {
    let typical = i.typical_cycle();
    let mut weighted = Decimal::ZERO;
    let mut by_cycle = Decimal::ZERO;
    let mut commit = Decimal::ZERO;
    let mut best = Decimal::ZERO;
    for d in &i.open_in_target {
        weighted += d.weighted;
        if let Some(typical) = typical {
            let share = (Decimal::from(d.age_days) / typical).min(Decimal::ONE);
            by_cycle += d.amount * share;
        }
        match d.category {
            Some(ForecastCategory::Commit) => commit += d.amount,
            Some(ForecastCategory::BestCase) => best += d.amount,
            _ => {}
        }
    }
    let months = months(&target);
    let base = i.hist_base / Decimal::from(3) * months;
    let rep_commit = i.won_so_far + commit;
    Forecasts {
        target,
        stage_weighted: i.won_so_far + weighted,
        cycle_length: typical.map(|_| i.won_so_far + by_cycle),
        rep_commit,
        best_case: rep_commit + best,
        historical: base * (Decimal::ONE + s.growth_rate)
            + Decimal::from(new_reps) * s.new_rep_first_month_revenue * months,
    }
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
        let i = ForecastInputs {
            hist_base: dec("3000000"),
            ..Default::default()
        };
        let f = forecasts(target, &i, 5, &s);
        assert_eq!(f.historical, dec("1075000"));
        assert_eq!(f.cycle_length, None);
    }

    #[test]
    fn seed_examples_trial_stage_and_half_cycle() {
        let s = settings();
        let target = Period::parse("2026-07", 1).unwrap();
        // $1,000 in the trial stage (60 %) is worth $600; a deal two months
        // into a four-month cycle counts 50 %.
        let i = ForecastInputs {
            open_in_target: vec![OpenInTarget {
                amount: dec("1000"),
                weighted: dec("600"),
                age_days: 60,
                category: None,
            }],
            cycle_sum: 240,
            cycle_n: 2,
            ..Default::default()
        };
        let f = forecasts(target, &i, 0, &s);
        assert_eq!(f.stage_weighted, dec("600"));
        assert_eq!(f.cycle_length, Some(dec("500")));
    }
}
