//! `[[reports]]`: what each report covers, when it goes out and to whom.

use serde::Deserialize;

pub use crate::period::Selector as PeriodSelector;

super::named_setting!(PeriodSelector {
    "previous_month" => PeriodSelector::PreviousMonth,
    "previous_quarter" => PeriodSelector::PreviousQuarter,
    "current_month" => PeriodSelector::CurrentMonth,
    "current_quarter" => PeriodSelector::CurrentQuarter,
});

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportConfig {
    /// Unique name; also the report's folder under `out_dir` (so not
    /// "outbox", the .eml outbox's folder). Required.
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
    /// Labels of this report: "en" or "ko". Default: the top-level `locale`.
    #[serde(default)]
    pub locale: Option<String>,
    /// Recipients ("ceo@example.com" or "CEO <ceo@example.com>"). Each gets
    /// the report once per period (see docs/report.md). Default: none
    /// (files only).
    #[serde(default)]
    pub to: Vec<String>,
    /// Copy recipients, named in the Cc header. Default: none.
    #[serde(default)]
    pub cc: Vec<String>,
    /// Blind-copy recipients: sent to, never named in a header. Default: none.
    #[serde(default)]
    pub bcc: Vec<String>,
    /// Subject as a tera template over the report's view model, e.g.
    /// "{{ title }} {{ period }}: {{ headline.0.value }}"; `default_subject`
    /// holds the built-in one. Default: "Sales report · 2026-07 · won
    /// $1.2M (104% of quota)" (in the report's locale).
    #[serde(default)]
    pub subject: Option<String>,
    /// Slack channels, by ID ("C0123ABCD") or name ("#sales-leadership"):
    /// each gets one message per period with the headline figures, and the
    /// charts and report.html in its thread (docs/report.md). Needs
    /// SALESOPS__SLACK__TOKEN. Default: none.
    #[serde(default)]
    pub slack_channels: Vec<String>,
    /// Names of `[msteams]` webhooks (their URLs come from
    /// SALESOPS__MSTEAMS__WEBHOOKS__<NAME>): each gets one Adaptive Card per
    /// period. Default: none.
    #[serde(default)]
    pub msteams: Vec<String>,
    /// "teams" also makes one report per sales team (METRICS.md "Teams"),
    /// written to `<out_dir>/<report>/teams/<team>/<period>/`, emailed
    /// to the team's `manager` and `team_cc` and posted to the team's own
    /// `slack_channel` and `msteams`; "none" makes the organisation's
    /// report only. Default "none".
    #[serde(default)]
    pub fan_out: FanOut,
    /// Who gets a copy of every team's report (with `fan_out = "teams"`).
    /// Default: none.
    #[serde(default)]
    pub team_cc: Vec<String>,
}

/// Whether a report also goes out per team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanOut {
    #[default]
    None,
    Teams,
}

fn default_period() -> PeriodSelector {
    PeriodSelector::PreviousMonth
}
