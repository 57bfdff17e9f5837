//! `[[reports]]`: what each report covers, when it goes out and to whom.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodSelector {
    PreviousMonth,
    PreviousQuarter,
    CurrentMonth,
    CurrentQuarter,
}

impl PeriodSelector {
    pub const NAMES: &'static str =
        "previous_month, previous_quarter, current_month, current_quarter";
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Unique name; also the report's folder under `out_dir`. Required.
    pub name: String,
    /// previous_month | previous_quarter | current_month | current_quarter.
    /// Default "previous_month".
    #[serde(default = "default_period")]
    pub period: PeriodSelector,
    /// Cron, 5 fields (min hour dom mon dow) or 6 with seconds first, read in
    /// the report's time zone. Default: none (run by hand only).
    #[serde(default)]
    pub schedule: Option<String>,
    /// IANA zone for this report. Default: the top-level `timezone`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// "en" or "ko". Default: the top-level `locale`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Recipients. Default: none (files only).
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Subject as a tera template. Default: "Sales report · {period} · won … (…% of quota)".
    #[serde(default)]
    pub subject: Option<String>,
}

fn default_period() -> PeriodSelector {
    PeriodSelector::PreviousMonth
}
