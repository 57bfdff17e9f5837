//! The HTTP side of chat deliveries: one request, retried the way Slack and
//! Teams ask. A 429 is waited out as `Retry-After` says (capped, and not
//! counted as an attempt); a 5xx, a timeout or a lost connection is tried
//! again after 1 s, 2 s, 4 s… (at most 30 s) up to `max_attempts`; any
//! other answer goes back to the caller, who reads the vendor's words.
//!
//! Messages never carry a URL (reqwest puts the URL in its errors; a
//! webhook URL is a secret), and bodies are cut to one short line.

use reqwest::header::{HeaderMap, RETRY_AFTER};
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` waited out; a longer one fails the
/// destination for this run (the next run tries again).
const MAX_WAIT: Duration = Duration::from_secs(120);
/// At most this many 429s are waited out for one request.
const MAX_THROTTLES: u32 = 5;

/// Retry timing; tests keep the defaults (the waits are short).
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    attempts: u32,
    timeout: Duration,
    backoff: Duration,
}

/// An answer that was not a 429 or a 5xx.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no usable answer came back.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Every attempt timed out, failed to connect or got a 5xx.
    Unreachable(String),
    /// Throttled for longer than salesops waits.
    Throttled(String),
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Unreachable(m) | Fault::Throttled(m) => f.write_str(m),
        }
    }
}

impl Http {
    pub fn new(timeout_seconds: u64, attempts: u32) -> Result<Http, String> {
        let timeout = Duration::from_secs(timeout_seconds.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .user_agent(concat!("salesops/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {}", e.without_url()))?;
        Ok(Http {
            client,
            attempts: attempts.max(1),
            timeout,
            backoff: Duration::from_secs(1),
        })
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Sends the request `build` makes (called again for each attempt);
    /// `what` names the call in messages ("Slack chat.postMessage").
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Reply, Fault> {
        let mut failures = 0u32;
        let mut throttles = 0u32;
        let mut wait = self.backoff;
        loop {
            let last = match build().send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    let body = match resp.bytes().await {
                        Ok(b) => b.to_vec(),
                        Err(e) => {
                            failures += 1;
                            let why = self.transport(&e);
                            if failures >= self.attempts {
                                return Err(self.gave_up(what, failures, &why));
                            }
                            self.pause(what, &why, &mut wait).await;
                            continue;
                        }
                    };
                    if status == 429 {
                        throttles += 1;
                        let asked = retry_after(&headers, SystemTime::now());
                        let d = asked.unwrap_or(wait);
                        if d > MAX_WAIT || throttles > MAX_THROTTLES {
                            return Err(Fault::Throttled(format!(
                                "{what} is rate limited (429{}); the next run tries again",
                                asked
                                    .map(|a| format!(", asked to wait {} s", a.as_secs()))
                                    .unwrap_or_default()
                            )));
                        }
                        tracing::info!("{what}: rate limited (429), waiting {:?} as asked", d);
                        tokio::time::sleep(d).await;
                        continue;
                    }
                    if (500..=599).contains(&status) {
                        format!("answered {status}: {}", snippet(&body))
                    } else {
                        return Ok(Reply { status, body });
                    }
                }
                Err(e) => self.transport(&e),
            };
            failures += 1;
            if failures >= self.attempts {
                return Err(self.gave_up(what, failures, &last));
            }
            self.pause(what, &last, &mut wait).await;
        }
    }

    async fn pause(&self, what: &str, why: &str, wait: &mut Duration) {
        tracing::info!("{what}: {why}; trying again in {:?}", *wait);
        tokio::time::sleep(*wait).await;
        *wait = (*wait * 2).min(Duration::from_secs(30));
    }

    fn gave_up(&self, what: &str, n: u32, last: &str) -> Fault {
        Fault::Unreachable(format!(
            "{what} failed after {n} attempt(s): {last}; the next run tries again"
        ))
    }

    fn transport(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!(
                "no answer within {} s (timeout_seconds)",
                self.timeout.as_secs()
            )
        } else if e.is_connect() {
            "could not connect".into()
        } else {
            // reqwest's Display names the URL; `without_url` drops it.
            let mut msg = e.to_string();
            if let Some(u) = e.url() {
                msg = msg.replace(u.as_str(), "[url]");
            }
            msg
        }
    }
}

/// `Retry-After` as seconds or as an HTTP date.
fn retry_after(h: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The start of a body on one line, without control characters.
pub fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if one.is_empty() {
        return "(empty body)".into();
    }
    let mut s: String = one.chars().take(200).collect();
    if one.chars().count() > 200 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(
            retry_after(&h, SystemTime::now()),
            Some(Duration::from_secs(3))
        );
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        h.insert(RETRY_AFTER, later.parse().unwrap());
        assert_eq!(retry_after(&h, now), Some(Duration::from_secs(7)));
    }

    #[test]
    fn snippets_are_one_clean_line() {
        assert_eq!(snippet(b"a\n b\x1b[31m"), "a b[31m");
        assert_eq!(snippet(b""), "(empty body)");
    }
}
