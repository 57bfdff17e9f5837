//! The email as sent: mixed(alternative(text, related(html, inline PNG
//! charts)), the rep CSV attached), with an explicit Message-ID
//! `<uuid@domain of From>` (lettre adds none, and Gmail rejects mail
//! without one) and a Date. Bcc recipients are never written in a header.

use crate::render::{content_id, Rendered};
use anyhow::{Context, Result};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use std::time::SystemTime;

/// Sender used by `kind = "file"` when `[delivery] from` is not set.
pub const DEFAULT_FROM: &str = "salesops <salesops@localhost>";

/// A message ready to go: its bytes, Message-ID and envelope sender.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: String,
    pub from: Address,
    pub bytes: Vec<u8>,
}

/// Parses an address from the config (already checked by `resolve`).
pub fn mailbox(s: &str, key: &str) -> Result<Mailbox> {
    s.parse::<Mailbox>()
        .with_context(|| format!("{key}: {s:?} is not an email address"))
}

/// `<uuid@domain-of-from>`.
pub fn new_message_id(from: &Mailbox) -> String {
    format!(
        "<{}@{}>",
        uuid::Uuid::new_v4().simple(),
        from.email.domain()
    )
}

fn base(
    from: &Mailbox,
    to: &[Mailbox],
    cc: &[Mailbox],
    subject: &str,
) -> (lettre::message::MessageBuilder, String) {
    let id = new_message_id(from);
    let mut b = Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(Some(id.clone()))
        .date(SystemTime::now())
        .user_agent(format!("salesops {}", env!("CARGO_PKG_VERSION")))
        // RFC 3834: a report is automatic; out-of-office robots should not answer it.
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    for m in to {
        b = b.to(m.clone());
    }
    for m in cc {
        b = b.cc(m.clone());
    }
    (b, id)
}

/// The envelope is set per recipient when sending, so the headers name
/// `to` and `cc` and any address can stand in for the envelope here.
fn finish(
    b: lettre::message::MessageBuilder,
    from: &Mailbox,
    body: MultiPart,
    id: String,
) -> Result<Outgoing> {
    let envelope =
        lettre::address::Envelope::new(Some(from.email.clone()), vec![from.email.clone()])
            .context("building the envelope")?;
    let msg = b
        .envelope(envelope)
        .multipart(body)
        .context("building the email")?;
    Ok(Outgoing {
        message_id: id,
        from: from.email.clone(),
        bytes: msg.formatted(),
    })
}

/// The report email.
pub fn report(r: &Rendered, from: &Mailbox, to: &[Mailbox], cc: &[Mailbox]) -> Result<Outgoing> {
    let png = ContentType::parse("image/png").expect("valid content type");
    let csv = ContentType::parse("text/csv; charset=utf-8").expect("valid content type");
    let mut related = MultiPart::related().singlepart(SinglePart::html(r.html_email.clone()));
    for c in &r.charts {
        related = related.singlepart(
            Attachment::new_inline_with_name(content_id(c), format!("{}.png", c.name))
                .body(c.png.clone(), png.clone()),
        );
    }
    let body = MultiPart::mixed()
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::plain(r.text.clone()))
                .multipart(related),
        )
        .singlepart(Attachment::new(r.csv_name.clone()).body(r.csv.clone(), csv));
    let (b, id) = base(from, to, cc, &r.subject);
    finish(b, from, body, id)
}

/// A short message to check the delivery settings (`salesops send-test`).
pub fn test(from: &Mailbox, to: &Mailbox, settings: &str) -> Result<Outgoing> {
    let text = format!(
        "This is a test message from salesops.\n\nIf you can read it, the delivery settings work:\n{settings}\n"
    );
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:Arial,sans-serif\"><p>This is a test message from salesops.</p><p>If you can read it, the delivery settings work:<br>{}</p></body></html>",
        tera::escape_html(settings)
    );
    let body = MultiPart::alternative_plain_html(text, html);
    let (b, id) = base(from, std::slice::from_ref(to), &[], "salesops test message");
    finish(b, from, body, id)
}
