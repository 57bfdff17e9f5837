//! `resolve()`: checks every key of a `RawConfig` and builds `Settings`.
//! Pure: no file, network or clock. All problems are collected and reported
//! together, each naming its key.

use super::{
    DeliveryConfig, DeliveryKind, MsteamsConfig, PeriodSelector, RawConfig, SlackConfig,
    SourceConfig, SourceKind,
};
use crate::metrics::{self, RepRule, Role};
use crate::snapshot::ActivityKind;
use anyhow::{anyhow, Result};
use chrono_tz::Tz;
use rust_decimal::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

/// Everything a run needs, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tz: Tz,
    /// The report currency when the config names one.
    pub currency: Option<String>,
    pub state_dir: PathBuf,
    pub out_dir: PathBuf,
    pub locale: String,
    pub templates_dir: Option<PathBuf>,
    pub chart_font: Option<PathBuf>,
    pub shutdown_timeout_seconds: u64,
    pub catch_up: bool,
    pub retry_for_minutes: u64,
    pub serve: super::ServeSettings,
    pub source: SourceConfig,
    pub metrics: metrics::Settings,
    /// `[[teams]]`, in config order.
    pub teams: Vec<metrics::TeamDef>,
    /// Each `[[teams]]` entry's own chat destinations, in the same order
    /// (`metrics::Team::config_index` finds a team's).
    pub team_chat: Vec<super::TeamChat>,
    pub reports: Vec<ReportSettings>,
    pub delivery: DeliveryConfig,
    /// Where out_dir is served (links in messages), checked.
    pub public_base_url: Option<url::Url>,
    pub slack: SlackConfig,
    pub msteams: MsteamsConfig,
}

#[derive(Debug, Clone)]
pub struct ReportSettings {
    pub name: String,
    pub period: PeriodSelector,
    /// The cron expression as written (5 or 6 fields).
    pub schedule: Option<String>,
    pub tz: Tz,
    pub locale: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub slack_channels: Vec<String>,
    pub msteams: Vec<String>,
    pub fan_out: super::FanOut,
    pub team_cc: Vec<String>,
}

impl ReportSettings {
    pub fn recipients(&self) -> impl Iterator<Item = &String> {
        self.to.iter().chain(&self.cc).chain(&self.bcc)
    }
}

impl Settings {
    /// Parses and resolves TOML text without the environment (tests, `check`).
    pub fn from_toml(text: &str) -> Result<Settings> {
        let raw = super::load_str(text, "config", false)?;
        Settings::resolve(raw).map_err(|errs| anyhow!(errs.join("\n")))
    }

    /// Checks every key; returns all problems, each naming its key path.
    pub fn resolve(raw: RawConfig) -> Result<Settings, Vec<String>> {
        let mut errs: Vec<String> = Vec::new();
        let tz = parse_tz(&raw.timezone, "timezone", &mut errs);
        let currency = raw.currency.as_ref().map(|c| c.trim().to_ascii_uppercase());
        if let Some(c) = currency
            .as_ref()
            .filter(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            errs.push(format!(
                "currency: {c:?} is not an ISO 4217 code such as \"USD\" or \"KRW\""
            ));
        }
        if !(1..=12).contains(&raw.fiscal_year_start_month) {
            errs.push(format!(
                "fiscal_year_start_month: {} is not a month (1-12)",
                raw.fiscal_year_start_month
            ));
        }
        check_locale(&raw.locale, "locale", &mut errs);

        let mut roles = BTreeMap::new();
        for (name, r) in &raw.roles {
            let key = format!("roles.{name}");
            let Some(q) = r.monthly_quota else {
                errs.push(format!(
                    "{key}.monthly_quota: missing; every role needs a monthly quota"
                ));
                continue;
            };
            let monthly_quota = money(q, &format!("{key}.monthly_quota"), &mut errs);
            let commission_rate = rate(
                r.commission_rate,
                &format!("{key}.commission_rate"),
                &mut errs,
            );
            let accelerator_rate = match r.accelerator_rate {
                Some(a) => rate(a, &format!("{key}.accelerator_rate"), &mut errs),
                None => commission_rate,
            };
            roles.insert(
                name.clone(),
                Role {
                    monthly_quota,
                    commission_rate,
                    accelerator_rate,
                },
            );
        }
        if !raw.roles.contains_key(&raw.default_role) {
            errs.push(format!(
                "default_role: {:?} is not a role; define [roles.{}] or pick one of: {}",
                raw.default_role,
                raw.default_role,
                raw.roles.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }

        let mut rep_rules = Vec::new();
        for (i, r) in raw.reps.iter().enumerate() {
            let key = format!("reps[{i}]");
            if r.email.is_none() && r.id.is_none() {
                errs.push(format!(
                    "{key}: give an email or an id to match the CRM rep"
                ));
            }
            if let Some(role) = &r.role {
                if !raw.roles.contains_key(role) {
                    errs.push(format!("{key}.role: {role:?} is not defined under [roles]"));
                }
            }
            let quota = r
                .quota
                .map(|q| money(q, &format!("{key}.quota"), &mut errs));
            let start_date =
                r.start_date
                    .as_deref()
                    .and_then(|d| match crate::period::parse_date(d) {
                        Ok(d) => Some(d),
                        Err(_) => {
                            errs.push(format!(
                                "{key}.start_date: {d:?} is not a date (YYYY-MM-DD)"
                            ));
                            None
                        }
                    });
            rep_rules.push(RepRule {
                email: r.email.as_ref().map(|e| e.trim().to_string()),
                id: r.id.clone(),
                role: r.role.clone(),
                quota,
                start_date,
            });
        }

        let mut selling_kinds = [false; ActivityKind::ALL.len()];
        for (i, k) in raw.activities.selling_kinds.iter().enumerate() {
            match ActivityKind::parse(k) {
                Some(kind) => selling_kinds[kind.index()] = true,
                None => errs.push(format!(
                    "activities.selling_kinds[{i}]: {k:?} is not an activity kind; use: {}",
                    ActivityKind::names()
                )),
            }
        }
        let points = raw
            .leads
            .points
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    ranged(*v, &format!("leads.points.{k}"), range::POINTS, &mut errs),
                )
            })
            .collect();

        let metrics = metrics::Settings {
            tz,
            fiscal_start_month: raw.fiscal_year_start_month.clamp(1, 12),
            roles,
            default_role: raw.default_role.clone(),
            rep_rules,
            growth_rate: ranged(
                raw.forecast.growth_rate,
                "forecast.growth_rate",
                range::GROWTH,
                &mut errs,
            ),
            new_rep_first_month_revenue: money(
                raw.forecast.new_rep_first_month_revenue,
                "forecast.new_rep_first_month_revenue",
                &mut errs,
            ),
            high_performer_attainment: ranged(
                raw.quadrants.high_performer_attainment,
                "quadrants.high_performer_attainment",
                range::ATTAINMENT,
                &mut errs,
            ),
            selling_kinds,
            sql_threshold: ranged(
                raw.leads.sql_threshold,
                "leads.sql_threshold",
                range::POINTS,
                &mut errs,
            ),
            response_sla_minutes: ranged(
                raw.leads.response_sla_minutes,
                "leads.response_sla_minutes",
                range::SLA_MINUTES,
                &mut errs,
            ),
            points,
            follow_up_target: follow_up_target(raw.activities.follow_up_target, &mut errs),
            track_record_periods: track_record_periods(
                raw.forecast.track_record_periods,
                &mut errs,
            ),
            goals: super::goals::goals(
                &raw.goals,
                raw.fiscal_year_start_month.clamp(1, 12),
                &mut errs,
            ),
        };
        let teams = super::goals::teams(&raw.teams, &mut errs);

        whole(
            raw.shutdown_timeout_seconds,
            "shutdown_timeout_seconds",
            1,
            86_400,
            &mut errs,
        );
        whole(
            raw.retry_for_minutes,
            "retry_for_minutes",
            0,
            525_600,
            &mut errs,
        );
        for (key, dir) in [("state_dir", &raw.state_dir), ("out_dir", &raw.out_dir)] {
            if dir.as_os_str().to_string_lossy().trim().is_empty() {
                errs.push(format!("{key}: empty; name a folder (e.g. \"reports\")"));
            }
        }
        let serve = raw.serve.resolve(&mut errs);
        check_source(&raw.source, &mut errs);
        super::chat::check(&raw, &mut errs);
        check_delivery(
            &raw.delivery,
            &raw.reports.iter().any(|r| !r.to.is_empty()),
            &mut errs,
        );

        let mut names = HashSet::new();
        let mut reports = Vec::new();
        for (i, r) in raw.reports.iter().enumerate() {
            let key = format!("reports[{i}] ({:?})", r.name);
            if r.name.trim().is_empty()
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
                || r.name.starts_with('.')
            {
                errs.push(format!(
                    "{key}.name: use letters, digits, '-', '_' or '.' (it names a folder)"
                ));
            }
            if r.name == crate::deliver::file::OUTBOX {
                errs.push(format!(
                    "{key}.name: \"{}\" is reserved: the .eml outbox lives in <out_dir>/{}; pick another name",
                    r.name,
                    crate::deliver::file::OUTBOX
                ));
            }
            if !names.insert(r.name.clone()) {
                errs.push(format!("{key}.name: another report has this name"));
            }
            let rtz = match &r.timezone {
                Some(z) => parse_tz(z, &format!("{key}.timezone"), &mut errs),
                None => tz,
            };
            let locale = r.locale.clone().unwrap_or_else(|| raw.locale.clone());
            check_locale(&locale, &format!("{key}.locale"), &mut errs);
            if let Some(cron) = &r.schedule {
                match crate::schedule::cron::parse(cron) {
                    Err(e) => errs.push(format!("{key}.schedule: {e}")),
                    // From a fixed instant: resolve() reads no clock.
                    Ok(c) if crate::schedule::cron::next_fires(&c, rtz, never_before(), 1).is_empty() => {
                        errs.push(format!(
                            "{key}.schedule: {cron:?} never fires (no such date, e.g. 30 February); check the day and month fields"
                        ))
                    }
                    Ok(_) => {}
                }
            }
            for (field, list) in [
                ("to", &r.to),
                ("cc", &r.cc),
                ("bcc", &r.bcc),
                ("team_cc", &r.team_cc),
            ] {
                for (j, addr) in list.iter().enumerate() {
                    if addr.parse::<lettre::message::Mailbox>().is_err() {
                        errs.push(format!(
                            "{key}.{field}[{j}]: {addr:?} is not an email address"
                        ));
                    }
                }
            }
            if let Some(subject) = &r.subject {
                if let Err(e) = tera::Tera::default().add_raw_template("subject", subject) {
                    let cause = std::error::Error::source(&e)
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                    errs.push(format!(
                        "{key}.subject: not a valid tera template: {}",
                        cause.lines().map(str::trim).collect::<Vec<_>>().join(" ")
                    ));
                }
            }
            reports.push(ReportSettings {
                name: r.name.clone(),
                period: r.period,
                schedule: r.schedule.clone(),
                tz: rtz,
                locale,
                to: r.to.clone(),
                cc: r.cc.clone(),
                bcc: r.bcc.clone(),
                subject: r.subject.clone(),
                slack_channels: r.slack_channels.clone(),
                msteams: r.msteams.clone(),
                fan_out: r.fan_out,
                team_cc: r.team_cc.clone(),
            });
        }

        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(Settings {
            tz,
            currency,
            state_dir: raw.state_dir,
            out_dir: raw.out_dir,
            locale: raw.locale,
            templates_dir: raw.templates_dir,
            chart_font: raw.chart_font,
            shutdown_timeout_seconds: raw.shutdown_timeout_seconds,
            catch_up: raw.catch_up,
            retry_for_minutes: raw.retry_for_minutes,
            serve,
            source: raw.source,
            metrics,
            teams,
            team_chat: raw.teams.iter().map(super::TeamChat::of).collect(),
            reports,
            delivery: raw.delivery,
            public_base_url: raw
                .public_base_url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok()),
            slack: raw.slack,
            msteams: raw.msteams,
        })
    }

    pub fn report(&self, name: &str) -> Option<&ReportSettings> {
        self.reports.iter().find(|r| r.name == name)
    }
}

fn follow_up_target(v: i64, errs: &mut Vec<String>) -> u32 {
    match u32::try_from(v) {
        Ok(n) if (1..=1000).contains(&n) => n,
        _ => {
            errs.push(format!(
                "activities.follow_up_target: {v} is not a number of touches from 1 to 1000"
            ));
            5
        }
    }
}

fn track_record_periods(v: u32, errs: &mut Vec<String>) -> usize {
    if !(1..=36).contains(&v) {
        errs.push(format!(
            "forecast.track_record_periods: {v} is not between 1 and 36"
        ));
    }
    v.clamp(1, 36) as usize
}

fn never_before() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_577_836_800, 0).expect("2020-01-01T00:00:00Z")
}

fn parse_tz(s: &str, key: &str, errs: &mut Vec<String>) -> Tz {
    s.trim().parse::<Tz>().unwrap_or_else(|_| {
        errs.push(format!(
            "{key}: {s:?} is not an IANA time zone (e.g. \"Asia/Seoul\", \"UTC\")"
        ));
        Tz::UTC
    })
}

fn check_locale(s: &str, key: &str, errs: &mut Vec<String>) {
    if !matches!(s, "en" | "ko") {
        errs.push(format!(
            "{key}: {s:?} is not supported; use \"en\" or \"ko\""
        ));
    }
}

/// The ranges numbers in the config must fall in (documented with each
/// key): wide enough for any real business, narrow enough that no sum or
/// product of them and of snapshot amounts can overflow.
mod range {
    /// Money: quotas, revenue per new rep (the snapshot's amount bound).
    pub const MONEY: (f64, f64) = (0.0, 1e15);
    pub const RATE: (f64, f64) = (0.0, 1.0);
    /// −1 (everything lost) to 10 (eleven times the run-rate).
    pub const GROWTH: (f64, f64) = (-1.0, 10.0);
    pub const ATTAINMENT: (f64, f64) = (0.0, 100.0);
    pub const POINTS: (f64, f64) = (-1e6, 1e6);
    /// Minutes: up to about 19 years.
    pub const SLA_MINUTES: (f64, f64) = (0.0, 1e7);
}

/// A number from config in `lo..=hi`, as the decimal it was written as.
fn ranged(v: f64, key: &str, (lo, hi): (f64, f64), errs: &mut Vec<String>) -> Decimal {
    if !v.is_finite() {
        errs.push(format!("{key}: expected a number, got {v}"));
        return Decimal::ZERO;
    }
    if v < lo || v > hi {
        errs.push(format!(
            "{key}: {v} is out of range; use a number from {lo} to {hi}"
        ));
        return Decimal::ZERO;
    }
    Decimal::from_str(&format!("{v}")).unwrap_or_else(|_| {
        errs.push(format!("{key}: {v} is out of range"));
        Decimal::ZERO
    })
}

fn money(v: f64, key: &str, errs: &mut Vec<String>) -> Decimal {
    ranged(v, key, range::MONEY, errs)
}

fn rate(v: f64, key: &str, errs: &mut Vec<String>) -> Decimal {
    if !(0.0..=1.0).contains(&v) && v.is_finite() {
        errs.push(format!(
            "{key}: {v} is not a rate between 0 and 1 (write 0.10 for 10 %)"
        ));
        return Decimal::ZERO;
    }
    ranged(v, key, range::RATE, errs)
}

/// A whole number from config in `lo..=hi`.
fn whole(v: u64, key: &str, lo: u64, hi: u64, errs: &mut Vec<String>) {
    if !(lo..=hi).contains(&v) {
        errs.push(format!(
            "{key}: {v} is out of range; use a whole number from {lo} to {hi}"
        ));
    }
}

fn check_source(s: &SourceConfig, errs: &mut Vec<String>) {
    match s.kind {
        SourceKind::File if s.path.as_deref().is_none_or(|p| p.trim().is_empty()) => {
            errs.push("source.path: required for kind = \"file\" (a snapshot JSON path or http(s) URL)".into())
        }
        SourceKind::Salesforce if s.instance_url.is_none() => errs.push(
            "source.instance_url: required for kind = \"salesforce\" (e.g. https://acme.my.salesforce.com)".into(),
        ),
        SourceKind::Pipedrive if s.base_url.is_none() => errs.push(
            "source.base_url: required for kind = \"pipedrive\" (your company domain, e.g. https://acme.pipedrive.com)"
                .into(),
        ),
        _ => {}
    }
    let connector = matches!(
        s.kind,
        SourceKind::Hubspot | SourceKind::Salesforce | SourceKind::Pipedrive
    );
    if connector {
        if s.token
            .as_ref()
            .is_none_or(|t| t.expose().trim().is_empty())
        {
            errs.push(format!(
                "source.token: required for kind = {:?}; set the environment variable SALESOPS__SOURCE__TOKEN (never write it in the file; docs/connectors.md says how to create one)",
                s.kind.as_str()
            ));
        }
        for (key, v) in [("base_url", &s.base_url), ("instance_url", &s.instance_url)] {
            if let Some(u) = v {
                if !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                    errs.push(format!(
                        "source.{key}: {u:?} is not an http(s) URL (e.g. \"https://acme.my.salesforce.com\")"
                    ));
                }
            }
        }
    }
    if let Some(v) = &s.api_version {
        let ok = v
            .strip_prefix('v')
            .and_then(|n| n.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && (a.to_owned() + b).bytes().all(|c| c.is_ascii_digit())
            });
        if !ok {
            errs.push(format!(
                "source.api_version: {v:?} is not a Salesforce API version such as \"v62.0\""
            ));
        }
    }
    whole(s.timeout_seconds, "source.timeout_seconds", 1, 86_400, errs);
    whole(s.max_retries.into(), "source.max_retries", 0, 100, errs);
    whole(
        s.max_snapshot_bytes,
        "source.max_snapshot_bytes",
        1,
        1 << 50,
        errs,
    );
    whole(
        s.download_timeout_seconds,
        "source.download_timeout_seconds",
        1,
        604_800,
        errs,
    );
    if let Some(r) = s.max_requests_per_second {
        if !(0.001..=10_000.0).contains(&r) {
            errs.push(format!(
                "source.max_requests_per_second: {r} is out of range; use a number from 0.001 to 10000"
            ));
        }
    }
    super::mapping::check(s, errs);
}

fn check_delivery(d: &DeliveryConfig, _has_recipients: &bool, errs: &mut Vec<String>) {
    if d.kind == DeliveryKind::Smtp {
        if d.host.as_deref().is_none_or(|h| h.trim().is_empty()) {
            errs.push("delivery.host: required for kind = \"smtp\"".into());
        }
        match &d.from {
            None => errs.push("delivery.from: required for kind = \"smtp\" (e.g. \"Sales Ops <ops@example.com>\")".into()),
            Some(f) if f.parse::<lettre::message::Mailbox>().is_err() => {
                errs.push(format!("delivery.from: {f:?} is not an address (e.g. \"Sales Ops <ops@example.com>\")"))
            }
            _ => {}
        }
    }
    whole(d.timeout_seconds, "delivery.timeout_seconds", 1, 3600, errs);
    whole(d.max_attempts.into(), "delivery.max_attempts", 1, 100, errs);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_takes_every_default() {
        let s = Settings::from_toml("").unwrap();
        assert_eq!(s.tz, Tz::UTC);
        assert_eq!(s.currency, None);
        assert_eq!(
            s.metrics.roles["junior"].monthly_quota,
            Decimal::from(10_000)
        );
        assert_eq!(s.metrics.sql_threshold, Decimal::from(12));
    }

    #[test]
    fn wrong_type_names_the_key() {
        let err = Settings::from_toml("[forecast]\ngrowth_rate = \"5%\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("forecast.growth_rate: expected a number, got \"5%\""),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = Settings::from_toml("[forecast]\ngrowth = 0.05\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("forecast") && err.contains("growth"), "{err}");
    }

    #[test]
    fn collects_every_problem() {
        let text = r#"
timezone = "Mars/Olympus"
default_role = "intern"
[roles.junior]
commission_rate = 1.5
[[reports]]
name = "m"
period = "previous_month"
schedule = "0 7 1 * * * * *"
to = ["not-an-address"]
[[reports]]
name = "feb"
schedule = "0 7 30 2 *"
timezone = "Europe/Atlantis"
"#;
        let err = Settings::from_toml(text).unwrap_err().to_string();
        for needle in [
            "timezone: \"Mars/Olympus\"",
            "default_role: \"intern\"",
            "roles.junior.monthly_quota: missing",
            "reports[0] (\"m\").schedule",
            "reports[0] (\"m\").to[0]",
            "reports[1] (\"feb\").schedule: \"0 7 30 2 *\" never fires",
            "reports[1] (\"feb\").timezone: \"Europe/Atlantis\"",
        ] {
            assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
        }
    }

    #[test]
    fn a_broken_subject_template_names_the_key() {
        let text = "[[reports]]\nname = \"m\"\nsubject = \"{{ period \"\n";
        let err = Settings::from_toml(text).unwrap_err().to_string();
        assert!(
            err.contains("reports[0] (\"m\").subject: not a valid tera template"),
            "{err}"
        );
    }
}
