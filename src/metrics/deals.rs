//! One pass over the deals: won/lost, pipeline, cycle, per-rep figures,
//! quotas, commission, quadrants and the inputs of the five forecasts.

use super::forecast::{self, Forecasts, OpenInTarget};
use super::quota::{self, RepPlan};
use super::window::{Bound, Window};
use super::{dec_ratio, mean_median, ratio, Kpis, Quadrant, RepFigures, Settings};
use crate::period::{add_months, Period};
use crate::snapshot::{Snapshot, Status};
use chrono::{Duration, NaiveDate};
use rust_decimal::Decimal;

pub struct DealFigures {
    pub kpis: Kpis,
    pub reps: Vec<RepFigures>,
    pub forecasts: Forecasts,
    pub notes: Vec<String>,
}

#[derive(Default, Clone)]
struct RepAcc {
    won: Decimal,
    prev_won: Decimal,
    deals_won: u64,
    deals_lost: u64,
    pipeline_total: Decimal,
    pipeline_weighted: Decimal,
    cycle_days_sum: i64,
}

pub fn accumulate(
    snap: &Snapshot,
    p: &Period,
    target: &Period,
    as_of: NaiveDate,
    s: &Settings,
) -> DealFigures {
    let tz = s.tz;
    let as_of_b = Bound::new(as_of, tz);
    let prev = p.previous();
    // Base of the historical forecast: the three whole calendar months before
    // the target's start.
    let hist_end = crate::period::Period::month_of(target.start).start;
    let hist = Window::new(add_months(hist_end, -3), hist_end, tz);
    let cycle_window_start = as_of - Duration::days(365);

    let mut reps = vec![RepAcc::default(); snap.reps.len()];
    let mut k = Kpis::default();
    let mut cycles: Vec<f64> = Vec::new();
    let mut open_count: u64 = 0;
    let mut coverage_amount = Decimal::ZERO;
    let mut won_so_far = Decimal::ZERO;
    let mut hist_base = Decimal::ZERO;
    let (mut cyc_sum, mut cyc_n) = (0i64, 0i64);
    let mut open_in_target: Vec<OpenInTarget> = Vec::new();
    let mut missing_amount: Vec<&str> = Vec::new();

    for d in &snap.deals {
        let stage = &snap.stages[d.stage];
        let status = stage.status();
        let amount = match d.amount {
            Some(a) => a,
            None => {
                missing_amount.push(&d.id);
                Decimal::ZERO
            }
        };
        let close = d.close_date.local_date(tz);
        let r = &mut reps[d.owner];
        let closed_before = close < as_of;
        if status == Status::Won && closed_before {
            if p.contains(close) {
                k.won_revenue += amount;
                k.deals_won += 1;
                r.won += amount;
                r.deals_won += 1;
                let days = (close - d.created_at.local_date(tz)).num_days();
                r.cycle_days_sum += days;
                cycles.push(days as f64);
            }
            if prev.contains(close) {
                r.prev_won += amount;
                k.prev_won_revenue += amount;
            }
            if target.contains(close) {
                won_so_far += amount;
            }
            if hist.contains_date(close) {
                hist_base += amount;
            }
            if close >= cycle_window_start {
                cyc_sum += (close - d.created_at.local_date(tz)).num_days();
                cyc_n += 1;
            }
        } else if status == Status::Lost && closed_before {
            if p.contains(close) {
                k.deals_lost += 1;
                r.deals_lost += 1;
            }
        } else if as_of_b.after(&d.created_at) {
            // Open at as_of: open now, or closed on or after as_of. A deal
            // closed since then is weighted by its current stage: 1 if won, 0 if lost.
            let probability = match status {
                Status::Open => stage.probability,
                Status::Won => Decimal::ONE,
                Status::Lost => Decimal::ZERO,
            };
            let weighted = amount * probability;
            k.pipeline_total += amount;
            k.pipeline_weighted += weighted;
            r.pipeline_total += amount;
            r.pipeline_weighted += weighted;
            open_count += 1;
            if target.contains(close) {
                coverage_amount += amount;
                open_in_target.push(OpenInTarget {
                    amount,
                    weighted,
                    age_days: (as_of - d.created_at.local_date(tz)).num_days(),
                    category: d.forecast_category,
                });
            }
        }
    }

    k.win_rate = ratio(k.deals_won, k.deals_won + k.deals_lost);
    k.avg_won_deal_size = (k.deals_won > 0).then(|| k.won_revenue / Decimal::from(k.deals_won));
    k.avg_open_deal_size = (open_count > 0).then(|| k.pipeline_total / Decimal::from(open_count));
    (k.sales_cycle_days_mean, k.sales_cycle_days_median) = mean_median(cycles);

    let plans: Vec<RepPlan> = snap.reps.iter().map(|rep| quota::plan(rep, s)).collect();
    let mut rep_figs = Vec::with_capacity(snap.reps.len());
    let (mut with_quota, mut at_quota) = (0u64, 0u64);
    let mut team_quota_p = Decimal::ZERO;
    let mut team_quota_t = Decimal::ZERO;
    let mut new_reps = 0u64;
    for (i, (rep, a)) in snap.reps.iter().zip(&reps).enumerate() {
        let plan = &plans[i];
        let q = quota::quota(plan, p);
        if let Some(qt) = quota::quota(plan, target) {
            team_quota_t += qt.value();
        }
        if plan.start_date.is_some_and(|d| target.contains(d)) {
            new_reps += 1;
        }
        if let Some(q) = &q {
            with_quota += 1;
            team_quota_p += q.value();
            if q.reached(a.won, Decimal::ONE) {
                at_quota += 1;
            }
        }
        let quadrant = q.map(|q| {
            let high = q.reached(a.won, s.high_performer_attainment);
            let up = a.won >= a.prev_won;
            match (high, up) {
                (true, true) => Quadrant::RisingStar,
                (true, false) => Quadrant::FallingStar,
                (false, true) => Quadrant::ImprovingLaggard,
                (false, false) => Quadrant::DecliningLaggard,
            }
        });
        rep_figs.push(RepFigures {
            index: i,
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
        });
    }
    k.quota_attainment_rate = ratio(at_quota, with_quota);
    k.team_quota = (team_quota_p > Decimal::ZERO).then_some(team_quota_p);
    k.target_quota = (team_quota_t > Decimal::ZERO).then_some(team_quota_t);
    k.pipeline_coverage = dec_ratio(coverage_amount, team_quota_t);

    let forecasts = forecast::forecasts(forecast::Inputs {
        target: *target,
        won_so_far,
        open_in_target: &open_in_target,
        typical_cycle: (cyc_n > 0 && cyc_sum != 0)
            .then(|| Decimal::from(cyc_sum) / Decimal::from(cyc_n)),
        hist_base,
        new_reps,
        settings: s,
    });

    let mut notes = Vec::new();
    if !missing_amount.is_empty() {
        let shown: Vec<&str> = missing_amount.iter().take(10).copied().collect();
        let more = missing_amount.len().saturating_sub(shown.len());
        notes.push(format!(
            "{} deal(s) have no amount and count as 0: {}{}",
            missing_amount.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    DealFigures {
        kpis: k,
        reps: rep_figs,
        forecasts,
        notes,
    }
}
