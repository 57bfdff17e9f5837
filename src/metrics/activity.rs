//! Activity efficiency (selling time, meetings per prospecting activity) and
//! leads (response time, SLA, scoring, MQL → SQL).

use super::scope::Scope;
use super::window::{Bound, Window};
use super::{mean_median, ratio, LeadFigures, Settings, UnworkedLead};
use crate::period::Period;
use crate::snapshot::{ActivityKind, Lead, Snapshot};
use chrono::NaiveDate;
use rust_decimal::Decimal;

#[derive(Default)]
pub struct ActivityKpis {
    pub selling_time_share: Option<f64>,
    pub meetings_per_prospecting_activity: Option<f64>,
}

pub fn activities(
    snap: &Snapshot,
    scope: &Scope,
    p: &Period,
    as_of: NaiveDate,
    s: &Settings,
) -> ActivityKpis {
    let win = Window::new(p.start, p.end, s.tz).until(Bound::new(as_of, s.tz));
    let mut selling = Decimal::ZERO;
    let mut total = Decimal::ZERO;
    let (mut booked, mut prospecting) = (0u64, 0u64);
    // Internal iteration (`for_each`): a plain loop over each piece.
    scope.activities(snap).for_each(|a| {
        if !win.contains(&a.at) {
            return;
        }
        total += a.duration_minutes;
        if s.selling_kinds[a.kind.index()] {
            selling += a.duration_minutes;
        }
        match a.kind {
            ActivityKind::Call | ActivityKind::Email | ActivityKind::Social => prospecting += 1,
            ActivityKind::Meeting if a.is_booked_meeting() => booked += 1,
            _ => {}
        }
    });
    ActivityKpis {
        selling_time_share: super::dec_ratio(selling, total),
        meetings_per_prospecting_activity: ratio(booked, prospecting),
    }
}

#[derive(Default)]
pub struct LeadResults {
    pub response_mean: Option<f64>,
    pub response_median: Option<f64>,
    pub unanswered: u64,
    pub within_sla: Option<f64>,
    pub figures: LeadFigures,
}

/// A lead's score at `as_of`: the points of its events before then; a lead
/// without events takes the CRM's score, or 0.
pub fn score(l: &Lead, as_of: &Bound, s: &Settings) -> Decimal {
    match &l.score_events {
        Some(evs) if !evs.is_empty() => evs
            .iter()
            .filter(|e| as_of.after(&e.at))
            .map(|e| s.points.get(&*e.kind).copied().unwrap_or_default())
            .sum(),
        _ => l.score.unwrap_or_default(),
    }
}

pub fn leads(
    snap: &Snapshot,
    scope: &Scope,
    p: &Period,
    as_of: NaiveDate,
    s: &Settings,
) -> LeadResults {
    let as_of_b = Bound::new(as_of, s.tz);
    let win = Window::new(p.start, p.end, s.tz).until(as_of_b);
    let sla_nanos = s.response_sla_minutes * Decimal::from(60_000_000_000i64);
    let mut hours: Vec<f64> = Vec::new();
    let (mut created, mut unanswered, mut in_sla, mut sqls) = (0u64, 0u64, 0u64, 0u64);
    let mut unworked = Vec::new();
    let in_period = scope.leads(snap).filter(|l| win.contains(&l.created_at));
    in_period.for_each(|l| {
        created += 1;
        let answered = l.first_response_at.filter(|r| as_of_b.after(r));
        match answered {
            Some(r) => {
                // Instants keep their sub-second part: hours are not rounded.
                let d = r.instant(s.tz) - l.created_at.instant(s.tz);
                let nanos = d.num_seconds() as i128 * 1_000_000_000 + d.subsec_nanos() as i128;
                hours.push(nanos as f64 / 3.6e12);
                if Decimal::from_i128_with_scale(nanos, 0) <= sla_nanos {
                    in_sla += 1;
                }
            }
            None => unanswered += 1,
        }
        let sc = score(l, &as_of_b, s);
        if sc >= s.sql_threshold {
            sqls += 1;
            if l.owner.is_none() || answered.is_none() {
                unworked.push(UnworkedLead {
                    id: l.id.to_string(),
                    owner: l.owner.as_ref().map(|o| o.to_string()),
                    answered: answered.is_some(),
                    score: sc,
                });
            }
        }
    });
    let (mean, median) = mean_median(hours);
    LeadResults {
        response_mean: mean,
        response_median: median,
        unanswered,
        within_sla: ratio(in_sla, created),
        figures: LeadFigures {
            sql_count: sqls,
            leads_created: created,
            mql_to_sql_rate: ratio(sqls, created),
            unworked_sqls: unworked,
        },
    }
}
