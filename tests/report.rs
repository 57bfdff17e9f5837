//! The report leadership reads and its delivery (issue 3): rendered on the
//! spec's worked example (tests/fixtures/vectors), sent to a real SMTP
//! server on loopback inside this process, parsed back with mail-parser,
//! with the delivery log in a real SQLite file.

mod common;

use common::smtp::{closed_port, TestSmtp};
use mail_parser::{MessageParser, MimeHeaders};
use salesops::app::{self, ReportOutcome, RunOptions};
use salesops::config::{ConfigOrigin, Settings};
use salesops::state::Store;
use std::fs;
use std::path::{Path, PathBuf};

/// A tempdir holding the vectors' CRM files and a config whose
/// `[[reports]]` recipients and `[delivery]` are `reports` and `delivery`.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new(recipients: &str, delivery: &str) -> Fixture {
        Fixture::with_crm(recipients, delivery, |_| {})
    }

    /// Also lets the test edit the CRM data (as JSON) first.
    fn with_crm(
        recipients: &str,
        delivery: &str,
        edit: impl Fn(&mut serde_json::Value),
    ) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let v = common::fixtures().join("vectors");
        for f in ["crm-early.json", "crm-final.json"] {
            let mut crm: serde_json::Value =
                serde_json::from_slice(&fs::read(v.join(f)).unwrap()).unwrap();
            edit(&mut crm);
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
            .replace("to = [\"ceo@example.com\", \"vp@example.com\"]", recipients)
            // The organisation's report alone: team reports have their own tests.
            .replace("fan_out = \"teams\"", "fan_out = \"none\"");
        fs::write(
            dir.path().join("salesops.toml"),
            format!("{cfg}\n{delivery}\n"),
        )
        .unwrap();
        Fixture { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn use_crm(&self, crm: &str) {
        let p = self.path("salesops.toml");
        let text = fs::read_to_string(&p)
            .unwrap()
            .replace("crm-early.json", crm)
            .replace("crm-final.json", crm);
        fs::write(p, text).unwrap();
    }

    async fn run(
        &self,
        period: &str,
        as_of: &str,
        tweak: impl Fn(&mut RunOptions),
    ) -> ReportOutcome {
        let path = self.path("salesops.toml");
        let s = Settings::from_toml(&fs::read_to_string(&path).unwrap()).unwrap();
        let mut opts = RunOptions {
            period: Some(period.into()),
            as_of: Some(salesops::period::parse_date(as_of).unwrap()),
            ..RunOptions::default()
        };
        tweak(&mut opts);
        let mut out = app::run(&s, &ConfigOrigin::File(path), &opts, chrono::Utc::now())
            .await
            .unwrap();
        out.remove(0)
    }

    fn delivered(&self, key: &str) -> Vec<String> {
        let mut v = Store::open(&self.path("state"))
            .unwrap()
            .delivered_to("vectors", key)
            .unwrap();
        v.sort();
        v
    }

    fn read(&self, p: &str) -> String {
        fs::read_to_string(self.path(p)).unwrap()
    }
}

fn smtp_delivery(port: u16, attempts: u32) -> String {
    format!(
        "[delivery]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Sales Ops <ops@reports.example.com>\"\ntimeout_seconds = 10\nmax_attempts = {attempts}\n"
    )
}

const RECIPIENTS: &str = "to = [\"CEO <ceo@example.com>\", \"vp@example.com\"]\ncc = [\"cfo@example.com\"]\nbcc = [\"audit@example.com\"]";

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn addresses(a: Option<&mail_parser::Address>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

/// Every `cid:` the HTML refers to.
fn cids(html: &str) -> Vec<String> {
    html.split("cid:")
        .skip(1)
        .map(|s| s.split(['"', '\'', ' ', '>']).next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn smtp_sends_each_recipient_one_complete_message_and_never_twice() {
    let server = TestSmtp::start();
    let fx = Fixture::new(RECIPIENTS, &smtp_delivery(server.port(), 2));
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert!(out.delivery.failed.is_empty(), "{:?}", out.delivery.failed);
    assert_eq!(
        sorted(out.delivery.sent.clone()),
        [
            "audit@example.com",
            "ceo@example.com",
            "cfo@example.com",
            "vp@example.com"
        ]
    );

    let got = server.received();
    assert_eq!(got.len(), 4, "one transaction per recipient");
    let envelope: Vec<String> = sorted(got.iter().flat_map(|m| m.to.clone()).collect());
    assert_eq!(
        envelope,
        [
            "audit@example.com",
            "ceo@example.com",
            "cfo@example.com",
            "vp@example.com"
        ]
    );
    let ids: std::collections::HashSet<String> = got
        .iter()
        .map(|m| {
            assert_eq!(m.to.len(), 1);
            assert_eq!(m.from, "ops@reports.example.com");
            let msg = MessageParser::default().parse(&m.data).unwrap();
            msg.message_id().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "the same message to everyone");

    let msg = MessageParser::default().parse(&got[0].data).unwrap();
    let id = msg.message_id().unwrap();
    assert!(id.ends_with("@reports.example.com"), "{id}");
    assert!(msg.date().is_some());
    assert_eq!(
        msg.subject().unwrap(),
        "Sales report · 2026-06 · won $193K (94% of quota)"
    );
    assert_eq!(addresses(msg.to()), ["ceo@example.com", "vp@example.com"]);
    assert_eq!(addresses(msg.cc()), ["cfo@example.com"]);
    assert!(
        msg.bcc().is_none(),
        "Bcc must not be written in the headers"
    );
    assert!(!String::from_utf8_lossy(&got[0].data).contains("audit@example.com"));

    // Text and HTML alternatives, the charts inline, the CSV attached.
    let text = msg.body_text(0).unwrap();
    assert!(
        text.contains("Won revenue") && text.contains("$193,024.75"),
        "{text}"
    );
    let html = msg.body_html(0).unwrap();
    assert!(html.contains("$193,024.75"));
    assert!(html.len() < 100_000, "HTML body is {} bytes", html.len());
    assert!(!html.contains("<script") && !html.contains("<svg") && !html.contains("data:"));
    let refs = cids(&html);
    assert_eq!(
        sorted(refs.clone()),
        ["forecast@salesops.report", "quadrant@salesops.report"]
    );
    for cid in &refs {
        let part = msg
            .attachments()
            .find(|p| p.content_id() == Some(cid.as_str()))
            .unwrap_or_else(|| panic!("no part for cid:{cid}"));
        assert_eq!(part.content_type().unwrap().ctype(), "image");
        assert!(part.contents().starts_with(b"\x89PNG"));
    }
    let csv = msg
        .attachments()
        .find(|p| p.attachment_name() == Some("reps-2026-06.csv"))
        .expect("the CSV attachment");
    assert!(csv.contents().starts_with("\u{feff}id,name,".as_bytes()));
    assert_eq!(
        fs::read(fx.path("reports/vectors/2026-06/reps-2026-06.csv")).unwrap(),
        csv.contents()
    );

    // The log has everyone; a second run sends nothing.
    assert_eq!(fx.delivered("2026-06").len(), 4);
    let again = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert!(again.delivery.sent.is_empty());
    assert_eq!(again.delivery.already.len(), 4);
    assert_eq!(server.received().len(), 4);
}

#[tokio::test]
async fn a_deferring_server_gets_the_mail_on_retry() {
    let server = TestSmtp::start();
    server.defer_next(1);
    let fx = Fixture::new(
        "to = [\"ceo@example.com\"]",
        &smtp_delivery(server.port(), 3),
    );
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert_eq!(out.delivery.sent, ["ceo@example.com"]);
    assert!(out.delivery.failed.is_empty());
    assert_eq!(server.attempts(), 2, "refused once, then accepted");
    assert_eq!(server.received().len(), 1);
    assert_eq!(fx.delivered("2026-06"), ["ceo@example.com"]);
}

#[tokio::test]
async fn a_refused_recipient_fails_alone_and_only_they_get_it_next_run() {
    let server = TestSmtp::start();
    server.refuse("vp@example.com");
    let fx = Fixture::new(
        "to = [\"ceo@example.com\", \"vp@example.com\"]",
        &smtp_delivery(server.port(), 3),
    );
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert_eq!(out.delivery.sent, ["ceo@example.com"]);
    let (who, why) = &out.delivery.failed[0];
    assert_eq!(who, "vp@example.com");
    assert!(
        why.contains("550") && why.contains("refused vp@example.com"),
        "{why}"
    );
    assert_eq!(server.attempts(), 2, "a permanent error is not retried");
    assert_eq!(fx.delivered("2026-06"), ["ceo@example.com"]);
    assert!(fx.path("reports/vectors/2026-06/report.html").exists());

    server.accept_all();
    let next = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert_eq!(next.delivery.sent, ["vp@example.com"]);
    assert_eq!(next.delivery.already, ["ceo@example.com"]);
    let got = server.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].to, ["vp@example.com"]);
}

#[tokio::test]
async fn force_sends_again_and_a_dry_run_sends_and_records_nothing() {
    let server = TestSmtp::start();
    let fx = Fixture::new(
        "to = [\"ceo@example.com\"]",
        &smtp_delivery(server.port(), 1),
    );
    let dry = fx.run("2026-06", "2026-07-01", |o| o.dry_run = true).await;
    assert_eq!(dry.delivery.would_send, ["ceo@example.com"]);
    assert!(dry.delivery.sent.is_empty());
    assert_eq!(server.attempts(), 0);
    assert!(fx.path("reports/vectors/2026-06/report.html").exists());
    assert!(!fx.path("state").join(salesops::state::FILE_NAME).exists());

    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let forced = fx.run("2026-06", "2026-07-01", |o| o.force = true).await;
    assert_eq!(forced.delivery.sent, ["ceo@example.com"]);
    let got = server.received();
    assert_eq!(got.len(), 2);
    let id = |i: usize| {
        MessageParser::default()
            .parse(&got[i].data)
            .unwrap()
            .message_id()
            .unwrap()
            .to_string()
    };
    assert_ne!(id(0), id(1), "a resend is a new message");
}

#[tokio::test]
async fn file_delivery_writes_an_eml_per_recipient_and_honours_the_log() {
    let fx = Fixture::new(RECIPIENTS, "[delivery]\nkind = \"file\"\n");
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert_eq!(out.delivery.sent.len(), 4);
    let eml = fx.path("reports/outbox/vectors/2026-06/ceo@example.com.eml");
    let bytes = fs::read(&eml).unwrap();
    assert!(bytes.starts_with(b"Delivered-To: ceo@example.com\r\n"));
    let msg = MessageParser::default().parse(&bytes).unwrap();
    assert!(msg.subject().unwrap().starts_with("Sales report · 2026-06"));
    assert!(msg.message_id().unwrap().ends_with("@localhost"));
    assert!(fx
        .path("reports/outbox/vectors/2026-06/audit@example.com.eml")
        .exists());

    let before = fs::metadata(&eml).unwrap().modified().unwrap();
    let again = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert!(again.delivery.sent.is_empty());
    assert_eq!(again.delivery.already.len(), 4);
    assert_eq!(fs::metadata(&eml).unwrap().modified().unwrap(), before);
    // The report folder was republished; the outbox is kept.
    assert!(fx.path("reports/vectors/2026-06/report.json").exists());
}

#[tokio::test]
async fn a_running_period_goes_out_again_on_a_later_day_not_twice_a_day() {
    let fx = Fixture::new(
        "to = [\"ceo@example.com\"]",
        "[delivery]\nkind = \"file\"\n",
    );
    let a = fx.run("2026-06", "2026-06-15", |_| {}).await;
    assert_eq!(a.delivery.sent, ["ceo@example.com"]);
    let same_day = fx.run("2026-06", "2026-06-15", |_| {}).await;
    assert_eq!(same_day.delivery.already, ["ceo@example.com"]);
    let next_day = fx.run("2026-06", "2026-06-16", |_| {}).await;
    assert_eq!(next_day.delivery.sent, ["ceo@example.com"]);
    assert_eq!(fx.delivered("2026-06@2026-06-15"), ["ceo@example.com"]);
    assert_eq!(fx.delivered("2026-06@2026-06-16"), ["ceo@example.com"]);
    assert!(fx
        .read("reports/vectors/2026-06/report.txt")
        .contains("still running"));
}

/// The text report of the worked example, as leadership reads it.
#[tokio::test]
async fn report_txt_of_the_worked_example() {
    let fx = Fixture::new("to = []", "");
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert!(out.delivery.sent.is_empty() && out.delivery.failed.is_empty());
    let text = fx
        .read("reports/vectors/2026-06/report.txt")
        .replace(&fx.dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!(text);
}

#[tokio::test]
async fn files_written_next_to_report_json() {
    let fx = Fixture::new("to = []", "");
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let mut names: Vec<String> = fs::read_dir(fx.path("reports/vectors/2026-06"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "forecast.png",
            "quadrant.png",
            "report.html",
            "report.json",
            "report.txt",
            "reps-2026-06.csv"
        ]
    );
    // report.html opens alone: the charts are embedded, not referenced.
    let html = fx.read("reports/vectors/2026-06/report.html");
    assert!(html.contains("src=\"data:image/png;base64,"));
    assert!(!html.contains("cid:"));
    let csv = fx.read("reports/vectors/2026-06/reps-2026-06.csv");
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 16 + 2, "header, 16 reps, final CRLF");
    // Sorted by attainment; the same figures as report.json (expected-june.json).
    assert_eq!(
        lines[1],
        "rep-102,Park Ji-hoon,junior,39761.59,4698.72,10000.00,3.976159,6,3,0.6666666666666666,6626.93,42.833333333333336,73514.42,27091.68,rising_star,3976.16"
    );
}

#[tokio::test]
async fn crm_values_are_html_escaped() {
    const EVIL: &str = "<script>alert(1)</script>";
    let fx = Fixture::with_crm(
        "to = [\"ceo@example.com\"]",
        "[delivery]\nkind = \"file\"\n",
        |crm| {
            crm["reps"][0]["name"] = EVIL.into();
            for d in crm["deals"].as_array_mut().unwrap() {
                d["name"] = EVIL.into();
            }
        },
    );
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let html = fx.read("reports/vectors/2026-06/report.html");
    let eml = fs::read(fx.path("reports/outbox/vectors/2026-06/ceo@example.com.eml")).unwrap();
    let msg = MessageParser::default().parse(&eml).unwrap();
    let body = msg.body_html(0).unwrap();
    for h in [html.as_str(), &body] {
        assert!(!h.to_lowercase().contains("<script"), "unescaped markup");
        assert!(
            h.contains("&lt;script&gt;alert(1)&lt;"),
            "the name shows as text"
        );
        assert!(h.len() < 100_000 || h.contains("data:image/png"));
    }
    assert!(body.len() < 100_000, "email HTML is {} bytes", body.len());
    // The plain text carries the name as it is.
    assert!(fx.read("reports/vectors/2026-06/report.txt").contains(EVIL));
}

#[tokio::test]
async fn korean_labels_and_won_currency() {
    let fx = Fixture::with_crm("locale = \"ko\"\nto = []", "", |crm| {
        crm["currency"] = "KRW".into();
        crm["reps"][1]["name"] = "이서연".into();
    });
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let text = fx.read("reports/vectors/2026-06/report.txt");
    assert!(
        text.starts_with("영업 보고서 · vectors · 2026-06"),
        "{text}"
    );
    assert!(
        text.contains("수주 매출") && text.contains("₩193,025"),
        "{text}"
    );
    assert!(!text.contains("₩193,024.75"), "KRW has no minor unit");
    assert!(text.contains("이서연"));
    let html = fx.read("reports/vectors/2026-06/report.html");
    assert!(html.contains("lang=\"ko\"") && html.contains("목표 달성률"));
}

/// Three months through one state store: the July report judges the
/// forecasts the June run made, names the most accurate method and shows
/// accuracy over the periods it has records for.
#[tokio::test]
async fn forecast_accuracy_and_its_history() {
    let fx = Fixture::new("to = []", "");
    let first = fx.run("2026-05", "2026-06-01", |_| {}).await;
    // No run stored May's forecasts: they are reconstructed from history.
    let may: serde_json::Value =
        serde_json::from_str(&fx.read("reports/vectors/2026-05/report.json")).unwrap();
    for (m, a) in may["forecast_accuracy"].as_object().unwrap() {
        assert_eq!(a["reconstructed"], true, "{m}");
    }
    assert_eq!(first.figures.forecasts.target.label(), "2026-06");
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    fx.use_crm("crm-final.json");
    let july = fx.run("2026-07", "2026-08-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-07/report.txt");
    let json: serde_json::Value =
        serde_json::from_str(&fx.read("reports/vectors/2026-07/report.json")).unwrap();
    // The best method in the text is the one with the highest accuracy in report.json.
    let best = july
        .figures
        .accuracy
        .iter()
        .filter_map(|(m, a)| a.accuracy.map(|v| (m, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap();
    let acc = json["forecast_accuracy"][best.0.as_str()]["accuracy"]
        .as_f64()
        .unwrap();
    assert_eq!(acc, best.1);
    assert!(
        t.contains("Most accurate: ") && t.contains(&format!("({:.1}%)", acc * 100.0)),
        "{t}"
    );
    assert!(t.contains("-- Accuracy over recent periods --"), "{t}");
    let header = t
        .lines()
        .find(|l| l.starts_with("Method") && l.contains("2026-06"))
        .unwrap();
    assert!(header.contains("2026-07"), "{header}");
}

/// Through the binary: a server that is down gives exit code 1, a clear
/// error naming the server, no delivery record, and the report on disk.
#[test]
fn a_down_server_exits_1_and_records_nothing() {
    let fx = Fixture::new(
        "to = [\"ceo@example.com\", \"vp@example.com\"]",
        &smtp_delivery(closed_port(), 1),
    );
    let out = assert_cmd::Command::cargo_bin("salesops")
        .unwrap()
        .current_dir(fx.dir.path())
        .args([
            "run",
            "--config",
            "salesops.toml",
            "--period",
            "2026-06",
            "--as-of",
            "2026-07-01",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        stderr.contains("salesops: delivery to ceo@example.com failed: could not send to ceo@example.com through 127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Connection refused") || stderr.contains("connection refused"),
        "{stderr}"
    );
    assert!(
        stderr.contains("delivery to vp@example.com failed: not attempted"),
        "{stderr}"
    );
    assert!(fx.delivered("2026-06").is_empty());
    assert!(fx.path("reports/vectors/2026-06/report.html").exists());
    // Nobody got it: the run log says "failed" (not "partial") and why.
    let runs = Store::open(&fx.path("state"))
        .unwrap()
        .history(None, 10)
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].outcome, "failed");
    let error = runs[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("no recipient got the report: ceo@example.com: could not send")
            && error.contains("vp@example.com: not attempted"),
        "{error}"
    );
}

#[test]
fn send_test_reaches_the_server() {
    let server = TestSmtp::start();
    let fx = Fixture::new("to = []", &smtp_delivery(server.port(), 1));
    assert_cmd::Command::cargo_bin("salesops")
        .unwrap()
        .current_dir(fx.dir.path())
        .args([
            "send-test",
            "--config",
            "salesops.toml",
            "--to",
            "me@example.com",
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "sent a test message to me@example.com",
        ));
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["me@example.com"]);
    let msg = MessageParser::default().parse(&got[0].data).unwrap();
    assert_eq!(msg.subject(), Some("salesops test message"));
    assert!(msg.body_text(0).unwrap().contains("127.0.0.1"));
    assert!(!Path::new(&fx.path("state"))
        .join(salesops::state::FILE_NAME)
        .exists());
}

/// A big sales team: the email body stays under Gmail's clipping limit
/// (the rep table is cut, the CSV has everyone).
#[tokio::test]
async fn a_big_team_keeps_the_email_body_under_100_kb() {
    let fx = Fixture::with_crm(
        "to = [\"ceo@example.com\"]",
        "[delivery]\nkind = \"file\"\n",
        |crm| {
            let reps = crm["reps"].as_array_mut().unwrap();
            let model = reps[0].clone();
            for i in 0..300 {
                let mut r = model.clone();
                r["id"] = format!("extra-{i}").into();
                r["name"] = format!("김민지 {i}").into();
                r["email"] = format!("extra{i}@example.com").into();
                reps.push(r);
            }
        },
    );
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let eml = fs::read(fx.path("reports/outbox/vectors/2026-06/ceo@example.com.eml")).unwrap();
    let msg = MessageParser::default().parse(&eml).unwrap();
    let html = msg.body_html(0).unwrap();
    assert!(html.len() < 100_000, "email HTML is {} bytes", html.len());
    assert!(html.contains("266 more reps are in the attached reps-2026-06.csv"));
    let csv = fx.read("reports/vectors/2026-06/reps-2026-06.csv");
    assert_eq!(csv.split("\r\n").count(), 316 + 2);
}

/// Ops can change the layout and the words without rebuilding.
#[tokio::test]
async fn templates_dir_and_subject_override_the_builtins() {
    let fx = Fixture::new(
        "to = [\"ceo@example.com\"]\nsubject = \"{{ title }} {{ period }}: {{ headline.0.value }}\"",
        "[delivery]\nkind = \"file\"\n",
    );
    let tpl = fx.path("tpl");
    fs::create_dir(&tpl).unwrap();
    fs::write(
        tpl.join("report.txt"),
        "{% extends \"__builtin/report.txt\" %}{% block footer %}-- custom footer{% endblock footer %}",
    )
    .unwrap();
    fs::write(
        tpl.join("labels.toml"),
        "[en]\ntitle = \"Monthly revenue review\"\n",
    )
    .unwrap();
    let cfg = fx.path("salesops.toml");
    let text = fs::read_to_string(&cfg).unwrap();
    fs::write(
        &cfg,
        format!("templates_dir = {:?}\n{text}", tpl.display().to_string()),
    )
    .unwrap();

    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    assert!(
        t.starts_with("Monthly revenue review · vectors · 2026-06"),
        "{t}"
    );
    assert!(t.trim_end().ends_with("-- custom footer"), "{t}");
    assert!(t.contains("== Reps =="), "the other blocks stay built in");
    let eml = fs::read(fx.path("reports/outbox/vectors/2026-06/ceo@example.com.eml")).unwrap();
    let msg = MessageParser::default().parse(&eml).unwrap();
    assert_eq!(
        msg.subject(),
        Some("Monthly revenue review 2026-06: $193,024.75")
    );
}

/// The scheduler spawns runs on a multi-threaded runtime: a run, delivery
/// included, must be a `Send` future (checked when this test compiles).
#[test]
fn a_run_can_be_spawned() {
    fn spawnable<T: Send>(_: &T) {}
    let s = Settings::from_toml("").unwrap();
    let (origin, opts) = (ConfigOrigin::Embedded, RunOptions::default());
    let run = app::run(&s, &origin, &opts, chrono::Utc::now());
    spawnable(&run);
}
