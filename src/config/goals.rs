//! `[[goals]]` and `[[teams]]`: what the organisation aims for, and who
//! belongs to which sales team. Each entry is checked here, once, into the
//! metrics' typed `Goal` and `TeamDef`.

use crate::metrics::{Goal, GoalMetric, GoalRule, TeamDef};
use crate::period::Period;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalConfig {
    /// The KPI the goal is about (e.g. "win_rate"). Required.
    pub metric: String,
    /// Relative change from the baseline: 0.05 is +5 %. Exactly one of
    /// `change`, `change_by` and `target`.
    #[serde(default)]
    pub change: Option<f64>,
    /// Absolute change from the baseline: 0.05 on a ratio is five points.
    #[serde(default)]
    pub change_by: Option<f64>,
    /// The target value itself.
    #[serde(default)]
    pub target: Option<f64>,
    /// Baseline period, written like `--period` (2026-Q2, 2026-06, or
    /// 2026-04-01..2026-06-30). Default: the period before the report's.
    #[serde(default)]
    pub baseline: Option<String>,
    /// The goal's wording in the report. Default: none (the report words it
    /// from the metric and the target).
    #[serde(default)]
    pub label: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamConfig {
    /// Unique; names the team's report folder. Required.
    pub name: String,
    /// Email of the team's manager, who gets the team's report. Default:
    /// none (the team's report is written, not emailed).
    #[serde(default)]
    pub manager: Option<String>,
    /// Rep emails (any letter case) or rep ids. Default: none (members come
    /// from the CRM's team field, matched by name ignoring case).
    #[serde(default)]
    pub members: Vec<String>,
    /// Slack channel, by ID ("C0123ABCD") or name ("#sales-seoul"), that
    /// gets the team's report (with `fan_out = "teams"` or `run --team`),
    /// as a report's `slack_channels` get the organisation's. Needs
    /// SALESOPS__SLACK__TOKEN. Default: none.
    #[serde(default)]
    pub slack_channel: Option<String>,
    /// Name of a Teams webhook (its URL comes from
    /// SALESOPS__MSTEAMS__WEBHOOKS__<NAME>) that gets the team's report,
    /// as a report's `msteams` get the organisation's. Default: none.
    #[serde(default)]
    pub msteams: Option<String>,
}

/// Checks every goal; each problem names the goal by index and metric.
pub fn goals(raw: &[GoalConfig], fiscal: u32, errs: &mut Vec<String>) -> Vec<Goal> {
    let mut out = Vec::new();
    for (i, g) in raw.iter().enumerate() {
        let key = format!("goals[{i}] ({:?})", g.metric);
        let metric = GoalMetric::parse(g.metric.trim());
        if metric.is_none() {
            errs.push(format!(
                "{key}.metric: not a metric a goal can use; use one of: {}",
                GoalMetric::names()
            ));
        }
        let given: Vec<(&str, f64)> = [
            ("change", g.change),
            ("change_by", g.change_by),
            ("target", g.target),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        let rule = match given.as_slice() {
            [(k, v)] => match number(*v) {
                Some(d) => Some(match *k {
                    "change" => GoalRule::Change(d),
                    "change_by" => GoalRule::ChangeBy(d),
                    _ => GoalRule::Target(d),
                }),
                None => {
                    errs.push(format!("{key}.{k}: {v} is not a number salesops can use"));
                    None
                }
            },
            [] => {
                errs.push(format!(
                    "{key}: give exactly one of change (0.05 = +5 %), change_by (an absolute step) or target (the value)"
                ));
                None
            }
            _ => {
                errs.push(format!(
                    "{key}: give exactly one of change, change_by or target, not {}",
                    given
                        .iter()
                        .map(|(k, _)| *k)
                        .collect::<Vec<_>>()
                        .join(" and ")
                ));
                None
            }
        };
        if matches!(rule, Some(GoalRule::Change(c)) if c <= -Decimal::ONE) {
            errs.push(format!("{key}.change: must be more than -1 (-1 is -100 %)"));
        }
        let baseline = g
            .baseline
            .as_deref()
            .and_then(|b| match Period::parse(b, fiscal) {
                Ok(p) => Some(p),
                Err(e) => {
                    errs.push(format!("{key}.baseline: {e}"));
                    None
                }
            });
        if let (Some(metric), Some(rule)) = (metric, rule) {
            out.push(Goal {
                metric,
                rule,
                baseline,
                label: g.label.clone().filter(|l| !l.trim().is_empty()),
            });
        }
    }
    out
}

/// Checks the teams: unique names usable as folder names, managers that
/// are addresses, no member listed by two teams.
pub fn teams(raw: &[TeamConfig], errs: &mut Vec<String>) -> Vec<TeamDef> {
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut members: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let key = format!("teams[{i}] ({:?})", t.name);
        if let Err(e) = super::folder_name(&t.name) {
            errs.push(format!("{key}.name: {e}"));
        }
        if let Some(j) = names.insert(t.name.trim().to_lowercase(), i) {
            errs.push(format!(
                "{key}.name: teams[{j}] has the same name (names are compared ignoring letter case)"
            ));
        }
        if let Some(m) = &t.manager {
            if m.parse::<lettre::message::Mailbox>().is_err() {
                errs.push(format!("{key}.manager: {m:?} is not an email address"));
            }
        }
        for (k, m) in t.members.iter().enumerate() {
            if m.trim().is_empty() {
                errs.push(format!(
                    "{key}.members[{k}]: empty; write a rep's email or id"
                ));
                continue;
            }
            if let Some(j) = members.insert(m.trim().to_lowercase(), i) {
                if j != i {
                    errs.push(format!(
                        "{key}.members[{k}]: {m:?} is also a member of teams[{j}] ({:?}); a rep belongs to one team",
                        raw[j].name
                    ));
                }
            }
        }
        out.push(TeamDef {
            name: t.name.trim().to_string(),
            manager: t.manager.clone(),
            members: t.members.iter().map(|m| m.trim().to_string()).collect(),
        });
    }
    out
}

/// A config number as the decimal it was written as.
fn number(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    Decimal::from_str(&format!("{v}")).ok()
}
