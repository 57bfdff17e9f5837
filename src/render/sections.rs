//! The sections of issues 9, 10 and 12 in the view model: goals, where
//! revenue came from, follow-up discipline, the forecast track record and
//! the teams side by side. Like `model`, this only formats figures that
//! `metrics` computed (money, percentages, dates, words); the one number
//! made here is how much of a bar to fill.

use super::format::{self, Change};
use super::labels::Labels;
use super::model::{f64_of, fill, method_name, Fmt, Input};
use super::view::*;
use crate::metrics::{Accuracy, GoalMetric, GoalResult, GoalRule, Method, Num, TeamRow};
use rust_decimal::prelude::*;

/// Characters of a progress bar in the text part.
const TEXT_BAR: u32 = 20;

/// A bar filled to `share` (clamped to 0–1); none fills nothing.
pub(super) fn bar(share: Option<f64>) -> Bar {
    let done = share
        .filter(|s| s.is_finite())
        .map(|s| (s.clamp(0.0, 1.0) * 100.0).round() as u32)
        .unwrap_or(0);
    let chars = (done * TEXT_BAR + 50) / 100;
    Bar {
        done,
        rest: 100 - done,
        text: format!(
            "[{}{}]",
            "#".repeat(chars as usize),
            "-".repeat((TEXT_BAR - chars) as usize)
        ),
    }
}

/// How a goal's metric is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Money,
    Percent,
    Multiple,
    Days,
    Hours,
    Plain(usize),
}

fn unit(m: GoalMetric) -> Unit {
    use GoalMetric::*;
    match m {
        WonRevenue | AvgWonDealSize | PipelineWeighted => Unit::Money,
        PipelineCoverage => Unit::Multiple,
        SalesCycleDaysMean => Unit::Days,
        LeadResponseHoursMedian => Unit::Hours,
        MeetingsPerProspectingActivity => Unit::Plain(2),
        TouchesMeanWon => Unit::Plain(1),
        WinRate
        | QuotaAttainmentRate
        | LeadResponseWithinSla
        | SellingTimeShare
        | ExpansionShare
        | MqlToSqlRate
        | LostBeforeTargetShare => Unit::Percent,
    }
}

fn value(fm: &Fmt, u: Unit, v: Option<Num>) -> String {
    let t = fm.t;
    let Some(v) = v else {
        return t.get("not_available");
    };
    let x = v.to_f64();
    match (u, v) {
        (_, Num::Money(d)) => fm.money(d),
        (Unit::Money, Num::Ratio(r)) => fm.money(Decimal::from_f64(r).unwrap_or_default()),
        (Unit::Percent, _) => format::pct(x),
        (Unit::Multiple, _) => format!("{}×", format::num(x, 2)),
        (Unit::Days, _) => fill(&t.get("days_value"), &[("n", &format::num(x, 1))]),
        (Unit::Hours, _) => fill(&t.get("hours_value"), &[("n", &format::num(x, 1))]),
        (Unit::Plain(dp), _) => format::num(x, dp),
    }
}

/// A config number with its sign and no trailing zeros: 5 → "+5".
fn signed(d: Decimal) -> String {
    let n = d.normalize();
    if n.is_sign_positive() && !n.is_zero() {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

/// The wording of a goal without a label: "Win rate +5% vs 2026-05",
/// "Won revenue to $250,000.00".
fn wording(fm: &Fmt, g: &GoalResult, rule: Option<&GoalRule>) -> String {
    let t = fm.t;
    let metric = t.get(&format!("m_{}", g.metric.as_str()));
    let u = unit(g.metric);
    let baseline = g.baseline_period.label();
    let change = |text: String| {
        fill(
            &t.get("goal_change"),
            &[
                ("metric", &metric),
                ("change", &text),
                ("baseline", &baseline),
            ],
        )
    };
    match rule {
        Some(GoalRule::Change(c)) => change(format!("{}%", signed(c * Decimal::ONE_HUNDRED))),
        Some(GoalRule::ChangeBy(c)) => change(match u {
            Unit::Money => {
                let sign = if c.is_sign_negative() { "-" } else { "+" };
                format!("{sign}{}", fm.money(c.abs()))
            }
            Unit::Percent => format!("{} {}", signed(c * Decimal::ONE_HUNDRED), t.get("points")),
            Unit::Multiple => format!("{}×", signed(*c)),
            Unit::Days => fill(&t.get("days_value"), &[("n", &signed(*c))]),
            Unit::Hours => fill(&t.get("hours_value"), &[("n", &signed(*c))]),
            Unit::Plain(_) => signed(*c),
        }),
        Some(GoalRule::Target(_)) | None => fill(
            &t.get("goal_target"),
            &[("metric", &metric), ("target", &value(fm, u, g.target))],
        ),
    }
}

pub(super) fn goals(i: &Input, fm: &Fmt) -> Option<GoalsView> {
    let f = i.figures;
    if f.goals.is_empty() {
        return None;
    }
    let t = fm.t;
    let running = f.as_of < f.period.end;
    let rows = f
        .goals
        .iter()
        .enumerate()
        .map(|(n, g)| {
            let u = unit(g.metric);
            let (baseline, target, actual) = (
                value(fm, u, g.baseline),
                value(fm, u, g.target),
                value(fm, u, g.actual),
            );
            let status = match g.met {
                Some(true) => "met",
                Some(false) if running => "not_yet",
                Some(false) => "missed",
                None => "unknown",
            };
            GoalRow {
                label: g
                    .label
                    .clone()
                    .unwrap_or_else(|| wording(fm, g, i.rules.goals.get(n).map(|g| &g.rule))),
                detail: fill(
                    &t.get("goal_detail"),
                    &[
                        ("baseline", &baseline),
                        ("period", &g.baseline_period.label()),
                        ("target", &target),
                        ("actual", &actual),
                    ],
                ),
                baseline,
                target,
                actual,
                progress: fill(
                    &t.get("goal_progress"),
                    &[("progress", &fm.pct0(g.progress))],
                ),
                bar: bar(g.progress),
                status,
                status_text: t.get(&format!("goal_{status}")),
            }
        })
        .collect();
    Some(GoalsView {
        intro: t.get("goals_intro"),
        rows,
    })
}

pub(super) fn revenue(i: &Input, fm: &Fmt) -> RevenueView {
    let f = i.figures;
    let (k, pk) = (&f.kpis, &f.previous_kpis);
    let t = fm.t;
    let won = f64_of(k.won_revenue);
    let rows = k
        .won_revenue_by_type
        .entries()
        .into_iter()
        .filter(|(key, v)| *key != "untyped" || !v.is_zero())
        .map(|(key, v)| TypeRow {
            key,
            name: t.get(&format!("type_{key}")),
            value: fm.money(v),
            bar: bar((won > 0.0).then(|| f64_of(v) / won)),
        })
        .collect();
    RevenueView {
        rows,
        none: if k.won_revenue.is_zero() {
            Some(fill(
                &t.get("revenue_none"),
                &[("period", &f.period.label())],
            ))
        } else if k.won_revenue_by_type.untyped == k.won_revenue {
            // Nothing typed: the split and the expansion share say nothing.
            Some(t.get("revenue_untyped"))
        } else {
            None
        },
        expansion: Kpi {
            key: "expansion_share",
            label: t.get("expansion_share"),
            value: fm.pct(k.expansion_share),
            sub: String::new(),
            change: Change::points(k.expansion_share, pk.expansion_share, &t.get("points")),
        },
    }
}

pub(super) fn follow_up(i: &Input, fm: &Fmt) -> FollowUpView {
    let f = i.figures;
    let k = &f.kpis;
    let t = fm.t;
    let n = i.rules.follow_up_target.to_string();
    let target = f.forecasts.target.label();
    let rows: Vec<FollowUpRow> = f
        .follow_ups
        .iter()
        .map(|u| FollowUpRow {
            deal: i
                .deals
                .get(u.deal as usize)
                .map(|d| d.name.to_string())
                .unwrap_or_default(),
            owner: i
                .reps
                .get(u.owner as usize)
                .map(|r| r.name.clone())
                .unwrap_or_default(),
            amount: fm.money(u.amount),
            close: u.close.to_string(),
            touches: fill(
                &t.get("touches_of"),
                &[("n", &u.touches.to_string()), ("target", &n)],
            ),
        })
        .collect();
    let lost_before = match k.lost_before_target_share {
        Some(s) => fill(
            &t.get("lost_before_value"),
            &[
                ("share", &format::pct(s)),
                ("lost", &k.deals_lost.to_string()),
            ],
        ),
        None => t.get("not_available"),
    };
    FollowUpView {
        lines: vec![
            Line {
                label: t.get("touches_won"),
                value: fm.num(k.touches_mean_won, 1),
            },
            Line {
                label: t.get("touches_lost"),
                value: fm.num(k.touches_mean_lost, 1),
            },
            Line {
                label: fill(&t.get("lost_before"), &[("n", &n)]),
                value: lost_before,
            },
            Line {
                label: fill(&t.get("open_under"), &[("n", &n), ("target", &target)]),
                value: fill(
                    &t.get("open_under_value"),
                    &[("count", &k.open_under_target.to_string())],
                ),
            },
        ],
        title: t.get("follow_ups"),
        none: rows
            .is_empty()
            .then(|| fill(&t.get("follow_ups_none"), &[("target", &target), ("n", &n)])),
        more: (k.open_under_target > rows.len() as u64).then(|| {
            fill(
                &t.get("follow_ups_more"),
                &[
                    ("shown", &rows.len().to_string()),
                    ("total", &k.open_under_target.to_string()),
                ],
            )
        }),
        rows,
    }
}

/// "*" for a reconstructed forecast, "†" for a late one.
pub(super) fn mark(a: &Accuracy) -> &'static str {
    if a.reconstructed {
        "*"
    } else if a.late {
        "†"
    } else {
        ""
    }
}

pub(super) fn signed_pct(b: Option<f64>, t: &Labels) -> String {
    b.map(|b| format!("{}{}", if b > 0.0 { "+" } else { "" }, format::pct(b)))
        .unwrap_or_else(|| t.get("not_available"))
}

/// The footnotes for the marks that `marks` uses.
pub(super) fn footnotes<'a>(t: &Labels, marks: impl Iterator<Item = &'a str>) -> Vec<String> {
    let used: Vec<&str> = marks.collect();
    [("*", "mark_reconstructed"), ("†", "mark_late")]
        .into_iter()
        .filter(|(m, _)| used.contains(m))
        .map(|(_, key)| t.get(key))
        .collect()
}

pub(super) fn track(i: &Input, fm: &Fmt) -> TrackView {
    let f = i.figures;
    let t = fm.t;
    let tr = &f.track_record;
    let empty = |note: String| TrackView {
        intro: None,
        note: Some(note),
        methods: vec![],
        rows: vec![],
        mean: vec![],
        best: None,
        footnotes: vec![],
    };
    let (Some(newest), Some(oldest)) = (tr.periods.first(), tr.periods.last()) else {
        return empty(match f.period.kind {
            crate::period::PeriodKind::Range => t.get("track_none_range"),
            _ => t.get("track_none_off"),
        });
    };
    let (oldest, newest) = (oldest.label(), newest.label());
    let any = tr.methods.values().flatten().any(|a| a.forecast.is_some());
    if !any {
        return empty(fill(
            &t.get("track_none"),
            &[("oldest", &oldest), ("newest", &newest)],
        ));
    }
    let methods: Vec<Method> = Method::ALL.into_iter().collect();
    let rows: Vec<TrackRow> = tr
        .periods
        .iter()
        .enumerate()
        .map(|(n, p)| {
            let cell = |m: &Method| tr.methods.get(m).and_then(|v| v.get(n));
            TrackRow {
                period: p.label(),
                actual: methods
                    .iter()
                    .find_map(|m| cell(m).map(|a| fm.money(a.actual)))
                    .unwrap_or_else(|| t.get("not_available")),
                cells: methods
                    .iter()
                    .map(|m| match cell(m) {
                        Some(a) => TrackCell {
                            accuracy: fm.pct(a.accuracy),
                            bias: signed_pct(a.bias, t),
                            mark: mark(a),
                        },
                        None => TrackCell {
                            accuracy: t.get("not_available"),
                            bias: t.get("not_available"),
                            mark: "",
                        },
                    })
                    .collect(),
            }
        })
        .collect();
    let best = tr.best_method.map(|m| {
        fill(
            &t.get("track_best"),
            &[
                ("method", &method_name(t, m)),
                (
                    "accuracy",
                    &fm.pct(tr.mean_accuracy.get(&m).copied().flatten()),
                ),
            ],
        )
    });
    TrackView {
        intro: Some(fill(
            &t.get("track_intro"),
            &[
                ("n", &tr.periods.len().to_string()),
                ("oldest", &oldest),
                ("newest", &newest),
            ],
        )),
        note: best.is_none().then(|| t.get("track_no_best")),
        methods: methods
            .iter()
            .map(|m| t.get(&format!("short_{}", m.as_str())))
            .collect(),
        mean: methods
            .iter()
            .map(|m| fm.pct(tr.mean_accuracy.get(m).copied().flatten()))
            .collect(),
        footnotes: footnotes(t, rows.iter().flat_map(|r| r.cells.iter().map(|c| c.mark))),
        rows,
        best,
    }
}

/// The chart of the track record: oldest period on the left.
pub(super) fn track_chart(i: &Input, t: &Labels) -> TrackChart {
    let tr = &i.figures.track_record;
    let n = tr.periods.len();
    let series: Vec<TrackSeries> = Method::ALL
        .into_iter()
        .enumerate()
        .filter_map(|(index, m)| {
            let list = tr.methods.get(&m)?;
            let points: Vec<Option<(f64, bool)>> = (0..n)
                .rev()
                .map(|k| {
                    list.get(k)
                        .and_then(|a| a.accuracy.map(|v| (v, a.reconstructed)))
                })
                .collect();
            points.iter().any(Option::is_some).then(|| TrackSeries {
                index,
                name: method_name(t, m),
                points,
            })
        })
        .collect();
    let hollow = series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| matches!(p, Some((_, true))));
    TrackChart {
        periods: tr.periods.iter().rev().map(|p| p.label()).collect(),
        hollow_note: if hollow {
            t.get("chart_track_hollow")
        } else {
            String::new()
        },
        series,
    }
}

fn team_name(t: &Labels, r: &TeamRow) -> String {
    r.name.clone().unwrap_or_else(|| t.get("no_team"))
}

/// Whether the report has a Teams section: the organisation's, with teams.
pub(super) fn shows_teams(i: &Input) -> bool {
    i.team.is_none() && !i.teams.is_empty()
}

pub(super) fn teams(i: &Input, fm: &Fmt) -> Option<TeamsView> {
    if !shows_teams(i) {
        return None;
    }
    let t = fm.t;
    let target = i.figures.forecasts.target.label();
    Some(TeamsView {
        intro: fill(&t.get("teams_intro"), &[("target", &target)]),
        col_forecast: fill(&t.get("forecast_target"), &[("target", &target)]),
        rows: i
            .teams
            .iter()
            .map(|r| TeamRowView {
                name: team_name(t, r),
                manager: match (&r.name, &r.manager) {
                    (None, _) => String::new(),
                    (Some(_), Some(m)) => m.clone(),
                    (Some(_), None) => t.get("no_manager"),
                },
                no_team: r.name.is_none(),
                reps: r.reps.to_string(),
                won: fm.money(r.won_revenue),
                quota: r
                    .team_quota
                    .map(|q| fm.money(q))
                    .unwrap_or_else(|| t.get("no_quota")),
                attainment: fm.pct(r.team_attainment),
                win_rate: fm.pct(r.win_rate),
                pipeline: fm.money(r.pipeline_weighted),
                coverage: fm.multiple(r.pipeline_coverage),
                forecast: fm.money(r.stage_weighted),
            })
            .collect(),
    })
}

/// The bars of the team chart (the organisation's report only).
pub(super) fn team_bars(i: &Input, t: &Labels) -> Vec<TeamBar> {
    if !shows_teams(i) {
        return Vec::new();
    }
    i.teams
        .iter()
        .map(|r| TeamBar {
            name: team_name(t, r),
            value: r.team_attainment,
            label: r
                .team_attainment
                .map(format::pct0)
                .unwrap_or_else(|| t.get("no_quota")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_the_clamped_share() {
        let b = bar(Some(0.62));
        assert_eq!((b.done, b.rest), (62, 38));
        assert_eq!(b.text, "[############--------]");
        assert_eq!(bar(Some(1.7)).done, 100);
        assert_eq!(bar(Some(-0.4)).done, 0);
        let none = bar(None);
        assert_eq!((none.done, none.rest), (0, 100));
        assert_eq!(none.text.len(), 22);
    }

    #[test]
    fn config_numbers_keep_their_sign_and_lose_trailing_zeros() {
        assert_eq!(signed(Decimal::new(500, 2)), "+5");
        assert_eq!(signed(Decimal::new(-125, 1)), "-12.5");
        assert_eq!(signed(Decimal::ZERO), "0");
    }
}
