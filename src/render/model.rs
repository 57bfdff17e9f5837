//! Building the view model (`view.rs`) from figures: every number formatted
//! for the report's locale and currency, every sentence filled in.
//! Templates never compute a figure; they only lay these out.
//!
//! Pure: built from figures computed elsewhere (the report period, the
//! previous period, and forecast accuracy of earlier periods).

use super::format::{self, Change};
use super::labels::Labels;
use super::sections;
use super::view::*;
use crate::metrics::{Accuracy, Figures, Goal, Method, Quadrant, RepFigures, TeamRow};
use crate::period::Period;
use crate::snapshot::{Deal, Rep};
use rust_decimal::prelude::*;
use std::collections::{BTreeMap, HashMap};

/// At most this many rep rows and unworked SQLs go into the email body, so
/// it stays under Gmail's ~100 KB clipping limit; the CSV has every rep.
pub const MAX_REP_ROWS: usize = 50;
pub const MAX_UNWORKED_ROWS: usize = 20;
/// Names listed per quadrant in the email (the chart and CSV have all).
pub const MAX_QUADRANT_NAMES: usize = 40;

/// What the view model is built from.
pub struct Input<'a> {
    pub report: &'a str,
    pub locale: &'a str,
    pub currency: &'a str,
    pub timezone: &'a str,
    /// One line on where the data came from.
    pub source: &'a str,
    /// The team of a team's report (its title names it); none for the
    /// organisation's.
    pub team: Option<&'a str>,
    pub figures: &'a Figures,
    /// The organisation's `teams` rows (empty without teams, and in a
    /// team's report).
    pub teams: &'a [TeamRow],
    /// The CRM's reps (to name lead and deal owners).
    pub reps: &'a [Rep],
    /// The CRM's deals (to name the deals to follow up).
    pub deals: &'a [Deal],
    pub rules: Rules,
}

/// Settings the definitions quote, so a reader sees the rule in force.
#[derive(Debug, Clone)]
pub struct Rules {
    pub high_performer_attainment: Decimal,
    pub response_sla_minutes: Decimal,
    pub sql_threshold: Decimal,
    pub growth_rate: Decimal,
    pub selling_kinds: Vec<String>,
    /// Touches a deal should get (`[activities] follow_up_target`).
    pub follow_up_target: u32,
    /// `[[goals]]` in config order (the wording of goals without a label).
    pub goals: Vec<Goal>,
}

/// Replaces `{name}` placeholders in a label.
pub fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in pairs {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

pub(super) const QUADRANTS: [Quadrant; 4] = [
    Quadrant::RisingStar,
    Quadrant::FallingStar,
    Quadrant::ImprovingLaggard,
    Quadrant::DecliningLaggard,
];

pub(super) fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Reps in the order of the table: attainment high to low, reps without a
/// quota last, then by won revenue and name.
pub fn sorted_reps(f: &Figures) -> Vec<&RepFigures> {
    let mut reps: Vec<&RepFigures> = f.reps.iter().collect();
    reps.sort_by(|a, b| {
        let key = |r: &RepFigures| r.attainment.map(std::cmp::Reverse);
        match (key(a), key(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }
        .then(b.won_revenue.cmp(&a.won_revenue))
        .then(a.name.cmp(&b.name))
    });
    reps
}

pub fn csv_name(period: &Period) -> String {
    format!("reps-{}.csv", period.label())
}

pub(super) struct Fmt<'a> {
    pub cur: &'a str,
    pub t: &'a Labels,
}

impl Fmt<'_> {
    pub fn money(&self, d: Decimal) -> String {
        format::money(self.cur, d)
    }
    pub fn opt_money(&self, d: Option<Decimal>) -> String {
        d.map(|d| self.money(d))
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    pub fn pct(&self, v: Option<f64>) -> String {
        v.map(format::pct)
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    pub fn pct0(&self, v: Option<f64>) -> String {
        v.map(format::pct0)
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    pub fn num(&self, v: Option<f64>, dp: usize) -> String {
        v.map(|v| format::num(v, dp))
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    /// Coverage as a multiple: `1.84×`.
    pub fn multiple(&self, v: Option<f64>) -> String {
        v.map(|c| format!("{}×", format::num(c, 2)))
            .unwrap_or_else(|| self.t.get("not_available"))
    }
}

/// The report's title: a team's report names its team.
pub fn title(i: &Input, t: &Labels) -> String {
    match i.team {
        Some(team) => fill(&t.get("title_team"), &[("team", team)]),
        None => t.get("title"),
    }
}

/// Builds the view model (charts are added by the caller per output).
pub fn build(i: &Input, t: &Labels) -> View {
    let f = i.figures;
    let k = &f.kpis;
    let fm = Fmt { cur: i.currency, t };
    let period = f.period.label();
    let csv = csv_name(&f.period);
    let range = format!("{} – {}", f.period.start, f.period.last_day());
    let as_of = f.as_of.to_string();
    let prev_label = f.previous.label();
    let threshold = format::pct0(f64_of(i.rules.high_performer_attainment));
    let title = title(i, t);
    let report = match i.team {
        Some(team) => format!("{} · {team}", i.report),
        None => i.report.to_string(),
    };

    let default_subject = match f.kpis.team_attainment {
        Some(a) => fill(
            &t.get("subject_default"),
            &[
                ("title", &title),
                ("period", &period),
                ("won", &format::money_short(i.currency, k.won_revenue)),
                ("attainment", &format::pct0(a)),
            ],
        ),
        None => fill(
            &t.get("subject_no_quota"),
            &[
                ("title", &title),
                ("period", &period),
                ("won", &format::money_short(i.currency, k.won_revenue)),
            ],
        ),
    };

    View {
        lang: i.locale.to_string(),
        t: t.all(),
        report: i.report.to_string(),
        period: period.clone(),
        title,
        subtitle: fill(
            &t.get("subtitle"),
            &[("report", i.report), ("period", &period), ("range", &range)],
        ),
        as_of: fill(&t.get("as_of"), &[("date", &as_of)]),
        running: (f.as_of < f.period.end).then(|| t.get("running")),
        vs_previous: fill(&t.get("vs_previous"), &[("period", &prev_label)]),
        headline: headline(i, &fm),
        goals: sections::goals(i, &fm),
        revenue: sections::revenue(i, &fm),
        follow_up: sections::follow_up(i, &fm),
        forecast: forecast(i, &fm),
        teams: sections::teams(i, &fm),
        reps: reps(i, &fm, &csv),
        quadrants: quadrants(i, t, &threshold),
        efficiency: efficiency(i, &fm),
        leads: leads(i, &fm),
        data_quality: f.data_quality.clone(),
        footer: vec![
            fill(
                &t.get("footer_generated"),
                &[
                    ("report", &report),
                    ("period", &period),
                    ("date", &as_of),
                    ("timezone", i.timezone),
                ],
            ),
            fill(&t.get("footer_source"), &[("source", i.source)]),
            t.get("csv_note"),
        ],
        definitions: definitions(i, t, &threshold),
        default_subject,
        csv_name: csv,
        report_url: None,
        charts: BTreeMap::new(),
    }
}

fn headline(i: &Input, fm: &Fmt) -> Vec<Kpi> {
    let f = i.figures;
    let (k, pk) = (&f.kpis, &f.previous_kpis);
    let t = fm.t;
    let pts = t.get("points");
    let money_change =
        |now: Decimal, before: Decimal| Change::relative(Some(f64_of(now)), Some(f64_of(before)));
    let attainment_sub = match k.team_quota {
        Some(q) => {
            let (with_quota, at_quota) = (k.reps_with_quota, k.reps_at_quota);
            fill(
                &t.get("attainment_sub"),
                &[
                    ("quota", &fm.money(q)),
                    ("n", &at_quota.to_string()),
                    ("m", &with_quota.to_string()),
                ],
            )
        }
        None => t.get("attainment_none"),
    };
    vec![
        Kpi {
            key: "won_revenue",
            label: t.get("won_revenue"),
            value: fm.money(k.won_revenue),
            sub: fill(
                &t.get("won_deals"),
                &[
                    ("won", &k.deals_won.to_string()),
                    ("lost", &k.deals_lost.to_string()),
                ],
            ),
            change: money_change(k.won_revenue, pk.won_revenue),
        },
        Kpi {
            key: "win_rate",
            label: t.get("win_rate"),
            value: fm.pct(k.win_rate),
            sub: String::new(),
            change: Change::points(k.win_rate, pk.win_rate, &pts),
        },
        Kpi {
            key: "attainment",
            label: t.get("attainment"),
            value: fm.pct(k.team_attainment),
            sub: attainment_sub,
            change: Change::points(k.team_attainment, pk.team_attainment, &pts),
        },
        Kpi {
            key: "weighted_pipeline",
            label: t.get("weighted_pipeline"),
            value: fm.money(k.pipeline_weighted),
            sub: fill(
                &t.get("weighted_sub"),
                &[("total", &fm.money(k.pipeline_total))],
            ),
            change: money_change(k.pipeline_weighted, pk.pipeline_weighted),
        },
        Kpi {
            key: "coverage",
            label: t.get("coverage"),
            value: fm.multiple(k.pipeline_coverage),
            sub: fill(
                &t.get("coverage_sub"),
                &[("target", &f.forecasts.target.label())],
            ),
            change: Change::relative(k.pipeline_coverage, pk.pipeline_coverage),
        },
    ]
}

pub(super) fn method_name(t: &Labels, m: Method) -> String {
    t.get(m.as_str())
}

fn forecast(i: &Input, fm: &Fmt) -> ForecastView {
    let f = i.figures;
    let t = fm.t;
    let target = f.forecasts.target.label();
    let quota = f.kpis.target_quota;
    let rows = Method::ALL
        .into_iter()
        .map(|m| {
            let v = f.forecasts.get(m);
            ForecastRow {
                method: m.as_str(),
                name: method_name(t, m),
                value: fm.opt_money(v),
                of_quota: match (v, quota) {
                    (Some(v), Some(q)) => format::pct0(f64_of(v) / f64_of(q)),
                    _ => t.get("not_available"),
                },
            }
        })
        .collect();
    ForecastView {
        title: fill(&t.get("forecast"), &[("target", &target)]),
        intro: match quota {
            Some(q) => fill(&t.get("forecast_intro"), &[("quota", &fm.money(q))]),
            None => fill(&t.get("forecast_no_quota"), &[("target", &target)]),
        },
        target,
        quota: quota.map(|q| fm.money(q)),
        rows,
        accuracy: accuracy(i, fm),
        track: sections::track(i, fm),
    }
}

/// The finished period whose forecasts of record the detail table shows:
/// the most recent period of the track record (the report period once it
/// has ended, else the one before it); for an explicit range, the range
/// itself once it has ended.
fn judged(i: &Input) -> (Period, Vec<(Method, Accuracy)>) {
    let f = i.figures;
    let tr = &f.track_record;
    match tr.periods.first() {
        Some(p) => (
            *p,
            Method::ALL
                .into_iter()
                .filter_map(|m| Some((m, tr.methods.get(&m)?.first()?.clone())))
                .filter(|(_, a)| a.forecast.is_some())
                .collect(),
        ),
        None => (
            f.period,
            f.accuracy.iter().map(|(m, a)| (*m, a.clone())).collect(),
        ),
    }
}

fn accuracy(i: &Input, fm: &Fmt) -> AccuracyView {
    let t = fm.t;
    let (p, acc) = judged(i);
    let label = p.label();
    let rows: Vec<AccuracyRow> = acc
        .iter()
        .map(|(m, a)| AccuracyRow {
            name: method_name(t, *m),
            forecast: fm.opt_money(a.forecast),
            actual: fm.money(a.actual),
            accuracy: fm.pct(a.accuracy),
            bias: sections::signed_pct(a.bias, t),
            mark: sections::mark(a),
        })
        .collect();
    AccuracyView {
        title: fill(&t.get("accuracy"), &[("period", &label)]),
        note: (!rows.is_empty() && acc.iter().all(|(_, a)| a.accuracy.is_none()))
            .then(|| fill(&t.get("accuracy_zero"), &[("period", &label)])),
        rows,
    }
}

fn reps(i: &Input, fm: &Fmt, csv: &str) -> RepsView {
    let t = fm.t;
    let sorted = sorted_reps(i.figures);
    let no_quota = t.get("no_quota");
    let rows: Vec<RepRow> = sorted
        .iter()
        .take(MAX_REP_ROWS)
        .enumerate()
        .map(|(n, r)| RepRow {
            rank: n + 1,
            name: r.name.clone(),
            has_quota: r.quota.is_some(),
            won: fm.money(r.won_revenue),
            quota: r.quota.map(|q| fm.money(q)).unwrap_or(no_quota.clone()),
            attainment: r
                .attainment
                .map(|a| format::pct(f64_of(a)))
                .unwrap_or_else(|| t.get("not_available")),
            win_rate: fm.pct(r.win_rate),
            avg_deal: fm.opt_money(r.avg_won_deal_size),
            cycle: r
                .sales_cycle_days_mean
                .map(|c| fill(&t.get("cycle_days"), &[("n", &format::num(c, 0))]))
                .unwrap_or_else(|| t.get("not_available")),
            pipeline: fm.money(r.pipeline_total),
            quadrant: r
                .quadrant
                .map(|q| t.get(q.as_str()))
                .unwrap_or(no_quota.clone()),
            quadrant_key: r.quadrant.map(|q| q.as_str()).unwrap_or(""),
            commission: fm.opt_money(r.commission),
            expansion: fm.money(r.expansion_revenue),
            lost_before_target: r.lost_before_target.to_string(),
            open_under_target: r.open_under_target.to_string(),
        })
        .collect();
    let more = sorted.len().saturating_sub(MAX_REP_ROWS);
    let n = i.rules.follow_up_target.to_string();
    RepsView {
        intro: fill(&t.get("reps_intro"), &[("csv", csv)]),
        col_lost: fill(&t.get("col_lost_under"), &[("n", &n)]),
        col_open: fill(&t.get("col_open_under"), &[("n", &n)]),
        rows,
        more: (more > 0).then(|| {
            fill(
                &t.get("reps_more"),
                &[("n", &more.to_string()), ("csv", csv)],
            )
        }),
    }
}

fn quadrants(i: &Input, t: &Labels, threshold: &str) -> QuadrantsView {
    let sorted = sorted_reps(i.figures);
    let group = |key: &'static str, name: String, blurb: String, names: Vec<&str>| QuadrantGroup {
        key,
        name,
        blurb,
        count: names.len(),
        names: match names.len() {
            0 => t.get("nobody"),
            n if n > MAX_QUADRANT_NAMES => format!(
                "{} {}",
                names[..MAX_QUADRANT_NAMES].join(", "),
                fill(
                    &t.get("names_more"),
                    &[("n", &(n - MAX_QUADRANT_NAMES).to_string())]
                )
            ),
            _ => names.join(", "),
        },
    };
    let groups = QUADRANTS
        .into_iter()
        .map(|q| {
            let names = sorted
                .iter()
                .filter(|r| r.quadrant == Some(q))
                .map(|r| r.name.as_str())
                .collect();
            group(
                q.as_str(),
                t.get(&format!("{}_group", q.as_str())),
                t.get(&format!("{}_blurb", q.as_str())),
                names,
            )
        })
        .collect();
    let without: Vec<&str> = sorted
        .iter()
        .filter(|r| r.quadrant.is_none())
        .map(|r| r.name.as_str())
        .collect();
    QuadrantsView {
        intro: fill(
            &t.get("quadrants_intro"),
            &[
                ("previous", &i.figures.previous.label()),
                ("threshold", threshold),
            ],
        ),
        groups,
        without_quota: (!without.is_empty()).then(|| {
            group(
                "without_quota",
                t.get("without_quota"),
                String::new(),
                without,
            )
        }),
    }
}

fn efficiency(i: &Input, fm: &Fmt) -> Vec<Line> {
    let k = &i.figures.kpis;
    let t = fm.t;
    let sla = format::num(f64_of(i.rules.response_sla_minutes), 0);
    vec![
        Line {
            label: t.get("sales_cycle"),
            value: fill(
                &t.get("sales_cycle_value"),
                &[
                    ("mean", &fm.num(k.sales_cycle_days_mean, 1)),
                    ("median", &fm.num(k.sales_cycle_days_median, 1)),
                ],
            ),
        },
        Line {
            label: t.get("lead_response"),
            value: fill(
                &t.get("lead_response_value"),
                &[
                    ("median", &fm.num(k.lead_response_hours_median, 1)),
                    ("mean", &fm.num(k.lead_response_hours_mean, 1)),
                ],
            ),
        },
        Line {
            label: fill(&t.get("within_sla"), &[("minutes", &sla)]),
            value: fill(
                &t.get("within_sla_value"),
                &[
                    ("share", &fm.pct(k.lead_response_within_sla)),
                    ("unanswered", &k.leads_unanswered.to_string()),
                ],
            ),
        },
        Line {
            label: t.get("selling_time"),
            value: fm.pct(k.selling_time_share),
        },
        Line {
            label: t.get("meetings_per_prospecting"),
            value: fm.num(k.meetings_per_prospecting_activity, 2),
        },
    ]
}

fn leads(i: &Input, fm: &Fmt) -> LeadsView {
    let l = &i.figures.leads;
    let t = fm.t;
    let names: HashMap<&str, &str> = i
        .reps
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str()))
        .collect();
    let unworked: Vec<LeadRow> = l
        .unworked_sqls
        .iter()
        .take(MAX_UNWORKED_ROWS)
        .map(|u| LeadRow {
            id: u.id.clone(),
            owner: match &u.owner {
                Some(o) => names.get(o.as_str()).copied().unwrap_or(o).to_string(),
                None => t.get("no_owner"),
            },
            response: if u.answered {
                t.get("answered")
            } else {
                t.get("no_response")
            },
            score: format::num(f64_of(u.score), 0),
        })
        .collect();
    let more = l.unworked_sqls.len().saturating_sub(MAX_UNWORKED_ROWS);
    LeadsView {
        lines: vec![
            Line {
                label: t.get("leads_created"),
                value: l.leads_created.to_string(),
            },
            Line {
                label: t.get("sqls"),
                value: l.sql_count.to_string(),
            },
            Line {
                label: t.get("mql_to_sql"),
                value: fm.pct(l.mql_to_sql_rate),
            },
        ],
        unworked_title: t.get("unworked"),
        unworked_none: unworked.is_empty().then(|| t.get("unworked_none")),
        unworked,
        unworked_more: (more > 0)
            .then(|| fill(&t.get("unworked_more"), &[("n", &more.to_string())])),
    }
}

fn definitions(i: &Input, t: &Labels, threshold: &str) -> Vec<String> {
    let r = &i.rules;
    let f = i.figures;
    let growth = format::pct(f64_of(r.growth_rate));
    let minutes = format::num(f64_of(r.response_sla_minutes), 0);
    let sql = format::num(f64_of(r.sql_threshold), 0);
    let kinds = r.selling_kinds.join(", ");
    let target = r.follow_up_target.to_string();
    let teams = sections::shows_teams(i);
    [
        ("def_won_revenue", vec![], true),
        ("def_win_rate", vec![], true),
        ("def_attainment", vec![], true),
        ("def_pipeline", vec![], true),
        ("def_coverage", vec![], true),
        ("def_goals", vec![], !f.goals.is_empty()),
        ("def_by_type", vec![], true),
        (
            "def_touches",
            vec![("kinds", kinds.as_str()), ("n", target.as_str())],
            true,
        ),
        ("def_forecast", vec![("growth", growth.as_str())], true),
        ("def_accuracy", vec![], true),
        ("def_track", vec![], !f.track_record.periods.is_empty()),
        ("def_teams", vec![], teams),
        ("def_quadrant", vec![("threshold", threshold)], true),
        ("def_commission", vec![], true),
        ("def_cycle", vec![], true),
        ("def_response", vec![("minutes", minutes.as_str())], true),
        ("def_selling", vec![("kinds", kinds.as_str())], true),
        ("def_leads", vec![("threshold", sql.as_str())], true),
    ]
    .iter()
    .filter(|(_, _, shown)| *shown)
    .map(|(key, pairs, _)| fill(&t.get(key), pairs))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_every_placeholder() {
        assert_eq!(
            fill("{n} of {m} reps, {n}", &[("n", "4"), ("m", "13")]),
            "4 of 13 reps, 4"
        );
        assert_eq!(fill("no {x}", &[]), "no {x}");
    }

    #[test]
    fn reps_are_sorted_by_attainment_with_no_quota_last() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 8, 15).unwrap();
        let snap = crate::source::demo::generate(today);
        let s = crate::config::Settings::from_toml("").unwrap().metrics;
        let p = Period::parse("2026-07", 1).unwrap();
        let f = crate::metrics::compute(&snap, p, p.end, &s, &[]);
        let sorted = sorted_reps(&f);
        assert_eq!(sorted.len(), f.reps.len());
        let att: Vec<Option<Decimal>> = sorted.iter().map(|r| r.attainment).collect();
        let with: Vec<Decimal> = att.iter().map_while(|a| *a).collect();
        assert!(
            with.len() >= 2 && with.windows(2).all(|w| w[0] >= w[1]),
            "{att:?}"
        );
        assert!(att[with.len()..].iter().all(Option::is_none));
    }
}
