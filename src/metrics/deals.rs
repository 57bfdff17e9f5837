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
use chrono::{DateTime, Duration, NaiveDate, Utc};
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

/// What the pass compares every deal with.
struct Frame<'a> {
    p: &'a Period,
    prev: Period,
    target: &'a Period,
    as_of: NaiveDate,
    /// The three whole calendar months before the target (historical forecast).
    hist: Window,
    /// Wins from here on make the typical cycle (the last 365 days).
    cycle_from: NaiveDate,
    s: &'a Settings,
    touches: Option<(Touches<'a>, DateTime<Utc>)>,
}

impl Frame<'_> {
    /// The deal's touches at as_of, when the pass counts them.
    fn touches(&self, d: &DealAt) -> Option<u32> {
        let (t, at) = self.touches.as_ref()?;
        Some(t.index.count(d.index, *at, d.close, self.s, t.scope))
    }
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
    let hist_end = Period::month_of(target.start).start;
    let f = Frame {
        p,
        prev: p.previous(),
        target,
        as_of: books.as_of,
        hist: Window::new(add_months(hist_end, -3), hist_end, s.tz),
        cycle_from: books.as_of - Duration::days(365),
        s,
        touches: touches.map(|t| (t, books.t)),
    };
    let mut o = Pass {
        reps: vec![RepAcc::default(); snap.reps.len()],
        ..Pass::default()
    };
    for d in &books.deals {
        let amount = d.amount.unwrap_or_else(|| {
            o.missing_amount.push(d.index);
            Decimal::ZERO
        });
        let closed_before = d.close < f.as_of;
        match d.status {
            Status::Won if closed_before => o.won(&f, d, amount),
            Status::Lost if closed_before => o.lost(&f, d),
            // Open at as_of: open then, or closed on or after as_of (a won
            // deal is then weighted 1, a lost one 0).
            Status::Open => o.open(&f, d, amount, snap.stages[d.stage as usize].probability),
            Status::Won => o.open(&f, d, amount, Decimal::ONE),
            Status::Lost => o.open(&f, d, amount, Decimal::ZERO),
        }
    }
    o
}

impl Pass {
    /// A deal won before as_of: in P, in the previous period, in the
    /// target so far, in the historical base, in the typical cycle.
    fn won(&mut self, f: &Frame, d: &DealAt, amount: Decimal) {
        let days = (d.close - d.created_at.local_date(f.s.tz)).num_days();
        let r = &mut self.reps[d.owner as usize];
        if f.p.contains(d.close) {
            self.won_revenue += amount;
            self.deals_won += 1;
            r.won += amount;
            r.deals_won += 1;
            r.cycle_days_sum += days;
            self.cycles.push(days as f64);
            self.by_type.add(d.deal_type, amount);
            if d.deal_type.is_some_and(|t| t.is_expansion()) {
                r.expansion += amount;
            }
            if let Some(n) = f.touches(d) {
                self.touches_won.push(n as f64);
            }
        }
        if f.prev.contains(d.close) {
            r.prev_won += amount;
            self.prev_won_revenue += amount;
        }
        if f.target.contains(d.close) {
            self.forecast.won_so_far += amount;
        }
        if f.hist.contains_date(d.close) {
            self.forecast.hist_base += amount;
        }
        if d.close >= f.cycle_from {
            self.forecast.cycle_sum += days;
            self.forecast.cycle_n += 1;
        }
    }

    /// A deal lost before as_of, counted in P with its touches.
    fn lost(&mut self, f: &Frame, d: &DealAt) {
        if !f.p.contains(d.close) {
            return;
        }
        let r = &mut self.reps[d.owner as usize];
        self.deals_lost += 1;
        r.deals_lost += 1;
        if let Some(n) = f.touches(d) {
            self.touches_lost.push(n as f64);
            if n < f.s.follow_up_target {
                self.lost_before_target += 1;
                r.lost_before_target += 1;
            }
        }
    }

    /// A deal open at as_of, weighted by `probability`: pipeline, and when
    /// it closes in the target, coverage, the forecasts and follow-ups.
    fn open(&mut self, f: &Frame, d: &DealAt, amount: Decimal, probability: Decimal) {
        let weighted = amount * probability;
        let r = &mut self.reps[d.owner as usize];
        self.pipeline_total += amount;
        self.pipeline_weighted += weighted;
        r.pipeline_total += amount;
        r.pipeline_weighted += weighted;
        self.open_count += 1;
        if !f.target.contains(d.close) {
            return;
        }
        self.coverage_amount += amount;
        self.forecast.open_in_target.push(OpenInTarget {
            amount,
            weighted,
            age_days: (f.as_of - d.created_at.local_date(f.s.tz)).num_days(),
            category: d.category,
        });
        if let Some(n) = f.touches(d).filter(|n| *n < f.s.follow_up_target) {
            r.open_under_target += 1;
            self.follow_ups.push(FollowUp {
                deal: d.index,
                owner: d.owner,
                amount,
                close: d.close,
                touches: n,
            });
        }
    }
}

impl Pass {
    pub fn cycle_mean_median(&self) -> (Option<f64>, Option<f64>) {
        mean_median(self.cycles.clone())
    }
}
