//! The report model: figures as they are written out. `report.json` has
//! exactly the keys of the spec's "Machine-readable output"; templates see
//! the same values plus presentation data (later in `render`).
//!
//! Money is rounded to cents here (by `metrics::cents`, the one rounding
//! rule, which forecasts stored for later runs use too) and nowhere earlier.

use crate::metrics::{Accuracy, Figures, GoalResult, Method, Num, TeamRow, TrackRecord};
use rust_decimal::prelude::*;
use serde::Serialize;
use serde_json::{json, Map, Value};

pub use crate::metrics::cents;

/// Money as a JSON number in the report currency, rounded to cents.
pub fn money(d: Decimal) -> Value {
    // The shortest text of this f64 is the two-decimal value itself.
    Value::from(cents(d).to_string().parse::<f64>().unwrap_or(0.0))
}

fn opt_money(d: Option<Decimal>) -> Value {
    d.map(money).unwrap_or(Value::Null)
}

fn opt_ratio(v: Option<f64>) -> Value {
    v.map(Value::from).unwrap_or(Value::Null)
}

fn opt_dec_ratio(v: Option<Decimal>) -> Value {
    v.and_then(|d| d.to_f64())
        .map(Value::from)
        .unwrap_or(Value::Null)
}

#[derive(Serialize)]
struct PeriodOut<'a> {
    label: String,
    start: &'a chrono::NaiveDate,
    end: &'a chrono::NaiveDate,
}

/// The spec's machine-readable output for one report: `team` names the
/// team of a team's report; the organisation's report has `teams` rows.
pub fn report_json(
    f: &Figures,
    currency: &str,
    team: Option<&str>,
    teams: Option<&[TeamRow]>,
) -> Value {
    let k = &f.kpis;
    let kpis = json!({
        "won_revenue": money(k.won_revenue),
        "deals_won": k.deals_won,
        "deals_lost": k.deals_lost,
        "win_rate": opt_ratio(k.win_rate),
        "avg_won_deal_size": opt_money(k.avg_won_deal_size),
        "pipeline_total": money(k.pipeline_total),
        "pipeline_weighted": money(k.pipeline_weighted),
        "avg_open_deal_size": opt_money(k.avg_open_deal_size),
        "pipeline_coverage": opt_ratio(k.pipeline_coverage),
        "quota_attainment_rate": opt_ratio(k.quota_attainment_rate),
        "sales_cycle_days_mean": opt_ratio(k.sales_cycle_days_mean),
        "sales_cycle_days_median": opt_ratio(k.sales_cycle_days_median),
        "lead_response_hours_median": opt_ratio(k.lead_response_hours_median),
        "lead_response_hours_mean": opt_ratio(k.lead_response_hours_mean),
        "leads_unanswered": k.leads_unanswered,
        "lead_response_within_sla": opt_ratio(k.lead_response_within_sla),
        "selling_time_share": opt_ratio(k.selling_time_share),
        "meetings_per_prospecting_activity": opt_ratio(k.meetings_per_prospecting_activity),
        "won_revenue_by_type": Map::from_iter(
            k.won_revenue_by_type.entries().map(|(key, v)| (key.to_string(), money(v)))
        ),
        "expansion_share": opt_ratio(k.expansion_share),
        "touches_mean_won": opt_ratio(k.touches_mean_won),
        "touches_mean_lost": opt_ratio(k.touches_mean_lost),
        "lost_before_target_share": opt_ratio(k.lost_before_target_share),
        "open_under_target": k.open_under_target,
        "team_attainment": opt_ratio(k.team_attainment),
        "reps_at_quota": k.reps_at_quota,
    });
    let reps: Vec<Value> = f
        .reps
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "won_revenue": money(r.won_revenue),
                "prev_won_revenue": money(r.prev_won_revenue),
                "deals_won": r.deals_won,
                "deals_lost": r.deals_lost,
                "win_rate": opt_ratio(r.win_rate),
                "avg_won_deal_size": opt_money(r.avg_won_deal_size),
                "pipeline_total": money(r.pipeline_total),
                "pipeline_weighted": money(r.pipeline_weighted),
                "quota": opt_money(r.quota),
                "attainment": opt_dec_ratio(r.attainment),
                "sales_cycle_days_mean": opt_ratio(r.sales_cycle_days_mean),
                "quadrant": r.quadrant.map(|q| q.as_str()),
                "commission": opt_money(r.commission),
                "expansion_revenue": money(r.expansion_revenue),
                "lost_before_target": r.lost_before_target,
                "open_under_target": r.open_under_target,
            })
        })
        .collect();
    let mut forecasts = Map::new();
    forecasts.insert("target".into(), json!(f.forecasts.target.label()));
    for m in Method::ALL {
        forecasts.insert(m.as_str().into(), opt_money(f.forecasts.get(m)));
    }
    let accuracy: Map<String, Value> = f
        .accuracy
        .iter()
        .map(|(m, a)| (m.as_str().to_string(), accuracy_json(a)))
        .collect();
    let mut out = json!({
        "period": PeriodOut { label: f.period.label(), start: &f.period.start, end: &f.period.end },
        "as_of": f.as_of.to_string(),
        "currency": currency,
        "team": team,
        "kpis": kpis,
        "reps": reps,
        "forecasts": forecasts,
        "forecast_accuracy": accuracy,
        "forecast_track_record": track_record_json(&f.track_record),
        "goals": f.goals.iter().map(goal_json).collect::<Vec<_>>(),
        "leads": {
            "sql_count": f.leads.sql_count,
            "mql_to_sql_rate": opt_ratio(f.leads.mql_to_sql_rate),
        },
        "data_quality": f.data_quality,
    });
    if let Some(rows) = teams {
        out["teams"] = Value::Array(rows.iter().map(team_json).collect());
    }
    out
}

fn accuracy_json(a: &Accuracy) -> Value {
    json!({
        "forecast": opt_money(a.forecast),
        "actual": money(a.actual),
        "accuracy": opt_ratio(a.accuracy),
        "bias": opt_ratio(a.bias),
        "late": a.late,
        "reconstructed": a.reconstructed,
    })
}

fn track_record_json(t: &TrackRecord) -> Value {
    let labels: Vec<String> = t.periods.iter().map(|p| p.label()).collect();
    let mut methods = Map::new();
    let mut means = Map::new();
    for m in Method::ALL {
        let list: Vec<Value> = t
            .methods
            .get(&m)
            .into_iter()
            .flatten()
            .zip(&labels)
            .map(|(a, label)| {
                let mut v = accuracy_json(a);
                v["period"] = json!(label);
                v
            })
            .collect();
        methods.insert(m.as_str().into(), Value::Array(list));
        means.insert(
            m.as_str().into(),
            opt_ratio(t.mean_accuracy.get(&m).copied().flatten()),
        );
    }
    json!({
        "periods": labels,
        "methods": methods,
        "mean_accuracy": means,
        "best_method": t.best_method.map(|m| m.as_str()),
    })
}

fn num_json(n: Option<Num>) -> Value {
    match n {
        Some(Num::Money(d)) => money(d),
        Some(Num::Ratio(r)) => opt_ratio(Some(r)),
        None => Value::Null,
    }
}

fn goal_json(g: &GoalResult) -> Value {
    json!({
        "metric": g.metric.as_str(),
        "label": g.label,
        "baseline_period": g.baseline_period.label(),
        "baseline": num_json(g.baseline),
        "target": num_json(g.target),
        "actual": num_json(g.actual),
        "progress": opt_ratio(g.progress),
        "met": g.met,
    })
}

fn team_json(t: &TeamRow) -> Value {
    json!({
        "name": t.name,
        "manager": t.manager,
        "reps": t.reps,
        "won_revenue": money(t.won_revenue),
        "team_quota": opt_money(t.team_quota),
        "team_attainment": opt_ratio(t.team_attainment),
        "quota_attainment_rate": opt_ratio(t.quota_attainment_rate),
        "win_rate": opt_ratio(t.win_rate),
        "pipeline_weighted": money(t.pipeline_weighted),
        "pipeline_coverage": opt_ratio(t.pipeline_coverage),
        "stage_weighted": money(t.stage_weighted),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn m(s: &str) -> Value {
        money(Decimal::from_str(s).unwrap())
    }

    #[test]
    fn rounds_to_cents() {
        assert_eq!(m("3808.396"), json!(3808.4));
        assert_eq!(m("30333.3333333"), json!(30333.33));
        assert_eq!(m("-12.344"), json!(-12.34));
        // Exact half cents follow their binary double (spec vectors).
        assert_eq!(m("3865.665"), json!(3865.66));
        assert_eq!(m("1095.455"), json!(1095.45));
        assert_eq!(m("6713.925"), json!(6713.93));
        assert_eq!(m("5205.085"), json!(5205.09));
    }
}
