//! What must never be shown, decided in one place: every `config::Secret`
//! (and the password and query values of a snapshot URL) is registered here
//! when it is read, and `redact` cuts it out of any text, in every encoding
//! a library might print it in (plain, base64 at any alignment — so an SMTP
//! `AUTH PLAIN` line too —, URL-encoded, JSON-escaped). `url` prints a URL
//! with its userinfo and query values hidden, and `controls` escapes the
//! control characters of text that came from outside (a CRM, an SMTP
//! server, a snapshot) before it reaches a terminal or a log.
//!
//! Every exit goes through here: the log writer (`main`), the error line
//! `main` prints, the run log and the delivery outcome.

use base64::Engine;
use std::borrow::Cow;
use std::sync::RwLock;

/// What replaces a secret.
pub const MASK: &str = "[redacted]";

/// Shorter secrets are not searched for: they would mask ordinary words.
const MIN_LEN: usize = 4;

static NEEDLES: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers `secret`: from now on `redact` removes it, in every encoding.
pub fn register(secret: &str) {
    if secret.trim().len() < MIN_LEN {
        return;
    }
    let mut add = encodings(secret);
    let mut all = NEEDLES.write().unwrap_or_else(|e| e.into_inner());
    add.retain(|n| n.len() >= MIN_LEN && !all.contains(n));
    all.extend(add);
    // Longest first, so a longer encoding is cut whole before a part of it.
    all.sort_by_key(|n| std::cmp::Reverse(n.len()));
}

/// The forms `secret` can take in text a library prints.
fn encodings(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let mut out = vec![secret.to_string()];
    // Base64 of anything that contains the secret (an AUTH PLAIN blob
    // "\0user\0password", an XOAUTH2 string) holds the encoding of the
    // secret's bytes from one of three offsets, cut to whole groups.
    for engine in [
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for skip in 0..3.min(b.len()) {
            let rest = &b[skip..];
            let whole = rest.len() / 3 * 3;
            if whole >= 3 {
                out.push(engine.encode(&rest[..whole]));
            }
        }
    }
    let pct: String = url::form_urlencoded::byte_serialize(b).collect();
    out.push(pct.replace('+', "%20"));
    out.push(pct);
    let json = serde_json::to_string(secret).unwrap_or_default();
    out.push(json.trim_matches('"').to_string());
    out.push(format!("{secret:?}").trim_matches('"').to_string());
    out.dedup();
    out
}

/// `text` with every registered secret replaced by `[redacted]`.
pub fn redact(text: &str) -> Cow<'_, str> {
    let needles = NEEDLES.read().unwrap_or_else(|e| e.into_inner());
    let mut out = Cow::Borrowed(text);
    for n in needles.iter() {
        if out.contains(n.as_str()) {
            out = Cow::Owned(out.replace(n.as_str(), MASK));
        }
    }
    out
}

/// Text from outside, made safe to print: control characters escaped
/// (`\u{1b}`), secrets redacted. `keep_newlines` keeps line breaks (an
/// error of ours that lists problems on several lines).
pub fn clean(text: &str, keep_newlines: bool) -> String {
    let redacted = redact(text);
    controls(&redacted, keep_newlines).into_owned()
}

/// Escapes control characters (C0, DEL, C1, and the bidirectional
/// overrides that reorder what a terminal shows); tabs stay, and newlines
/// when `keep_newlines`.
pub fn controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && c != '\t' && !(keep_newlines && c == '\n'))
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if bad(c) {
                    c.escape_unicode().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

/// A URL whose path is itself the secret (a Teams workflow webhook), as it
/// may be printed: scheme and host only (`https://host/…`).
pub fn url_host(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => match u.host_str() {
            Some(h) => format!("{}://{h}/…", u.scheme()),
            None => "[a URL]".into(),
        },
        Err(_) => "[not a URL]".into(),
    }
}

/// A URL as it may be printed: userinfo and every query value hidden
/// (`https://***@host/x.json?sig=***`). Text that is not a URL is returned
/// as it is.
pub fn url(text: &str) -> String {
    let Ok(mut u) = url::Url::parse(text) else {
        return text.to_string();
    };
    if !u.username().is_empty() || u.password().is_some() {
        let _ = u.set_username("***");
        let _ = u.set_password(None);
    }
    if u.query().is_some() {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                (
                    k.into_owned(),
                    if v.is_empty() {
                        v.into_owned()
                    } else {
                        "***".into()
                    },
                )
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.set_fragment(None);
    u.to_string().replace("%2A%2A%2A", "***")
}

/// Registers the credentials a URL carries (its password and query
/// values), so that no library that prints the URL can show them.
pub fn register_url(text: &str) {
    let Ok(u) = url::Url::parse(text) else { return };
    for part in [u.username(), u.password().unwrap_or_default()] {
        register(part);
        // As written in the URL, and decoded.
        for (_, v) in url::form_urlencoded::parse(format!("p={part}").as_bytes()) {
            register(&v);
        }
    }
    for (_, v) in u.query_pairs() {
        register(&v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_cut_in_every_encoding() {
        register("hunter2-pw");
        let plain =
            base64::engine::general_purpose::STANDARD.encode("\0ops@example.com\0hunter2-pw");
        let login = base64::engine::general_purpose::STANDARD.encode("hunter2-pw");
        for text in [
            "password hunter2-pw".to_string(),
            format!("Wrote: AUTH PLAIN {plain}"),
            format!("<< 334 {login}"),
            "url?p=hunter2%2Dpw".replace("%2D", "-"),
        ] {
            let r = redact(&text);
            assert!(!r.contains("hunter2"), "{r}");
            assert!(!r.contains(&plain) && !r.contains(&login), "{r}");
        }
    }

    #[test]
    fn urls_lose_userinfo_and_query_values() {
        assert_eq!(
            url("https://user:pass@host.example/x.json?sig=abc&X-Amz-Signature=def"),
            "https://***@host.example/x.json?sig=***&X-Amz-Signature=***"
        );
        assert_eq!(url("crm.json"), "crm.json");
        assert_eq!(url("https://h.example/a"), "https://h.example/a");
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(controls("a\u{1b}[31mb\u{7}", false), "a\\u{1b}[31mb\\u{7}");
        assert_eq!(controls("a\nb", true), "a\nb");
        assert_eq!(controls("a\nb", false), "a\\u{a}b");
        assert_eq!(controls("plain", false), "plain");
    }
}
