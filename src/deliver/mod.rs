//! Delivery: writing report files (atomically) and sending reports, each
//! recipient exactly once.
//!
//! The rules (docs/report.md, "Exactly once"):
//! - every recipient gets their own SMTP transaction (one envelope
//!   recipient), so one refused address does not sink the others;
//! - before sending, recipients the delivery log already has for this
//!   report and period key are skipped (`--force` sends again);
//! - each success is recorded at once, before the next recipient;
//! - a dry run sends and records nothing.
//!
//! The period key is the period label for a finished period, and
//! `<label>@<as_of>` for one still running at as_of, so a report on the
//! running month can go out again on a later day but never twice a day.

pub mod chat;
pub(crate) mod file;
pub(crate) mod files;
pub(crate) mod message;
pub(crate) mod smtp;

use crate::config::{DeliveryConfig, DeliveryKind};
use crate::period::Period;
use crate::render::Rendered;
use crate::state::{Delivery, Store};
use anyhow::{Context, Result};
use chrono::NaiveDate;
use lettre::message::Mailbox;
use lettre::Address;
use smtp::SendError;
use std::path::{Path, PathBuf};

/// Who got the report in one run. A run with any `failed` recipient exits
/// 1, and the next run retries only those.
#[derive(Debug, Default, Clone)]
pub struct DeliveryOutcome {
    /// Recipients sent to in this run.
    pub sent: Vec<String>,
    /// Recipients skipped because the delivery log says they already got
    /// this report for this period.
    pub already: Vec<String>,
    /// Recipients that failed, with the reason.
    pub failed: Vec<(String, String)>,
    /// Dry run: recipients a real run would send to now.
    pub would_send: Vec<String>,
    /// Where copies went: the SMTP server, or the outbox folder.
    pub via: Option<String>,
}

/// The delivery-log key of a report run (see the module docs): the same
/// `Period::key` the run log and the claims count by, so that "done",
/// "claimed" and "delivered" always speak of one period.
pub fn period_key(p: &Period, as_of: NaiveDate) -> String {
    p.key(as_of)
}

/// The configured way out: an SMTP server or the .eml outbox.
pub enum Sender {
    Smtp(smtp::Smtp),
    File(PathBuf),
}

impl Sender {
    /// `outbox` is where `kind = "file"` writes; `from` gives the EHLO name.
    pub fn new(cfg: &DeliveryConfig, outbox: &Path, from: &Mailbox) -> Result<Sender> {
        Ok(match cfg.kind {
            DeliveryKind::Smtp => Sender::Smtp(smtp::Smtp::new(cfg, from.email.domain())?),
            DeliveryKind::File => Sender::File(outbox.to_path_buf()),
        })
    }

    pub fn describe(&self) -> String {
        match self {
            Sender::Smtp(s) => format!("smtp {}", s.server()),
            Sender::File(dir) => format!("file {}", dir.display()),
        }
    }

    pub async fn send(&self, msg: &message::Outgoing, rcpt: &Address) -> Result<(), SendError> {
        match self {
            Sender::Smtp(s) => s.send(msg, rcpt).await,
            Sender::File(dir) => file::write(dir, msg, rcpt).map(|_| ()),
        }
    }

    pub async fn close(&self) {
        if let Sender::Smtp(s) = self {
            s.close().await;
        }
    }
}

/// The sender address: `[delivery] from`, or a local placeholder for
/// `kind = "file"`.
pub fn from_mailbox(cfg: &DeliveryConfig) -> Result<Mailbox> {
    message::mailbox(
        cfg.from.as_deref().unwrap_or(message::DEFAULT_FROM),
        "delivery.from",
    )
}

/// One report run to deliver.
pub struct Job<'a> {
    pub report: &'a str,
    pub period_key: &'a str,
    pub rendered: &'a Rendered,
    pub to: &'a [String],
    pub cc: &'a [String],
    pub bcc: &'a [String],
    /// Root of the .eml outbox (`out_dir` or `--out`).
    pub out_dir: &'a Path,
    pub force: bool,
    pub dry_run: bool,
}

fn parse_all(list: &[String], key: &str) -> Result<Vec<Mailbox>> {
    list.iter().map(|a| message::mailbox(a, key)).collect()
}

/// The channel a delivery goes out by, as the metrics label it.
pub fn channel(cfg: &DeliveryConfig) -> &'static str {
    match cfg.kind {
        DeliveryKind::Smtp => "email",
        DeliveryKind::File => "file",
    }
}

/// Sends the rendered report to every recipient who has not had it yet.
/// Per-recipient failures land in the outcome; an `Err` means the
/// delivery log could not be read or written.
pub async fn deliver(
    cfg: &DeliveryConfig,
    job: &Job<'_>,
    store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let out = deliver_pending(cfg, job, store).await?;
    if !job.dry_run {
        // A team's report ("<report>/teams/<team>") counts under its report.
        let report = job.report.split('/').next().unwrap_or(job.report);
        let (sent, already, failed) = (out.sent.len(), out.already.len(), out.failed.len());
        crate::telemetry::deliveries(report, channel(cfg), sent, already, failed);
    }
    Ok(out)
}

async fn deliver_pending(
    cfg: &DeliveryConfig,
    job: &Job<'_>,
    mut store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let to = parse_all(job.to, "reports.to")?;
    let cc = parse_all(job.cc, "reports.cc")?;
    let bcc = parse_all(job.bcc, "reports.bcc")?;
    let mut recipients: Vec<Address> = Vec::new();
    for m in to.iter().chain(&cc).chain(&bcc) {
        if !recipients.iter().any(|r| same(r, &m.email)) {
            recipients.push(m.email.clone());
        }
    }
    let mut out = DeliveryOutcome::default();
    if recipients.is_empty() {
        return Ok(out);
    }
    let done: Vec<String> = match (job.force, store.as_deref_mut()) {
        (false, Some(st)) => st
            .delivered_to(job.report, job.period_key)
            .context("reading the delivery log")?,
        _ => Vec::new(),
    };
    let mut pending = Vec::new();
    for r in recipients {
        let addr = r.to_string();
        if done.iter().any(|d| d.eq_ignore_ascii_case(&addr)) {
            out.already.push(addr);
        } else {
            pending.push(r);
        }
    }
    if job.dry_run {
        out.would_send = pending.iter().map(|r| r.to_string()).collect();
        return Ok(out);
    }
    if pending.is_empty() {
        return Ok(out);
    }

    let outbox = file::outbox_dir(job.out_dir, job.report, job.period_key);
    if cfg.kind == DeliveryKind::File {
        // Half-written copies a killed run left in this report's outbox.
        let report_box = job.out_dir.join(file::OUTBOX).join(job.report);
        for d in std::fs::read_dir(&report_box)
            .into_iter()
            .flatten()
            .flatten()
        {
            files::clean_leftovers(&d.path());
        }
    }
    let fail_all = |out: &mut DeliveryOutcome, pending: &[Address], why: &str| {
        for r in pending {
            out.failed.push((r.to_string(), why.to_string()));
        }
    };
    let (from, sender) = match from_mailbox(cfg).and_then(|f| {
        let s = Sender::new(cfg, &outbox, &f)?;
        Ok((f, s))
    }) {
        Ok(x) => x,
        Err(e) => {
            fail_all(&mut out, &pending, &format!("{e:#}"));
            return Ok(out);
        }
    };
    out.via = Some(sender.describe());
    let msg = message::report(job.rendered, &from, &to, &cc)?;

    for (i, rcpt) in pending.iter().enumerate() {
        match sender.send(&msg, rcpt).await {
            Ok(()) => {
                if let Some(st) = store.as_deref_mut() {
                    st.record_delivery(&Delivery {
                        report: job.report.to_string(),
                        period: job.period_key.to_string(),
                        recipient: rcpt.to_string(),
                        message_id: msg.message_id.clone(),
                        sent_at: chrono::Utc::now().to_rfc3339(),
                    })
                    .with_context(|| {
                        format!(
                            "sent to {rcpt} but could not record it in the delivery log; the next run may send to {rcpt} again"
                        )
                    })?;
                }
                tracing::info!(report = job.report, recipient = %rcpt, message_id = %msg.message_id, "report sent");
                out.sent.push(rcpt.to_string());
            }
            Err(SendError::Unreachable(why)) => {
                tracing::error!(
                    report = job.report,
                    error_code = crate::error_code::ErrorCode::DeliveryUnreachable.as_str(),
                    "{why}"
                );
                fail_all(&mut out, &pending[i..i + 1], &why);
                let rest = format!("not attempted: {why}");
                fail_all(&mut out, &pending[i + 1..], &rest);
                break;
            }
            Err(e) => {
                tracing::error!(report = job.report, recipient = %rcpt, error_code = crate::error_code::ErrorCode::DeliveryRefused.as_str(), "{e}");
                out.failed.push((rcpt.to_string(), e.to_string()));
            }
        }
    }
    sender.close().await;
    Ok(out)
}

fn same(a: &Address, b: &Address) -> bool {
    let (a, b): (&str, &str) = (a.as_ref(), b.as_ref());
    a.eq_ignore_ascii_case(b)
}

/// Sends the small `salesops send-test` message; returns where it went and
/// its Message-ID.
pub async fn send_test(cfg: &DeliveryConfig, to: &str, out_dir: &Path) -> Result<(String, String)> {
    let to = message::mailbox(to, "--to")?;
    let from = from_mailbox(cfg)?;
    let outbox = out_dir.join("outbox").join("send-test");
    let sender = Sender::new(cfg, &outbox, &from)?;
    let via = sender.describe();
    let msg = message::test(&from, &to, &via)?;
    let sent = sender.send(&msg, &to.email).await;
    sender.close().await;
    sent.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((via, msg.message_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_periods_are_keyed_by_day() {
        let p = Period::parse("2026-07", 1).unwrap();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(period_key(&p, d("2026-08-01")), "2026-07");
        assert_eq!(period_key(&p, d("2026-09-03")), "2026-07");
        assert_eq!(period_key(&p, d("2026-07-15")), "2026-07@2026-07-15");
    }
}
