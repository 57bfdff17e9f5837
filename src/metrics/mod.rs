//! Every figure of the spec (METRICS.md), as pure functions of a snapshot,
//! a period, `as_of` and settings.
//!
//! Never does I/O and never reads the clock: the time zone, `as_of` and the
//! forecasts stored by earlier runs all come in as arguments. Money stays in
//! exact decimals here; rounding to cents happens only when the report is
//! written.

mod activity;
mod deals;
pub mod forecast;
pub mod quota;
mod window;

pub use forecast::{Accuracy, Forecasts, Method, StoredForecast};
pub use window::{Bound, Window};

use crate::period::Period;
use crate::snapshot::{ActivityKind, Snapshot};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

/// A role's quota and commission terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub monthly_quota: Decimal,
    pub commission_rate: Decimal,
    pub accelerator_rate: Decimal,
}

/// One `[[reps]]` entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RepRule {
    pub email: Option<String>,
    pub id: Option<String>,
    pub role: Option<String>,
    pub quota: Option<Decimal>,
    pub start_date: Option<NaiveDate>,
}

/// Everything the figures depend on besides the data.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tz: Tz,
    pub fiscal_start_month: u32,
    pub roles: BTreeMap<String, Role>,
    pub default_role: String,
    pub rep_rules: Vec<RepRule>,
    pub growth_rate: Decimal,
    pub new_rep_first_month_revenue: Decimal,
    pub high_performer_attainment: Decimal,
    /// Indexed by `ActivityKind::index()`.
    pub selling_kinds: [bool; ActivityKind::ALL.len()],
    pub sql_threshold: Decimal,
    pub response_sla_minutes: Decimal,
    pub points: HashMap<String, Decimal>,
}

/// Team KPIs for the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    pub won_revenue: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub win_rate: Option<f64>,
    pub avg_won_deal_size: Option<Decimal>,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub avg_open_deal_size: Option<Decimal>,
    pub pipeline_coverage: Option<f64>,
    pub quota_attainment_rate: Option<f64>,
    pub sales_cycle_days_mean: Option<f64>,
    pub sales_cycle_days_median: Option<f64>,
    pub lead_response_hours_median: Option<f64>,
    pub lead_response_hours_mean: Option<f64>,
    pub leads_unanswered: u64,
    pub lead_response_within_sla: Option<f64>,
    pub selling_time_share: Option<f64>,
    pub meetings_per_prospecting_activity: Option<f64>,
    /// Not in report.json: the team quota of the period (for the headline).
    pub team_quota: Option<Decimal>,
    /// Not in report.json: won revenue of the previous period.
    pub prev_won_revenue: Decimal,
    /// Not in report.json: the team quota of the forecast target (what the
    /// forecasts are set against in the report).
    pub target_quota: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quadrant {
    RisingStar,
    FallingStar,
    ImprovingLaggard,
    DecliningLaggard,
}

impl Quadrant {
    pub fn as_str(&self) -> &'static str {
        match self {
            Quadrant::RisingStar => "rising_star",
            Quadrant::FallingStar => "falling_star",
            Quadrant::ImprovingLaggard => "improving_laggard",
            Quadrant::DecliningLaggard => "declining_laggard",
        }
    }
}

/// Per-rep figures for the period.
#[derive(Debug, Clone, PartialEq)]
pub struct RepFigures {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub role: String,
    pub won_revenue: Decimal,
    pub prev_won_revenue: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub win_rate: Option<f64>,
    pub avg_won_deal_size: Option<Decimal>,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub quota: Option<Decimal>,
    pub attainment: Option<Decimal>,
    pub sales_cycle_days_mean: Option<f64>,
    pub quadrant: Option<Quadrant>,
    pub commission: Option<Decimal>,
}

/// An SQL created in the period that nobody owns or answered.
#[derive(Debug, Clone, PartialEq)]
pub struct UnworkedLead {
    pub id: String,
    pub owner: Option<String>,
    pub answered: bool,
    pub score: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFigures {
    pub sql_count: u64,
    pub leads_created: u64,
    pub mql_to_sql_rate: Option<f64>,
    pub unworked_sqls: Vec<UnworkedLead>,
}

/// All figures of one report.
#[derive(Debug, Clone)]
pub struct Figures {
    pub period: Period,
    pub previous: Period,
    pub as_of: NaiveDate,
    pub kpis: Kpis,
    pub reps: Vec<RepFigures>,
    pub forecasts: Forecasts,
    pub accuracy: BTreeMap<Method, Accuracy>,
    pub leads: LeadFigures,
    pub data_quality: Vec<String>,
}

/// Exact ratio of two counts.
pub(crate) fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub(crate) fn dec_ratio(n: Decimal, d: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    if d.is_zero() {
        return None;
    }
    (n / d).to_f64()
}

/// Mean and median of a list of values (median of an even count: the mean
/// of the two middle values).
pub(crate) fn mean_median(mut v: Vec<f64>) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (Some(mean), Some(median))
}

/// Won revenue of period `p` with the books as of `as_of`: the actual that
/// a stored forecast for `p` is judged against (the report's accuracy
/// history reads it for earlier periods).
pub fn won_revenue(snap: &Snapshot, p: &Period, as_of: NaiveDate, tz: Tz) -> Decimal {
    snap.deals
        .iter()
        .filter(|d| snap.stage_of(d).status() == crate::snapshot::Status::Won)
        .filter(|d| {
            let close = d.close_date.local_date(tz);
            close < as_of && p.contains(close)
        })
        .filter_map(|d| d.amount)
        .sum()
}

/// Computes every figure for period `p` with the books as of the start of
/// local day `as_of`. `stored` holds the forecasts earlier runs kept, for
/// forecast accuracy.
pub fn compute(
    snap: &Snapshot,
    p: Period,
    as_of: NaiveDate,
    s: &Settings,
    stored: &[StoredForecast],
) -> Figures {
    let target = forecast::target(&p, as_of);
    let deal_figs = deals::accumulate(snap, &p, &target, as_of, s);
    let (activity_kpis, leads) = (
        activity::activities(snap, &p, as_of, s),
        activity::leads(snap, &p, as_of, s),
    );

    let mut kpis = deal_figs.kpis;
    kpis.selling_time_share = activity_kpis.selling_time_share;
    kpis.meetings_per_prospecting_activity = activity_kpis.meetings_per_prospecting_activity;
    kpis.lead_response_hours_mean = leads.response_mean;
    kpis.lead_response_hours_median = leads.response_median;
    kpis.leads_unanswered = leads.unanswered;
    kpis.lead_response_within_sla = leads.within_sla;

    let mut data_quality = snap.notes.clone();
    data_quality.extend(deal_figs.notes);

    let accuracy = forecast::accuracy(&p, as_of, kpis.won_revenue, stored);
    Figures {
        period: p,
        previous: p.previous(),
        as_of,
        kpis,
        reps: deal_figs.reps,
        forecasts: deal_figs.forecasts,
        accuracy,
        leads: leads.figures,
        data_quality,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Lead, ScoreEvent, When};
    use chrono::TimeZone;

    fn settings() -> Settings {
        crate::config::Settings::from_toml("").unwrap().metrics
    }

    #[test]
    fn empty_books_give_nulls_not_zeros() {
        let snap = Snapshot::default();
        let p = Period::parse("2026-07", 1).unwrap();
        let f = compute(&snap, p, p.end, &settings(), &[]);
        let k = &f.kpis;
        assert_eq!(k.won_revenue, Decimal::ZERO);
        assert_eq!(
            (k.win_rate, k.avg_won_deal_size, k.avg_open_deal_size),
            (None, None, None)
        );
        assert_eq!((k.pipeline_coverage, k.quota_attainment_rate), (None, None));
        assert_eq!(
            (k.sales_cycle_days_mean, k.sales_cycle_days_median),
            (None, None)
        );
        assert_eq!(
            (k.lead_response_hours_mean, k.lead_response_within_sla),
            (None, None)
        );
        assert_eq!(
            (k.selling_time_share, k.meetings_per_prospecting_activity),
            (None, None)
        );
        assert_eq!(f.leads.mql_to_sql_rate, None);
        assert_eq!(f.forecasts.cycle_length, None);
        assert_eq!(f.forecasts.target.label(), "2026-08");
    }

    #[test]
    fn median_of_even_count_is_mean_of_middle_two() {
        assert_eq!(
            mean_median(vec![4.0, 1.0, 3.0, 2.0]),
            (Some(2.5), Some(2.5))
        );
        assert_eq!(mean_median(vec![5.0, 1.0, 3.0]), (Some(3.0), Some(3.0)));
    }

    #[test]
    fn score_events_beat_the_crm_score_even_when_they_come_later() {
        let s = settings();
        let t = |d: u32| When::Instant(chrono::Utc.with_ymd_and_hms(2026, 7, d, 12, 0, 0).unwrap());
        let lead = |events: Option<Vec<ScoreEvent>>, score: Option<i64>| Lead {
            id: "l".into(),
            owner: None,
            created_at: t(1),
            first_response_at: None,
            score_events: events,
            score: score.map(Decimal::from),
        };
        let as_of = Bound::new(chrono::NaiveDate::from_ymd_opt(2026, 7, 10).unwrap(), s.tz);
        let ev = |kind: &str, d: u32| ScoreEvent {
            kind: kind.into(),
            at: t(d),
        };
        // Events up to as_of only; an unknown kind is worth 0.
        let l = lead(
            Some(vec![
                ev("pricing_page_visit", 2),
                ev("email_click", 20),
                ev("webinar", 3),
            ]),
            Some(50),
        );
        assert_eq!(activity::score(&l, &as_of, &s), Decimal::from(10));
        // No events (none or empty): the CRM's score; neither: 0.
        assert_eq!(
            activity::score(&lead(Some(vec![]), Some(50)), &as_of, &s),
            Decimal::from(50)
        );
        assert_eq!(
            activity::score(&lead(None, Some(7)), &as_of, &s),
            Decimal::from(7)
        );
        assert_eq!(
            activity::score(&lead(None, None), &as_of, &s),
            Decimal::ZERO
        );
        // Events that all come after as_of still count as events: 0.
        assert_eq!(
            activity::score(
                &lead(Some(vec![ev("email_open", 25)]), Some(50)),
                &as_of,
                &s
            ),
            Decimal::ZERO
        );
    }

    #[test]
    fn won_revenue_is_the_kpi_of_compute() {
        let today = NaiveDate::from_ymd_opt(2026, 8, 15).unwrap();
        let snap = crate::source::demo::generate(today);
        let s = crate::config::Settings::from_toml("").unwrap().metrics;
        for label in ["2026-05", "2026-Q2", "2026-07"] {
            let p = Period::parse(label, 1).unwrap();
            let f = compute(&snap, p, today, &s, &[]);
            assert!(f.kpis.won_revenue > Decimal::ZERO, "{label}");
            assert_eq!(
                won_revenue(&snap, &p, today, s.tz),
                f.kpis.won_revenue,
                "{label}"
            );
        }
    }
}
