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
        let mut currency = String::from("USD");
        for f in ["crm-early.json", "crm-final.json"] {
            let mut crm: serde_json::Value =
                serde_json::from_slice(&fs::read(v.join(f)).unwrap()).unwrap();
            edit(&mut crm);
            currency = crm["currency"].as_str().unwrap_or("USD").to_string();
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
            .replace("fan_out = \"teams\"", "fan_out = \"none\"")
            // The config names the data's currency (salesops converts nothing).
            .replace("currency = \"USD\"", &format!("currency = {currency:?}"));
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

    fn json(&self, p: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(p)).unwrap()
    }

    /// Edits the config's text.
    fn edit_config(&self, f: impl Fn(&str) -> String) {
        let p = self.path("salesops.toml");
        let text = fs::read_to_string(&p).unwrap();
        fs::write(p, f(&text)).unwrap();
    }
}

/// The config without its `name` tables (`[[goals]]`, `[[teams]]`).
fn without_tables(config: &str, name: &str) -> String {
    let header = format!("[[{name}]]");
    let mut skip = false;
    let mut out = String::new();
    for line in config.lines() {
        if line.starts_with('[') {
            skip = line.trim() == header;
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The forecast methods in the report's order.
const METHODS: [&str; 5] = [
    "stage_weighted",
    "cycle_length",
    "rep_commit",
    "best_case",
    "historical",
];

fn method_name(key: &str) -> &'static str {
    match key {
        "stage_weighted" => "Stage-weighted",
        "cycle_length" => "Sales-cycle model",
        "rep_commit" => "Rep commit",
        "best_case" => "Best case",
        "historical" => "Historical run-rate",
        _ => panic!("{key}"),
    }
}

/// The cells of a progress bar in the HTML: (bgcolor, width) each, and
/// each must have a height attribute (Outlook draws no empty cell without).
fn bar_cells(html: &str) -> Vec<(String, String)> {
    let attr = |cell: &str, name: &str| {
        let at = cell
            .find(&format!(" {name}=\""))
            .map(|i| i + name.len() + 3)?;
        Some(cell[at..at + cell[at..].find('"')?].to_string())
    };
    html.split("<td class=\"bar")
        .skip(1)
        .map(|cell| {
            let cell = &cell[..cell.find('>').unwrap()];
            assert!(attr(cell, "height").is_some(), "{cell}");
            (attr(cell, "bgcolor").unwrap(), attr(cell, "width").unwrap())
        })
        .collect()
}

/// A ratio as the report writes it.
fn pct(v: f64) -> String {
    salesops::render::format::pct(v)
}

/// Money (a report.json number) as the report writes it in USD.
fn usd(v: &serde_json::Value) -> String {
    let d = rust_decimal::Decimal::from_str_exact(&v.to_string()).unwrap();
    salesops::render::format::money("USD", d)
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
        [
            "forecast@salesops.report",
            "quadrant@salesops.report",
            "teams@salesops.report",
            "track@salesops.report"
        ]
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
            "reps-2026-06.csv",
            "teams.png",
            "track.png"
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
        "rep-102,Park Ji-hoon,junior,39761.59,4698.72,10000.00,3.976159,6,3,0.6666666666666666,6626.93,42.833333333333336,73514.42,27091.68,rising_star,3976.16,12900.21,2,10"
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
            crm["reps"][0]["team"] = EVIL.into();
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
    // The plain text carries the name as it is (a rep, a deal to follow
    // up, a team from the CRM).
    let text = fx.read("reports/vectors/2026-06/report.txt");
    assert!(
        text.contains(&format!("{EVIL} · no manager · Reps 1")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\n{EVIL}   ")),
        "a deal to follow up: {text}"
    );
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
    // Every new section in Korean, in the text part and the HTML.
    for h in [
        "== 목표 ==",
        "== 팀 ==",
        "== 매출 구성 ==",
        "-- 예측 적중 이력 --",
        "== 팔로업 관리 ==",
        "-- 지금 팔로업할 거래 --",
    ] {
        assert!(text.contains(h), "{h}");
        let title = h.trim_matches(['=', '-', ' ']);
        assert!(html.contains(&format!(">{title}</h")), "{title}");
    }
    assert!(text.contains("부산 SMB · 관리자 없음 · 인원 3"), "{text}");
    assert!(text.contains("확장 매출 비중 (업셀 + 교차 판매): 32.0%"));
    assert!(text.contains("평균 수주 금액 2026-05 대비 +₩250"), "{text}");
    assert!(text.contains("이 기간 동안 가장 정확한 방법: 단계 가중 예측, 평균 정확도 83.2%."));
    assert!(text.contains("* 재구성: 해당 기간에 저장된 예측이 없어"));
    assert!(
        !text.contains("[m_") && !text.contains("[type_"),
        "a label is missing"
    );
}

/// Three months through one state store (issue 10): the July report's
/// track record shows each method's accuracy and bias per period exactly
/// as report.json has them, marks the forecasts rebuilt from history, and
/// names the best method with its mean accuracy.
#[tokio::test]
async fn the_track_record_as_report_json_has_it() {
    let fx = Fixture::new("to = []", "");
    let first = fx.run("2026-05", "2026-06-01", |_| {}).await;
    // No run stored May's forecasts: they are reconstructed from history.
    let may = fx.json("reports/vectors/2026-05/report.json");
    for (m, a) in may["forecast_accuracy"].as_object().unwrap() {
        assert_eq!(a["reconstructed"], true, "{m}");
    }
    assert_eq!(first.figures.forecasts.target.label(), "2026-06");
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    fx.use_crm("crm-final.json");
    fx.run("2026-07", "2026-08-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-07/report.txt");
    let j = fx.json("reports/vectors/2026-07/report.json");
    let tr = &j["forecast_track_record"];
    let periods: Vec<&str> = tr["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(periods.len(), 7, "track_record_periods = 7");
    assert_eq!(periods[0], "2026-07");
    let section = &t[t.find("-- Forecast track record --").unwrap()..];
    assert!(
        section.contains(
            "Each method's accuracy over the last 7 finished periods, 2026-01 to 2026-07."
        ),
        "{section}"
    );
    let mut marks = Vec::new();
    for (i, p) in periods.iter().enumerate() {
        // The period's row in the accuracy table, then in the bias table.
        let rows: Vec<&str> = section.lines().filter(|l| l.starts_with(p)).collect();
        assert_eq!(rows.len(), 2, "{p}: {section}");
        for (row, key) in rows.iter().zip(["accuracy", "bias"]) {
            let mut rest = *row;
            for m in METHODS {
                let a = &tr["methods"][m][i];
                let mark = match (a["reconstructed"].as_bool(), a["late"].as_bool()) {
                    (Some(true), _) => "*",
                    (_, Some(true)) => "†",
                    _ => "",
                };
                marks.push(mark);
                let v = a[key].as_f64().map(|v| {
                    let s = pct(v);
                    if key == "bias" && v > 0.0 {
                        format!("+{s}")
                    } else {
                        s
                    }
                });
                let cell = format!("{}{mark}", v.unwrap_or_else(|| "n/a".into()));
                let at = rest
                    .find(&cell)
                    .unwrap_or_else(|| panic!("{p} {m} {key}: no {cell} in {row}"));
                rest = &rest[at + cell.len()..];
            }
        }
        if i < 2 {
            // July's forecasts were stored by the June run, June's by the
            // May run, both on the first day of the period.
            assert!(!rows[0].contains(['*', '†']), "{}", rows[0]);
        }
    }
    let best = tr["best_method"].as_str().unwrap();
    let mean = tr["mean_accuracy"][best].as_f64().unwrap();
    assert!(
        section.contains(&format!(
            "Most accurate over these periods: {}, mean accuracy {}.",
            method_name(best),
            pct(mean)
        )),
        "{section}"
    );
    assert!(marks.contains(&"*"));
    assert!(section.contains("* Reconstructed: no forecast was stored for that period"));
    assert!(!section.contains("† Late"), "no forecast was made late");
    // The chart, embedded in report.html.
    let html = fx.read("reports/vectors/2026-07/report.html");
    assert!(
        html.contains(
            "alt=\"Line chart: each forecast method's accuracy over the last 7 periods\""
        ),
        "the track record chart"
    );
    assert!(fx.path("reports/vectors/2026-07/track.png").exists());
}

/// A forecast stored during the period it forecasts is marked late, with
/// the footnote that says what that means.
#[tokio::test]
async fn a_late_forecast_is_marked_and_explained() {
    let fx = Fixture::new("to = []", "");
    fx.run("2026-07", "2026-07-10", |_| {}).await;
    fx.use_crm("crm-final.json");
    fx.run("2026-07", "2026-08-01", |_| {}).await;
    let j = fx.json("reports/vectors/2026-07/report.json");
    assert_eq!(j["forecast_accuracy"]["stage_weighted"]["late"], true);
    let t = fx.read("reports/vectors/2026-07/report.txt");
    let detail = &t[t.find("-- Forecast accuracy for 2026-07 --").unwrap()..];
    let row = detail
        .lines()
        .find(|l| l.starts_with("Stage-weighted"))
        .unwrap();
    assert!(row.starts_with("Stage-weighted†"), "{row}");
    assert!(
        t.contains("† Late: no forecast was stored before the period began; this one was made during the period"),
        "{t}"
    );
    let html = fx.read("reports/vectors/2026-07/report.html");
    assert!(html.contains("† Late: no forecast was stored"));
}

/// Without a forecast stored and without deal history there is no track
/// record, and the report says why in one sentence; a date-range report
/// has none by definition.
#[tokio::test]
async fn no_track_record_is_said_in_one_sentence() {
    let fx = Fixture::with_crm("to = []", "", |crm| {
        for d in crm["deals"].as_array_mut().unwrap() {
            d.as_object_mut().unwrap().remove("history");
        }
    });
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    assert!(out
        .figures
        .track_record
        .methods
        .values()
        .flatten()
        .all(|a| a.forecast.is_none()));
    let t = fx.read("reports/vectors/2026-06/report.txt");
    let section =
        &t[t.find("-- Forecast track record --").unwrap()..t.find("== Follow-up").unwrap()];
    assert_eq!(
        section.trim(),
        "-- Forecast track record --\nThere is no track record yet: no forecast was stored for 2025-12 to 2026-06 and the CRM data has no deal history to rebuild them from; every run stores its forecasts."
    );
    assert!(!t.contains("-- Forecast accuracy for"));
    assert!(!fx.path("reports/vectors/2026-06/track.png").exists());
    let html = fx.read("reports/vectors/2026-06/report.html");
    assert!(html.contains("There is no track record yet"));
    assert!(!html.contains("Line chart"));

    let range = fx.run("2026-06-01..2026-06-30", "2026-07-01", |_| {}).await;
    assert!(range.figures.track_record.periods.is_empty());
    let t = fx.read("reports/vectors/2026-06-01..2026-06-30/report.txt");
    assert!(
        t.contains("-- Forecast track record --\nA date-range report has no track record: forecast accuracy is tracked over months and quarters.\n"),
        "{t}"
    );
}

/// Goals (issue 9) come right after the headline, one per `[[goals]]`
/// in config order, with what report.json says: baseline → target,
/// actual, met, and a progress bar made of table cells (Outlook ignores
/// CSS widths).
#[tokio::test]
async fn goals_right_after_the_headline_as_report_json_has_them() {
    let fx = Fixture::new("to = []", "");
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    let html = fx.read("reports/vectors/2026-06/report.html");
    let j = fx.json("reports/vectors/2026-06/report.json");
    let at = |s: &str| t.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(at("== Headline") < at("== Goals ==") && at("== Goals ==") < at("== Teams =="));
    let goals = j["goals"].as_array().unwrap();
    assert_eq!(goals.len(), 11);
    let mut last = 0;
    for g in goals {
        // A goal without a label gets a wording from its rule.
        let label = match (g["label"].as_str(), g["metric"].as_str().unwrap()) {
            (Some(l), _) => l.to_string(),
            (None, "avg_won_deal_size") => "Average won deal +$250.00 vs 2026-05".into(),
            (None, "touches_mean_won") => "Touches per won deal +1 vs 2026-05".into(),
            (None, m) => panic!("{m} has no label in the vectors' config"),
        };
        let status = match g["met"].as_bool() {
            Some(true) => "✓ met",
            Some(false) => "✗ missed",
            None => "cannot be judged",
        };
        let line = format!("\n{label}: {status}\n");
        let pos = at(&line);
        assert!(pos > last, "goals in config order: {label}");
        last = pos;

        // The bar: filled to the progress (0–100 %), as two cells with widths.
        let p = g["progress"].as_f64().unwrap();
        let done = (p.clamp(0.0, 1.0) * 100.0).round() as u32;
        let start = html.find(&format!(">{label}<")).unwrap();
        let bar = &html[start..start + html[start..].find("class=\"gd\"").unwrap()];
        let fill = if g["met"] == true {
            "#16a34a"
        } else {
            "#2563eb"
        };
        let want: Vec<(String, String)> = [(fill, done), ("#e5e7eb", 100 - done)]
            .into_iter()
            .filter(|(_, w)| *w > 0)
            .map(|(c, w)| (c.to_string(), format!("{w}%")))
            .collect();
        assert_eq!(bar_cells(bar), want, "{label}: {bar}");
    }
    // Money and ratio goals read as the figures do.
    let money = goals.iter().find(|g| g["metric"] == "won_revenue").unwrap();
    assert!(t.contains(&format!(
        "   Baseline {} (2026-05) → target {} · actual {}\n",
        usd(&money["baseline"]),
        usd(&money["target"]),
        usd(&money["actual"])
    )));
    let ratio = &goals[0];
    assert!(t.contains(&format!(
        "   Baseline {} (2026-05) → target {} · actual {}\n   [####################] {} of the way",
        pct(ratio["baseline"].as_f64().unwrap()),
        pct(ratio["target"].as_f64().unwrap()),
        pct(ratio["actual"].as_f64().unwrap()),
        salesops::render::format::pct0(ratio["progress"].as_f64().unwrap()),
    )));
    assert!(t.contains("- Goals: the baseline is the metric in the baseline period"));
}

/// Without `[[goals]]` the section is absent; while the period runs a goal
/// not reached is "not yet", not missed.
#[tokio::test]
async fn goals_are_absent_without_goals_and_not_yet_while_running() {
    let fx = Fixture::new("to = []", "");
    fx.edit_config(|c| without_tables(c, "goals"));
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    assert!(!t.contains("== Goals ==") && !t.contains("- Goals:"), "{t}");
    assert!(t.contains("\n\n== Teams =="), "no gap left: {t}");
    let html = fx.read("reports/vectors/2026-06/report.html");
    assert!(!html.contains(">Goals</h2>"));

    let fx = Fixture::new("to = []", "");
    let out = fx.run("2026-06", "2026-06-15", |_| {}).await;
    assert!(out.figures.goals.iter().any(|g| g.met == Some(false)));
    let t = fx.read("reports/vectors/2026-06/report.txt");
    assert!(t.contains(": not yet\n") && !t.contains("missed"), "{t}");
}

/// Where revenue came from and follow-up discipline (issue 9), with the
/// figures of report.json and the deals to follow up now, largest first.
#[tokio::test]
async fn revenue_by_type_and_follow_up_discipline() {
    let fx = Fixture::new("to = []", "");
    let out = fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    let j = fx.json("reports/vectors/2026-06/report.json");
    let k = &j["kpis"];
    let section =
        &t[t.find("== Where revenue came from ==").unwrap()..t.find("== Forecast").unwrap()];
    for (key, name) in [
        ("new_business", "New business"),
        ("upsell", "Upsell"),
        ("cross_sell", "Cross-sell"),
        ("renewal", "Renewal"),
        ("untyped", "No type in the CRM"),
    ] {
        let line = section
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {section}"));
        assert!(
            line.ends_with(&usd(&k["won_revenue_by_type"][key])),
            "{line}"
        );
    }
    assert!(section.contains(&format!(
        "Expansion share (upsell + cross-sell): {} ▲ ",
        pct(k["expansion_share"].as_f64().unwrap())
    )));

    // In the HTML each type's bar is two cells, filled to its share.
    let html = fx.read("reports/vectors/2026-06/report.html");
    let part = &html[html.find(">Where revenue came from</h2>").unwrap()..];
    let part = &part[..part.find("Expansion share").unwrap()];
    let cells = bar_cells(part);
    assert_eq!(cells.len(), 10, "five types, none at 0 or 100 %");
    let new_business = cells[0].1.trim_end_matches('%').parse::<f64>().unwrap();
    let share = k["won_revenue_by_type"]["new_business"].as_f64().unwrap()
        / k["won_revenue"].as_f64().unwrap();
    assert_eq!(new_business, (share * 100.0).round());

    let section = &t[t.find("== Follow-up discipline ==").unwrap()..t.find("== Reps ==").unwrap()];
    let num = |v: &serde_json::Value| salesops::render::format::num(v.as_f64().unwrap(), 1);
    for expect in [
        format!(
            "Mean touches per won deal               {}\n",
            num(&k["touches_mean_won"])
        ),
        format!(
            "Mean touches per lost deal              {}\n",
            num(&k["touches_mean_lost"])
        ),
        format!(
            "Lost with fewer than 6 touches          {} of {} lost deals\n",
            pct(k["lost_before_target_share"].as_f64().unwrap()),
            k["deals_lost"]
        ),
        format!(
            "Closing in 2026-07, under 6 touches     {} open deals\n",
            k["open_under_target"]
        ),
        format!("The 10 largest of {} are listed.", k["open_under_target"]),
    ] {
        assert!(section.contains(&expect), "{expect}: {section}");
    }
    // The deals: names from the CRM data, largest first, each under target.
    let crm: serde_json::Value = serde_json::from_slice(
        &fs::read(common::fixtures().join("vectors/crm-early.json")).unwrap(),
    )
    .unwrap();
    let f = &out.figures.follow_ups;
    assert_eq!(f.len(), 10);
    assert!(f.windows(2).all(|w| w[0].amount >= w[1].amount));
    let rows: Vec<&str> = section
        .lines()
        .skip_while(|l| !l.starts_with("Deal "))
        .skip(1)
        .take(10)
        .collect();
    for (row, u) in rows.iter().zip(f) {
        let deal = &crm["deals"][u.deal as usize];
        let owner = crm["reps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == deal["owner"])
            .unwrap();
        assert!(u.touches < 6);
        for part in [
            deal["name"].as_str().unwrap().to_string(),
            owner["name"].as_str().unwrap().to_string(),
            salesops::render::format::money("USD", u.amount),
            u.close.to_string(),
            format!("{} of 6", u.touches),
        ] {
            assert!(row.contains(&part), "{part}: {row}");
        }
    }
    // The reps CSV has the three new columns, as report.json's reps.
    let csv = fx.read("reports/vectors/2026-06/reps-2026-06.csv");
    let mut lines = csv.split("\r\n");
    assert!(lines
        .next()
        .unwrap()
        .ends_with(",commission,expansion_revenue,lost_before_target,open_under_target"));
    for line in lines.filter(|l| !l.is_empty()) {
        let cells: Vec<&str> = line.split(',').collect();
        let rep = j["reps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == cells[0])
            .unwrap();
        let n = cells.len();
        assert_eq!(
            cells[n - 3].parse::<f64>().unwrap(),
            rep["expansion_revenue"].as_f64().unwrap()
        );
        assert_eq!(cells[n - 2], rep["lost_before_target"].to_string());
        assert_eq!(cells[n - 1], rep["open_under_target"].to_string());
    }
}

/// When no won deal has a type the split says nothing, and the report
/// says so instead of showing an expansion share of 0 as a finding.
#[tokio::test]
async fn revenue_without_deal_types_is_said_not_split() {
    let fx = Fixture::with_crm("to = []", "", |crm| {
        for d in crm["deals"].as_array_mut().unwrap() {
            d.as_object_mut().unwrap().remove("type");
        }
    });
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    assert!(
        t.contains("== Where revenue came from ==\nNo deal won has a type in the CRM data, so this split and the expansion share say nothing yet"),
        "{t}"
    );
    assert!(t.contains("No type in the CRM      [####################]      $193,024.75"));
}

/// The organisation's report shows the teams side by side (issue 12),
/// with the rows of report.json and a chart; a team's report names its
/// team in its title and has no Teams section; without teams there is none.
#[tokio::test]
async fn teams_side_by_side_and_a_teams_own_report() {
    let fx = Fixture::new("to = []", "");
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    let j = fx.json("reports/vectors/2026-06/report.json");
    let section = &t[t.find("== Teams ==").unwrap()..t.find("== Where revenue").unwrap()];
    let teams = j["teams"].as_array().unwrap();
    assert_eq!(teams.len(), 5);
    let blocks: Vec<&str> = section
        .split("\n\n")
        .skip(1)
        .filter(|b| !b.trim().is_empty())
        .collect();
    assert_eq!(blocks.len(), teams.len(), "{section}");
    for (b, team) in blocks.iter().zip(teams) {
        let name = team["name"].as_str().unwrap_or("Reps in no team");
        assert!(b.starts_with(name), "{b}");
        let manager = match (&team["name"], team["manager"].as_str()) {
            (serde_json::Value::Null, _) => String::new(),
            (_, Some(m)) => format!(" · {m}"),
            (_, None) => " · no manager".into(),
        };
        for part in [
            format!("{name}{manager} · Reps {}\n", team["reps"]),
            format!(
                "Won {} / Quota {} ({})",
                usd(&team["won_revenue"]),
                usd(&team["team_quota"]),
                pct(team["team_attainment"].as_f64().unwrap())
            ),
            format!("Win rate {}", pct(team["win_rate"].as_f64().unwrap())),
            format!("Weighted pipeline {}", usd(&team["pipeline_weighted"])),
            format!("Forecast 2026-07 {}", usd(&team["stage_weighted"])),
        ] {
            assert!(b.contains(&part), "{part}: {b}");
        }
    }
    let html = fx.read("reports/vectors/2026-06/report.html");
    assert!(html.contains(">Teams</h2>") && html.contains("부산 SMB"));
    assert!(html.contains("alt=\"Bar chart: quota attainment by team\""));
    assert!(t.contains("- Teams: each team's figures over its members'"));

    // A team's own report.
    let out = fx
        .run("2026-06", "2026-07-01", |o| {
            o.team = Some("seoul enterprise".into())
        })
        .await;
    assert_eq!(out.team.as_deref(), Some("Seoul Enterprise"));
    let dir = "reports/vectors/teams/Seoul Enterprise/2026-06";
    let t = fx.read(&format!("{dir}/report.txt"));
    assert!(
        t.starts_with("Sales report · Seoul Enterprise · vectors · 2026-06"),
        "{t}"
    );
    assert!(!t.contains("== Teams ==") && !t.contains("- Teams:"));
    let html = fx.read(&format!("{dir}/report.html"));
    assert!(html.contains(">Sales report · Seoul Enterprise</h1>"));
    assert!(!fx.path(&format!("{dir}/teams.png")).exists());
    let eml = fs::read(fx.path(
        "reports/outbox/vectors/teams/Seoul Enterprise/2026-06/enterprise.lead@example.com.eml",
    ))
    .unwrap();
    let msg = MessageParser::default().parse(&eml).unwrap();
    assert!(
        msg.subject()
            .unwrap()
            .starts_with("Sales report · Seoul Enterprise · 2026-06 · won "),
        "{:?}",
        msg.subject()
    );

    // No teams in the config or the CRM: no section, no chart.
    let fx = Fixture::with_crm("to = []", "", |crm| {
        for r in crm["reps"].as_array_mut().unwrap() {
            r.as_object_mut().unwrap().remove("team");
        }
    });
    fx.edit_config(|c| without_tables(c, "teams").replace("team_cc", "# team_cc"));
    fx.run("2026-06", "2026-07-01", |_| {}).await;
    let t = fx.read("reports/vectors/2026-06/report.txt");
    assert!(!t.contains("== Teams ==") && !t.contains("- Teams:"));
    assert!(!fx.path("reports/vectors/2026-06/teams.png").exists());
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
