//! The view model's types: what templates see, every value already text
//! in the report's locale and currency, in the order of the report's
//! sections; and what the charts draw. Built by `model`.

use super::format::Change;
use crate::metrics::Quadrant;
use serde::Serialize;
use std::collections::BTreeMap;

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
    /// Absent without `[[goals]]`.
    pub goals: Option<GoalsView>,
    pub revenue: RevenueView,
    pub follow_up: FollowUpView,
    pub forecast: ForecastView,
    /// The organisation's report with teams only.
    pub teams: Option<TeamsView>,
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
    /// The report's page when `public_base_url` is set.
    pub report_url: Option<String>,
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
    pub track: TrackView,
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
    /// A plain sentence when the table cannot judge (nothing won).
    pub note: Option<String>,
    /// Empty when no method has a forecast of record for the period (the
    /// track record says why).
    pub rows: Vec<AccuracyRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccuracyRow {
    pub name: String,
    pub forecast: String,
    pub actual: String,
    pub accuracy: String,
    pub bias: String,
    /// "*" reconstructed, "†" late, "" stored on time.
    pub mark: &'static str,
}

/// Each method's accuracy over the last finished periods.
#[derive(Debug, Clone, Serialize)]
pub struct TrackView {
    pub intro: Option<String>,
    /// The one sentence said instead of a table when there is no record.
    pub note: Option<String>,
    /// Short method names, the table's columns.
    pub methods: Vec<String>,
    /// Most recent first.
    pub rows: Vec<TrackRow>,
    /// Mean accuracy per method, in the columns' order.
    pub mean: Vec<String>,
    pub best: Option<String>,
    /// What the marks used in the tables mean.
    pub footnotes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrackRow {
    pub period: String,
    pub actual: String,
    pub cells: Vec<TrackCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrackCell {
    pub accuracy: String,
    pub bias: String,
    pub mark: &'static str,
}

/// A progress bar as two table cells (Outlook ignores CSS widths):
/// `done` + `rest` = 100 (percent of the bar's width), and the same bar
/// in characters for the text part.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub done: u32,
    pub rest: u32,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoalsView {
    pub intro: String,
    pub rows: Vec<GoalRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GoalRow {
    /// The goal's `label`, else a wording made from its rule.
    pub label: String,
    /// Baseline → target · actual, in one sentence.
    pub detail: String,
    pub baseline: String,
    pub target: String,
    pub actual: String,
    pub progress: String,
    pub bar: Bar,
    /// met | not_yet | missed | unknown.
    pub status: &'static str,
    pub status_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevenueView {
    pub rows: Vec<TypeRow>,
    /// Set when nothing was won, or nothing won has a type.
    pub none: Option<String>,
    pub expansion: Kpi,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeRow {
    pub key: &'static str,
    pub name: String,
    pub value: String,
    pub bar: Bar,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowUpView {
    pub lines: Vec<Line>,
    pub title: String,
    pub rows: Vec<FollowUpRow>,
    pub none: Option<String>,
    pub more: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowUpRow {
    pub deal: String,
    pub owner: String,
    pub amount: String,
    pub close: String,
    pub touches: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamsView {
    pub intro: String,
    /// Header of the forecast column (names the target period).
    pub col_forecast: String,
    pub rows: Vec<TeamRowView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamRowView {
    pub name: String,
    pub manager: String,
    /// The row of the reps in no team.
    pub no_team: bool,
    pub reps: String,
    pub won: String,
    pub quota: String,
    pub attainment: String,
    pub win_rate: String,
    pub pipeline: String,
    pub coverage: String,
    pub forecast: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepsView {
    pub intro: String,
    /// Headers of the follow-up columns (they quote the target).
    pub col_lost: String,
    pub col_open: String,
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
    pub expansion: String,
    pub lost_before_target: String,
    pub open_under_target: String,
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
    pub track: TrackChart,
    /// Attainment by team; empty without teams.
    pub teams: Vec<TeamBar>,
    /// The label of the 100 % line of the team chart.
    pub quota_line: String,
}

/// The track record chart: periods oldest first, one line per method.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackChart {
    pub periods: Vec<String>,
    pub series: Vec<TrackSeries>,
    /// Legend entry for hollow (reconstructed) dots; empty when none is.
    pub hollow_note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackSeries {
    /// The method's place in `Method::ALL` (its colour).
    pub index: usize,
    pub name: String,
    /// Per period: accuracy and whether the forecast was reconstructed.
    pub points: Vec<Option<(f64, bool)>>,
}

/// A bar of the team chart; `value` is none without a team quota.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamBar {
    pub name: String,
    pub value: Option<f64>,
    pub label: String,
}
