//! Goals (METRICS.md "Goals"): a metric, a baseline period, a target set
//! as a relative change, an absolute change or a value; the actual, the
//! progress from baseline to target, and whether it is met.

use super::Core;
use crate::period::Period;
use rust_decimal::prelude::*;

/// The metrics a goal may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GoalMetric {
    WonRevenue,
    WinRate,
    AvgWonDealSize,
    PipelineWeighted,
    PipelineCoverage,
    QuotaAttainmentRate,
    SalesCycleDaysMean,
    LeadResponseHoursMedian,
    LeadResponseWithinSla,
    SellingTimeShare,
    MeetingsPerProspectingActivity,
    ExpansionShare,
    MqlToSqlRate,
    TouchesMeanWon,
    LostBeforeTargetShare,
}

impl GoalMetric {
    pub const ALL: [(&'static str, GoalMetric); 15] = [
        ("won_revenue", GoalMetric::WonRevenue),
        ("win_rate", GoalMetric::WinRate),
        ("avg_won_deal_size", GoalMetric::AvgWonDealSize),
        ("pipeline_weighted", GoalMetric::PipelineWeighted),
        ("pipeline_coverage", GoalMetric::PipelineCoverage),
        ("quota_attainment_rate", GoalMetric::QuotaAttainmentRate),
        ("sales_cycle_days_mean", GoalMetric::SalesCycleDaysMean),
        (
            "lead_response_hours_median",
            GoalMetric::LeadResponseHoursMedian,
        ),
        (
            "lead_response_within_sla",
            GoalMetric::LeadResponseWithinSla,
        ),
        ("selling_time_share", GoalMetric::SellingTimeShare),
        (
            "meetings_per_prospecting_activity",
            GoalMetric::MeetingsPerProspectingActivity,
        ),
        ("expansion_share", GoalMetric::ExpansionShare),
        ("mql_to_sql_rate", GoalMetric::MqlToSqlRate),
        ("touches_mean_won", GoalMetric::TouchesMeanWon),
        (
            "lost_before_target_share",
            GoalMetric::LostBeforeTargetShare,
        ),
    ];

    pub fn parse(s: &str) -> Option<GoalMetric> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, m)| *m)
    }

    pub fn as_str(&self) -> &'static str {
        Self::ALL.iter().find(|(_, m)| m == self).unwrap().0
    }

    pub fn names() -> String {
        Self::ALL.map(|(n, _)| n).join(", ")
    }

    /// Lower is better for cycle length, response time and deals lost
    /// before the follow-up target.
    pub fn lower_is_better(&self) -> bool {
        matches!(
            self,
            GoalMetric::SalesCycleDaysMean
                | GoalMetric::LeadResponseHoursMedian
                | GoalMetric::LostBeforeTargetShare
        )
    }

    pub fn is_money(&self) -> bool {
        matches!(
            self,
            GoalMetric::WonRevenue | GoalMetric::AvgWonDealSize | GoalMetric::PipelineWeighted
        )
    }

    /// The metric's value in a report's figures.
    pub fn value(&self, c: &Core) -> Option<Num> {
        let k = &c.kpis;
        let r = |v: Option<f64>| v.map(Num::Ratio);
        match self {
            GoalMetric::WonRevenue => Some(Num::Money(k.won_revenue)),
            GoalMetric::AvgWonDealSize => k.avg_won_deal_size.map(Num::Money),
            GoalMetric::PipelineWeighted => Some(Num::Money(k.pipeline_weighted)),
            GoalMetric::WinRate => r(k.win_rate),
            GoalMetric::PipelineCoverage => r(k.pipeline_coverage),
            GoalMetric::QuotaAttainmentRate => r(k.quota_attainment_rate),
            GoalMetric::SalesCycleDaysMean => r(k.sales_cycle_days_mean),
            GoalMetric::LeadResponseHoursMedian => r(k.lead_response_hours_median),
            GoalMetric::LeadResponseWithinSla => r(k.lead_response_within_sla),
            GoalMetric::SellingTimeShare => r(k.selling_time_share),
            GoalMetric::MeetingsPerProspectingActivity => r(k.meetings_per_prospecting_activity),
            GoalMetric::ExpansionShare => r(k.expansion_share),
            GoalMetric::MqlToSqlRate => r(c.leads.mql_to_sql_rate),
            GoalMetric::TouchesMeanWon => r(k.touches_mean_won),
            GoalMetric::LostBeforeTargetShare => r(k.lost_before_target_share),
        }
    }
}

/// A figure a goal compares: money stays exact; the rest are ratios, means
/// and counts as the KPIs give them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Money(Decimal),
    Ratio(f64),
}

impl Num {
    pub fn to_f64(self) -> f64 {
        match self {
            Num::Money(d) => d.to_f64().unwrap_or(0.0),
            Num::Ratio(f) => f,
        }
    }
}

/// How a goal sets its target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GoalRule {
    /// target = baseline × (1 + change).
    Change(Decimal),
    /// target = baseline + change_by.
    ChangeBy(Decimal),
    /// target = the value.
    Target(Decimal),
}

/// A `[[goals]]` entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    pub metric: GoalMetric,
    pub rule: GoalRule,
    /// Default: the previous period of the report's period.
    pub baseline: Option<Period>,
    pub label: Option<String>,
}

impl Goal {
    /// The baseline period for a report of `p`.
    pub fn baseline_period(&self, p: &Period) -> Period {
        self.baseline.unwrap_or_else(|| p.previous())
    }
}

/// A goal as the report shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GoalResult {
    pub metric: GoalMetric,
    pub label: Option<String>,
    pub baseline_period: Period,
    pub baseline: Option<Num>,
    pub target: Option<Num>,
    pub actual: Option<Num>,
    pub progress: Option<f64>,
    pub met: Option<bool>,
}

/// Judges one goal from its baseline and actual values.
pub fn judge(
    g: &Goal,
    baseline_period: Period,
    baseline: Option<Num>,
    actual: Option<Num>,
) -> GoalResult {
    let target = match g.rule {
        GoalRule::Target(v) => Some(if g.metric.is_money() {
            Num::Money(v)
        } else {
            Num::Ratio(v.to_f64().unwrap_or(0.0))
        }),
        GoalRule::Change(c) => baseline.map(|b| match b {
            Num::Money(m) => Num::Money(m * (Decimal::ONE + c)),
            Num::Ratio(r) => Num::Ratio(r * (1.0 + c.to_f64().unwrap_or(0.0))),
        }),
        GoalRule::ChangeBy(c) => baseline.map(|b| match b {
            Num::Money(m) => Num::Money(m + c),
            Num::Ratio(r) => Num::Ratio(r + c.to_f64().unwrap_or(0.0)),
        }),
    };
    let met = match (actual, target) {
        (Some(a), Some(t)) => Some(if g.metric.lower_is_better() {
            less_eq(a, t)
        } else {
            less_eq(t, a)
        }),
        _ => None,
    };
    let progress = match (baseline, actual, target) {
        (Some(b), Some(a), Some(t)) => progress(b, a, t),
        _ => None,
    };
    GoalResult {
        metric: g.metric,
        label: g.label.clone(),
        baseline_period,
        baseline,
        target,
        actual,
        progress,
        met,
    }
}

fn less_eq(a: Num, b: Num) -> bool {
    match (a, b) {
        (Num::Money(a), Num::Money(b)) => a <= b,
        (a, b) => a.to_f64() <= b.to_f64(),
    }
}

/// (actual − baseline) / (target − baseline); none when target = baseline.
fn progress(b: Num, a: Num, t: Num) -> Option<f64> {
    match (b, a, t) {
        (Num::Money(b), Num::Money(a), Num::Money(t)) => {
            (t != b).then(|| ((a - b) / (t - b)).to_f64()).flatten()
        }
        (b, a, t) => {
            let (b, a, t) = (b.to_f64(), a.to_f64(), t.to_f64());
            (t != b).then(|| (a - b) / (t - b))
        }
    }
}

/// The `as_of` a goal's baseline is read at: the earlier of the baseline
/// period's end and the report's `as_of`.
pub fn baseline_as_of(baseline: &Period, as_of: chrono::NaiveDate) -> chrono::NaiveDate {
    baseline.end.min(as_of)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal(metric: GoalMetric, rule: GoalRule) -> Goal {
        Goal {
            metric,
            rule,
            baseline: None,
            label: None,
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn lower_is_better_is_met_at_or_below_the_target() {
        let p = Period::parse("2026-06", 1).unwrap();
        let g = goal(
            GoalMetric::SalesCycleDaysMean,
            GoalRule::Change(dec("-0.1")),
        );
        let r = judge(&g, p, Some(Num::Ratio(50.0)), Some(Num::Ratio(45.0)));
        assert_eq!(r.met, Some(true));
        assert!((r.target.unwrap().to_f64() - 45.0).abs() < 1e-12);
        assert!((r.progress.unwrap() - 1.0).abs() < 1e-12);
        let r = judge(&g, p, Some(Num::Ratio(50.0)), Some(Num::Ratio(46.0)));
        assert_eq!(r.met, Some(false));
    }

    #[test]
    fn money_goals_stay_exact_and_null_baselines_give_null_targets() {
        let p = Period::parse("2026-06", 1).unwrap();
        let g = goal(GoalMetric::PipelineWeighted, GoalRule::Change(dec("0.1")));
        let r = judge(
            &g,
            p,
            Some(Num::Money(dec("161047.85"))),
            Some(Num::Money(dec("177152.635"))),
        );
        assert_eq!(r.target, Some(Num::Money(dec("177152.635"))));
        assert_eq!(r.met, Some(true));
        let g = goal(GoalMetric::WinRate, GoalRule::ChangeBy(dec("0.05")));
        let r = judge(&g, p, None, Some(Num::Ratio(0.5)));
        assert_eq!((r.target, r.met, r.progress), (None, None, None));
        // A fixed target stands without a baseline; progress needs one.
        let g = goal(GoalMetric::WinRate, GoalRule::Target(dec("0.4")));
        let r = judge(&g, p, None, Some(Num::Ratio(0.5)));
        assert_eq!((r.met, r.progress), (Some(true), None));
        // Target equal to the baseline: no progress.
        let r = judge(&g, p, Some(Num::Ratio(0.4)), Some(Num::Ratio(0.5)));
        assert_eq!(r.progress, None);
    }
}
