//! What the connector tests share: fixtures, a pull with short retry
//! waits, a responder that notes when each request came, the CLI, and the
//! failure scenarios every connector must pass (written once, run per
//! vendor).

use assert_cmd::Command;
use salesops::config::{ConfigOrigin, Settings};
use salesops::source::{pull_tuned, Pulled, Tuning};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

/// A token that must never show up in any output.
pub const TOKEN: &str = "pat-na1-7c1e55a0-SECRET-0b9d-4c4f-9a41-token";

pub fn fixture(vendor: &str, name: &str) -> Vec<u8> {
    let path = super::common::fixtures().join(vendor).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A 200 answer with a recorded page.
pub fn page(vendor: &str, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(fixture(vendor, name), "application/json")
}

/// An error answer with a recorded vendor error body.
pub fn error(status: u16, vendor: &str, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(fixture(vendor, name), "application/json")
}

/// Retry waits of milliseconds instead of seconds.
pub fn fast() -> Tuning {
    Tuning {
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(40),
        max_wait: Duration::from_secs(10),
        page_deadline: Duration::from_secs(60),
    }
}

pub async fn pull(toml: &str) -> anyhow::Result<Pulled> {
    let s = Settings::from_toml(toml)?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    pull_tuned(&s, &ConfigOrigin::Embedded, today, &fast()).await
}

/// Answers with `template` and notes when each request came.
pub struct Stamped {
    pub template: ResponseTemplate,
    pub at: Arc<Mutex<Vec<Instant>>>,
}

impl Respond for Stamped {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.at.lock().unwrap().push(Instant::now());
        self.template.clone()
    }
}

/// One vendor's test CRM: its routes mounted on a server, and what the
/// scenarios need to know about it.
pub struct Crm {
    pub server: MockServer,
    pub kind: &'static str,
    /// The object type the deals are, as errors name it.
    pub deals: &'static str,
    /// Matches the request for the second page of deals.
    pub is_page2: fn(&Request) -> bool,
    pub page2_body: ResponseTemplate,
    pub error_500: ResponseTemplate,
    pub error_401: ResponseTemplate,
    /// A 429 in the vendor's shape, without Retry-After.
    pub throttled: ResponseTemplate,
    /// Deals in all pages.
    pub deal_count: usize,
}

impl Crm {
    /// A CRM whose error answers are its recorded `error-500.json`,
    /// `error-401.json` and, with `throttle_status`, `throttle_file`.
    pub fn recorded(
        server: MockServer,
        kind: &'static str,
        deals: &'static str,
        is_page2: fn(&Request) -> bool,
        page2_file: &str,
        (throttle_status, throttle_file): (u16, &str),
    ) -> Crm {
        Crm {
            server,
            kind,
            deals,
            is_page2,
            page2_body: page(kind, page2_file),
            error_500: error(500, kind, "error-500.json"),
            error_401: error(401, kind, "error-401.json"),
            throttled: error(throttle_status, kind, throttle_file),
            deal_count: 5,
        }
    }

    fn url_key(&self) -> &'static str {
        match self.kind {
            "salesforce" => "instance_url",
            _ => "base_url",
        }
    }

    /// `[source]` for this CRM (the token only when `with_token`).
    pub fn source(&self, with_token: bool) -> String {
        format!(
            "[source]\nkind = \"{}\"\n{} = \"{}\"\nmax_requests_per_second = 1000\nmax_retries = 2\n{}",
            self.kind,
            self.url_key(),
            self.server.uri(),
            if with_token { format!("token = \"{TOKEN}\"\n") } else { String::new() }
        )
    }

    pub fn toml(&self) -> String {
        format!("currency = \"USD\"\n{}", self.source(true))
    }

    pub fn page2(&self) -> MockBuilder {
        Mock::given(self.is_page2)
    }

    pub async fn page2_requests(&self) -> usize {
        let all = self.server.received_requests().await.unwrap();
        all.iter().filter(|r| (self.is_page2)(r)).count()
    }
}

pub fn assert_names_page(err: &str, crm: &Crm, page: u32) {
    let want = format!("{} {}, page {page}", crm.kind, crm.deals);
    assert!(err.contains(&want), "{want:?} not in: {err}");
}

/// Page 2 always answers `answer`: the pull fails, naming the object type
/// and the page; returns the whole message.
pub async fn pull_fails_with(crm: &Crm, answer: ResponseTemplate) -> String {
    crm.page2()
        .respond_with(answer)
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let err = pull(&crm.toml()).await.err().expect("the pull must fail");
    let err = format!("{err:#}");
    assert_names_page(&err, crm, 2);
    err
}

/// (id, name, active) of each rep, in order.
pub fn reps(s: &salesops::snapshot::Snapshot) -> Vec<(&str, &str, bool)> {
    s.reps
        .iter()
        .map(|r| (r.id.as_str(), r.name.as_str(), r.active))
        .collect()
}

/// Every page pulled once, in order, to the end.
pub async fn pulls_every_page(crm: &Crm) -> Pulled {
    let pulled = pull(&crm.toml()).await.unwrap();
    assert_eq!(pulled.snapshot.deals.len(), crm.deal_count);
    assert_eq!(crm.page2_requests().await, 1);
    pulled
}

/// Page 2 is throttled once by `answer`, which asks for a 1 s wait: the
/// client waits that long (measured at the server), asks once more for the
/// same page, and finishes.
pub async fn waits_out(crm: &Crm, answer: ResponseTemplate) {
    let at = Arc::new(Mutex::new(Vec::new()));
    crm.page2()
        .respond_with(Stamped {
            template: answer,
            at: at.clone(),
        })
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&crm.server)
        .await;
    crm.page2()
        .respond_with(Stamped {
            template: crm.page2_body.clone(),
            at: at.clone(),
        })
        .with_priority(2)
        .mount(&crm.server)
        .await;
    let pulled = pull(&crm.toml()).await.unwrap();
    assert_eq!(pulled.snapshot.deals.len(), crm.deal_count);
    assert_eq!(pulled.stats.throttled, 1);
    let at = at.lock().unwrap();
    assert_eq!(at.len(), 2, "page 2 asked for exactly twice");
    let waited = at[1] - at[0];
    assert!(
        waited >= Duration::from_secs(1),
        "asked again after {waited:?}"
    );
}

/// Two 500s on page 2, then the page: retried, and the pull completes.
pub async fn recovers_from_500s(crm: &Crm) {
    crm.page2()
        .respond_with(crm.error_500.clone())
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let pulled = pull(&crm.toml()).await.unwrap();
    assert_eq!(pulled.snapshot.deals.len(), crm.deal_count);
    assert_eq!(crm.page2_requests().await, 3);
    assert_eq!(pulled.stats.retries, 2);
}

/// Page 2 always 500: the pull fails after max_retries, naming the object
/// type, the page and the vendor's message.
pub async fn fails_on_a_500_that_stays(crm: &Crm, vendor_message: &str) {
    let err = pull_fails_with(crm, crm.error_500.clone()).await;
    assert!(err.contains(vendor_message), "{err}");
    assert!(err.contains("500"), "{err}");
    assert_eq!(crm.page2_requests().await, 3, "1 try + max_retries = 2");
}

/// Page 2 is not JSON: the pull fails naming the object type and page.
pub async fn fails_on_a_malformed_page(crm: &Crm) {
    let malformed = ResponseTemplate::new(200).set_body_raw(
        r#"{"results": [{"id": "1",, "properties": }"#,
        "application/json",
    );
    let err = pull_fails_with(crm, malformed).await;
    assert!(err.contains("not the JSON expected"), "{err}");
    assert!(err.contains(r#"{"results": [{"id": "1",,"#), "{err}");
}

/// A config for `salesops run`: this CRM (token from the environment), one
/// report, files only.
pub fn cli_config(crm: &Crm, dir: &Path) -> PathBuf {
    let text = format!(
        "timezone = \"UTC\"\nstate_dir = \"state\"\nout_dir = \"reports\"\n{}max_retries = 1\n\n[[reports]]\nname = \"monthly\"\n",
        crm.source(false).replace("max_retries = 2\n", "")
    );
    let path = dir.join("salesops.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the binary in `dir` (token in the environment) on a blocking
/// thread, while the test's server keeps answering: exit code and
/// stdout + stderr, which must never hold the token.
pub async fn cli(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let (dir, args): (PathBuf, Vec<String>) =
        (dir.into(), args.iter().map(|a| a.to_string()).collect());
    tokio::task::spawn_blocking(move || {
        let out = Command::cargo_bin("salesops")
            .unwrap()
            .current_dir(&dir)
            .env("SALESOPS__SOURCE__TOKEN", TOKEN)
            .args(&args)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
        (out.status.code(), text)
    })
    .await
    .unwrap()
}

/// With `failure` mounted, `salesops run` fails with exit 2 and writes no
/// report; returns what it said.
async fn run_fails_with(crm: &Crm, failure: Mock) -> String {
    failure.with_priority(1).mount(&crm.server).await;
    let dir = tempfile::tempdir().unwrap();
    cli_config(crm, dir.path());
    let args = [
        "run",
        "--config",
        "salesops.toml",
        "--period",
        "2026-06",
        "--as-of",
        "2026-07-01",
    ];
    let (code, text) = cli(dir.path(), &args).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        !dir.path().join("reports").exists(),
        "a report was written: {text}"
    );
    text
}

/// Through the CLI: a 500 that stays → exit 2, nothing written.
pub async fn cli_fails_on_a_500_that_stays(crm: &Crm) {
    let text = run_fails_with(crm, crm.page2().respond_with(crm.error_500.clone())).await;
    assert!(
        text.contains("salesops: error: pulling the CRM data:"),
        "{text}"
    );
    assert_names_page(&text, crm, 2);
}

/// Through the CLI: every request 401 → exit 2, a message about the token
/// and what it needs, never the token, and no request asked again.
pub async fn cli_stops_at_once_on_401(crm: &Crm) {
    let every = Mock::given(wiremock::matchers::any()).respond_with(crm.error_401.clone());
    let text = run_fails_with(crm, every).await;
    assert!(text.contains("401 Unauthorized"), "{text}");
    assert!(
        text.contains("refused the token: check SALESOPS__SOURCE__TOKEN"),
        "{text}"
    );
    // Object types pulled at once may each have asked once, none twice.
    let asked = crm.server.received_requests().await.unwrap();
    let urls: std::collections::HashSet<String> = asked.iter().map(|r| r.url.to_string()).collect();
    assert_eq!(urls.len(), asked.len(), "a refused request was asked again");
}

/// The scenarios every connector must pass, as tests of the calling
/// module (which has `crm()`); `$message` is in its recorded 500 body.
macro_rules! scenarios {
    ($message:expr) => {
        #[tokio::test]
        async fn waits_out_a_429_with_retry_after() {
            let crm = crm().await;
            let answer = crm.throttled.clone().insert_header("retry-after", "1");
            support::waits_out(&crm, answer).await;
        }

        #[tokio::test]
        async fn recovers_from_500s() {
            support::recovers_from_500s(&crm().await).await;
        }

        #[tokio::test]
        async fn fails_on_a_500_that_stays() {
            support::fails_on_a_500_that_stays(&crm().await, $message).await;
        }

        #[tokio::test]
        async fn fails_on_a_malformed_page() {
            support::fails_on_a_malformed_page(&crm().await).await;
        }

        #[tokio::test]
        async fn cli_run_fails_and_writes_nothing_on_a_500_that_stays() {
            support::cli_fails_on_a_500_that_stays(&crm().await).await;
        }

        #[tokio::test]
        async fn cli_run_stops_on_401_without_printing_the_token() {
            support::cli_stops_at_once_on_401(&crm().await).await;
        }
    };
}
