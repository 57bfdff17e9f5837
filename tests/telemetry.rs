//! Health, readiness and Prometheus metrics (issue 14), through the real
//! binary: `serve` with `[serve] listen` on a free loopback port (port 0,
//! read back from its log) is not ready while another process holds the
//! state store, then ready; its /metrics count a scheduled run that emails
//! a real SMTP server in this process and one whose recipient the server
//! refuses, and pass `promtool check metrics`; SIGTERM turns /readyz 503
//! while a run in flight drains; without `listen` no port is open.
//! `salesops run --metrics-file` writes the same for node_exporter, and
//! the alert rules of docs/operations.md pass `promtool check rules` and
//! `promtool test rules`.
//!
//! promtool (Debian package `prometheus`) is used when it is installed;
//! `.ci/run` installs it and sets SALESOPS_REQUIRE_PROMTOOL=1, so in CI a
//! missing promtool fails these tests instead of skipping the check.

mod common;

use common::smtp::TestSmtp;
use salesops::state::{Store, FILE_NAME};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_salesops");
const DEADLINE: Duration = Duration::from_secs(40);

/// A salesops process, killed when dropped; its log goes to a file.
struct Proc {
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let mut cmd = Command::new(BIN);
        cmd.current_dir(dir)
            .args(args)
            .args(["--log-format", "json"])
            .env("SALESOPS_LOG", "warn,salesops=info")
            .env_remove("SALESOPS_CONFIG")
            .env_remove("SALESOPS__SERVE__LISTEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Proc {
            child: Some(cmd.spawn().expect("start salesops")),
            log,
        }
    }

    fn serve(dir: &Path, name: &str, env: &[(&str, &str)]) -> Proc {
        Proc::spawn(dir, name, &["serve", "--config", "salesops.toml"], env)
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The `field` of the first log event whose message contains `message`.
    fn field(&self, message: &str, field: &str) -> Option<String> {
        self.log().lines().find_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let f = &v["fields"];
            f["message"]
                .as_str()?
                .contains(message)
                .then(|| f[field].as_str().map(String::from))?
        })
    }

    fn has_event(&self, message: &str) -> bool {
        self.field(message, "message").is_some()
    }

    fn alive(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.pid() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(start.elapsed() < DEADLINE, "no exit; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit()
    }

    /// Where it answers HTTP, from its "answering /healthz" log event.
    fn listen_addr(&self) -> String {
        wait_until("serve logs its listen address", self, || {
            self.field("answering /healthz", "listen").is_some()
        });
        self.field("answering /healthz", "listen").unwrap()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_until(what: &str, p: &Proc, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < DEADLINE,
            "timed out waiting for: {what}\nlog:\n{}",
            p.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// GET http://addr/path: the status and body, or None when nothing answers.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let res = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .unwrap()
            .get(format!("http://{addr}{path}"))
            .send()
            .await
            .ok()?;
        let status = res.status().as_u16();
        Some((status, res.text().await.ok()?))
    })
}

fn status(addr: &str, path: &str) -> Option<u16> {
    get(addr, path).map(|(s, _)| s)
}

/// The value of the sample `key` (name and labels, as exposed).
fn sample(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' ')?.parse().ok())
}

/// promtool when installed; a failure when CI requires it.
fn promtool() -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("promtool"))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("SALESOPS_REQUIRE_PROMTOOL").as_deref() != Ok("1"),
            "promtool is required here (SALESOPS_REQUIRE_PROMTOOL=1) but not on PATH: apt-get install prometheus"
        );
        eprintln!("note: promtool is not installed; its checks are left to CI");
    }
    found
}

/// `promtool check metrics` accepts `text` (lint included).
fn assert_promtool_accepts_metrics(text: &str) {
    let Some(promtool) = promtool() else { return };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Listening TCP sockets the process `pid` holds (Linux: its socket fds
/// matched against /proc/<pid>/net/tcp{,6} rows in state LISTEN).
#[cfg(target_os = "linux")]
fn listening_sockets(pid: u32) -> usize {
    let inodes: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|l| {
            let l = l.to_string_lossy().to_string();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    ["tcp", "tcp6"]
        .iter()
        .filter_map(|t| std::fs::read_to_string(format!("/proc/{pid}/net/{t}")).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .filter(|f| f.len() > 9 && f[3] == "0A" && inodes.contains(&f[9]))
        .count()
}

fn write_config(dir: &Path, top: &str, smtp: &TestSmtp, reports: &str) {
    let text = format!(
        r#"{top}
[delivery]
kind = "smtp"
host = "127.0.0.1"
port = {port}
security = "none"
from = "Sales Ops <ops@reports.example.com>"
timeout_seconds = 30
max_attempts = 1

{reports}
"#,
        port = smtp.port()
    );
    std::fs::write(dir.join("salesops.toml"), text).unwrap();
}

const LISTEN: &str = "catch_up = false\n[serve]\nlisten = \"127.0.0.1:0\"\n";

#[test]
fn serve_is_ready_once_its_store_opens_and_its_metrics_count_deliveries_and_failures() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    smtp.refuse("nobody@example.com");
    write_config(
        d,
        LISTEN,
        &smtp,
        r#"
[[reports]]
name = "pulse"
period = "current_month"
schedule = "* * * * * *"
to = ["ops@example.com"]

[[reports]]
name = "broken"
period = "current_month"
schedule = "* * * * * *"
to = ["nobody@example.com"]
"#,
    );
    // Another process holds the state store: serve waits to open it.
    let state = d.join("state");
    drop(Store::open(&state).unwrap());
    let holder = rusqlite::Connection::open(state.join(FILE_NAME)).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    let mut s = Proc::serve(d, "serve", &[]);
    let addr = s.listen_addr();
    wait_until("/readyz answers 503", &s, || {
        status(&addr, "/readyz") == Some(503)
    });
    let (code, body) = get(&addr, "/healthz").unwrap();
    assert_eq!((code, body.as_str()), (200, "starting\n"));
    assert_eq!(status(&addr, "/"), Some(404));
    assert_eq!(status(&addr, "/metrics/x"), Some(404));
    assert_eq!(smtp.attempts(), 0, "nothing runs before the store opens");

    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    wait_until("/readyz answers 200", &s, || {
        status(&addr, "/readyz") == Some(200)
    });

    let ok =
        r#"salesops_report_runs_total{outcome="ok",report="pulse",team="",trigger="schedule"}"#;
    let failed = r#"salesops_report_runs_total{outcome="failed",report="broken",team="",trigger="schedule"}"#;
    let mut text = String::new();
    wait_until("a delivered run and a failed run are counted", &s, || {
        text = get(&addr, "/metrics").map(|(_, t)| t).unwrap_or_default();
        sample(&text, ok) >= Some(1.0) && sample(&text, failed) >= Some(1.0)
    });
    let (code, body) = get(&addr, "/healthz").unwrap();
    assert_eq!(code, 200);
    assert!(body.starts_with("ok: the scheduler loop ticked"), "{body}");

    let sent = smtp
        .received()
        .iter()
        .filter(|m| m.to == ["ops@example.com"])
        .count();
    let count = |key: &str| sample(&text, key).unwrap_or_else(|| panic!("{key}:\n{text}"));
    assert!(sent >= 1);
    assert_eq!(
        count(r#"salesops_deliveries_total{channel="email",outcome="sent",report="pulse"}"#),
        sent as f64
    );
    assert!(
        count(r#"salesops_deliveries_total{channel="email",outcome="failed",report="broken"}"#)
            >= 1.0
    );
    assert_eq!(
        count(r#"salesops_deliveries_total{channel="email",outcome="sent",report="broken"}"#),
        0.0
    );
    let now = chrono::Utc::now().timestamp() as f64;
    let last = count(r#"salesops_report_last_success_timestamp_seconds{report="pulse",team=""}"#);
    assert!(last > now - 600.0 && last <= now + 1.0, "{last} vs {now}");
    assert_eq!(
        sample(
            &text,
            r#"salesops_report_last_success_timestamp_seconds{report="broken",team=""}"#
        ),
        None
    );
    assert!(count(r#"salesops_report_next_fire_timestamp_seconds{report="pulse"}"#) > now - 5.0);
    assert!(count(r#"salesops_report_duration_seconds_count{report="pulse"}"#) >= 1.0);
    assert!(count(r#"salesops_snapshot_rows{kind="deals",source="demo"}"#) > 0.0);
    assert!(count("process_start_time_seconds") > 0.0);
    assert!(text.contains("# TYPE salesops_report_duration_seconds histogram"));
    assert!(
        !text.contains("example.com"),
        "no recipient in a label:\n{text}"
    );
    assert_promtool_accepts_metrics(&text);

    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());
}

#[test]
fn sigterm_turns_readyz_503_before_the_process_exits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    // The server sits on the second recipient: a run stays in flight.
    smtp.hold("vp@example.com");
    write_config(
        d,
        "shutdown_timeout_seconds = 60\n[serve]\nlisten = \"127.0.0.1:0\"\n",
        &smtp,
        r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "0 7 1 * *"
to = ["ceo@example.com", "vp@example.com"]
"#,
    );
    let mut s = Proc::serve(d, "serve", &[]);
    let addr = s.listen_addr();
    wait_until("catch-up is mid-delivery", &s, || smtp.held() == 1);
    wait_until("/readyz answers 200", &s, || {
        status(&addr, "/readyz") == Some(200)
    });

    s.signal(libc::SIGTERM);
    wait_until("/readyz answers 503", &s, || {
        status(&addr, "/readyz") == Some(503)
    });
    assert!(s.alive(), "still draining the run in flight");
    assert_eq!(
        get(&addr, "/healthz").unwrap(),
        (
            200,
            "shutting down: finishing the runs in flight\n".to_string()
        )
    );
    assert_eq!(
        get(&addr, "/readyz").unwrap(),
        (503, "shutting down\n".to_string())
    );

    smtp.release();
    assert_eq!(s.wait_exit().code(), Some(0), "{}", s.log());
    assert_eq!(smtp.received().len(), 2, "the run in flight finished");
    assert_eq!(status(&addr, "/readyz"), None, "gone with the process");
}

#[cfg(target_os = "linux")]
#[test]
fn without_listen_no_port_is_open_and_the_environment_can_set_one_that_salesops_health_asks() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    write_config(
        d,
        "catch_up = false",
        &smtp,
        r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "0 7 1 * *"
to = ["ceo@example.com"]
"#,
    );
    let mut quiet = Proc::serve(d, "quiet", &[]);
    wait_until("serve started", &quiet, || {
        quiet.has_event("serving scheduled reports")
    });
    assert_eq!(listening_sockets(quiet.pid()), 0, "{}", quiet.log());
    assert!(!quiet.has_event("answering /healthz"));
    assert_eq!(quiet.terminate().code(), Some(0));

    // Without a listener, `salesops health` only checks the config.
    let health = |env: &[(&str, &str)], args: &[&str]| {
        let out = Command::new(BIN)
            .current_dir(d)
            .args(["health", "--config", "salesops.toml"])
            .args(args)
            .env_remove("SALESOPS__SERVE__LISTEN")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    let (code, text) = health(&[], &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("no [serve] listen"), "{text}");

    // SALESOPS__SERVE__LISTEN, like every key; a port free a moment ago.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let env = [("SALESOPS__SERVE__LISTEN", listen.as_str())];
    let mut s = Proc::serve(d, "listening", &env);
    assert_eq!(s.listen_addr(), listen);
    wait_until("serve started", &s, || {
        s.has_event("serving scheduled reports")
    });
    assert_eq!(listening_sockets(s.pid()), 1);
    assert_eq!(status(&listen, "/healthz"), Some(200));
    wait_until("/readyz answers 200", &s, || {
        status(&listen, "/readyz") == Some(200)
    });
    // A manual run beside serve: its success shows in serve's gauge (read
    // from the state store at each scrape).
    let last = r#"salesops_report_last_success_timestamp_seconds{report="monthly",team=""}"#;
    let scrape = || get(&listen, "/metrics").unwrap().1;
    assert_eq!(sample(&scrape(), last), None);
    let manual = run(d, &["--config", "salesops.toml", "--report", "monthly"]);
    assert!(manual.status.success(), "{manual:?}");
    assert!(sample(&scrape(), last).is_some(), "{}", scrape());
    let (code, text) = health(&env, &["--ready"]);
    assert_eq!((code, text.as_str()), (Some(0), "/readyz: ready\n"));
    let (code, text) = health(&env, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("/healthz: "), "{text}");
    assert_eq!(s.terminate().code(), Some(0));
    // Nothing answers now: unhealthy, exit 1 (what HEALTHCHECK expects).
    let (code, text) = health(&env, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("salesops: unhealthy: no answer"), "{text}");

    // A port in use, or no address at all: a start-up error naming the key.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    for (value, want) in [
        (
            format!("127.0.0.1:{port}"),
            "serve.listen: cannot listen on",
        ),
        (
            "localhost:9464".to_string(),
            "serve.listen: \"localhost:9464\" is not an IP address and port",
        ),
    ] {
        let env = [("SALESOPS__SERVE__LISTEN", value.as_str())];
        let mut bad = Proc::serve(d, "bad", &env);
        assert_eq!(bad.wait_exit().code(), Some(2), "{}", bad.log());
        assert!(bad.log().contains(want), "{want:?} not in:\n{}", bad.log());
    }
}

/// `salesops run` with the built-in config in `dir`.
fn run(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(dir)
        .arg("run")
        .args(args)
        .env_remove("SALESOPS_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn run_writes_its_metrics_for_node_exporters_textfile_collector() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("textfile")).unwrap();
    let path = d.join("textfile/salesops.prom");
    let args = ["--metrics-file", "textfile/salesops.prom"];

    let out = run(d, &args);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    let count =
        |text: &str, key: &str| sample(text, key).unwrap_or_else(|| panic!("{key}:\n{text}"));
    let ok =
        r#"salesops_report_runs_total{outcome="ok",report="monthly",team="",trigger="manual"}"#;
    let sent = r#"salesops_deliveries_total{channel="file",outcome="sent",report="monthly"}"#;
    let already = r#"salesops_deliveries_total{channel="file",outcome="already",report="monthly"}"#;
    assert_eq!(count(&text, ok), 1.0);
    // The demo's leadership copy and its two team managers' (fan_out = "teams").
    assert_eq!(count(&text, sent), 3.0);
    assert_eq!(count(&text, already), 0.0);
    assert!(
        count(
            &text,
            r#"salesops_snapshot_rows{kind="deals",source="demo"}"#
        ) > 0.0
    );
    let last = r#"salesops_report_last_success_timestamp_seconds{report="monthly",team=""}"#;
    let first_success = count(&text, last);
    assert!(
        !text.contains("process_"),
        "node_exporter has its own:\n{text}"
    );
    assert_promtool_accepts_metrics(&text);
    let names: Vec<_> = std::fs::read_dir(d.join("textfile"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["salesops.prom"], "no temporary file left");

    // Again: the file is replaced and counts this run (already sent).
    let out = run(d, &args);
    assert!(out.status.success(), "{out:?}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(count(&text, sent), 0.0);
    assert_eq!(count(&text, already), 3.0);
    assert!(count(&text, last) >= first_success);

    // A run that fails still writes its metrics (exit 2).
    std::fs::write(
        d.join("broken.toml"),
        "[source]\nkind = \"file\"\npath = \"missing.json\"\n[[reports]]\nname = \"monthly\"\n",
    )
    .unwrap();
    let out = run(
        d,
        &["--config", "broken.toml", "--metrics-file", "broken.prom"],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = std::fs::read_to_string(d.join("broken.prom")).unwrap();
    assert_eq!(
        count(
            &text,
            r#"salesops_report_runs_total{outcome="failed",report="monthly",team="",trigger="manual"}"#
        ),
        1.0
    );

    // A folder that does not exist: refused before anything runs.
    let fresh = tempfile::tempdir().unwrap();
    let out = run(fresh.path(), &["--metrics-file", "nowhere/salesops.prom"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--metrics-file nowhere/salesops.prom: the folder nowhere does not exist"),
        "{err}"
    );
    assert!(!fresh.path().join("reports").exists(), "nothing ran");
}

/// The first ```yaml block after `heading` in docs/operations.md.
fn docs_yaml(heading: &str) -> String {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
            .unwrap();
    let from = docs.find(heading).expect("the heading");
    let rest = &docs[from..];
    let start = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = rest[start..].find("```").unwrap();
    rest[start..start + end].to_string()
}

#[test]
fn the_alert_rules_in_the_docs_pass_promtool() {
    let rules = docs_yaml("### Alert rules");
    // Every metric the rules read is one salesops exports (as this test
    // process's registry shows once each has a series).
    use salesops::telemetry;
    telemetry::report_run(
        "r",
        "",
        "schedule",
        "ok",
        Duration::ZERO,
        chrono::Utc::now(),
    );
    telemetry::deliveries("r", "email", 1, 0, 0);
    telemetry::crm_throttled("hubspot");
    let families: Vec<String> = telemetry::global()
        .render(false)
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next().map(String::from))
        .collect();
    let used: Vec<&str> = rules
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("salesops_"))
        .collect();
    assert!(used.len() >= 4, "{rules}");
    for name in used {
        assert!(
            families.iter().any(|f| f == name),
            "{name} is not exported: {families:?}"
        );
    }
    for alert in [
        "SalesopsReportOverdue",
        "SalesopsReportRunsFailing",
        "SalesopsDeliveriesFailing",
        "SalesopsCrmThrottled",
    ] {
        assert!(rules.contains(&format!("- alert: {alert}\n")), "{alert}");
    }

    let Some(promtool) = promtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("alerts.yml"), &rules).unwrap();
    std::fs::copy(
        common::fixtures().join("alerts-test.yml"),
        dir.path().join("alerts-test.yml"),
    )
    .unwrap();
    for args in [
        ["check", "rules", "alerts.yml"],
        ["test", "rules", "alerts-test.yml"],
    ] {
        let out = Command::new(&promtool)
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
