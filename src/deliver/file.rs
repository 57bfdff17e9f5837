//! `kind = "file"`: each delivery is written as an .eml file (the message
//! exactly as SMTP would carry it, with a `Delivered-To` line naming the
//! recipient) under `<out_dir>/outbox/<report>/<period key>/`. Nothing
//! leaves the machine; the delivery log is kept exactly as for SMTP.
//!
//! The outbox sits outside the report folder on purpose: a later run
//! republishes the report folder whole, and must not lose what was sent.

use super::message::Outgoing;
use super::smtp::SendError;
use crate::deliver::files::write_atomic;
use lettre::Address;
use std::path::{Path, PathBuf};

/// `<out_dir>/outbox/<report>/<period key>`.
pub fn outbox_dir(out_dir: &Path, report: &str, period_key: &str) -> PathBuf {
    out_dir.join("outbox").join(report).join(period_key)
}

/// The file one recipient's copy is written to.
pub fn eml_path(dir: &Path, rcpt: &Address) -> PathBuf {
    let safe: String = rcpt
        .to_string()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-+".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}.eml"))
}

/// Writes one recipient's copy.
pub fn write(dir: &Path, msg: &Outgoing, rcpt: &Address) -> Result<PathBuf, SendError> {
    let path = eml_path(dir, rcpt);
    let mut bytes = format!("Delivered-To: {rcpt}\r\n").into_bytes();
    bytes.extend_from_slice(&msg.bytes);
    write_atomic(&path, &bytes)
        .map_err(|e| SendError::Unreachable(format!("{e:#}; check out_dir and its permissions")))?;
    Ok(path)
}
