//! Issue 8: nothing a CRM, a config or a log level can send takes a run
//! down, leaks a secret or loses a report. One test per item of the issue,
//! each through the real binary, each failing on the release before it.

mod common;

use assert_cmd::Command;
use base64::Engine;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;

fn salesops(dir: &Path) -> Command {
    let mut c = common::salesops(dir);
    c.env_remove("SALESOPS_LOG")
        .env_remove("SALESOPS_TEST_PANIC");
    c
}

fn small(dir: &Path) {
    for f in ["salesops.toml", "crm.json"] {
        fs::copy(common::fixtures().join("small").join(f), dir.join(f)).unwrap();
    }
}

fn edit(dir: &Path, file: &str, f: impl FnOnce(String) -> String) {
    let p = dir.join(file);
    let text = fs::read_to_string(&p).unwrap();
    fs::write(&p, f(text)).unwrap();
}

/// The small config, with one recipient (file delivery: the outbox).
fn with_recipient(dir: &Path) {
    edit(dir, "salesops.toml", |t| t + "to = [\"ceo@example.com\"]\n");
}

const JULY: [&str; 4] = ["--period", "2026-07", "--as-of", "2026-08-01"];

fn run(dir: &Path) -> Command {
    let mut c = salesops(dir);
    c.args(["run", "--config", "salesops.toml"]).args(JULY);
    c
}

/// stdout and stderr of a finished command, as text.
fn output(c: &mut Command) -> (Option<i32>, String, String) {
    let o = c.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Every run-log row, as text (what `history` can ever show).
fn run_log(dir: &Path) -> String {
    let db = dir.join("state/salesops.sqlite3");
    if !db.exists() {
        return String::new();
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut st = conn
        .prepare("SELECT report, period, outcome, coalesce(recipients, ''), coalesce(error, '') FROM runs")
        .unwrap();
    let rows = st
        .query_map([], |r| {
            Ok((0..5)
                .map(|i| r.get::<_, String>(i).unwrap())
                .collect::<Vec<_>>()
                .join(" | "))
        })
        .unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

fn history(dir: &Path) -> String {
    output(salesops(dir).args(["history", "--config", "salesops.toml"])).1
}

fn count(dir: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("state/salesops.sqlite3")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// An HTTP server on loopback that answers every request with `respond`.
fn http_server(respond: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            // Read the request head.
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line == "\r\n" {
                    break;
                }
                line.clear();
            }
            respond(&mut s);
        }
    });
    port
}

// 1. No log level, error or record shows the SMTP password in any encoding,
// even when the server echoes the AUTH line in its refusal.
#[test]
fn the_smtp_password_is_never_shown() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut w = s.try_clone().unwrap();
            let r = BufReader::new(s);
            let _ = w.write_all(b"220 localhost ESMTP\r\n");
            for line in r.lines() {
                let Ok(line) = line else { break };
                let up = line.to_ascii_uppercase();
                let reply = if up.starts_with("EHLO") {
                    "250-localhost\r\n250 AUTH PLAIN LOGIN\r\n".to_string()
                } else if up.starts_with("AUTH") {
                    format!("535 5.7.8 Authentication failed: {line}\r\n")
                } else if up.starts_with("QUIT") {
                    let _ = w.write_all(b"221 bye\r\n");
                    break;
                } else {
                    "250 OK\r\n".into()
                };
                if w.write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    with_recipient(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t + &format!(
            "[delivery]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\n\
             username = \"ops@example.com\"\nfrom = \"ops@example.com\"\nmax_attempts = 1\ntimeout_seconds = 10\n"
        )
    });
    let password = "hunter2-Pa55word!";
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let plain_blob = b64(format!("\0ops@example.com\0{password}").as_bytes());
    // The password's bytes encoded at each of the three alignments.
    let cores: Vec<String> = (0..3)
        .map(|k| {
            let b = &password.as_bytes()[k..];
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(&b[..b.len() / 3 * 3])
        })
        .collect();
    let leaks = |text: &str| -> Vec<String> {
        let mut found = Vec::new();
        for needle in [password, plain_blob.as_str(), "hunter2-Pa55word%21"]
            .into_iter()
            .chain(cores.iter().map(String::as_str))
        {
            if text.contains(needle) {
                found.push(needle.to_string());
            }
        }
        found
    };
    for (args, log) in [
        (vec!["-vv"], None),
        (vec!["-vv", "--log-format", "json"], None),
        (vec![], Some("debug")),
        (vec!["--log-format", "json"], Some("trace")),
    ] {
        let mut c = salesops(dir.path());
        c.args(&args)
            .args(["run", "--config", "salesops.toml"])
            .args(JULY)
            .env("SALESOPS__DELIVERY__PASSWORD", password);
        if let Some(f) = log {
            c.env("SALESOPS_LOG", f);
        }
        let (code, out, err) = output(&mut c);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("535"), "the refusal is reported: {err}");
        assert_eq!(
            leaks(&out),
            Vec::<String>::new(),
            "{args:?} {log:?} stdout: {out}"
        );
        assert_eq!(
            leaks(&err),
            Vec::<String>::new(),
            "{args:?} {log:?} stderr: {err}"
        );
    }
    let log = run_log(dir.path());
    assert!(log.contains("535"), "{log}");
    assert_eq!(leaks(&log), Vec::<String>::new(), "run log: {log}");
    assert_eq!(leaks(&history(dir.path())), Vec::<String>::new());
}

// 2. Credentials in a snapshot URL are printed redacted, everywhere.
#[test]
fn credentials_in_a_snapshot_url_are_never_printed() {
    let port = http_server(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
    });
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let url = format!(
        "http://snapuser:Snap-Pass-123@127.0.0.1:{port}/x.json?sig=SigSecret456&X-Amz-Signature=AmzSecret789&token=TokSecret000"
    );
    edit(dir.path(), "salesops.toml", |t| {
        t.replace("path = \"crm.json\"", &format!("path = \"{url}\""))
    });
    let secrets = [
        "Snap-Pass-123",
        "SigSecret456",
        "AmzSecret789",
        "TokSecret000",
    ];
    let (code, out, err) =
        output(salesops(dir.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains(&format!("***@127.0.0.1:{port}/x.json?sig=***")),
        "{out}"
    );
    let (code, out2, err2) = output(run(dir.path()).arg("-vv"));
    assert_eq!(code, Some(2));
    assert!(err2.contains("503"), "{err2}");
    let all = [
        out,
        err,
        out2,
        err2,
        run_log(dir.path()),
        history(dir.path()),
    ]
    .join("\n");
    for s in secrets {
        assert!(!all.contains(s), "{s} shown in:\n{all}");
    }
}

// 3. A secret written in the config file is an error naming the variable.
#[test]
fn a_secret_in_the_config_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("salesops.toml"),
        "[source]\nkind = \"hubspot\"\ntoken = \"pat-na1-TOKENVALUE\"\n\
         [delivery]\nkind = \"smtp\"\nhost = \"smtp.example.com\"\nfrom = \"ops@example.com\"\n\
         username = \"ops@example.com\"\npassword = \"PASSWORDVALUE\"\n",
    )
    .unwrap();
    let (code, out, err) =
        output(salesops(dir.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(
        err.contains("source.token") && err.contains("SALESOPS__SOURCE__TOKEN"),
        "{err}"
    );
    assert!(
        err.contains("delivery.password") && err.contains("SALESOPS__DELIVERY__PASSWORD"),
        "{err}"
    );
    assert!(
        !err.contains("TOKENVALUE") && !err.contains("PASSWORDVALUE"),
        "{err}"
    );
}

// 4. Escape codes and line breaks from a CRM never reach the terminal raw;
// salesops' own colours stay out of redirected logs.
#[test]
fn escape_codes_from_a_crm_never_reach_the_terminal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let s = wiremock::MockServer::start().await;
        let body = serde_json::json!({
            "status": "error",
            "message": "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[31mred\nERROR forged log line",
            "category": "VALIDATION_ERROR"
        });
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(400).set_body_json(body))
            .mount(&s)
            .await;
        s
    });
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "kind = \"file\"\npath = \"crm.json\"",
            &format!(
                "kind = \"hubspot\"\nbase_url = \"{}\"\nmax_retries = 0",
                server.uri()
            ),
        )
    });
    let (code, _, err) = output(
        run(dir.path())
            .arg("-v")
            .env("SALESOPS__SOURCE__TOKEN", "pat-na1-test"),
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("red"), "the CRM's message is shown: {err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{7}'),
        "raw control bytes: {err:?}"
    );
    assert!(
        !err.lines().any(|l| l.starts_with("ERROR forged")),
        "a CRM line break started a line: {err}"
    );
    // NO_COLOR or not, a redirected stderr gets no colour codes.
    let (_, _, err) = output(
        salesops(dir.path())
            .args(["check", "--config", "salesops.toml", "-v"])
            .env("SALESOPS__SOURCE__TOKEN", "pat-na1-test"),
    );
    assert!(!err.contains('\u{1b}'), "{err:?}");
    drop(server);
}

// 5. A number too large to sum is a broken record; config values have
// ranges; a panic that still happens is one line, exit 2, a failed row.
#[test]
fn huge_numbers_are_broken_records_and_panics_end_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "crm.json", |t| {
        t.replacen("\"amount\": 10000,", "\"amount\": 1e28,", 1)
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("deals[0] (id \"d1\").amount: 1e28 is too large"),
        "{err}"
    );
    assert!(!dir.path().join("reports").exists());
    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "path = \"crm.json\"",
            "path = \"crm.json\"\nskip_bad_records = true",
        )
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(0), "{err}");
    let json = fs::read_to_string(dir.path().join("reports/small/2026-07/report.json")).unwrap();
    assert!(json.contains("1e28 is too large"), "{json}");

    for (key, section, value) in [
        ("monthly_quota", "roles.junior", "5e28"),
        ("growth_rate", "forecast", "1e27"),
        ("response_sla_minutes", "leads", "1e28"),
    ] {
        let d = tempfile::tempdir().unwrap();
        small(d.path());
        edit(d.path(), "salesops.toml", |t| {
            if section == "roles.junior" {
                t.replacen(
                    "monthly_quota = 10000",
                    &format!("monthly_quota = {value}"),
                    1,
                )
            } else {
                t + &format!("[{section}]\n{key} = {value}\n")
            }
        });
        let (code, _, err) =
            output(salesops(d.path()).args(["check", "--config", "salesops.toml"]));
        assert_eq!(code, Some(2), "{key}: {err}");
        assert!(
            err.contains(&format!("{section}.{key}")) && err.contains("out of range"),
            "{err}"
        );
    }

    // A bug that panics: one line, exit 2, and the run log says failed.
    let (code, _, err) = output(run(dir.path()).env("SALESOPS_TEST_PANIC", "1"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("salesops: error: internal error"), "{err}");
    assert!(
        !err.contains("panicked at") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM runs WHERE outcome = 'running'"
        ),
        0
    );
    let log = run_log(dir.path());
    assert!(log.contains("| failed |  | internal error (a bug"), "{log}");
}

// 6. A snapshot URL that streams forever stops at max_snapshot_bytes,
// spooled to a temporary file that is removed.
#[test]
fn an_endless_snapshot_download_stops_at_the_limit() {
    let port = http_server(|s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"deals\": [");
        let chunk = "{\"id\": \"d\"},".repeat(1000);
        while s.write_all(chunk.as_bytes()).is_ok() {}
    });
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "path = \"crm.json\"",
            &format!("path = \"http://127.0.0.1:{port}/x.json\"\nmax_snapshot_bytes = 1048576"),
        )
    });
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = output(run(dir.path()).env("TMPDIR", tmp.path()));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("larger than [source] max_snapshot_bytes (1048576 bytes)"),
        "{err}"
    );
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "the spool file was left"
    );
    assert!(!dir.path().join("reports").exists());
}

// 7. A template that recurses forever fails, naming the template.
#[test]
fn a_template_that_recurses_forever_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    fs::create_dir(dir.path().join("tpl")).unwrap();
    fs::write(
        dir.path().join("tpl/report.txt"),
        "{% macro down(n) %}{{ self::down(n=n+1) }}{% endmacro down %}{{ self::down(n=0) }}",
    )
    .unwrap();
    edit(dir.path(), "salesops.toml", |t| {
        t.replace("default_role", "templates_dir = \"tpl\"\ndefault_role")
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("template report.txt") && err.contains("nest too deeply"),
        "{err}"
    );
    assert!(!dir.path().join("reports/small/2026-07").exists());
}

// 8. An empty snapshot is not reported: the three lists are required, and
// a pull with no deals after a run that had some stops the run.
#[test]
fn an_empty_snapshot_is_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    with_recipient(dir.path());
    fs::write(dir.path().join("crm.json"), "{}").unwrap();
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("has no \"reps\", \"stages\", \"deals\" list"),
        "{err}"
    );
    assert!(!dir.path().join("reports").exists());

    fs::copy(
        common::fixtures().join("small/crm.json"),
        dir.path().join("crm.json"),
    )
    .unwrap();
    assert_eq!(output(&mut run(dir.path())).0, Some(0));
    let forecasts = count(dir.path(), "SELECT COUNT(*) FROM forecasts");
    fs::write(
        dir.path().join("crm.json"),
        r#"{"currency": "USD", "reps": [], "stages": [], "deals": []}"#,
    )
    .unwrap();
    let august = ["--period", "2026-08", "--as-of", "2026-09-01"];
    let again = |dir: &Path| {
        let mut c = salesops(dir);
        c.args(["run", "--config", "salesops.toml"]).args(august);
        output(&mut c)
    };
    let (code, _, err) = again(dir.path());
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no deals at all") && err.contains("allow_empty"),
        "{err}"
    );
    assert!(!dir.path().join("reports/small/2026-08").exists());
    assert!(!dir.path().join("reports/outbox/small/2026-08").exists());
    assert_eq!(
        count(dir.path(), "SELECT COUNT(*) FROM forecasts"),
        forecasts
    );
    assert_eq!(count(dir.path(), "SELECT COUNT(*) FROM deliveries"), 1);

    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "path = \"crm.json\"",
            "path = \"crm.json\"\nallow_empty = true",
        )
    });
    assert_eq!(again(dir.path()).0, Some(0));
}

// 9. `check` builds what `run` builds before it pulls.
#[test]
fn check_builds_what_run_builds() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    fs::create_dir(dir.path().join("tpl")).unwrap();
    fs::write(dir.path().join("tpl/report.html"), "{% if %}broken").unwrap();
    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "default_role",
            "templates_dir = \"tpl\"\nchart_font = \"no-such-font.ttf\"\ndefault_role",
        ) + "[delivery]\nfrom = \"not an address\"\n"
    });
    let (code, out, err) =
        output(salesops(dir.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(!out.contains("config ok"), "{out}");
    for needle in [
        "templates_dir",
        "report.html",
        "chart_font",
        "no-such-font.ttf",
        "delivery.from",
    ] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
}

// 10. Values with no meaning are refused, with the valid ones named; NUL
// bytes are written as U+FFFD; a BOM is skipped.
#[test]
fn values_with_no_meaning_are_refused() {
    for (add, needle) in [
        (
            "[forecast]\ngrowth_rate = -2\n",
            "forecast.growth_rate: -2 is out of range",
        ),
        (
            "[quadrants]\nhigh_performer_attainment = -0.5\n",
            "quadrants.high_performer_attainment: -0.5 is out of range",
        ),
    ] {
        let d = tempfile::tempdir().unwrap();
        small(d.path());
        edit(d.path(), "salesops.toml", |t| t + add);
        let (code, _, err) =
            output(salesops(d.path()).args(["check", "--config", "salesops.toml"]));
        assert_eq!(code, Some(2));
        assert!(err.contains(needle), "{err}");
    }
    let d = tempfile::tempdir().unwrap();
    small(d.path());
    edit(d.path(), "salesops.toml", |t| {
        t.replace("default_role", "out_dir = \"\"\ndefault_role")
    });
    let (code, _, err) = output(salesops(d.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("out_dir: empty"), "{err}");
    small(d.path());
    edit(d.path(), "salesops.toml", |t| {
        t.replace("period = \"previous_month\"", "period = \"weekly\"")
    });
    let (code, _, err) = output(salesops(d.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(2));
    assert!(
        err.contains(
            "reports[0].period: \"weekly\" is not valid here; use one of: \"previous_month\""
        ),
        "{err}"
    );
    assert!(!err.contains("variant constructor"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "crm.json", |t| {
        t.replacen("\"USD\"", "\"US Dollars\"", 1)
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("currency: \"US Dollars\" is not a three-letter ISO 4217 code"),
        "{err}"
    );

    small(dir.path());
    edit(dir.path(), "crm.json", |t| {
        format!(
            "\u{feff}{}",
            t.replace("\"name\": \"Kim\"", "\"name\": \"Ki\\u0000m\"")
        )
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(0), "{err}");
    let out = dir.path().join("reports/small/2026-07");
    let text = fs::read_to_string(out.join("report.txt")).unwrap();
    let csv = fs::read_to_string(out.join("reps-2026-07.csv")).unwrap();
    for t in [&text, &csv] {
        assert!(!t.contains('\0') && t.contains("Ki\u{fffd}m"), "{t}");
    }
}

// 11. No name collision overwrites sent mail.
#[test]
fn no_two_deliveries_share_a_file() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t.replace("name = \"small\"", "name = \"outbox\"")
    });
    let (code, _, err) = output(salesops(dir.path()).args(["check", "--config", "salesops.toml"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("\"outbox\" is reserved"), "{err}");

    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t + "to = [\"a/b@x.com\", \"a_b@x.com\"]\n"
    });
    let (code, out, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("sent to a/b@x.com, a_b@x.com"), "{out}");
    let outbox = dir.path().join("reports/outbox/small/2026-07");
    let mut files: Vec<String> = fs::read_dir(&outbox)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["a_2Fb@x.com.eml", "a_5Fb@x.com.eml"]);
    for (f, to) in files.iter().zip(["a/b@x.com", "a_b@x.com"]) {
        let eml = fs::read_to_string(outbox.join(f)).unwrap();
        assert!(eml.starts_with(&format!("Delivered-To: {to}\r\n")), "{eml}");
    }
}

// 12. What a killed run left is removed by the next run.
#[test]
fn leftovers_of_a_killed_run_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    with_recipient(dir.path());
    let reports = dir.path().join("reports/small");
    let outbox = dir.path().join("reports/outbox/small/2026-06");
    // As a run killed mid-publish or mid-write (this release or the last) leaves them.
    let left = [
        reports.join(".2026-07.tmp-Ab3dEf"),
        reports.join(".2026-06.old-0123456789abcdef0123456789abcdef"),
        outbox.join(".tmpXy12Zq"),
    ];
    for p in &left[..2] {
        fs::create_dir_all(p).unwrap();
        fs::write(p.join("report.json"), "{").unwrap();
    }
    fs::create_dir_all(&outbox).unwrap();
    fs::write(&left[2], "Delivered-To: ceo@exa").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for p in &left {
        fs::File::open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(0), "{err}");
    for p in &left {
        assert!(!p.exists(), "{} was left", p.display());
    }
    let names: Vec<String> = fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["2026-07"]);
    assert!(reports.join("2026-07/report.json").exists());
}

// 13. One report's failure does not skip the others; exit 1.
#[test]
fn one_report_failing_does_not_stop_the_others() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        let head = t.split("[[reports]]").next().unwrap().to_string();
        head + "[[reports]]\nname = \"broken\"\nsubject = \"{{ no_such_value }}\"\nto = [\"ceo@example.com\"]\n\
                 [[reports]]\nname = \"small\"\nto = [\"ceo@example.com\"]\n"
    });
    let (code, out, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(
        err.contains("report \"broken\"") && err.contains("no_such_value"),
        "{err}"
    );
    assert!(out.contains("sent to ceo@example.com"), "{out}");
    assert!(dir
        .path()
        .join("reports/small/2026-07/report.json")
        .exists());
    assert!(dir
        .path()
        .join("reports/outbox/small/2026-07/ceo@example.com.eml")
        .exists());
    let log = run_log(dir.path());
    assert!(log.contains("broken | 2026-07 | failed"), "{log}");
    assert!(log.contains("small | 2026-07 | ok"), "{log}");

    // Nothing delivered at all: exit 2.
    edit(dir.path(), "salesops.toml", |t| {
        t.replace(
            "name = \"small\"",
            "name = \"small\"\nsubject = \"{{ nope }}\"",
        )
    });
    let (code, _, err) = output(run(dir.path()).arg("--force"));
    assert_eq!(code, Some(2), "{err}");
}

// 14. The currency is decided once and every output uses it.
#[test]
fn one_currency_for_every_output() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    edit(dir.path(), "salesops.toml", |t| {
        t.replace("currency = \"USD\"", "currency = \"EUR\"")
    });
    let (code, _, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("\"EUR\"") && err.contains("in USD") && err.contains("convert"),
        "{err}"
    );
    assert!(!dir.path().join("reports").exists());

    // A snapshot that names no currency: the config's, everywhere.
    edit(dir.path(), "crm.json", |t| {
        t.replacen("\"currency\": \"USD\",", "", 1)
    });
    let (code, out, err) = output(&mut run(dir.path()));
    assert_eq!(code, Some(0), "{err}");
    let folder = dir.path().join("reports/small/2026-07");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["currency"], "EUR");
    let text = fs::read_to_string(folder.join("report.txt")).unwrap();
    let html = fs::read_to_string(folder.join("report.html")).unwrap();
    let won = salesops::render::format::money("EUR", rust_decimal::Decimal::from(36000));
    for (what, t) in [
        ("summary", &out),
        ("report.txt", &text),
        ("report.html", &html),
    ] {
        assert!(t.contains(&won), "{what} lacks {won}: {t}");
        assert!(!t.contains("$36"), "{what} shows dollars: {t}");
    }
}
