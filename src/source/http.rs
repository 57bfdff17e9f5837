//! The one HTTP client of the connectors: connect and total timeouts, gzip,
//! a rate limiter shared by every object type pulled at once, and the GET
//! retry loop — 429 (and 503 with Retry-After): wait as the vendor says,
//! pausing every request, then ask for the same page again; 5xx, timeouts
//! and lost connections: exponential backoff with jitter, bounded in tries
//! and in time; 401/403: stop at once and say to check the token.
//!
//! The token travels only in a request header marked sensitive, and every
//! message that leaves this module has it cut out: it never reaches a log,
//! an error or a report.

use crate::config::{Secret, SourceConfig};
use anyhow::{anyhow, bail, Context, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;
use url::Url;

/// What differs between vendors in reading answers.
pub struct Vendor {
    pub name: &'static str,
    /// What the token needs, for the message on 401/403.
    pub token_help: &'static str,
    /// The vendor's own message in an error body.
    pub message: fn(&[u8]) -> Option<String>,
    /// A vendor-specific reading of a refused request (throttling, used-up
    /// quotas); `None` leaves it to the generic rules.
    pub refusal: fn(StatusCode, &HeaderMap, &[u8]) -> Option<Refusal>,
    /// After a success: how long every request should pause because the
    /// vendor's rate-limit headers say the window is used up.
    pub pace: fn(&HeaderMap) -> Option<Duration>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Rate limited: wait this long (`None`: as Retry-After or the backoff
    /// says), then ask for the same page again.
    Throttled(Option<Duration>),
    /// Retrying cannot help (e.g. a daily quota is used up).
    Stop(String),
}

/// Where the token goes.
pub enum Auth {
    Bearer,
    Header(&'static str),
}

/// Retry timing. Not configuration: tests shorten it.
#[doc(hidden)]
#[derive(Debug, Clone)]
pub struct Tuning {
    /// The first backoff wait; it doubles with each failure, with jitter.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The longest wait a rate-limit answer may ask for; a longer one fails
    /// the pull (try later) instead of blocking for hours.
    pub max_wait: Duration,
    /// How long one page may take, retries and waits included.
    pub page_deadline: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            max_wait: Duration::from_secs(300),
            page_deadline: Duration::from_secs(900),
        }
    }
}

/// Where the time of a pull went (for the benchmark and debug logs).
/// `network` and `parse` add up over object types pulled at once.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub requests: u64,
    pub pages: u64,
    pub retries: u64,
    pub throttled: u64,
    /// Waiting for answers (request sent → body received).
    pub network: Duration,
    /// Waiting for the rate limiter (ours, and the vendor's pauses).
    pub limiter: Duration,
    /// Turning page bodies into the vendor's records.
    pub parse: Duration,
    /// Turning vendor records into the checked snapshot.
    pub map: Duration,
    /// The whole pull, start to end.
    pub wall: Duration,
}

pub struct Http {
    client: reqwest::Client,
    vendor: &'static Vendor,
    auth: Auth,
    token: Secret,
    limiter: Limiter,
    max_retries: u32,
    timeout: Duration,
    tuning: Tuning,
    stats: Mutex<Stats>,
}

/// How one attempt ended.
enum Attempt {
    Done(Vec<u8>, HeaderMap),
    /// Worth another try after a backoff.
    Transient(String),
    Throttled(Option<Duration>, String),
    Stop(String),
}

impl Http {
    /// A client for `vendor`; `default_rps` applies when
    /// `max_requests_per_second` is not set.
    pub fn new(
        vendor: &'static Vendor,
        src: &SourceConfig,
        auth: Auth,
        default_rps: f64,
        headers: &[(&'static str, &'static str)],
        tuning: &Tuning,
    ) -> Result<Http> {
        let token = src
            .token
            .clone()
            .filter(|t| !t.expose().trim().is_empty())
            .with_context(|| {
                format!(
                    "{}: no token; set SALESOPS__SOURCE__TOKEN ({})",
                    vendor.name, vendor.token_help
                )
            })?;
        let mut default_headers = HeaderMap::new();
        default_headers.insert("accept", HeaderValue::from_static("application/json"));
        for (k, v) in headers {
            default_headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        let timeout = Duration::from_secs(src.timeout_seconds.max(1));
        let client = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .gzip(true)
            .user_agent(concat!("salesops/", env!("CARGO_PKG_VERSION")))
            .default_headers(default_headers)
            .build()
            .context("building the HTTP client")?;
        let rps = src.max_requests_per_second.unwrap_or(default_rps);
        Ok(Http {
            client,
            vendor,
            auth,
            token: token.clone(),
            limiter: Limiter::new(rps),
            max_retries: src.max_retries,
            timeout,
            tuning: tuning.clone(),
            stats: Mutex::new(Stats::default()),
        })
    }

    pub fn vendor(&self) -> &'static str {
        self.vendor.name
    }

    pub fn stats(&self) -> Stats {
        self.stats.lock().unwrap().clone()
    }

    pub fn add_map_time(&self, d: Duration) {
        self.stats.lock().unwrap().map += d;
    }

    /// GETs one page and reads it as `T`; fails naming the object type, the
    /// page and the vendor's message.
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        object: &str,
        page: u32,
        url: &Url,
    ) -> Result<T> {
        let body = self.fetch(object, page, url).await.map_err(|e| {
            anyhow!(
                "{} {object}, page {page}: {}",
                self.vendor.name,
                self.redact(&format!("{e:#}"))
            )
        })?;
        let started = std::time::Instant::now();
        let parsed = serde_json::from_slice::<T>(&body);
        {
            let mut st = self.stats.lock().unwrap();
            st.parse += started.elapsed();
            st.pages += 1;
        }
        parsed.map_err(|e| {
            anyhow!(
                "{} {object}, page {page}: the answer is not the JSON expected ({e}); it starts with: {}",
                self.vendor.name,
                self.redact(&snippet(&body))
            )
        })
    }

    async fn fetch(&self, object: &str, page: u32, url: &Url) -> Result<Vec<u8>> {
        let started = Instant::now();
        let mut failures = 0u32;
        let mut throttles = 0u32;
        loop {
            let queued = Instant::now();
            self.limiter.acquire().await;
            self.stats.lock().unwrap().limiter += queued.elapsed();
            let (wait, why) = match self.attempt(url).await {
                Attempt::Done(body, headers) => {
                    if let Some(p) = (self.vendor.pace)(&headers) {
                        tracing::debug!(
                            connector = self.vendor.name,
                            "rate-limit window used up; pausing {p:?}"
                        );
                        self.limiter.pause(p.min(self.tuning.max_wait), false);
                    }
                    return Ok(body);
                }
                Attempt::Stop(msg) => bail!("{msg}"),
                Attempt::Throttled(asked, msg) => {
                    throttles += 1;
                    crate::telemetry::crm_throttled(self.vendor.name);
                    self.stats.lock().unwrap().throttled += 1;
                    let wait = asked.unwrap_or_else(|| self.backoff(throttles));
                    if wait > self.tuning.max_wait {
                        bail!(
                            "{msg}; the API asks to wait {} s, longer than salesops waits ({} s): try again later",
                            wait.as_secs(),
                            self.tuning.max_wait.as_secs()
                        );
                    }
                    // The limit is the account's: every request waits.
                    self.limiter.pause(wait, true);
                    (wait, msg)
                }
                Attempt::Transient(msg) => {
                    failures += 1;
                    if failures > self.max_retries {
                        bail!(
                            "failed {failures} time(s) over {:.1} s, giving up; last: {msg}",
                            started.elapsed().as_secs_f64()
                        );
                    }
                    self.stats.lock().unwrap().retries += 1;
                    let wait = self.backoff(failures);
                    tokio::time::sleep(wait).await;
                    (wait, msg)
                }
            };
            if started.elapsed() + wait > self.tuning.page_deadline {
                bail!(
                    "still failing after {:.0} s, giving up; last: {why}",
                    started.elapsed().as_secs_f64()
                );
            }
            tracing::warn!(
                connector = self.vendor.name,
                object,
                page,
                "{} {object}, page {page}: {}; asking again in {:.1} s",
                self.vendor.name,
                self.redact(&why),
                wait.as_secs_f64()
            );
        }
    }

    async fn attempt(&self, url: &Url) -> Attempt {
        let mut req = self.client.get(url.clone());
        req = match self.auth {
            Auth::Bearer => req.bearer_auth(self.token.expose()),
            Auth::Header(name) => match HeaderValue::from_str(self.token.expose()) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    req.header(name, v)
                }
                Err(_) => return Attempt::Stop(
                    "the token has characters a header cannot carry; check SALESOPS__SOURCE__TOKEN"
                        .into(),
                ),
            },
        };
        let sent = Instant::now();
        let result = match req.send().await {
            Ok(resp) => {
                let status = resp.status();
                let headers = resp.headers().clone();
                resp.bytes().await.map(|b| (status, headers, b.to_vec()))
            }
            Err(e) => Err(e),
        };
        {
            let mut st = self.stats.lock().unwrap();
            st.network += sent.elapsed();
            st.requests += 1;
        }
        let status = result.as_ref().ok().map(|(status, _, _)| status.as_u16());
        crate::telemetry::crm_request(self.vendor.name, status);
        match result {
            Err(e) => Attempt::Transient(self.transport_error(&e)),
            Ok((status, headers, body)) => self.classify(status, headers, body, url),
        }
    }

    fn classify(
        &self,
        status: StatusCode,
        headers: HeaderMap,
        body: Vec<u8>,
        url: &Url,
    ) -> Attempt {
        if status.is_success() {
            return Attempt::Done(body, headers);
        }
        // The CRM's own words, on one line, with no control characters.
        let said = (self.vendor.message)(&body).unwrap_or_else(|| snippet(&body));
        let said = crate::redact::controls(&said, false);
        let answer = format!("the API answered {status}: {said}");
        if let Some(r) = (self.vendor.refusal)(status, &headers, &body) {
            return match r {
                Refusal::Stop(why) => Attempt::Stop(format!("{answer}; {why}")),
                Refusal::Throttled(d) => {
                    Attempt::Throttled(retry_after(&headers, SystemTime::now()).or(d), answer)
                }
            };
        }
        match status.as_u16() {
            429 => Attempt::Throttled(retry_after(&headers, SystemTime::now()), answer),
            503 if headers.contains_key(RETRY_AFTER) => {
                Attempt::Throttled(retry_after(&headers, SystemTime::now()), answer)
            }
            401 | 403 => Attempt::Stop(format!(
                "{answer}; the {} API refused the token: check SALESOPS__SOURCE__TOKEN, which must be {}",
                self.vendor.name, self.vendor.token_help
            )),
            404 => Attempt::Stop(format!(
                "{answer} for {}{}: check [source] base_url, instance_url and api_version",
                url.origin().ascii_serialization(),
                url.path()
            )),
            408 | 500..=599 => Attempt::Transient(answer),
            _ => Attempt::Stop(answer),
        }
    }

    fn transport_error(&self, e: &reqwest::Error) -> String {
        if e.is_timeout() {
            format!(
                "no answer within {} s (timeout_seconds)",
                self.timeout.as_secs()
            )
        } else if e.is_connect() {
            let cause = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!("could not connect{cause}")
        } else {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            msg
        }
    }

    /// Exponential backoff with "equal jitter": half the step, plus a random
    /// part of the other half, so clients that failed together spread out.
    fn backoff(&self, n: u32) -> Duration {
        let step = self
            .tuning
            .backoff_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.tuning.backoff_max);
        let half = step / 2;
        half + half.mul_f64(fastrand::f64())
    }

    fn redact(&self, s: &str) -> String {
        let t = self.token.expose();
        if t.len() >= 4 {
            s.replace(t, "[redacted]")
        } else {
            s.to_string()
        }
    }
}

/// The start of a body, on one line, for messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return "(empty body)".into();
    }
    let mut s: String = one_line.chars().take(200).collect();
    if one_line.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// `Retry-After` as seconds or as an HTTP date.
pub fn retry_after(h: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = h.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// A header's value as a number.
pub fn header_number(h: &HeaderMap, name: &str) -> Option<f64> {
    let v: f64 = h.get(name)?.to_str().ok()?.trim().parse().ok()?;
    v.is_finite().then_some(v)
}

/// A header's value as a number of `unit`s.
pub fn header_duration(h: &HeaderMap, name: &str, unit: Duration) -> Option<Duration> {
    header_number(h, name)
        .filter(|v| *v >= 0.0)
        .map(|v| unit.mul_f64(v))
}

/// Spaces requests evenly (at most `rps` a second) across every object
/// type pulled at once, and pauses them all when the vendor says so.
struct Limiter {
    state: Mutex<LimiterState>,
}

struct LimiterState {
    /// `None`: no limit of our own (only the vendor's pauses).
    interval: Option<Duration>,
    slowest: Option<Duration>,
    next: Instant,
    paused_until: Instant,
}

impl Limiter {
    fn new(rps: f64) -> Limiter {
        let interval = (rps.is_finite() && rps > 0.0).then(|| Duration::from_secs_f64(1.0 / rps));
        let now = Instant::now();
        Limiter {
            state: Mutex::new(LimiterState {
                interval,
                slowest: interval.map(|i| i * 4),
                next: now,
                paused_until: now,
            }),
        }
    }

    async fn acquire(&self) {
        loop {
            let slot = {
                let mut st = self.state.lock().unwrap();
                let slot = Instant::now().max(st.next).max(st.paused_until);
                if let Some(i) = st.interval {
                    st.next = slot + i;
                }
                slot
            };
            if slot <= Instant::now() {
                // Not even a timer tick (about 1 ms) when the slot is free.
                return;
            }
            tokio::time::sleep_until(slot).await;
            // A pause may have begun while this request waited for its slot.
            if self.state.lock().unwrap().paused_until <= Instant::now() {
                return;
            }
        }
    }

    /// Holds every request for `d`; after being throttled, also goes a
    /// quarter slower (up to 4 times the configured interval).
    fn pause(&self, d: Duration, throttled: bool) {
        let mut st = self.state.lock().unwrap();
        let until = Instant::now() + d;
        if until > st.paused_until {
            st.paused_until = until;
        }
        if throttled {
            if let (Some(i), Some(max)) = (st.interval, st.slowest) {
                st.interval = Some((i * 5 / 4).min(max));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = httpdate::parse_http_date("Wed, 01 Jul 2026 03:00:00 GMT").unwrap();
        assert_eq!(
            retry_after(&headers(&[("retry-after", "2")]), now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 01 Jul 2026 03:00:07 GMT")]),
                now
            ),
            Some(Duration::from_secs(7))
        );
        // A date in the past means "now".
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Wed, 01 Jul 2026 02:00:00 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn vendor_headers_as_durations() {
        let h = headers(&[
            ("x-ratelimit-reset", "2"),
            ("x-hubspot-ratelimit-interval-milliseconds", "10000"),
        ]);
        assert_eq!(
            header_duration(&h, "x-ratelimit-reset", Duration::from_secs(1)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            header_duration(
                &h,
                "x-hubspot-ratelimit-interval-milliseconds",
                Duration::from_millis(1)
            ),
            Some(Duration::from_secs(10))
        );
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(
            snippet(b"<html>\n  <body>Bad gateway</body>"),
            "<html> <body>Bad gateway</body>"
        );
        assert_eq!(snippet(b""), "(empty body)");
        assert_eq!(snippet(&[b'x'; 500]).chars().count(), 201);
    }

    #[tokio::test]
    async fn every_request_and_throttling_is_counted_for_the_metrics() {
        use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};
        static VENDOR: Vendor = Vendor {
            name: "metrics-test",
            token_help: "",
            message: |_| None,
            refusal: |_, _, _| None,
            pace: |_| None,
        };
        let server = MockServer::start().await;
        let throttled = ResponseTemplate::new(429).insert_header("retry-after", "0");
        Mock::given(any())
            .respond_with(throttled)
            .up_to_n_times(1)
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .with_priority(2)
            .mount(&server)
            .await;
        let src = SourceConfig {
            token: Some(crate::config::Secret::new("t0ken-for-tests")),
            ..SourceConfig::default()
        };
        let http = Http::new(&VENDOR, &src, Auth::Bearer, 100.0, &[], &Tuning::default()).unwrap();
        let url = Url::parse(&server.uri()).unwrap();
        let _: serde_json::Value = http.get_page("deals", 1, &url).await.unwrap();
        let text = crate::telemetry::global().render(false);
        for want in [
            "salesops_crm_requests_total{source=\"metrics-test\",status=\"429\"} 1",
            "salesops_crm_requests_total{source=\"metrics-test\",status=\"200\"} 1",
            "salesops_crm_throttled_total{source=\"metrics-test\"} 1",
        ] {
            assert!(text.contains(want), "{want} not in:\n{text}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_spaces_requests_and_pauses_them_all() {
        let l = Limiter::new(10.0);
        let t0 = Instant::now();
        for _ in 0..3 {
            l.acquire().await;
        }
        assert_eq!(t0.elapsed(), Duration::from_millis(200));
        l.pause(Duration::from_secs(2), true);
        l.acquire().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(2200));
        // Throttled: a quarter slower from now on.
        l.acquire().await;
        assert_eq!(t0.elapsed(), Duration::from_millis(2325));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_waiting_for_its_slot_honours_a_pause_that_began_meanwhile() {
        let l = std::sync::Arc::new(Limiter::new(1.0));
        let t0 = Instant::now();
        l.acquire().await;
        let l2 = l.clone();
        let waiter = tokio::spawn(async move {
            l2.acquire().await;
            Instant::now()
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        l.pause(Duration::from_secs(3), false);
        let at = waiter.await.unwrap();
        assert_eq!(at - t0, Duration::from_millis(3500));
    }
}
