//! Chat deliveries: a report's Slack channels and Teams webhooks each get
//! its summary (`render::Summary`) once per (delivery key, period key,
//! destination), in the same delivery log as email, under the names
//! `slack:<channel>` and `msteams:<name>`. The delivery key is the
//! report's name, or `<report>/teams/<team>` for a team's report.
//!
//! The rules are email's (docs/report.md, "Exactly once"): what the log
//! has is skipped (`--force` sends again), each success is recorded at
//! once, one destination's failure does not stop the others, a dry run
//! sends and records nothing. A Slack delivery is recorded as soon as its
//! message is posted, marked "files pending" until its thread has the
//! charts and report.html; a run that finds it pending adds the files to
//! the same thread instead of posting the message again.

pub mod http;
pub mod msteams;
pub mod slack;

use super::DeliveryOutcome;
use crate::config::{MsteamsConfig, SlackConfig};
use crate::redact::url_host as redact_url;
use crate::render::Rendered;
use crate::state::{Delivery, Store};
use anyhow::{Context, Result};
use slack::{Slack, SlackError, ThreadFile};
use std::collections::HashMap;

/// Marks a Slack delivery whose thread does not have its files yet.
const FILES_PENDING: &str = " files-pending";

/// One report run's chat destinations.
pub struct ChatJob<'a> {
    /// The delivery key: the report's name, or `<report>/teams/<team>`.
    pub report: &'a str,
    pub period_key: &'a str,
    pub rendered: &'a Rendered,
    pub slack_channels: &'a [String],
    pub msteams: &'a [String],
    pub force: bool,
    pub dry_run: bool,
}

/// The delivery-log name of a Slack channel.
pub fn slack_dest(channel: &str) -> String {
    format!("slack:{channel}")
}

/// The delivery-log name of a Teams webhook.
pub fn msteams_dest(name: &str) -> String {
    format!("msteams:{}", name.to_ascii_lowercase())
}

/// What a pending Slack destination still needs.
enum Todo {
    /// Post the message, then the files.
    Post,
    /// The message is in (channel ID, ts); only the files are missing.
    Files(String, String),
}

fn dedup(list: &[String], key: impl Fn(&str) -> String) -> Vec<String> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for x in list {
        let k = key(x);
        if !seen.contains(&k) {
            seen.push(k);
            out.push(x.clone());
        }
    }
    out
}

/// The files for a Slack thread: the charts, then report.html.
fn thread_files(r: &Rendered) -> Vec<ThreadFile> {
    let mut files: Vec<ThreadFile> = r
        .charts
        .iter()
        .map(|c| {
            let name = format!("{}.png", c.name);
            ThreadFile {
                alt: r
                    .summary
                    .charts
                    .iter()
                    .find(|l| l.name == c.name)
                    .map(|l| l.alt.clone()),
                title: name.clone(),
                name,
                bytes: c.png.clone(),
            }
        })
        .collect();
    files.push(ThreadFile {
        name: "report.html".into(),
        title: "report.html".into(),
        alt: None,
        bytes: r.html_file.clone().into_bytes(),
    });
    files
}

/// Sends the report's summary to every chat destination that has not had
/// it yet. Per-destination failures land in the outcome; an `Err` means
/// the delivery log could not be read or written.
pub async fn deliver(
    slack_cfg: &SlackConfig,
    teams_cfg: &MsteamsConfig,
    job: &ChatJob<'_>,
    mut store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let mut out = DeliveryOutcome::default();
    let channels = dedup(job.slack_channels, slack_dest);
    let hooks = dedup(job.msteams, msteams_dest);
    if channels.is_empty() && hooks.is_empty() {
        return Ok(out);
    }
    let done: HashMap<String, String> = match (job.force, store.as_deref_mut()) {
        (false, Some(st)) => st
            .delivered(job.report, job.period_key)
            .context("reading the delivery log")?
            .into_iter()
            .collect(),
        _ => HashMap::new(),
    };

    let mut slack_todo = Vec::new();
    for c in channels {
        let dest = slack_dest(&c);
        match done.get(&dest) {
            Some(id) if !id.ends_with(FILES_PENDING) => out.already.push(dest),
            Some(id) => {
                let (cid, ts) = id
                    .trim_end_matches(FILES_PENDING)
                    .split_once('/')
                    .unwrap_or_default();
                slack_todo.push((c, Todo::Files(cid.to_string(), ts.to_string())));
            }
            None => slack_todo.push((c, Todo::Post)),
        }
    }
    let mut teams_todo = Vec::new();
    for h in hooks {
        let dest = msteams_dest(&h);
        if done.contains_key(&dest) {
            out.already.push(dest);
        } else {
            teams_todo.push(h);
        }
    }
    if job.dry_run {
        out.would_send
            .extend(slack_todo.iter().map(|(c, _)| slack_dest(c)));
        out.would_send
            .extend(teams_todo.iter().map(|h| msteams_dest(h)));
        return Ok(out);
    }

    let mut record = |dest: &str, message_id: &str| -> Result<()> {
        if let Some(st) = store.as_deref_mut() {
            st.record_delivery(&Delivery {
                report: job.report.to_string(),
                period: job.period_key.to_string(),
                recipient: dest.to_string(),
                message_id: message_id.to_string(),
                sent_at: chrono::Utc::now().to_rfc3339(),
            })
            .with_context(|| {
                format!("delivered to {dest} but could not record it in the delivery log; the next run may send to {dest} again")
            })?;
        }
        Ok(())
    };

    if !slack_todo.is_empty() {
        let summary = &job.rendered.summary;
        let message = slack::message(summary);
        let files = thread_files(job.rendered);
        match Slack::new(slack_cfg) {
            Err(e) => {
                for (c, _) in &slack_todo {
                    out.failed.push((slack_dest(c), e.message().to_string()));
                }
            }
            Ok(api) => {
                for (i, (c, todo)) in slack_todo.iter().enumerate() {
                    let dest = slack_dest(c);
                    let (cid, ts) = match todo {
                        Todo::Files(cid, ts) => (cid.clone(), ts.clone()),
                        Todo::Post => match api.post(c, &message).await {
                            Ok((cid, ts)) => {
                                record(&dest, &format!("{cid}/{ts}{FILES_PENDING}"))?;
                                tracing::info!(report = job.report, destination = %dest, ts = %ts, "report posted to Slack");
                                (cid, ts)
                            }
                            Err(e) => {
                                if fail_slack(&mut out, &slack_todo, i, job.report, e) {
                                    break;
                                }
                                continue;
                            }
                        },
                    };
                    match api.upload(c, &cid, &ts, &files).await {
                        Ok(()) => {
                            record(&dest, &format!("{cid}/{ts}"))?;
                            tracing::info!(report = job.report, destination = %dest, files = files.len(), "files added to the Slack thread");
                            out.sent.push(dest);
                        }
                        Err(e) => {
                            let e = match e {
                                SlackError::Channel(m) => SlackError::Channel(format!(
                                    "the message is posted, but its files are not in the thread: {m}; the next run adds them to the same thread"
                                )),
                                all => all,
                            };
                            if fail_slack(&mut out, &slack_todo, i, job.report, e) {
                                break;
                            }
                        }
                    }
                }
            }
        }
    }

    if !teams_todo.is_empty() {
        let payload = msteams::envelope(msteams::card(&job.rendered.summary));
        for h in &teams_todo {
            let dest = msteams_dest(h);
            match msteams::post(teams_cfg, h, &payload).await {
                Ok(()) => {
                    record(&dest, "accepted")?;
                    tracing::info!(report = job.report, destination = %dest, "report posted to Teams");
                    out.sent.push(dest);
                }
                Err(why) => {
                    tracing::error!(report = job.report, destination = %dest, error_code = crate::error_code::ErrorCode::DeliveryRefused.as_str(), "{why}");
                    out.failed.push((dest, why));
                }
            }
        }
    }
    Ok(out)
}

/// Records a Slack failure; one that every channel would share also fails
/// the channels after `i` ("not attempted"). True when the loop must stop.
fn fail_slack(
    out: &mut DeliveryOutcome,
    todo: &[(String, Todo)],
    i: usize,
    report: &str,
    e: SlackError,
) -> bool {
    let dest = slack_dest(&todo[i].0);
    match e {
        SlackError::Channel(why) => {
            tracing::error!(report, destination = %dest, error_code = crate::error_code::ErrorCode::DeliveryRefused.as_str(), "{why}");
            out.failed.push((dest, why));
            false
        }
        SlackError::All(why) => {
            tracing::error!(report, destination = %dest, error_code = crate::error_code::ErrorCode::DeliveryUnreachable.as_str(), "{why}");
            out.failed.push((dest, why.clone()));
            for (c, _) in &todo[i + 1..] {
                out.failed
                    .push((slack_dest(c), format!("not attempted: {why}")));
            }
            true
        }
    }
}

/// `salesops send-test --slack CHANNEL`: posts a short message and puts a
/// small file in its thread (so both scopes are checked); returns where.
pub async fn send_test_slack(cfg: &SlackConfig, channel: &str) -> Result<String> {
    let api = Slack::new(cfg).map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let msg = serde_json::json!({
        "text": "salesops test message: posting here works. Reports will arrive like this, with their charts in the thread.",
    });
    let (cid, ts) = api
        .post(channel, &msg)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    let file = ThreadFile {
        name: "salesops-test.txt".into(),
        title: "salesops-test.txt".into(),
        alt: None,
        bytes: b"salesops can upload files to this channel's threads.\n".to_vec(),
    };
    api.upload(channel, &cid, &ts, &[file]).await.map_err(|e| {
        anyhow::anyhow!(
            "the message is posted, but the test file is not: {}",
            e.message()
        )
    })?;
    Ok(format!(
        "{channel} (channel {cid}, message {ts}) via {}",
        redact_url(&cfg.api_base_url)
    ))
}

/// `salesops send-test --msteams NAME`: posts a small card; returns where.
pub async fn send_test_msteams(cfg: &MsteamsConfig, name: &str) -> Result<String> {
    let card = serde_json::json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": msteams::CARD_VERSION,
        "body": [{"type": "TextBlock", "wrap": true,
                  "text": "salesops test message: posting here works. Reports will arrive like this."}],
    });
    msteams::post(cfg, name, &msteams::envelope(card))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let shown = cfg
        .webhook(name)
        .map(|u| redact_url(u.expose()))
        .unwrap_or_default();
    Ok(format!("Teams webhook {name} ({shown})"))
}
