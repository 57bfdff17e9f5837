//! One pass over the books: won/lost, pipeline, cycle, revenue by type,
//! follow-up touches, per-rep sums and the inputs of the five forecasts.
//! Quotas, commission and quadrants are then set per rep (`reps`).

use super::forecast::OpenInTarget;
use super::scope::Scope;
use super::touches::TouchIndex;
use super::window::Window;
use super::{mean_median, ByType, Settings};
use crate::period::{add_months, Period};
use crate::snapshot::{Books, DealAt, Snapshot, Status};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

/// Per-rep sums of the pass.
#[derive(Default, Clone)]
pub struct RepAcc {
    pub won: Decimal,
    pub prev_won: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub cycle_days_sum: i64,
    pub expansion: Decimal,
    pub lost_before_target: u64,
    pub open_under_target: u64,
}

/// An open deal in the forecast target with fewer touches than the target.
#[derive(Debug, Clone, PartialEq)]
pub struct FollowUp {
    pub deal: u32,
    pub owner: u32,
    pub amount: Decimal,
    pub close: NaiveDate,
    pub touches: u32,
}

/// What one pass over the books gives.
#[derive(Default)]
pub struct Pass {
    pub won_revenue: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub prev_won_revenue: Decimal,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub open_count: u64,
    /// Open deals with a close date in the target (pipeline coverage).
    pub coverage_amount: Decimal,
    pub cycles: Vec<f64>,
    pub by_type: ByType,
    pub touches_won: Vec<f64>,
    pub touches_lost: Vec<f64>,
    pub lost_before_target: u64,
    pub follow_ups: Vec<FollowUp>,
    pub reps: Vec<RepAcc>,
    pub forecast: ForecastInputs,
    /// Deals without an amount at as_of.
    pub missing_amount: Vec<u32>,
}

/// What the five forecasts need from the books.
#[derive(Default)]
pub struct ForecastInputs {
    pub won_so_far: Decimal,
    pub open_in_target: Vec<OpenInTarget>,
    pub hist_base: Decimal,
    pub cycle_sum: i64,
    pub cycle_n: i64,
}

impl ForecastInputs {
    /// Mean cycle of the deals won in the 365 days before as_of; none when
    /// there is none or it is 0.
    pub fn typical_cycle(&self) -> Option<Decimal> {
        (self.cycle_n > 0 && self.cycle_sum != 0)
            .then(|| Decimal::from(self.cycle_sum) / Decimal::from(self.cycle_n))
    }
}

/// Follow-up touches are counted when `touches` is given (a report's own
/// period); forecasts alone (reconstruction) skip them.
pub struct Touches<'a> {
    pub index: &'a TouchIndex,
    pub scope: &'a Scope,
}

/// The pass for period `p`, forecast target `target`, books at `as_of`.
pub fn pass(
    snap: &Snapshot,
    books: &Books,
    p: &Period,
    target: &Period,
    s: &Settings,
    touches: Option<Touches>,
) -> Pass {
    let tz = s.tz;
    let as_of = books.as_of;
    let prev = p.previous();
    // Base of the historical forecast: the three whole calendar months
    // before the target's start.
    let hist_end = Period::month_of(target.start).start;
    let hist = Window::new(add_months(hist_end, -3), hist_end, tz);
    let cycle_from = as_of - Duration::days(365);
    let mut o = Pass {
        reps: vec![RepAcc::default(); snap.reps.len()],
        ..Pass::default()
    };
    let count = |d: &DealAt| {
        touches
            .as_ref()
            .map(|t| t.index.count(d.index, books.t, d.close, s, t.scope))
    };

    for d in &books.deals {
        let amount = match d.amount {
            Some(a) => a,
            None => {
                o.missing_amount.push(d.index);
                Decimal::ZERO
            }
        };
        let close = d.close;
        let closed_before = close < as_of;
        let r = &mut o.reps[d.owner as usize];
        match d.status {
            Status::Won if closed_before => {
                let days = (close - d.created_at.local_date(tz)).num_days();
                if p.contains(close) {
                    o.won_revenue += amount;
                    o.deals_won += 1;
                    r.won += amount;
                    r.deals_won += 1;
                    r.cycle_days_sum += days;
                    o.cycles.push(days as f64);
                    o.by_type.add(d.deal_type, amount);
                    if d.deal_type.is_some_and(|t| t.is_expansion()) {
                        r.expansion += amount;
                    }
                    if let Some(n) = count(d) {
                        o.touches_won.push(n as f64);
                    }
                }
                if prev.contains(close) {
                    r.prev_won += amount;
                    o.prev_won_revenue += amount;
                }
                if target.contains(close) {
                    o.forecast.won_so_far += amount;
                }
                if hist.contains_date(close) {
                    o.forecast.hist_base += amount;
                }
                if close >= cycle_from {
                    o.forecast.cycle_sum += days;
                    o.forecast.cycle_n += 1;
                }
            }
            Status::Lost if closed_before => {
                if p.contains(close) {
                    o.deals_lost += 1;
                    r.deals_lost += 1;
                    if let Some(n) = count(d) {
                        o.touches_lost.push(n as f64);
                        if n < s.follow_up_target {
                            o.lost_before_target += 1;
                            r.lost_before_target += 1;
                        }
                    }
                }
            }
            // Open at as_of: open then, or closed on or after as_of (a won
            // deal is then weighted 1, a lost one 0).
            status => {
                let probability = match status {
                    Status::Open => snap.stages[d.stage as usize].probability,
                    Status::Won => Decimal::ONE,
                    Status::Lost => Decimal::ZERO,
                };
                let weighted = amount * probability;
                o.pipeline_total += amount;
                o.pipeline_weighted += weighted;
                r.pipeline_total += amount;
                r.pipeline_weighted += weighted;
                o.open_count += 1;
                if target.contains(close) {
                    o.coverage_amount += amount;
                    o.forecast.open_in_target.push(OpenInTarget {
                        amount,
                        weighted,
                        age_days: (as_of - d.created_at.local_date(tz)).num_days(),
                        category: d.category,
                    });
                    if let Some(n) = count(d).filter(|n| *n < s.follow_up_target) {
                        r.open_under_target += 1;
                        o.follow_ups.push(FollowUp {
                            deal: d.index,
                            owner: d.owner,
                            amount,
                            close,
                            touches: n,
                        });
                    }
                }
            }
        }
    }
    o
}

impl Pass {
    pub fn cycle_mean_median(&self) -> (Option<f64>, Option<f64>) {
        mean_median(self.cycles.clone())
    }
}
