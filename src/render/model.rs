//! The view model: everything a template shows, as text already formatted
//! for the report's locale and currency, in the order of the report's
//! sections. Templates never compute a figure; they only lay these out.
//!
//! Pure: built from figures computed elsewhere (the report period, the
//! previous period, and forecast accuracy of earlier periods).

use super::format::{self, Change};
use super::labels::Labels;
use crate::metrics::{Accuracy, Figures, Method, Quadrant, RepFigures};
use crate::period::Period;
use crate::snapshot::Rep;
use rust_decimal::prelude::*;
use serde::Serialize;
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
    pub figures: &'a Figures,
    /// The previous period's figures, with the books as of this period's
    /// start (for the headline changes).
    pub previous: &'a Figures,
    /// Forecast accuracy of finished periods, most recent first.
    pub history: &'a [(Period, BTreeMap<Method, Accuracy>)],
    /// The CRM's reps (to name lead owners).
    pub reps: &'a [Rep],
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
}

#[derive(Debug, Clone, Serialize)]
pub struct View {
    pub lang: String,
    pub t: BTreeMap<String, String>,
    pub report: String,
    pub period: String,
    pub title: String,
    pub subtitle: String,
    pub as_of: String,
    /// Set when the period is still running at as_of.
    pub running: Option<String>,
    pub vs_previous: String,
    pub headline: Vec<Kpi>,
    pub forecast: ForecastView,
    pub reps: RepsView,
    pub quadrants: QuadrantsView,
    pub efficiency: Vec<Line>,
    pub leads: LeadsView,
    pub data_quality: Vec<String>,
    pub footer: Vec<String>,
    pub definitions: Vec<String>,
    /// The default subject line (a custom `subject` template can use it).
    pub default_subject: String,
    pub csv_name: String,
    /// Filled per output: `src` is `cid:` in the email, a data URI in the file.
    pub charts: BTreeMap<String, ChartRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChartRef {
    pub src: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Kpi {
    pub key: &'static str,
    pub label: String,
    pub value: String,
    pub sub: String,
    pub change: Change,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastView {
    pub title: String,
    pub intro: String,
    pub target: String,
    pub quota: Option<String>,
    pub rows: Vec<ForecastRow>,
    pub accuracy: AccuracyView,
    pub history: HistoryView,
}

#[derive(Debug, Clone, Serialize)]
pub struct ForecastRow {
    pub method: &'static str,
    pub name: String,
    pub value: String,
    pub of_quota: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccuracyView {
    pub title: String,
    /// A plain sentence when there is no table (no forecast stored yet,
    /// period still running, or nothing won).
    pub note: Option<String>,
    pub rows: Vec<AccuracyRow>,
    pub best: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccuracyRow {
    pub name: String,
    pub forecast: String,
    pub actual: String,
    pub accuracy: String,
    pub bias: String,
    pub late: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryView {
    pub periods: Vec<String>,
    pub rows: Vec<HistoryRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryRow {
    pub name: String,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepsView {
    pub intro: String,
    pub rows: Vec<RepRow>,
    /// Set when the table was cut at MAX_REP_ROWS.
    pub more: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepRow {
    pub rank: usize,
    pub name: String,
    pub has_quota: bool,
    pub won: String,
    pub quota: String,
    pub attainment: String,
    pub win_rate: String,
    pub avg_deal: String,
    pub cycle: String,
    pub pipeline: String,
    pub quadrant: String,
    /// rising_star | falling_star | improving_laggard | declining_laggard | "".
    pub quadrant_key: &'static str,
    pub commission: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuadrantsView {
    pub intro: String,
    pub groups: Vec<QuadrantGroup>,
    pub without_quota: Option<QuadrantGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuadrantGroup {
    pub key: &'static str,
    pub name: String,
    pub blurb: String,
    /// Names joined for display ("nobody" when empty).
    pub names: String,
    pub count: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadsView {
    pub lines: Vec<Line>,
    pub unworked_title: String,
    pub unworked: Vec<LeadRow>,
    pub unworked_none: Option<String>,
    pub unworked_more: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeadRow {
    pub id: String,
    pub owner: String,
    pub response: String,
    pub score: String,
}

/// A point of the quadrant chart.
#[derive(Debug, Clone, PartialEq)]
pub struct QuadrantPoint {
    pub name: String,
    pub attainment: f64,
    pub change: f64,
    pub quadrant: Quadrant,
}

/// A bar of the forecast chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastBar {
    pub name: String,
    pub value: f64,
    pub label: String,
}

/// What the charts draw, with their words already in the locale.
#[derive(Debug, Clone)]
pub struct ChartData {
    pub currency: String,
    pub points: Vec<QuadrantPoint>,
    pub threshold: f64,
    pub quadrant_names: [String; 4],
    pub axis_attainment: String,
    pub axis_change: String,
    pub bars: Vec<ForecastBar>,
    pub quota: Option<(f64, String)>,
}

/// Replaces `{name}` placeholders in a label.
pub fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in pairs {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

const QUADRANTS: [Quadrant; 4] = [
    Quadrant::RisingStar,
    Quadrant::FallingStar,
    Quadrant::ImprovingLaggard,
    Quadrant::DecliningLaggard,
];

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// Team attainment: won revenue / team quota.
fn team_attainment(f: &Figures) -> Option<f64> {
    f.kpis
        .team_quota
        .map(|q| f64_of(f.kpis.won_revenue) / f64_of(q))
}

/// Reps in the order of the table: attainment high to low, reps without a
/// quota last, then by won revenue and name.
pub fn sorted_reps(f: &Figures) -> Vec<&RepFigures> {
    let mut reps: Vec<&RepFigures> = f.reps.iter().collect();
    reps.sort_by(|a, b| {
        let key = |r: &RepFigures| r.attainment.map(|a| std::cmp::Reverse(a));
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

struct Fmt<'a> {
    cur: &'a str,
    t: &'a Labels,
}

impl Fmt<'_> {
    fn money(&self, d: Decimal) -> String {
        format::money(self.cur, d)
    }
    fn opt_money(&self, d: Option<Decimal>) -> String {
        d.map(|d| self.money(d))
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    fn pct(&self, v: Option<f64>) -> String {
        v.map(format::pct)
            .unwrap_or_else(|| self.t.get("not_available"))
    }
    fn num(&self, v: Option<f64>, dp: usize) -> String {
        v.map(|v| format::num(v, dp))
            .unwrap_or_else(|| self.t.get("not_available"))
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

    let default_subject = match team_attainment(f) {
        Some(a) => fill(
            &t.get("subject_default"),
            &[
                ("period", &period),
                ("won", &format::money_short(i.currency, k.won_revenue)),
                ("attainment", &format::pct0(a)),
            ],
        ),
        None => fill(
            &t.get("subject_no_quota"),
            &[
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
        title: t.get("title"),
        subtitle: fill(
            &t.get("subtitle"),
            &[("report", i.report), ("period", &period), ("range", &range)],
        ),
        as_of: fill(&t.get("as_of"), &[("date", &as_of)]),
        running: (f.as_of < f.period.end).then(|| t.get("running")),
        vs_previous: fill(&t.get("vs_previous"), &[("period", &prev_label)]),
        headline: headline(i, &fm),
        forecast: forecast(i, &fm),
        reps: reps(i, &fm, &csv),
        quadrants: quadrants(i, t, &threshold),
        efficiency: efficiency(i, &fm),
        leads: leads(i, &fm),
        data_quality: f.data_quality.clone(),
        footer: vec![
            fill(
                &t.get("footer_generated"),
                &[
                    ("report", i.report),
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
        charts: BTreeMap::new(),
    }
}

fn headline(i: &Input, fm: &Fmt) -> Vec<Kpi> {
    let (f, p) = (i.figures, i.previous);
    let (k, pk) = (&f.kpis, &p.kpis);
    let t = fm.t;
    let pts = t.get("points");
    let money_change =
        |now: Decimal, before: Decimal| Change::relative(Some(f64_of(now)), Some(f64_of(before)));
    let attainment_sub = match k.team_quota {
        Some(q) => {
            let with_quota = f.reps.iter().filter(|r| r.quota.is_some()).count();
            let at_quota = f
                .reps
                .iter()
                .filter(|r| r.attainment.is_some_and(|a| a >= Decimal::ONE))
                .count();
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
            value: fm.pct(team_attainment(f)),
            sub: attainment_sub,
            change: Change::points(team_attainment(f), team_attainment(p), &pts),
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
            value: k
                .pipeline_coverage
                .map(|c| format!("{}×", format::num(c, 2)))
                .unwrap_or_else(|| t.get("not_available")),
            sub: fill(
                &t.get("coverage_sub"),
                &[("target", &f.forecasts.target.label())],
            ),
            change: Change::relative(k.pipeline_coverage, pk.pipeline_coverage),
        },
    ]
}

fn method_name(t: &Labels, m: Method) -> String {
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
        history: history(i, t),
    }
}

/// The finished period whose accuracy the report judges: the report period
/// once it is over, else the one before it.
fn judged<'a>(i: &Input<'a>) -> (Period, Option<&'a BTreeMap<Method, Accuracy>>) {
    let f = i.figures;
    if f.as_of >= f.period.end {
        (f.period, Some(&f.accuracy))
    } else {
        let p = f.period.previous();
        (p, i.history.iter().find(|(h, _)| *h == p).map(|(_, a)| a))
    }
}

fn accuracy(i: &Input, fm: &Fmt) -> AccuracyView {
    let t = fm.t;
    let (p, acc) = judged(i);
    let label = p.label();
    let title = fill(&t.get("accuracy"), &[("period", &label)]);
    let acc = match acc {
        Some(a) if !a.is_empty() => a,
        _ => {
            return AccuracyView {
                title,
                note: Some(fill(&t.get("accuracy_none"), &[("period", &label)])),
                rows: vec![],
                best: None,
            }
        }
    };
    let rows = acc
        .iter()
        .map(|(m, a)| AccuracyRow {
            name: method_name(t, *m),
            forecast: fm.money(a.forecast),
            actual: fm.money(a.actual),
            accuracy: fm.pct(a.accuracy),
            bias: a
                .bias
                .map(|b| format!("{}{}", if b > 0.0 { "+" } else { "" }, format::pct(b)))
                .unwrap_or_else(|| t.get("not_available")),
            late: a.late,
        })
        .collect();
    // Ties go to the method listed first (Method::ALL order).
    let best = acc
        .iter()
        .filter_map(|(m, a)| a.accuracy.map(|v| (m, v)))
        .fold(None::<(&Method, f64)>, |best, (m, v)| match best {
            Some((_, bv)) if bv >= v => best,
            _ => Some((m, v)),
        });
    AccuracyView {
        title,
        note: best
            .is_none()
            .then(|| fill(&t.get("accuracy_zero"), &[("period", &label)])),
        rows,
        best: best.map(|(m, v)| {
            fill(
                &t.get("accuracy_best"),
                &[
                    ("method", &method_name(t, *m)),
                    ("accuracy", &format::pct(v)),
                ],
            )
        }),
    }
}

fn history(i: &Input, t: &Labels) -> HistoryView {
    // Oldest first, reading left to right; the report period's own accuracy
    // is the one report.json has.
    let f = i.figures;
    let mut cols: Vec<(Period, &BTreeMap<Method, Accuracy>)> = i
        .history
        .iter()
        .filter(|(p, a)| *p != f.period && !a.is_empty())
        .map(|(p, a)| (*p, a))
        .collect();
    if f.as_of >= f.period.end && !f.accuracy.is_empty() {
        cols.push((f.period, &f.accuracy));
    }
    cols.sort_by_key(|(p, _)| p.start);
    if cols.len() < 2 {
        return HistoryView {
            periods: vec![],
            rows: vec![],
        };
    }
    let na = t.get("not_available");
    HistoryView {
        periods: cols.iter().map(|(p, _)| p.label()).collect(),
        rows: Method::ALL
            .into_iter()
            .filter(|m| cols.iter().any(|(_, a)| a.contains_key(m)))
            .map(|m| HistoryRow {
                name: method_name(t, m),
                cells: cols
                    .iter()
                    .map(|(_, a)| {
                        a.get(&m)
                            .and_then(|x| x.accuracy)
                            .map(format::pct)
                            .unwrap_or_else(|| na.clone())
                    })
                    .collect(),
            })
            .collect(),
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
        })
        .collect();
    let more = sorted.len().saturating_sub(MAX_REP_ROWS);
    RepsView {
        intro: fill(&t.get("reps_intro"), &[("csv", csv)]),
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
    let growth = format::pct(f64_of(r.growth_rate));
    let minutes = format::num(f64_of(r.response_sla_minutes), 0);
    let sql = format::num(f64_of(r.sql_threshold), 0);
    let kinds = r.selling_kinds.join(", ");
    [
        ("def_won_revenue", vec![]),
        ("def_win_rate", vec![]),
        ("def_attainment", vec![]),
        ("def_pipeline", vec![]),
        ("def_coverage", vec![]),
        ("def_forecast", vec![("growth", growth.as_str())]),
        ("def_accuracy", vec![]),
        ("def_quadrant", vec![("threshold", threshold)]),
        ("def_commission", vec![]),
        ("def_cycle", vec![]),
        ("def_response", vec![("minutes", minutes.as_str())]),
        ("def_selling", vec![("kinds", kinds.as_str())]),
        ("def_leads", vec![("threshold", sql.as_str())]),
    ]
    .iter()
    .map(|(key, pairs)| fill(&t.get(key), pairs))
    .collect()
}

/// The data the two charts draw.
pub fn chart_data(i: &Input, t: &Labels) -> ChartData {
    let f = i.figures;
    let prev = f.previous.label();
    let points = f
        .reps
        .iter()
        .filter_map(|r| {
            Some(QuadrantPoint {
                name: r.name.clone(),
                attainment: f64_of(r.attainment?),
                change: f64_of(r.won_revenue - r.prev_won_revenue),
                quadrant: r.quadrant?,
            })
        })
        .collect();
    let bars = Method::ALL
        .into_iter()
        .filter_map(|m| {
            let v = f.forecasts.get(m)?;
            Some(ForecastBar {
                name: method_name(t, m),
                value: f64_of(v),
                label: format::money_short(i.currency, v),
            })
        })
        .collect();
    ChartData {
        currency: i.currency.to_string(),
        points,
        threshold: f64_of(i.rules.high_performer_attainment),
        quadrant_names: QUADRANTS.map(|q| t.get(&format!("{}_group", q.as_str()))),
        axis_attainment: t.get("axis_attainment"),
        axis_change: fill(&t.get("axis_change"), &[("previous", &prev)]),
        bars,
        quota: f.kpis.target_quota.map(|q| {
            (
                f64_of(q),
                format!(
                    "{} {}",
                    t.get("team_quota"),
                    format::money_short(i.currency, q)
                ),
            )
        }),
    }
}
