//! Microsoft Teams: the Adaptive Card (version 1.4, what Teams and the
//! Workflows app render on desktop, web and phones) of a `Summary`, and
//! its post to a Workflows webhook ("When a Teams webhook request is
//! received"; the old Office 365 connectors are retired). The card is
//! wrapped as the workflow expects: a message with one attachment of type
//! `application/vnd.microsoft.card.adaptive`.
//!
//! The webhook URL is the credential: it is never printed (`redact::url_host`
//! shows its host). Text from outside salesops is escaped for the card's
//! markdown, and a card mentions nobody (mentions need `msteams.entities`,
//! which salesops never sends).

use super::http::{snippet, Fault, Http};
use crate::config::{webhook_env, MsteamsConfig, Secret};
use crate::redact::url_host as redact_url;
use crate::render::Summary;
use serde_json::{json, Value};

/// The Adaptive Card schema version the card declares and keeps to.
pub const CARD_VERSION: &str = "1.4";

/// Escapes the markdown a TextBlock or Fact renders (emphasis, links,
/// code, and a list or heading at the start), so a name shows as written.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    let t = s.trim_start();
    let numbered = t.split_once(['.', ')']).is_some_and(|(n, rest)| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && (rest.is_empty() || rest.starts_with(' '))
    });
    if t.starts_with(['-', '+', '#']) || numbered {
        out.push('\\');
    }
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '_' | '[' | ']' | '`' | '~' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn text(t: String) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true})
}

fn subtle(t: String) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true, "isSubtle": true, "spacing": "None"})
}

fn heading(t: String) -> Value {
    json!({"type": "TextBlock", "text": t, "wrap": true, "weight": "Bolder", "spacing": "Medium"})
}

fn facts(pairs: Vec<(String, String)>) -> Value {
    let facts: Vec<Value> = pairs
        .into_iter()
        .map(|(title, value)| json!({"title": title, "value": value}))
        .collect();
    json!({"type": "FactSet", "facts": facts})
}

/// The Adaptive Card of a summary: the same content as the Slack message;
/// the charts as images and a button to the report when `public_base_url`
/// is set (a card cannot carry files).
pub fn card(s: &Summary) -> Value {
    let e = escape;
    let mut body = vec![
        json!({"type": "TextBlock", "text": e(&s.title), "wrap": true, "size": "Large", "weight": "Bolder"}),
        subtle(e(&s.subtitle)),
        subtle(e(&s.as_of)),
    ];
    if let Some(r) = &s.running {
        body.push(json!({"type": "TextBlock", "text": e(r), "wrap": true, "color": "Warning"}));
    }
    if !s.headline.is_empty() {
        body.push(heading(e(&s.vs_previous)));
        body.push(facts(
            s.headline
                .iter()
                .map(|f| {
                    let mut v = e(&f.value);
                    if !f.change.is_empty() {
                        v.push_str(&format!("  {}", e(&f.change)));
                    }
                    if !f.sub.is_empty() {
                        v.push_str(&format!(" ({})", e(&f.sub)));
                    }
                    (e(&f.label), v)
                })
                .collect(),
        ));
    }
    if let Some(line) = s.best_forecast_line() {
        body.push(text(e(&line)));
    }
    if !s.goals.is_empty() {
        body.push(heading(e(&s.words.goals)));
        body.push(facts(
            s.goals
                .iter()
                .map(|g| {
                    let mark = Summary::goal_mark(g.met);
                    (e(&g.label), format!("{mark} {}", e(s.goal_state(g.met))))
                })
                .collect(),
        ));
    }
    if !s.top_reps.is_empty() {
        body.push(heading(e(&s.words.top_reps)));
        body.push(facts(
            s.top_reps
                .iter()
                .map(|r| (e(&r.name), e(&r.line)))
                .collect(),
        ));
    }
    if let Some(n) = &s.notes {
        body.push(subtle(e(n)));
    }
    for c in &s.charts {
        if let Some(url) = &c.url {
            body.push(json!({"type": "Image", "url": url, "altText": c.alt, "size": "Stretch"}));
        }
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": s.fallback,
        "body": body,
    });
    if let Some(url) = &s.link {
        card["actions"] =
            json!([{"type": "Action.OpenUrl", "title": s.words.open_report, "url": url}]);
    }
    card
}

/// What a Workflows webhook takes: a message with the card attached.
pub fn envelope(card: Value) -> Value {
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

/// A failed post to one webhook.
pub type TeamsError = String;

/// Posts `payload` to the webhook `name`.
pub async fn post(cfg: &MsteamsConfig, name: &str, payload: &Value) -> Result<(), TeamsError> {
    let env = webhook_env(name);
    let url: &Secret = cfg.webhook(name).ok_or_else(|| {
        format!(
            "{env} is not set: export the URL of the Teams workflow that posts to the channel (docs/report.md, \"Microsoft Teams\")"
        )
    })?;
    let shown = redact_url(url.expose());
    let http = Http::new(cfg.timeout_seconds, cfg.max_attempts)?;
    let what = format!("Teams webhook {name} ({shown})");
    // A server may echo the URL or its signature: neither leaves here.
    let query: Vec<String> = url::Url::parse(url.expose())
        .map(|u| {
            u.query_pairs()
                .map(|(_, v)| v.into_owned())
                .filter(|v| v.len() >= 8)
                .collect()
        })
        .unwrap_or_default();
    let clean = |s: String| {
        query.iter().fold(s.replace(url.expose(), &shown), |s, v| {
            s.replace(v, "[redacted]")
        })
    };
    let reply = http
        .send(&what, || http.client().post(url.expose()).json(payload))
        .await
        .map_err(|f| match f {
            Fault::Unreachable(m) | Fault::Throttled(m) => clean(m),
        })?;
    let body = clean(snippet(&reply.body));
    match reply.status {
        200..=299 => Ok(()),
        400 => Err(format!(
            "{what} refused the card (400: {body}): check that the workflow starts with \"When a Teams webhook request is received\" and posts the card it receives (\"Post card in a chat or channel\" with the attachments' content)"
        )),
        401 | 403 | 404 => Err(format!(
            "{what} answered {}: the URL is no longer valid (the workflow was deleted or turned off, or its URL changed): copy the trigger's current URL into {env}",
            reply.status
        )),
        s => Err(format!("{what} answered {s}: {body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_escaped() {
        assert_eq!(
            escape("[x](https://e.vil) *b*"),
            "\\[x\\](https://e.vil) \\*b\\*"
        );
        assert_eq!(escape("- a_b"), "\\- a\\_b");
        assert_eq!(escape("2026-07-01 – 2026-07-31"), "2026-07-01 – 2026-07-31");
        assert_eq!(escape("1. x"), "\\1. x");
        assert_eq!(escape("54.9%"), "54.9%");
        assert_eq!(escape("김민지"), "김민지");
    }
}
