//! Per-rep figures from the pass's sums: quota, attainment, commission and
//! quadrant; and the team's quota figures (attainment rate, coverage base).

use super::deals::Pass;
use super::quota::{self, RepPlan};
use super::scope::Scope;
use super::{ratio, Quadrant, RepFigures, Settings};
use crate::period::Period;
use crate::snapshot::Snapshot;
use rust_decimal::Decimal;

/// The team's quota figures for a period and its forecast target.
pub struct QuotaTotals {
    /// Σ the reps' quotas of P; `None` when no rep has one.
    pub team_quota: Option<Decimal>,
    /// Σ the reps' quotas of the forecast target.
    pub target_quota: Option<Decimal>,
    pub with_quota: u64,
    pub at_quota: u64,
    /// Reps whose start date falls in the target (historical forecast).
    pub new_reps: u64,
}

impl QuotaTotals {
    pub fn attainment_rate(&self) -> Option<f64> {
        ratio(self.at_quota, self.with_quota)
    }
}

/// A rep whose start date falls in `target`: a new rep of the historical
/// forecast.
fn starts_in(plan: &RepPlan, target: &Period) -> bool {
    plan.start_date.is_some_and(|d| target.contains(d))
}

/// The reps of `scope` who start in `target` (a forecast rebuilt for a
/// past period counts them as `figures` does for the report's own).
pub fn new_reps(snap: &Snapshot, scope: &Scope, target: &Period, s: &Settings) -> u64 {
    scope
        .rep_indexes(snap)
        .into_iter()
        .filter(|r| starts_in(&quota::plan(&snap.reps[*r as usize], s), target))
        .count() as u64
}

pub fn figures(
    snap: &Snapshot,
    scope: &Scope,
    pass: &Pass,
    p: &Period,
    target: &Period,
    s: &Settings,
) -> (Vec<RepFigures>, QuotaTotals) {
    let mut out = Vec::new();
    let mut t = QuotaTotals {
        team_quota: None,
        target_quota: None,
        with_quota: 0,
        at_quota: 0,
        new_reps: 0,
    };
    let (mut quota_p, mut quota_t) = (Decimal::ZERO, Decimal::ZERO);
    for i in scope.rep_indexes(snap) {
        let rep = &snap.reps[i as usize];
        let a = &pass.reps[i as usize];
        let plan: RepPlan = quota::plan(rep, s);
        let q = quota::quota(&plan, p);
        if let Some(qt) = quota::quota(&plan, target) {
            quota_t += qt.value();
        }
        if starts_in(&plan, target) {
            t.new_reps += 1;
        }
        if let Some(q) = &q {
            t.with_quota += 1;
            quota_p += q.value();
            if q.reached(a.won, Decimal::ONE) {
                t.at_quota += 1;
            }
        }
        let quadrant = q.map(|q| {
            let high = q.reached(a.won, s.high_performer_attainment);
            match (high, a.won >= a.prev_won) {
                (true, true) => Quadrant::RisingStar,
                (true, false) => Quadrant::FallingStar,
                (false, true) => Quadrant::ImprovingLaggard,
                (false, false) => Quadrant::DecliningLaggard,
            }
        });
        out.push(RepFigures {
            index: i as usize,
            id: rep.id.clone(),
            name: rep.name.clone(),
            role: plan.role_name.to_string(),
            won_revenue: a.won,
            prev_won_revenue: a.prev_won,
            deals_won: a.deals_won,
            deals_lost: a.deals_lost,
            win_rate: ratio(a.deals_won, a.deals_won + a.deals_lost),
            avg_won_deal_size: (a.deals_won > 0).then(|| a.won / Decimal::from(a.deals_won)),
            pipeline_total: a.pipeline_total,
            pipeline_weighted: a.pipeline_weighted,
            quota: q.map(|q| q.value()),
            attainment: q.map(|q| q.attainment(a.won)),
            sales_cycle_days_mean: (a.deals_won > 0)
                .then(|| a.cycle_days_sum as f64 / a.deals_won as f64),
            quadrant,
            commission: q.map(|q| quota::commission(plan.role, &q, a.won)),
            expansion_revenue: a.expansion,
            lost_before_target: a.lost_before_target,
            open_under_target: a.open_under_target,
        });
    }
    t.team_quota = (quota_p > Decimal::ZERO).then_some(quota_p);
    t.target_quota = (quota_t > Decimal::ZERO).then_some(quota_t);
    (out, t)
}
