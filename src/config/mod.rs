//! Configuration: the TOML keys users write (`RawConfig`, serde only), how
//! the layers are merged (built-in defaults < file < `SALESOPS__…`
//! environment), and a pure `resolve()` that checks every key and yields the
//! typed `Settings` the rest of the program uses.
//!
//! Every field's doc comment states its default; `config/example.toml`
//! lists them all and is a test fixture.

mod chat;
mod delivery;
mod goals;
mod load;
mod mapping;
mod report;
mod resolve;
mod serve;
mod source;
mod whole;

pub use chat::{webhook_env, MsteamsConfig, SlackConfig, TeamChat};
pub use delivery::{Auth, DeliveryConfig, DeliveryKind, Security};
pub use goals::{GoalConfig, TeamConfig};
pub use load::{load, load_str, ConfigOrigin, EMBEDDED_DEFAULT};
pub use mapping::{HubspotMapping, Lookup, PipedriveMapping, SalesforceMapping};
pub use report::{FanOut, PeriodSelector, ReportConfig};
pub use resolve::{ReportSettings, Settings};
pub use serve::{ServeConfig, ServeSettings};
pub use source::{Secret, SourceConfig, SourceKind};

use serde::{Deserialize, Deserializer};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Reads a setting that is one of a few names (`kind`, `period`, …); any
/// other value is an error that lists the valid ones.
pub(crate) fn by_name<'de, D: Deserializer<'de>, T: Copy>(
    d: D,
    names: &[(&str, T)],
) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    names
        .iter()
        .find(|(n, _)| *n == s.trim())
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let list: Vec<String> = names.iter().map(|(n, _)| format!("{n:?}")).collect();
            serde::de::Error::custom(format!(
                "{s:?} is not valid here; use one of: {}",
                list.join(", ")
            ))
        })
}

/// `impl Deserialize` through `by_name` for an enum of named settings.
macro_rules! named_setting {
    ($t:ty { $($name:literal => $v:expr),+ $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                crate::config::by_name(d, &[$(($name, $v)),+])
            }
        }
    };
}
pub(crate) use named_setting;

/// The whole config file, as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// IANA time zone that decides which day, month and quarter a timestamp
    /// belongs to. Default "UTC".
    #[serde(default = "defaults::timezone")]
    pub timezone: String,
    /// ISO 4217 code of the report currency. salesops converts nothing: it
    /// must be the snapshot's own `currency` when the snapshot names one
    /// (else the run stops), and is the currency of a snapshot that names
    /// none (and of the CRM connectors). Default: the snapshot's `currency`
    /// (USD when it names none).
    #[serde(default)]
    pub currency: Option<String>,
    /// First month (1-12) of the fiscal year; quarters follow it. Default 1.
    #[serde(
        deserialize_with = "whole::u32",
        default = "defaults::fiscal_year_start_month"
    )]
    pub fiscal_year_start_month: u32,
    /// Where the SQLite state (forecast history, sends, runs) lives. Default "state".
    #[serde(default = "defaults::state_dir")]
    pub state_dir: PathBuf,
    /// Where reports are written (not empty; its `outbox` folder holds the
    /// .eml files of `kind = "file"` delivery). Default "reports".
    #[serde(default = "defaults::out_dir")]
    pub out_dir: PathBuf,
    /// Role of a rep that has no `[[reps]]` entry. Default "junior".
    #[serde(default = "defaults::default_role")]
    pub default_role: String,
    /// Labels of the reports: "en" or "ko". Default "en"; a report may override it.
    #[serde(default = "defaults::locale")]
    pub locale: String,
    /// Folder whose files replace the built-in templates of the same name
    /// (report.html, report.txt, subject.txt; an override can
    /// `{% extends "__builtin/report.html" %}` and replace one block), and
    /// whose `labels.toml` replaces single labels. Default: none (built-in
    /// templates only).
    #[serde(default)]
    pub templates_dir: Option<PathBuf>,
    /// A TrueType/OpenType font for the charts (it must have glyphs for the
    /// reps' names, e.g. Hangul; salesops warns about names it cannot
    /// draw). Default: Nanum Gothic, built into the binary (SIL OFL).
    #[serde(default)]
    pub chart_font: Option<PathBuf>,
    /// `serve`: seconds a run in flight may take to finish after SIGTERM
    /// (1 to 86400). Default 120.
    #[serde(
        deserialize_with = "whole::u64",
        default = "defaults::shutdown_timeout_seconds"
    )]
    pub shutdown_timeout_seconds: u64,
    /// `serve`: on start, run each report whose latest scheduled period was
    /// not delivered. Default true.
    #[serde(default = "defaults::catch_up")]
    pub catch_up: bool,
    /// `serve`: how long a failed run is retried (with backoff) before it is
    /// given up (0 to 525600). Default 60.
    #[serde(
        deserialize_with = "whole::u64",
        default = "defaults::retry_for_minutes"
    )]
    pub retry_for_minutes: u64,
    /// `serve`: the HTTP listener for probes and metrics. Default: none.
    #[serde(default)]
    pub serve: ServeConfig,
    /// Where the CRM data comes from.
    #[serde(default)]
    pub source: SourceConfig,
    /// Quota and commission per role. Default: junior (10,000 a month) and
    /// senior (25,000 a month), both at a 10 % commission rate.
    #[serde(default = "defaults::roles")]
    pub roles: BTreeMap<String, RoleConfig>,
    /// Per-rep settings, matched by email (ignoring case) or id.
    #[serde(default)]
    pub reps: Vec<RepConfig>,
    #[serde(default)]
    pub forecast: ForecastConfig,
    #[serde(default)]
    pub quadrants: QuadrantsConfig,
    #[serde(default)]
    pub activities: ActivitiesConfig,
    #[serde(default)]
    pub leads: LeadsConfig,
    /// The reports to produce. Default: none in a config file (the built-in
    /// config used without `--config` has one, "monthly").
    #[serde(default)]
    pub reports: Vec<ReportConfig>,
    #[serde(default)]
    pub delivery: DeliveryConfig,
    /// Where `out_dir` is served over http(s), e.g.
    /// "https://reports.example.com/sales": with it, every email, Slack
    /// message and Teams card links to the report's page
    /// (`<public_base_url>/<report>/<period>/report.html`) and Teams cards
    /// show the charts. Default: none (no links).
    #[serde(default)]
    pub public_base_url: Option<String>,
    /// Slack's Web API and the bot token, for reports' `slack_channels`
    /// and teams' `slack_channel`.
    #[serde(default)]
    pub slack: SlackConfig,
    /// Microsoft Teams Workflows webhooks, for reports' and teams' `msteams`.
    #[serde(default)]
    pub msteams: MsteamsConfig,
    /// Goals every report tracks (METRICS.md "Goals"). Default: none.
    #[serde(default)]
    pub goals: Vec<GoalConfig>,
    /// Sales teams (METRICS.md "Teams"). Default: none (teams then come
    /// from the CRM's team field alone).
    #[serde(default)]
    pub teams: Vec<TeamConfig>,
}

/// A team name is a folder name: letters and digits of any script, spaces
/// inside, and `- _ . & + ( )`; not empty, no leading dot or space.
pub(crate) fn folder_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.chars().count() <= 100
        && name.trim() == name
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || " -_.&+()".contains(c));
    if ok {
        Ok(())
    } else {
        Err("use letters, digits, spaces inside, or - _ . & + ( ) (it names a folder; at most 100 characters, no leading dot)".into())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleConfig {
    /// Monthly quota in the report currency (0 to 10^15). Required.
    pub monthly_quota: Option<f64>,
    /// Share of revenue paid once the quota is reached (0 to 1). Default 0.10.
    #[serde(default = "defaults::commission_rate")]
    pub commission_rate: f64,
    /// Rate paid on revenue above quota (0 to 1). Default: the commission rate.
    #[serde(default)]
    pub accelerator_rate: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepConfig {
    /// Matches the CRM rep's email, ignoring case.
    #[serde(default)]
    pub email: Option<String>,
    /// Or matches the CRM rep's id exactly.
    #[serde(default)]
    pub id: Option<String>,
    /// A key of `[roles]`. Default: `default_role`.
    #[serde(default)]
    pub role: Option<String>,
    /// Monthly quota that replaces the role's (0 to 10^15). Default: the role's.
    #[serde(default)]
    pub quota: Option<f64>,
    /// Hire date (YYYY-MM-DD) that replaces the CRM's. Default: the CRM's.
    #[serde(default)]
    pub start_date: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastConfig {
    /// Growth applied to the historical run-rate, from -1 (-100 %) to 10
    /// (+1000 %). Default 0.05.
    #[serde(default = "defaults::growth_rate")]
    pub growth_rate: f64,
    /// Revenue a new rep is assumed to bring in each month of the target
    /// (0 to 10^15). Default 5000.
    #[serde(default = "defaults::new_rep_first_month_revenue")]
    pub new_rep_first_month_revenue: f64,
    /// Finished periods the forecast track record covers. Default 6.
    #[serde(
        deserialize_with = "whole::u32",
        default = "defaults::track_record_periods"
    )]
    pub track_record_periods: u32,
}

impl Default for ForecastConfig {
    fn default() -> Self {
        ForecastConfig {
            growth_rate: defaults::growth_rate(),
            new_rep_first_month_revenue: defaults::new_rep_first_month_revenue(),
            track_record_periods: defaults::track_record_periods(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuadrantsConfig {
    /// Attainment at or above which a rep is a high performer (0 to 100).
    /// Default 1.0.
    #[serde(default = "defaults::high_performer_attainment")]
    pub high_performer_attainment: f64,
}

impl Default for QuadrantsConfig {
    fn default() -> Self {
        QuadrantsConfig {
            high_performer_attainment: defaults::high_performer_attainment(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivitiesConfig {
    /// Activity kinds that count as selling time. Default call, meeting, email, social.
    #[serde(default = "defaults::selling_kinds")]
    pub selling_kinds: Vec<String>,
    /// Touches (selling activities linked to a deal) a deal should get
    /// before it closes. Default 5.
    #[serde(
        deserialize_with = "whole::i64",
        default = "defaults::follow_up_target"
    )]
    pub follow_up_target: i64,
}

impl Default for ActivitiesConfig {
    fn default() -> Self {
        ActivitiesConfig {
            selling_kinds: defaults::selling_kinds(),
            follow_up_target: defaults::follow_up_target(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadsConfig {
    /// Score at which a lead becomes sales-qualified (-10^6 to 10^6). Default 12.
    #[serde(default = "defaults::sql_threshold")]
    pub sql_threshold: f64,
    /// Answer within this many minutes to count inside the SLA (0 to 10^7).
    /// Default 60.
    #[serde(default = "defaults::response_sla_minutes")]
    pub response_sla_minutes: f64,
    /// Points per score event kind (-10^6 to 10^6 each). Default: pricing_page_visit 10,
    /// email_open 1, email_click 3, wrong_company_details -5, persona_fit 5.
    #[serde(default = "defaults::points")]
    pub points: BTreeMap<String, f64>,
}

impl Default for LeadsConfig {
    fn default() -> Self {
        LeadsConfig {
            sql_threshold: defaults::sql_threshold(),
            response_sla_minutes: defaults::response_sla_minutes(),
            points: defaults::points(),
        }
    }
}

pub(crate) mod defaults {
    use super::RoleConfig;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    pub fn timezone() -> String {
        "UTC".into()
    }
    pub fn fiscal_year_start_month() -> u32 {
        1
    }
    pub fn state_dir() -> PathBuf {
        "state".into()
    }
    pub fn out_dir() -> PathBuf {
        "reports".into()
    }
    pub fn default_role() -> String {
        "junior".into()
    }
    pub fn locale() -> String {
        "en".into()
    }
    pub fn shutdown_timeout_seconds() -> u64 {
        120
    }
    pub fn catch_up() -> bool {
        true
    }
    pub fn retry_for_minutes() -> u64 {
        60
    }
    pub fn commission_rate() -> f64 {
        0.10
    }
    pub fn roles() -> BTreeMap<String, RoleConfig> {
        let role = |q: f64| RoleConfig {
            monthly_quota: Some(q),
            commission_rate: 0.10,
            accelerator_rate: None,
        };
        BTreeMap::from([
            ("junior".to_string(), role(10_000.0)),
            ("senior".to_string(), role(25_000.0)),
        ])
    }
    pub fn growth_rate() -> f64 {
        0.05
    }
    pub fn new_rep_first_month_revenue() -> f64 {
        5000.0
    }
    pub fn high_performer_attainment() -> f64 {
        1.0
    }
    pub fn selling_kinds() -> Vec<String> {
        ["call", "meeting", "email", "social"]
            .map(String::from)
            .to_vec()
    }
    pub fn track_record_periods() -> u32 {
        6
    }
    pub fn follow_up_target() -> i64 {
        5
    }
    pub fn sql_threshold() -> f64 {
        12.0
    }
    pub fn response_sla_minutes() -> f64 {
        60.0
    }
    pub fn points() -> BTreeMap<String, f64> {
        [
            ("pricing_page_visit", 10.0),
            ("email_open", 1.0),
            ("email_click", 3.0),
            ("wrong_company_details", -5.0),
            ("persona_fit", 5.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}
