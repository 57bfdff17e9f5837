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

/// The folder under `out_dir` that holds the outbox (no report may take
/// this name).
pub const OUTBOX: &str = "outbox";

/// `<out_dir>/outbox/<report>/<period key>`.
pub fn outbox_dir(out_dir: &Path, report: &str, period_key: &str) -> PathBuf {
    out_dir.join(OUTBOX).join(report).join(period_key)
}

/// The file one recipient's copy is written to: the address with every
/// character but letters, digits and `@.+-` (and a leading `.`) written as
/// `_XX` (its UTF-8 bytes in hex), so that two addresses never share a
/// file and the name reads back as the address (`eml_recipient`).
pub fn eml_path(dir: &Path, rcpt: &Address) -> PathBuf {
    let addr = rcpt.to_string();
    let mut safe = String::with_capacity(addr.len());
    for (i, c) in addr.char_indices() {
        if c.is_ascii_alphanumeric() || ("@.+-".contains(c) && !(i == 0 && c == '.')) {
            safe.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                safe.push_str(&format!("_{b:02X}"));
            }
        }
    }
    dir.join(format!("{safe}.eml"))
}

/// The address an .eml file name stands for (the inverse of `eml_path`,
/// which the tests hold it to).
#[cfg(test)]
pub fn eml_recipient(file_name: &str) -> Option<String> {
    let stem = file_name.strip_suffix(".eml")?;
    let mut bytes = Vec::with_capacity(stem.len());
    let mut it = stem.bytes();
    while let Some(b) = it.next() {
        if b == b'_' {
            let hex = [it.next()?, it.next()?];
            bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_read_back() {
        let dir = Path::new("/o");
        let names: Vec<PathBuf> = ["a/b@x.com", "a_b@x.com", "a_2Fb@x.com", "a.b@x.com"]
            .iter()
            .map(|a| eml_path(dir, &a.parse().unwrap()))
            .collect();
        for (i, n) in names.iter().enumerate() {
            assert!(names[i + 1..].iter().all(|m| m != n), "{names:?}");
        }
        assert_eq!(names[0], Path::new("/o/a_2Fb@x.com.eml"));
        assert_eq!(names[3], Path::new("/o/a.b@x.com.eml"));
        for a in ["a/b@x.com", "a_b@x.com", "a_2Fb@x.com", "a.b@x.com"] {
            let n = eml_path(dir, &a.parse().unwrap());
            let back = eml_recipient(n.file_name().unwrap().to_str().unwrap());
            assert_eq!(back.as_deref(), Some(a));
        }
    }
}
