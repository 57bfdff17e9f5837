//! `[slack]` and `[msteams]`: where chat deliveries go, and the checks of
//! every chat key (`check`, called by `resolve`). The Slack token and the
//! Teams webhook URLs are secrets: they come from the environment only and
//! are never printed (a webhook URL is shown by `redact::url_host`).

use super::source::Secret;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Base of Slack's Web API. Default "https://slack.com/api" (point it
    /// at a proxy or a test server).
    #[serde(default = "default_slack_api")]
    pub api_base_url: String,
    /// The app's bot token (xoxb-…, scopes chat:write and files:write). Set
    /// it with SALESOPS__SLACK__TOKEN, never in the file. Default: none.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Bound on one HTTP request, in seconds. Default 30.
    #[serde(deserialize_with = "super::whole::u64", default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per request after a server error (5xx) or a timeout, with
    /// 1 s, 2 s, 4 s… between them (at most 30 s); a 429 is waited out as
    /// `Retry-After` says and does not count. Default 4.
    #[serde(deserialize_with = "super::whole::u32", default = "default_attempts")]
    pub max_attempts: u32,
}

impl Default for SlackConfig {
    fn default() -> Self {
        SlackConfig {
            api_base_url: default_slack_api(),
            token: None,
            timeout_seconds: default_timeout(),
            max_attempts: default_attempts(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MsteamsConfig {
    /// Workflows webhook URLs by name (letters, digits and `_`), which a
    /// report's `msteams = ["leadership"]` names. Set each with
    /// SALESOPS__MSTEAMS__WEBHOOKS__<NAME> (e.g. …__LEADERSHIP), never in
    /// the file: the URL itself is the credential. Default: none.
    #[serde(default)]
    pub webhooks: BTreeMap<String, Secret>,
    /// Bound on one HTTP request, in seconds. Default 30.
    #[serde(deserialize_with = "super::whole::u64", default = "default_timeout")]
    pub timeout_seconds: u64,
    /// Attempts per card after a server error (5xx) or a timeout, as for
    /// Slack. Default 4.
    #[serde(deserialize_with = "super::whole::u32", default = "default_attempts")]
    pub max_attempts: u32,
}

impl Default for MsteamsConfig {
    fn default() -> Self {
        MsteamsConfig {
            webhooks: BTreeMap::new(),
            timeout_seconds: default_timeout(),
            max_attempts: default_attempts(),
        }
    }
}

impl MsteamsConfig {
    /// The webhook named `name` (names match ignoring case: the
    /// environment gives them in capitals).
    pub fn webhook(&self, name: &str) -> Option<&Secret> {
        self.webhooks
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

/// The environment variable that holds the webhook `name`.
pub fn webhook_env(name: &str) -> String {
    format!("SALESOPS__MSTEAMS__WEBHOOKS__{}", name.to_ascii_uppercase())
}

fn default_slack_api() -> String {
    "https://slack.com/api".into()
}

fn default_timeout() -> u64 {
    30
}

fn default_attempts() -> u32 {
    4
}

fn http_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

/// A webhook name: it must be writable as an environment variable.
fn webhook_name_ok(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks `[slack]`, `[msteams]`, `public_base_url` and every report's
/// `slack_channels` / `msteams`, pushing one message per problem.
pub(super) fn check(raw: &super::RawConfig, errs: &mut Vec<String>) {
    if !http_url(&raw.slack.api_base_url) {
        errs.push(format!(
            "slack.api_base_url: {:?} is not an http(s) URL (default \"https://slack.com/api\")",
            raw.slack.api_base_url
        ));
    }
    for (key, t, a) in [
        ("slack", raw.slack.timeout_seconds, raw.slack.max_attempts),
        (
            "msteams",
            raw.msteams.timeout_seconds,
            raw.msteams.max_attempts,
        ),
    ] {
        if t == 0 {
            errs.push(format!("{key}.timeout_seconds: must be at least 1"));
        }
        if a == 0 {
            errs.push(format!("{key}.max_attempts: must be at least 1"));
        }
    }
    for (name, url) in &raw.msteams.webhooks {
        if !webhook_name_ok(name) {
            errs.push(format!(
                "msteams.webhooks.{name}: use letters, digits and '_' (the name is part of an environment variable)"
            ));
        }
        if !url::Url::parse(url.expose())
            .is_ok_and(|u| u.scheme() == "https" || u.scheme() == "http")
        {
            errs.push(format!(
                "msteams.webhooks.{name} ({}): not an http(s) URL; copy the whole URL of the workflow's trigger \"When a Teams webhook request is received\" (the value is not shown)",
                webhook_env(name)
            ));
        }
    }
    if let Some(u) = &raw.public_base_url {
        if !http_url(u) {
            errs.push(format!(
                "public_base_url: {u:?} is not an http(s) URL (where out_dir is served, e.g. \"https://reports.example.com/sales\")"
            ));
        }
    }
    for (i, r) in raw.reports.iter().enumerate() {
        let key = format!("reports[{i}] ({:?})", r.name);
        for (j, c) in r.slack_channels.iter().enumerate() {
            check_channel(&format!("{key}.slack_channels[{j}]"), c, errs);
        }
        for (j, n) in r.msteams.iter().enumerate() {
            check_webhook_name(&format!("{key}.msteams[{j}]"), n, errs);
        }
    }
    for (i, t) in raw.teams.iter().enumerate() {
        let key = format!("teams[{i}] ({:?})", t.name);
        if let Some(c) = &t.slack_channel {
            check_channel(&format!("{key}.slack_channel"), c, errs);
        }
        if let Some(n) = &t.msteams {
            check_webhook_name(&format!("{key}.msteams"), n, errs);
        }
    }
}

fn check_channel(key: &str, c: &str, errs: &mut Vec<String>) {
    let name = c.strip_prefix('#').unwrap_or(c);
    if name.is_empty() || name.chars().any(|ch| ch.is_whitespace() || ch == ',') {
        errs.push(format!(
            "{key}: {c:?} is not a channel; give its ID (\"C0123ABCD\", from the channel's details) or its name (\"#sales-leadership\")"
        ));
    }
}

fn check_webhook_name(key: &str, n: &str, errs: &mut Vec<String>) {
    if !webhook_name_ok(n) {
        errs.push(format!(
            "{key}: {n:?} is not a webhook name; use letters, digits and '_' (its URL comes from {})",
            webhook_env(&n.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
        ));
    }
}

/// A `[[teams]]` entry's own chat destinations (its `slack_channel` and
/// `msteams`), which its team's report goes to. As lists, so they pass
/// where a report's `slack_channels` and `msteams` do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamChat {
    pub slack_channels: Vec<String>,
    pub msteams: Vec<String>,
}

impl TeamChat {
    pub(super) fn of(t: &super::TeamConfig) -> TeamChat {
        TeamChat {
            slack_channels: t.slack_channel.iter().cloned().collect(),
            msteams: t.msteams.iter().cloned().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_path_and_query() {
        assert_eq!(
            crate::redact::url_host("https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=SECRET"),
            "https://prod-12.westus.logic.azure.com/…"
        );
        assert_eq!(crate::redact::url_host("nonsense"), "[not a URL]");
    }

    #[test]
    fn webhooks_match_ignoring_case() {
        let mut m = MsteamsConfig::default();
        m.webhooks
            .insert("leadership".into(), Secret::new("https://x.example/h"));
        assert!(m.webhook("LEADERSHIP").is_some());
        assert!(m.webhook("sales").is_none());
        assert_eq!(
            webhook_env("leadership"),
            "SALESOPS__MSTEAMS__WEBHOOKS__LEADERSHIP"
        );
    }
}
