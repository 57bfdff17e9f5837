//! Reports in Slack and Microsoft Teams (issue 13), through the real binary
//! against wiremock servers that answer in the vendors' documented shapes:
//! Slack's Web API (`{"ok": …}` bodies, the external upload flow, 429 with
//! `Retry-After`) and a Teams Workflows webhook (202 Accepted, 400 with an
//! `{"error": {…}}` body). The delivery log is a real SQLite file.

mod common;

use assert_cmd::Command;
use predicates::str::contains;
use salesops::render::summary::{
    BestForecast, ChartLine, Figure, GoalLine, RepLine, Summary, Words,
};
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wiremock::matchers::{header, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "xoxb-TEST-TOKEN-4711-abcdef";
const SIG: &str = "SIGSECRET0123456789";
const HOSTILE: &str = "<!channel> 김민지";

/// A tempdir with the vectors' CRM (every rep renamed to a hostile,
/// Hangul name) and a config with `top` first (top-level keys), `extra`
/// inside its `[[reports]]`, and `tables` last.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(top: &str, extra: &str, tables: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let v = common::fixtures().join("vectors");
        for f in ["crm-early.json", "crm-final.json"] {
            let mut crm: Value = serde_json::from_slice(&fs::read(v.join(f)).unwrap()).unwrap();
            for (i, rep) in crm["reps"].as_array_mut().unwrap().iter_mut().enumerate() {
                rep["name"] = json!(format!("{HOSTILE} {i}"));
            }
            fs::write(dir.path().join(f), serde_json::to_vec(&crm).unwrap()).unwrap();
        }
        let abs = |p: &str| dir.path().join(p).display().to_string();
        let cfg = fs::read_to_string(v.join("salesops.toml"))
            .unwrap()
            .replace(
                "state_dir = \"state\"",
                &format!("state_dir = {:?}", abs("state")),
            )
            .replace(
                "out_dir = \"reports\"",
                &format!("out_dir = {:?}", abs("reports")),
            )
            .replace(
                "to = [\"ceo@example.com\", \"vp@example.com\"]",
                "to = [\"ceo@example.com\"]",
            );
        fs::write(
            dir.path().join("salesops.toml"),
            format!("{top}\n{cfg}{extra}\n\n{tables}\n"),
        )
        .unwrap();
        Fixture { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("salesops").unwrap();
        c.current_dir(self.dir.path())
            .env_remove("SALESOPS_CONFIG")
            .env_remove("SALESOPS__SLACK__TOKEN")
            .args(["--log-format", "json", "-v"]);
        c
    }

    /// `salesops run` on June 2026; returns (exit code, stdout, stderr).
    fn run(&self, env: &[(&str, &str)], extra: &[&str]) -> (i32, String, String) {
        let mut c = self.cmd();
        c.args([
            "run",
            "--config",
            "salesops.toml",
            "--period",
            "2026-06",
            "--as-of",
            "2026-07-01",
        ])
        .args(extra);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The delivery log: (recipient, message_id) of the report's rows.
    fn deliveries(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(self.path("state/salesops.sqlite3")).unwrap();
        let mut st = conn
            .prepare("SELECT recipient, message_id FROM deliveries WHERE report = 'vectors' AND period = '2026-06' ORDER BY recipient")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    /// Fails if `secret` is in any file under the fixture (state, reports,
    /// outbox) or in `texts`.
    fn assert_nowhere(&self, secret: &str, texts: &[&str]) {
        for t in texts {
            assert!(!t.contains(secret), "the secret leaked into output:\n{t}");
        }
        fn walk(p: &Path, secret: &[u8]) {
            for e in fs::read_dir(p).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, secret);
                } else {
                    let bytes = fs::read(&p).unwrap();
                    assert!(
                        !bytes.windows(secret.len()).any(|w| w == secret),
                        "the secret leaked into {}",
                        p.display()
                    );
                }
            }
        }
        walk(self.dir.path(), secret.as_bytes());
    }
}

/// Slack's Web API as documented: every method answers HTTP 200 with
/// `{"ok": true, …}` or `{"ok": false, "error": "…"}`.
struct SlackApi {
    uri: String,
    n: Arc<AtomicUsize>,
}

impl Respond for SlackApi {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let n = self.n.fetch_add(1, Ordering::SeqCst) + 1;
        let answer = |v: Value| ResponseTemplate::new(200).set_body_json(v);
        match req.url.path() {
            "/chat.postMessage" => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                let channel = body["channel"].as_str().unwrap_or_default();
                match channel {
                    "#missing" => answer(json!({"ok": false, "error": "channel_not_found"})),
                    "#outsiders" => answer(json!({"ok": false, "error": "not_in_channel"})),
                    c => {
                        let id = if c.starts_with('#') { "C0SALES01" } else { c };
                        let ts = format!("1782864000.{n:06}");
                        answer(json!({
                            "ok": true, "channel": id, "ts": ts,
                            "message": {"type": "message", "text": body["text"], "ts": ts, "bot_id": "B0001"},
                        }))
                    }
                }
            }
            "/files.getUploadURLExternal" => {
                let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
                    .into_owned()
                    .collect();
                assert!(form.iter().any(|(k, _)| k == "filename"), "{form:?}");
                assert!(form.iter().any(|(k, _)| k == "length"), "{form:?}");
                answer(json!({
                    "ok": true,
                    "upload_url": format!("{}/upload/v1/F{n:08}", self.uri),
                    "file_id": format!("F{n:08}"),
                }))
            }
            "/files.completeUploadExternal" => {
                let body: Value = serde_json::from_slice(&req.body).unwrap();
                answer(json!({"ok": true, "files": body["files"]}))
            }
            _ => answer(json!({"ok": false, "error": "unknown_method"})),
        }
    }
}

/// Starts the Slack double; `before` mounts mocks that take precedence.
fn slack_server(rt: &tokio::runtime::Runtime, before: Vec<Mock>) -> MockServer {
    rt.block_on(async {
        let s = MockServer::start().await;
        for m in before {
            m.mount(&s).await;
        }
        Mock::given(method("POST"))
            .and(path_regex(r"^/upload/v1/F\d+$"))
            .respond_with(ResponseTemplate::new(200).set_body_string("OK"))
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(r"^/[A-Za-z.]+$"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(SlackApi {
                uri: s.uri(),
                n: Arc::new(AtomicUsize::new(0)),
            })
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": false, "error": "not_authed"})),
            )
            .mount(&s)
            .await;
        s
    })
}

fn received(rt: &tokio::runtime::Runtime, s: &MockServer, p: &str) -> Vec<Request> {
    rt.block_on(s.received_requests())
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().starts_with(p))
        .collect()
}

fn json_of(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn slack_tables(uri: &str) -> String {
    format!("[slack]\napi_base_url = \"{uri}\"\ntimeout_seconds = 10\nmax_attempts = 2\n")
}

#[test]
fn slack_gets_one_message_per_channel_with_its_files_and_nothing_twice() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = slack_server(&rt, vec![]);
    let fx = Fixture::new(
        "",
        "slack_channels = [\"C0123ABCD\", \"#sales-leadership\"]",
        &slack_tables(&server.uri()),
    );
    let (code, out, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("slack:C0123ABCD") && out.contains("slack:#sales-leadership"),
        "{out}"
    );

    let posts = received(&rt, &server, "/chat.postMessage");
    assert_eq!(posts.len(), 2, "one message per channel");
    for p in &posts {
        assert_eq!(
            p.headers.get("authorization").unwrap().to_str().unwrap(),
            format!("Bearer {TOKEN}")
        );
        let raw = String::from_utf8_lossy(&p.body);
        assert!(!raw.contains("<!channel>"), "an unescaped CRM name: {raw}");
        let body = json_of(p);
        assert_eq!(
            body["text"],
            "Sales report · 2026-06 · won $193K (94% of quota)"
        );
        let blocks = body["blocks"].as_array().unwrap();
        assert_eq!(blocks[0]["type"], "header");
        assert_eq!(blocks[0]["text"]["text"], "Sales report · 2026-06");
        let all = serde_json::to_string(blocks).unwrap();
        assert!(
            all.contains("&lt;!channel&gt; 김민지"),
            "escaped, Hangul intact: {all}"
        );
        assert!(all.contains("$193,024.75"), "{all}");
        assert!(
            all.contains("Won revenue") && all.contains("Win rate"),
            "{all}"
        );
        // The best method's forecast and the goals, from the figures.
        assert!(
            all.contains("by Stage-weighted, the most accurate method"),
            "{all}"
        );
        assert!(
            all.contains("✅ Raise the close rate 5 % this quarter: met"),
            "{all}"
        );
        assert!(blocks.len() <= 50);
    }
    let channels: Vec<Value> = posts
        .iter()
        .map(|p| json_of(p)["channel"].clone())
        .collect();
    assert_eq!(channels, [json!("C0123ABCD"), json!("#sales-leadership")]);

    // Five files per message (the quadrant, forecast, track-record and
    // teams charts, report.html), shared in one completeUploadExternal
    // call in that message's thread.
    let asks = received(&rt, &server, "/files.getUploadURLExternal");
    assert_eq!(asks.len(), 10);
    let uploads = received(&rt, &server, "/upload/v1/");
    assert_eq!(uploads.len(), 10);
    assert!(
        uploads.iter().any(|u| u.body.starts_with(b"\x89PNG")),
        "PNG charts"
    );
    assert!(uploads
        .iter()
        .any(|u| String::from_utf8_lossy(&u.body).contains("<html")));
    for u in &uploads {
        assert!(
            u.headers.get("authorization").is_none(),
            "the upload URL needs no token"
        );
    }
    let completes = received(&rt, &server, "/files.completeUploadExternal");
    assert_eq!(completes.len(), 2);
    let log = fx.deliveries();
    for c in &completes {
        let b = json_of(c);
        let titles: Vec<&str> = b["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["title"].as_str().unwrap())
            .collect();
        assert_eq!(
            titles,
            [
                "quadrant.png",
                "forecast.png",
                "track.png",
                "teams.png",
                "report.html"
            ]
        );
        let key = format!(
            "{}/{}",
            b["channel_id"].as_str().unwrap(),
            b["thread_ts"].as_str().unwrap()
        );
        assert!(
            log.iter().any(|(_, id)| *id == key),
            "thread {key} is the posted message: {log:?}"
        );
    }
    let recipients: Vec<&str> = log.iter().map(|(r, _)| r.as_str()).collect();
    assert_eq!(
        recipients,
        [
            "ceo@example.com",
            "slack:#sales-leadership",
            "slack:C0123ABCD"
        ]
    );

    // A second run sends nothing again.
    let (code, out2, err2) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 0, "{err2}");
    assert!(
        out2.contains("already sent to") && out2.contains("slack:C0123ABCD"),
        "{out2}"
    );
    assert_eq!(
        received(&rt, &server, "/chat.postMessage").len(),
        2,
        "nothing resent"
    );
    assert_eq!(received(&rt, &server, "/upload/v1/").len(), 10);

    // The token appears nowhere: not in output, logs, state or files.
    fx.assert_nowhere(TOKEN, &[&out, &err, &out2, &err2]);

    // --force sends again.
    let (code, _, err3) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &["--force"]);
    assert_eq!(code, 0, "{err3}");
    assert_eq!(received(&rt, &server, "/chat.postMessage").len(), 4);
}

#[test]
fn a_missing_channel_fails_alone_and_a_429_is_waited_out() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let throttle = Mock::given(method("POST"))
        .and(path("/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
        )
        .up_to_n_times(1);
    let server = slack_server(&rt, vec![throttle]);
    let fx = Fixture::new(
        "",
        "slack_channels = [\"#missing\", \"#outsiders\", \"C0123ABCD\"]",
        &slack_tables(&server.uri()),
    );
    let (code, out, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("delivery to slack:#missing failed: Slack has no channel #missing"),
        "{err}"
    );
    assert!(
        err.contains("delivery to slack:#outsiders failed") && err.contains("/invite"),
        "{err}"
    );
    // The 429 was waited out and the same call made again.
    let posts = received(&rt, &server, "/chat.postMessage");
    assert_eq!(
        posts.len(),
        4,
        "429, then #missing, #outsiders and C0123ABCD"
    );
    assert_eq!(json_of(&posts[0])["channel"], json_of(&posts[1])["channel"]);
    // The others got it: the good channel with its files, and the email.
    assert_eq!(
        received(&rt, &server, "/files.completeUploadExternal").len(),
        1
    );
    let recipients: Vec<String> = fx.deliveries().into_iter().map(|(r, _)| r).collect();
    assert_eq!(recipients, ["ceo@example.com", "slack:C0123ABCD"]);
    assert!(fx
        .path("reports/outbox/vectors/2026-06/ceo@example.com.eml")
        .exists());

    // The next run tries only the failed channels.
    let (code, _, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 1, "{err}");
    let channels: Vec<Value> = received(&rt, &server, "/chat.postMessage")[4..]
        .iter()
        .map(|p| json_of(p)["channel"].clone())
        .collect();
    assert_eq!(channels, [json!("#missing"), json!("#outsiders")]);
}

#[test]
fn without_a_token_slack_fails_with_the_fix_and_email_still_goes() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = slack_server(&rt, vec![]);
    let fx = Fixture::new(
        "",
        "slack_channels = [\"C0123ABCD\"]",
        &slack_tables(&server.uri()),
    );
    let (code, _, err) = fx.run(&[], &[]);
    assert_eq!(code, 1);
    assert!(err.contains("SALESOPS__SLACK__TOKEN is not set"), "{err}");
    assert!(received(&rt, &server, "/").is_empty());
    assert!(fx
        .path("reports/outbox/vectors/2026-06/ceo@example.com.eml")
        .exists());
    // A wrong token: Slack says invalid_auth; the message says what to do.
    let (code, _, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", "xoxb-wrong")], &[]);
    assert_eq!(code, 1);
    assert!(
        err.contains("Slack refused the token (not_authed)"),
        "{err}"
    );
}

/// What the Adaptive Card 1.4 schema finds wrong with `card`.
fn card_errors(card: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_slice(
        &fs::read(common::fixtures().join("adaptive-card/schema-1.4.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(card)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn validate_card(card: &Value) {
    assert_eq!(
        card["version"], "1.4",
        "the card declares the schema it keeps to"
    );
    let errors = card_errors(card);
    assert!(
        errors.is_empty(),
        "invalid Adaptive Card 1.4:\n{}\n{card:#}",
        errors.join("\n")
    );
}

#[test]
fn the_schema_check_catches_a_bad_card() {
    let mut card = salesops::deliver::chat::msteams::card(&summary());
    card["body"][0]["size"] = json!("Huge");
    assert!(!card_errors(&card).is_empty(), "an unknown size must fail");
    let mut card = salesops::deliver::chat::msteams::card(&summary());
    card["msteams"] = json!({"width": "Full"});
    assert!(
        !card_errors(&card).is_empty(),
        "a property 1.4 does not have must fail"
    );
}

fn teams_server(rt: &tokio::runtime::Runtime) -> MockServer {
    rt.block_on(async {
        let s = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/workflows/abc123/triggers/manual/paths/invoke"))
            .and(query_param("sig", SIG))
            .respond_with(ResponseTemplate::new(202))
            .mount(&s)
            .await;
        Mock::given(method("POST"))
            .and(path("/workflows/broken/triggers/manual/paths/invoke"))
            .respond_with(ResponseTemplate::new(400).set_body_json(json!({
                "error": {
                    "code": "TriggerInputSchemaMismatch",
                    "message": "The input body for trigger 'manual' of type 'Request' did not match its schema definition."
                }
            })))
            .mount(&s)
            .await;
        s
    })
}

#[test]
fn teams_gets_one_valid_adaptive_card_and_links_point_at_the_report() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = teams_server(&rt);
    let fx = Fixture::new(
        "public_base_url = \"https://reports.example.com/sales\"",
        "msteams = [\"leadership\", \"broken\"]",
        "",
    );
    let hook = format!(
        "{}/workflows/abc123/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}",
        server.uri()
    );
    let broken = format!(
        "{}/workflows/broken/triggers/manual/paths/invoke?sig=OTHER{SIG}",
        server.uri()
    );
    let env = [
        ("SALESOPS__MSTEAMS__WEBHOOKS__LEADERSHIP", hook.as_str()),
        ("SALESOPS__MSTEAMS__WEBHOOKS__BROKEN", broken.as_str()),
    ];
    let (code, out, err) = fx.run(&env, &[]);
    assert_eq!(code, 1, "the broken webhook fails alone:\n{out}\n{err}");
    assert!(
        err.contains("delivery to msteams:broken failed") && err.contains("refused the card (400"),
        "{err}"
    );
    assert!(
        err.contains("When a Teams webhook request is received"),
        "{err}"
    );

    let posts = received(&rt, &server, "/workflows/abc123/");
    assert_eq!(posts.len(), 1);
    let body = json_of(&posts[0]);
    assert_eq!(body["type"], "message");
    assert_eq!(
        body["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    let card = &body["attachments"][0]["content"];
    validate_card(card);
    let text = card.to_string();
    assert!(
        text.contains("Sales report · 2026-06") && text.contains("$193,024.75"),
        "{text}"
    );
    assert!(
        text.contains("김민지") && !text.contains("<!channel>"),
        "{text}"
    );
    let base = "https://reports.example.com/sales/vectors/2026-06/";
    assert_eq!(card["actions"][0]["url"], format!("{base}report.html"));
    assert!(
        text.contains(&format!("{base}quadrant.png")),
        "charts as images: {text}"
    );

    // The email links to the same page.
    let eml = fs::read(fx.path("reports/outbox/vectors/2026-06/ceo@example.com.eml")).unwrap();
    let mail = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let page = format!("{base}report.html");
    assert!(
        mail.body_text(0).unwrap().contains(&page),
        "text part links the page"
    );
    assert!(
        mail.body_html(0)
            .unwrap()
            .contains(&format!("href=\"{page}\"")),
        "HTML part links the page"
    );

    // Once: a second run posts only to the one that failed.
    let (code, out2, err2) = fx.run(&env, &[]);
    assert_eq!(code, 1);
    assert_eq!(received(&rt, &server, "/workflows/abc123/").len(), 1);
    assert_eq!(received(&rt, &server, "/workflows/broken/").len(), 2);
    fx.assert_nowhere(SIG, &[&out, &err, &out2, &err2]);
}

fn summary() -> Summary {
    Summary {
        title: "Sales report · 2026-06".into(),
        subtitle: "vectors · 2026-06 (2026-06-01 – 2026-06-30)".into(),
        as_of: "Books as of the start of 2026-07-01".into(),
        running: None,
        vs_previous: "vs 2026-05".into(),
        fallback: "Sales report · 2026-06 · won $147K".into(),
        headline: vec![Figure {
            label: "Won revenue".into(),
            value: "$193,024.75".into(),
            sub: "12 won, 4 lost".into(),
            change: "▲ 12.5%".into(),
        }],
        best_forecast: Some(BestForecast {
            method: "Stage-weighted".into(),
            target: "2026-07".into(),
            value: "$180,000.00".into(),
            mean_accuracy: "91.2%".into(),
        }),
        goals: vec![
            GoalLine { label: "Win rate +5 pts <b>".into(), met: Some(true) },
            GoalLine { label: "Shorter cycle".into(), met: Some(false) },
            GoalLine { label: "Talk time".into(), met: None },
        ],
        top_reps: vec![RepLine { name: HOSTILE.into(), line: "142.0% of quota · $52,000.00 won".into() }],
        notes: Some("2 data-quality note(s): see the report".into()),
        link: Some("https://reports.example.com/r/2026-06/report.html".into()),
        charts: vec![ChartLine {
            name: "quadrant".into(),
            alt: "Scatter chart".into(),
            url: Some("https://reports.example.com/r/2026-06/quadrant.png".into()),
        }],
        words: Words {
            goals: "Goals".into(),
            top_reps: "Top reps".into(),
            met: "met".into(),
            not_met: "not met".into(),
            unknown: "not judged yet".into(),
            open_report: "Open the full report".into(),
            in_thread: "The charts and the full report are in this thread.".into(),
            best_forecast: "Forecast for {target}: {value} by {method}, the most accurate method ({accuracy} on average)".into(),
        },
    }
}

#[test]
fn forecast_and_goals_show_in_both_formats() {
    use salesops::deliver::chat::{msteams, slack};
    let s = summary();
    let msg = slack::message(&s).to_string();
    assert!(
        msg.contains("Forecast for 2026-07: $180,000.00 by Stage-weighted, the most accurate method (91.2% on average)"),
        "{msg}"
    );
    assert!(msg.contains("✅ Win rate +5 pts &lt;b&gt;: met"), "{msg}");
    assert!(
        msg.contains("❌ Shorter cycle: not met") && msg.contains("⚪ Talk time: not judged yet"),
        "{msg}"
    );
    assert!(
        msg.contains("<https://reports.example.com/r/2026-06/report.html|Open the full report>"),
        "{msg}"
    );
    assert!(!msg.contains("<!channel>"));

    let card = msteams::card(&s);
    validate_card(&card);
    let text = card.to_string();
    assert!(
        text.contains("Forecast for 2026-07: $180,000.00 by Stage-weighted"),
        "{text}"
    );
    assert!(
        text.contains("✅ met") && text.contains("❌ not met"),
        "{text}"
    );
    assert!(
        text.contains("\\\\<!channel\\\\> 김민지"),
        "markdown-escaped: {text}"
    );
}

#[test]
fn send_test_checks_slack_and_teams_settings() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let slack = slack_server(&rt, vec![]);
    let teams = teams_server(&rt);
    let fx = Fixture::new("", "", &slack_tables(&slack.uri()));
    let mut c = fx.cmd();
    c.args([
        "send-test",
        "--config",
        "salesops.toml",
        "--slack",
        "#sales-leadership",
    ])
    .env("SALESOPS__SLACK__TOKEN", TOKEN)
    .assert()
    .success()
    .stdout(contains(
        "posted a test message to #sales-leadership (channel C0SALES01",
    ));
    assert_eq!(
        received(&rt, &slack, "/files.completeUploadExternal").len(),
        1
    );
    let mut c = fx.cmd();
    c.args([
        "send-test",
        "--config",
        "salesops.toml",
        "--slack",
        "#missing",
    ])
    .env("SALESOPS__SLACK__TOKEN", TOKEN)
    .assert()
    .code(1)
    .stderr(contains("Slack has no channel #missing"));

    let hook = format!(
        "{}/workflows/abc123/triggers/manual/paths/invoke?sig={SIG}",
        teams.uri()
    );
    let mut c = fx.cmd();
    let out = c
        .args([
            "send-test",
            "--config",
            "salesops.toml",
            "--msteams",
            "leadership",
        ])
        .env("SALESOPS__MSTEAMS__WEBHOOKS__LEADERSHIP", &hook)
        .assert()
        .success()
        .stdout(contains(
            "posted a test card to Teams webhook leadership (http://127.0.0.1",
        ))
        .get_output()
        .clone();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(SIG));
    validate_card(
        &json_of(&received(&rt, &teams, "/workflows/abc123/")[0])["attachments"][0]["content"],
    );
    let mut c = fx.cmd();
    c.args([
        "send-test",
        "--config",
        "salesops.toml",
        "--msteams",
        "nowhere",
    ])
    .assert()
    .code(1)
    .stderr(contains("SALESOPS__MSTEAMS__WEBHOOKS__NOWHERE is not set"));
}

#[test]
fn files_that_failed_go_into_the_same_thread_next_run() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let refuse = Mock::given(method("POST"))
        .and(path("/files.completeUploadExternal"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "internal_error"})),
        )
        .up_to_n_times(1);
    let server = slack_server(&rt, vec![refuse]);
    let fx = Fixture::new(
        "",
        "slack_channels = [\"C0123ABCD\"]",
        &slack_tables(&server.uri()),
    );
    let (code, _, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the message is posted, but its files are not in the thread"),
        "{err}"
    );
    let log = fx.deliveries();
    assert!(
        log.iter()
            .any(|(r, id)| r == "slack:C0123ABCD" && id.ends_with("files-pending")),
        "{log:?}"
    );

    let (code, _, err) = fx.run(&[("SALESOPS__SLACK__TOKEN", TOKEN)], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        received(&rt, &server, "/chat.postMessage").len(),
        1,
        "the message is not posted twice"
    );
    let completes = received(&rt, &server, "/files.completeUploadExternal");
    assert_eq!(completes.len(), 2);
    let posted = json_of(&received(&rt, &server, "/chat.postMessage")[0]);
    assert_eq!(posted["channel"], "C0123ABCD");
    let (first, second) = (json_of(&completes[0]), json_of(&completes[1]));
    assert_eq!(first["thread_ts"], second["thread_ts"], "the same thread");
    let log = fx.deliveries();
    let id = &log.iter().find(|(r, _)| r == "slack:C0123ABCD").unwrap().1;
    assert_eq!(
        *id,
        format!("C0123ABCD/{}", second["thread_ts"].as_str().unwrap())
    );
}

/// Money (a report.json number) as the report writes it in USD.
fn usd(v: &Value) -> String {
    let d = rust_decimal::Decimal::from_str_exact(&v.to_string()).unwrap();
    salesops::render::format::money("USD", d)
}

/// The delivery log of one delivery key: (recipient, message_id), sorted.
fn log_of(fx: &Fixture, key: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(fx.path("state/salesops.sqlite3")).unwrap();
    let mut st = conn
        .prepare("SELECT recipient FROM deliveries WHERE report = ?1 AND period = '2026-06' ORDER BY recipient")
        .unwrap();
    st.query_map([key], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Issue 13, "Sales teams": with `fan_out = "teams"`, a `[[teams]]`
/// entry's own `slack_channel` and `msteams` get that team's report (a
/// team without a manager too), once per (report, team, period, channel);
/// the report's channels get the organisation's; a team's missing channel
/// fails alone and is tried again next run.
#[test]
fn each_teams_report_goes_to_its_own_channel_once() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let slack = slack_server(&rt, vec![]);
    let teams = teams_server(&rt);
    let fx = Fixture::new(
        "",
        "slack_channels = [\"C0123ABCD\"]",
        &format!(
            "{}\n[[teams]]\nname = \"Inside Sales\"\nslack_channel = \"#inside-sales\"\n",
            slack_tables(&slack.uri())
        ),
    );
    let cfg = fs::read_to_string(fx.path("salesops.toml")).unwrap();
    let cfg = cfg
        .replace(
            "manager = \"growth.lead@example.com\"",
            "manager = \"growth.lead@example.com\"\nslack_channel = \"#missing\"",
        )
        .replace(
            "manager = \"enterprise.lead@example.com\"",
            "manager = \"enterprise.lead@example.com\"\nslack_channel = \"C0SEOUL01\"\nmsteams = \"seoul\"",
        );
    fs::write(fx.path("salesops.toml"), cfg).unwrap();
    let hook = format!(
        "{}/workflows/abc123/triggers/manual/paths/invoke?sig={SIG}",
        teams.uri()
    );
    let env = [
        ("SALESOPS__SLACK__TOKEN", TOKEN),
        ("SALESOPS__MSTEAMS__WEBHOOKS__SEOUL", hook.as_str()),
    ];

    // check names each team's channels and whether their secrets are set.
    let mut check = fx.cmd();
    check.args(["check", "--config", "salesops.toml"]);
    for (k, v) in env {
        check.env(k, v);
    }
    let out = check.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("posts to slack:C0SEOUL01, msteams:seoul")
            && text.contains("Inside Sales: no manager (its report is written, not emailed); members: the reps whose CRM team is \"Inside Sales\" (letter case ignored); posts to slack:#inside-sales")
            && text.contains("  msteams seoul: http://127.0.0.1/…\n")
            && text.contains(", token set"),
        "{text}"
    );

    let (code, out, err) = fx.run(&env, &[]);
    assert_eq!(code, 1, "Gangnam's channel fails alone:\n{out}\n{err}");
    assert!(
        err.contains("delivery to slack:#missing (team Gangnam Growth) failed: Slack has no channel #missing"),
        "{err}"
    );

    // One message per channel: the organisation's to the report's channel,
    // each team's to its own (the teams without a channel post nowhere).
    let posts = received(&rt, &slack, "/chat.postMessage");
    let channels: Vec<Value> = posts
        .iter()
        .map(|p| json_of(p)["channel"].clone())
        .collect();
    assert_eq!(
        channels,
        [
            json!("C0123ABCD"),
            json!("#missing"),
            json!("C0SEOUL01"),
            json!("#inside-sales")
        ]
    );
    let header = |p: &Request| json_of(p)["blocks"][0]["text"]["text"].clone();
    assert_eq!(header(&posts[0]), "Sales report · 2026-06");
    for (post, team) in [(&posts[2], "Seoul Enterprise"), (&posts[3], "Inside Sales")] {
        let h = header(post);
        assert!(h.as_str().unwrap().contains(team), "{h}");
        let won = usd(&serde_json::from_slice::<Value>(
            &fs::read(fx.path(&format!("reports/vectors/teams/{team}/2026-06/report.json")))
                .unwrap(),
        )
        .unwrap()["kpis"]["won_revenue"]);
        let all = json_of(post)["blocks"].to_string();
        assert!(all.contains(&won), "{team}'s won revenue {won}: {all}");
        assert!(
            !all.contains("$193,024.75"),
            "not the organisation's: {all}"
        );
    }
    // Each posted message got its files in its thread.
    assert_eq!(
        received(&rt, &slack, "/files.completeUploadExternal").len(),
        3
    );
    // Seoul Enterprise's card went to its own webhook.
    let cards = received(&rt, &teams, "/workflows/abc123/");
    assert_eq!(cards.len(), 1);
    let card = &json_of(&cards[0])["attachments"][0]["content"];
    validate_card(card);
    assert!(card.to_string().contains("Seoul Enterprise"), "{card}");

    // The delivery log: per (report, team, period, destination).
    assert_eq!(
        log_of(&fx, "vectors"),
        ["ceo@example.com", "slack:C0123ABCD"]
    );
    assert_eq!(
        log_of(&fx, "vectors/teams/Seoul Enterprise"),
        [
            "enterprise.lead@example.com",
            "msteams:seoul",
            "ops@example.com",
            "slack:C0SEOUL01"
        ]
    );
    assert_eq!(
        log_of(&fx, "vectors/teams/Gangnam Growth"),
        ["growth.lead@example.com", "ops@example.com"]
    );
    // No manager: not emailed (not even team_cc), but posted.
    assert_eq!(
        log_of(&fx, "vectors/teams/Inside Sales"),
        ["slack:#inside-sales"]
    );
    assert!(!fx
        .path("reports/outbox/vectors/teams/Inside Sales")
        .exists());

    // The next run tries the failed channel only.
    let (code, out2, err2) = fx.run(&env, &[]);
    assert_eq!(code, 1, "{err2}");
    let posts = received(&rt, &slack, "/chat.postMessage");
    assert_eq!(posts.len(), 5, "nothing posted twice");
    assert_eq!(json_of(&posts[4])["channel"], "#missing");
    assert_eq!(received(&rt, &teams, "/workflows/abc123/").len(), 1);
    assert!(
        out2.contains("already sent to enterprise.lead@example.com, ops@example.com, slack:C0SEOUL01, msteams:seoul"),
        "{out2}"
    );
    fx.assert_nowhere(TOKEN, &[&out, &err, &out2, &err2]);
    fx.assert_nowhere(SIG, &[&out, &err, &out2, &err2, &text]);
}
