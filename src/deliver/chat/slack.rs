//! Slack: the Block Kit message of a `Summary`, and the Web API calls that
//! post it (`chat.postMessage`) and put the charts and report.html in its
//! thread (`files.getUploadURLExternal` → upload → one
//! `files.completeUploadExternal` for all files; the old `files.upload` is
//! retired). Every string from outside salesops is escaped for mrkdwn
//! (`&`, `<`, `>`), so a deal named `<!channel>` pings nobody.
//!
//! The token goes only in the Authorization header. Slack answers most
//! errors with HTTP 200 and `{"ok": false, "error": "…"}`; each known
//! error becomes a message that says what to do.

use super::http::{snippet, Fault, Http};
use crate::config::{Secret, SlackConfig};
use crate::render::Summary;
use serde_json::{json, Value};

/// Block Kit limits (docs.slack.dev, "Blocks").
const HEADER_MAX: usize = 150;
const FIELD_MAX: usize = 2000;
const SECTION_MAX: usize = 3000;

/// Escapes text for Slack's mrkdwn: only `&`, `<` and `>` are control
/// characters there (`<!channel>`, `<@U123>`, `<url|text>`).
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

fn mrkdwn(text: String, max: usize) -> Value {
    json!({"type": "mrkdwn", "text": cut(text, max)})
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": mrkdwn(text, SECTION_MAX)})
}

fn context(parts: &[String]) -> Value {
    json!({"type": "context", "elements": [mrkdwn(parts.join(" · "), SECTION_MAX)]})
}

/// The message for one channel: `text` (the notification line) and
/// `blocks`. Readable on a phone: short sections, figures as two-column
/// fields.
pub fn message(s: &Summary) -> Value {
    let e = escape;
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": cut(s.title.clone(), HEADER_MAX), "emoji": false},
    })];
    let mut top = vec![e(&s.subtitle), e(&s.as_of)];
    if let Some(r) = &s.running {
        top.push(format!("*{}*", e(r)));
    }
    blocks.push(context(&top));
    if !s.headline.is_empty() {
        let fields: Vec<Value> = s
            .headline
            .iter()
            .take(10)
            .map(|f| {
                let mut t = format!("*{}*\n{}", e(&f.label), e(&f.value));
                if !f.change.is_empty() {
                    t.push_str(&format!("  {}", e(&f.change)));
                }
                if !f.sub.is_empty() {
                    t.push_str(&format!("\n_{}_", e(&f.sub)));
                }
                mrkdwn(t, FIELD_MAX)
            })
            .collect();
        blocks.push(json!({"type": "section", "fields": fields}));
        blocks.push(context(&[format!("_{}_", e(&s.vs_previous))]));
    }
    if let Some(line) = s.best_forecast_line() {
        blocks.push(section(e(&line)));
    }
    if !s.goals.is_empty() {
        let lines: Vec<String> = s
            .goals
            .iter()
            .map(|g| {
                let mark = Summary::goal_mark(g.met);
                format!("{mark} {}: {}", e(&g.label), e(s.goal_state(g.met)))
            })
            .collect();
        blocks.push(section(format!(
            "*{}*\n{}",
            e(&s.words.goals),
            lines.join("\n")
        )));
    }
    if !s.top_reps.is_empty() {
        let lines: Vec<String> = s
            .top_reps
            .iter()
            .enumerate()
            .map(|(i, r)| format!("{}. *{}*: {}", i + 1, e(&r.name), e(&r.line)))
            .collect();
        blocks.push(section(format!(
            "*{}*\n{}",
            e(&s.words.top_reps),
            lines.join("\n")
        )));
    }
    if let Some(n) = &s.notes {
        blocks.push(context(&[e(n)]));
    }
    if let Some(url) = &s.link {
        blocks.push(section(format!(
            "<{}|{}>",
            e(url).replace('|', "%7C"),
            e(&s.words.open_report)
        )));
    }
    blocks.push(context(&[e(&s.words.in_thread)]));
    json!({
        "text": e(&s.fallback),
        "blocks": blocks,
        "unfurl_links": false,
        "unfurl_media": false,
    })
}

/// A file for the message's thread.
#[derive(Debug, Clone)]
pub struct ThreadFile {
    pub name: String,
    pub title: String,
    /// For screen readers (images only).
    pub alt: Option<String>,
    pub bytes: Vec<u8>,
}

/// A failed Slack call.
#[derive(Debug, Clone, PartialEq)]
pub enum SlackError {
    /// This channel only (not found, app not invited, archived…).
    Channel(String),
    /// Every Slack channel would fail the same way (token, scopes,
    /// Slack unreachable).
    All(String),
}

impl SlackError {
    pub fn message(&self) -> &str {
        match self {
            SlackError::Channel(m) | SlackError::All(m) => m,
        }
    }
}

pub struct Slack<'a> {
    http: Http,
    base: String,
    token: &'a Secret,
}

/// A body for a Web API method.
enum Body<'b> {
    Json(&'b Value),
    Form(&'b [(&'b str, String)]),
}

impl<'a> Slack<'a> {
    /// Fails (for every Slack channel) when the token is not set.
    pub fn new(cfg: &'a SlackConfig) -> Result<Slack<'a>, SlackError> {
        let token = cfg
            .token
            .as_ref()
            .filter(|t| !t.expose().trim().is_empty())
            .ok_or_else(|| {
                SlackError::All(
                    "SALESOPS__SLACK__TOKEN is not set: export the Slack app's bot token (xoxb-…, scopes chat:write and files:write; docs/report.md says how to make one)".into(),
                )
            })?;
        let http = Http::new(cfg.timeout_seconds, cfg.max_attempts).map_err(SlackError::All)?;
        Ok(Slack {
            http,
            base: cfg.api_base_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// Calls a Web API method; `Ok` is the answer of an `ok: true` call.
    async fn call(&self, method: &str, body: Body<'_>, channel: &str) -> Result<Value, SlackError> {
        let url = format!("{}/{method}", self.base);
        let what = format!("Slack {method}");
        let reply = self
            .http
            .send(&what, || {
                let rb = self
                    .http
                    .client()
                    .post(&url)
                    .bearer_auth(self.token.expose());
                match &body {
                    Body::Json(v) => rb.json(v),
                    Body::Form(f) => rb
                        .header("content-type", "application/x-www-form-urlencoded")
                        .body(
                            url::form_urlencoded::Serializer::new(String::new())
                                .extend_pairs(f.iter())
                                .finish(),
                        ),
                }
            })
            .await
            .map_err(|f| match f {
                Fault::Unreachable(m) => SlackError::All(format!(
                    "{m}; check slack.api_base_url and that this machine reaches Slack"
                )),
                Fault::Throttled(m) => SlackError::Channel(m),
            })?;
        let v: Value = serde_json::from_slice(&reply.body).map_err(|_| {
            SlackError::All(format!(
                "{what} answered {} with something that is not Slack's JSON ({}); check slack.api_base_url",
                reply.status,
                snippet(&reply.body)
            ))
        })?;
        if v["ok"].as_bool() == Some(true) {
            return Ok(v);
        }
        let error = v["error"].as_str().unwrap_or("unknown_error");
        Err(explain(method, error, channel, &v))
    }

    /// Posts the message; returns the channel's ID and the message's `ts`.
    pub async fn post(
        &self,
        channel: &str,
        message: &Value,
    ) -> Result<(String, String), SlackError> {
        let mut body = message.clone();
        body["channel"] = json!(channel);
        let v = self
            .call("chat.postMessage", Body::Json(&body), channel)
            .await?;
        match (v["channel"].as_str(), v["ts"].as_str()) {
            (Some(c), Some(ts)) => Ok((c.to_string(), ts.to_string())),
            _ => Err(SlackError::Channel(format!(
                "Slack chat.postMessage to {channel} answered ok without a channel and ts"
            ))),
        }
    }

    /// Uploads `files` and shares them together in the thread of `ts`.
    pub async fn upload(
        &self,
        channel: &str,
        channel_id: &str,
        ts: &str,
        files: &[ThreadFile],
    ) -> Result<(), SlackError> {
        let mut shared = Vec::new();
        for f in files {
            let mut form = vec![
                ("filename", f.name.clone()),
                ("length", f.bytes.len().to_string()),
            ];
            if let Some(alt) = &f.alt {
                form.push(("alt_txt", alt.chars().take(1000).collect()));
            }
            let v = self
                .call("files.getUploadURLExternal", Body::Form(&form), channel)
                .await?;
            let (Some(url), Some(id)) = (v["upload_url"].as_str(), v["file_id"].as_str()) else {
                return Err(SlackError::Channel(
                    "Slack files.getUploadURLExternal answered ok without upload_url and file_id"
                        .into(),
                ));
            };
            let what = format!("uploading {} to Slack", f.name);
            let reply = self
                .http
                .send(&what, || {
                    self.http
                        .client()
                        .post(url)
                        .header("content-type", "application/octet-stream")
                        .body(f.bytes.clone())
                })
                .await
                .map_err(|e| SlackError::Channel(e.to_string()))?;
            if reply.status != 200 {
                return Err(SlackError::Channel(format!(
                    "{what}: answered {} ({})",
                    reply.status,
                    snippet(&reply.body)
                )));
            }
            shared.push(json!({"id": id, "title": f.title}));
        }
        let body = json!({"files": shared, "channel_id": channel_id, "thread_ts": ts});
        self.call("files.completeUploadExternal", Body::Json(&body), channel)
            .await?;
        Ok(())
    }
}

/// What a Slack error means and what to do about it.
fn explain(method: &str, error: &str, channel: &str, v: &Value) -> SlackError {
    use SlackError::{All, Channel};
    match error {
        "channel_not_found" => Channel(format!(
            "Slack has no channel {channel} that the app can see: check reports.slack_channels (a channel ID such as C0123ABCD, or #name); for a private channel, invite the app first (/invite @your-app in the channel)"
        )),
        "not_in_channel" => Channel(format!(
            "the Slack app is not a member of {channel}: invite it (type /invite @your-app in the channel), then run again"
        )),
        "is_archived" => Channel(format!(
            "{channel} is archived: unarchive it or take it out of reports.slack_channels"
        )),
        "restricted_action" | "restricted_action_read_only_channel"
        | "restricted_action_non_threadable_channel" | "ekm_access_denied" => Channel(format!(
            "the workspace does not let the app post in {channel} ({error}): ask a Slack admin to allow it, or use another channel"
        )),
        "invalid_auth" | "not_authed" | "account_inactive" | "token_revoked" | "token_expired" => All(format!(
            "Slack refused the token ({error}): set SALESOPS__SLACK__TOKEN to the app's current bot token (xoxb-…, on the app's OAuth & Permissions page; reinstalling the app issues a new one)"
        )),
        "missing_scope" => All(format!(
            "the Slack token lacks the scope {} for {method} (it has: {}): add chat:write and files:write under OAuth & Permissions, reinstall the app, and update SALESOPS__SLACK__TOKEN",
            v["needed"].as_str().unwrap_or("?"),
            v["provided"].as_str().unwrap_or("?")
        )),
        "file_uploads_disabled" | "file_upload_size_restricted" => Channel(format!(
            "Slack refused the upload ({error}): a workspace admin restricts file uploads; the message was posted without its files"
        )),
        other => Channel(format!("Slack {method} failed for {channel}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_slack_control_characters() {
        assert_eq!(
            escape("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
        assert_eq!(escape("김민지"), "김민지");
    }

    #[test]
    fn errors_say_what_to_do() {
        let v = json!({"ok": false, "error": "missing_scope", "needed": "files:write", "provided": "chat:write"});
        let e = explain("files.getUploadURLExternal", "missing_scope", "#sales", &v);
        assert!(matches!(e, SlackError::All(_)));
        assert!(
            e.message().contains("files:write") && e.message().contains("reinstall"),
            "{e:?}"
        );
        let e = explain("chat.postMessage", "not_in_channel", "#sales", &v);
        assert!(
            matches!(&e, SlackError::Channel(m) if m.contains("/invite")),
            "{e:?}"
        );
    }
}
