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
