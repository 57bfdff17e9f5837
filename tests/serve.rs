//! `salesops serve` as a real process (issue 4), delivering to a real SMTP
//! server on loopback inside this test process (issue 3): schedules that
//! fire every second, one or two servers on one state dir, SIGTERM, kill -9
//! and restart (mid-pull and mid-delivery), a manual `salesops run` beside
//! a serving process, partial delivery and its retry, catch-up. Runs are
//! read from the state store's run log (what `salesops history` shows);
//! emails from what the SMTP server accepted, matched to the delivery log
//! by Message-ID. Every child is killed when a test fails, and every wait
//! has a deadline.

mod common;

use common::smtp::TestSmtp;
use mail_parser::MessageParser;
use salesops::state::{RunRecord, Store, FILE_NAME};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_salesops");
const DEADLINE: Duration = Duration::from_secs(40);

/// A running salesops process (`serve`, or a `run` beside it); killed
/// (SIGKILL) when dropped. Its stderr (the log) and stdout go to files.
struct Proc {
    child: Option<Child>,
    log: PathBuf,
    out: PathBuf,
}

impl Proc {
    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let out = dir.join(format!("{name}.out"));
        let child = Command::new(BIN)
            .current_dir(dir)
            .args(args)
            .args(["--config", "salesops.toml", "--log-format", "json"])
            .env("SALESOPS_LOG", "warn,salesops=info")
            .env_remove("SALESOPS_CONFIG")
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start salesops");
        Proc {
            child: Some(child),
            log,
            out,
        }
    }

    fn serve(dir: &Path, name: &str) -> Proc {
        Proc::spawn(dir, name, &["serve"])
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// How many log events have this message.
    fn events(&self, message: &str) -> usize {
        self.log()
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["fields"]["message"].as_str().map(|m| m.contains(message)))
                    .unwrap_or(false)
            })
            .count()
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.child.as_ref().unwrap().id() as libc::pid_t;
        assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill({pid}, {sig})");
    }

    /// Sends SIGTERM and waits for the exit.
    fn terminate(&mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_exit()
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let child = self.child.as_mut().unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "salesops did not exit; its log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, and reap it (so its pid is gone, as after a real crash).
    fn kill_9(&mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
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

/// Polls `f` until it holds; fails with `what` and the logs otherwise.
fn wait_until(what: &str, procs: &[&Proc], mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        if start.elapsed() > DEADLINE {
            let logs: Vec<String> = procs.iter().map(|s| s.log()).collect();
            panic!(
                "timed out waiting for: {what}\nlogs:\n{}",
                logs.join("\n---\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn store(dir: &Path) -> Option<Store> {
    let state = dir.join("state");
    state
        .join(FILE_NAME)
        .exists()
        .then(|| Store::open(&state).unwrap())
}

/// The run log, oldest first (empty before the store exists).
fn runs(dir: &Path) -> Vec<RunRecord> {
    let Some(mut st) = store(dir) else {
        return Vec::new();
    };
    let mut v = st.history(None, 10_000).unwrap();
    v.reverse();
    v
}

fn ok_runs(dir: &Path) -> Vec<RunRecord> {
    runs(dir)
        .into_iter()
        .filter(|r| r.outcome == "ok")
        .collect()
}

/// Exactly one "ok" run per (report, period key), and no run of a key
/// after its "ok" one: the exactly-once promise, read from the run log.
fn assert_once_per_period(dir: &Path) {
    let all = runs(dir);
    let mut seen = std::collections::BTreeMap::new();
    for r in &all {
        let key = (r.report.clone(), r.period.clone());
        if let Some(first) = seen.get(&key) {
            panic!("{key:?} ran again after its ok run {first}: {all:#?}");
        }
        if r.outcome == "ok" {
            seen.insert(key, r.id);
        }
    }
    assert!(!seen.is_empty(), "no ok run at all: {all:#?}");
}

/// (trigger, outcome) of each run, oldest first.
fn outcomes(all: &[RunRecord]) -> Vec<(&str, &str)> {
    all.iter()
        .map(|r| (r.trigger.as_str(), r.outcome.as_str()))
        .collect()
}

/// Who a run sent to, and whom it found already served.
fn assert_recipients(run: &RunRecord, sent: &[&str], already: &[&str]) {
    let rec: serde_json::Value =
        serde_json::from_str(run.recipients.as_deref().expect("recipients")).unwrap();
    assert_eq!(rec["sent"], serde_json::json!(sent), "{run:?}");
    assert_eq!(rec["already"], serde_json::json!(already), "{run:?}");
}

/// (report, period key, recipient).
type Email = (String, String, String);

/// Every message the SMTP server accepted, named by the delivery-log entry
/// with its Message-ID and envelope recipient; sorted. A message the log
/// does not know (say, the loser of a double send, whose record the
/// winner overwrote) fails the test.
fn emails(dir: &Path, smtp: &TestSmtp) -> Vec<Email> {
    let log = store(dir)
        .map(|mut st| st.deliveries(None).unwrap())
        .unwrap_or_default();
    let mut out: Vec<Email> = smtp
        .received()
        .iter()
        .map(|m| {
            assert_eq!(m.to.len(), 1, "one envelope recipient per message");
            let parsed = MessageParser::default().parse(&m.data).unwrap();
            let id = parsed.message_id().expect("a Message-ID");
            let d = log
                .iter()
                .find(|d| d.message_id.trim_matches(['<', '>']) == id && d.recipient == m.to[0])
                .unwrap_or_else(|| {
                    panic!("{id} to {} is not in the delivery log: {log:#?}", m.to[0])
                });
            (d.report.clone(), d.period.clone(), d.recipient.clone())
        })
        .collect();
    out.sort();
    out
}

/// One email per recipient for each (report, period key) with an ok run,
/// and nothing else: exactly once, as the SMTP server must see it.
fn once_each(dir: &Path, recipients: &[(&str, &[&str])]) -> Vec<Email> {
    let mut keys: Vec<(String, String)> = ok_runs(dir)
        .into_iter()
        .map(|r| (r.report, r.period))
        .collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<Email> = keys
        .into_iter()
        .flat_map(|(report, key)| {
            let to = recipients
                .iter()
                .find(|(r, _)| *r == report)
                .unwrap_or_else(|| panic!("no recipients given for {report}"))
                .1;
            to.iter()
                .map(move |a| (report.clone(), key.clone(), a.to_string()))
        })
        .collect();
    out.sort();
    out
}

/// salesops.toml: `top` (top-level keys), delivery to `smtp`, a file
/// source at `source` (default: the built-in demo data), then `reports`.
fn write_config(dir: &Path, top: &str, smtp: &TestSmtp, source: Option<&str>, reports: &str) {
    let source = source
        .map(|p| format!("[source]\nkind = \"file\"\npath = \"{p}\"\n"))
        .unwrap_or_default();
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

{source}
{reports}
"#,
        port = smtp.port()
    );
    std::fs::write(dir.join("salesops.toml"), text).unwrap();
}

/// A loopback HTTP server serving the snapshot; while `hold` is set it
/// keeps each request waiting, so a run stays in flight.
struct SlowSource {
    url: String,
    hold: Arc<AtomicBool>,
    requests: Arc<AtomicUsize>,
}

impl SlowSource {
    fn start() -> SlowSource {
        let body = std::fs::read(common::fixtures().join("vectors/crm-final.json")).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/crm.json", listener.local_addr().unwrap());
        let hold = Arc::new(AtomicBool::new(true));
        let requests = Arc::new(AtomicUsize::new(0));
        let (h, n) = (hold.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (h, n, body) = (h.clone(), n.clone(), body.clone());
                std::thread::spawn(move || {
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match conn.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(k) => req.extend_from_slice(&buf[..k]),
                        }
                    }
                    n.fetch_add(1, Ordering::SeqCst);
                    while h.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = conn.write_all(head.as_bytes());
                    let _ = conn.write_all(&body);
                });
            }
        });
        SlowSource {
            url,
            hold,
            requests,
        }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    fn release(&self) {
        self.hold.store(false, Ordering::SeqCst);
    }
}

/// "monthly" (the finished previous month) every second.
const MONTHLY_EVERY_SECOND: &str = r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "* * * * * *"
to = ["ceo@example.com"]
"#;

/// The same to two recipients, so a run can stop between them.
const MONTHLY_TO_TWO: &str = r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "* * * * * *"
to = ["ceo@example.com", "vp@example.com"]
"#;
const TWO: &[&str] = &["ceo@example.com", "vp@example.com"];

#[test]
fn serve_emails_the_report_on_schedule_and_exits_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    write_config(
        d,
        "catch_up = false",
        &smtp,
        None,
        r#"
[[reports]]
name = "pulse"
period = "current_month"
schedule = "* * * * * *"
to = ["ops@example.com"]
"#,
    );
    let mut s = Proc::serve(d, "serve");
    wait_until("the first email arrived", &[&s], || {
        !smtp.received().is_empty()
    });
    // Later fires of the same period find it done.
    wait_until("two fires that find the period done", &[&s], || {
        s.events("already ran successfully") >= 2
    });
    let status = s.terminate();
    assert_eq!(status.code(), Some(0), "log:\n{}", s.log());
    assert_eq!(s.events("shut down cleanly"), 1);

    assert_once_per_period(d);
    let ok = ok_runs(d);
    let run = &ok[0];
    assert_eq!(run.trigger, "schedule");
    let (label, as_of) = run.period.split_once('@').expect("a running period");
    assert_eq!(run.fired_at.as_deref().map(|f| &f[..10]), Some(as_of));
    assert!(run.fired_at.as_deref() <= Some(run.started_at.as_str()));
    assert!(run.rows_pulled.unwrap() > 0);
    assert!(d
        .join("reports/pulse")
        .join(label)
        .join("report.json")
        .is_file());
    assert_eq!(
        emails(d, &smtp),
        once_each(d, &[("pulse", &["ops@example.com"])])
    );
    // (Two keys only if the test ran across midnight.)
    assert_eq!(smtp.received().len(), ok.len());

    let out = Command::new(BIN)
        .current_dir(d)
        .args(["history", "--config", "salesops.toml", "--report", "pulse"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().nth(1).unwrap_or_default();
    for want in ["pulse", run.period.as_str(), "schedule", " ok "] {
        assert!(line.contains(want), "{want:?} not in {line:?}:\n{text}");
    }
    assert!(text.contains("recipients: sent: ops@example.com"), "{text}");
}

#[test]
fn two_servers_on_one_state_dir_email_each_period_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    write_config(
        d,
        "",
        &smtp,
        None,
        r#"
[[reports]]
name = "pulse"
period = "current_month"
schedule = "* * * * * *"
to = ["ops@example.com", "cfo@example.com"]

[[reports]]
name = "monthly"
period = "previous_month"
schedule = "* * * * * *"
to = ["ceo@example.com"]
"#,
    );
    let mut a = Proc::serve(d, "a");
    let mut b = Proc::serve(d, "b");
    wait_until("both reports were emailed", &[&a, &b], || {
        let got = smtp.received();
        ["ops@example.com", "cfo@example.com", "ceo@example.com"]
            .iter()
            .all(|to| got.iter().any(|m| m.to == [*to]))
    });
    // Both servers fired several times for each report.
    wait_until("each server fired 3 times per report", &[&a, &b], || {
        a.events("schedule fired") >= 6 && b.events("schedule fired") >= 6
    });
    assert_eq!(a.terminate().code(), Some(0), "a:\n{}", a.log());
    assert_eq!(b.terminate().code(), Some(0), "b:\n{}", b.log());

    assert_once_per_period(d);
    let all = runs(d);
    assert!(
        all.iter().all(|r| r.outcome == "ok"),
        "only winners run: {all:#?}"
    );
    let want = once_each(
        d,
        &[
            ("pulse", &["ops@example.com", "cfo@example.com"]),
            ("monthly", &["ceo@example.com"]),
        ],
    );
    assert_eq!(emails(d, &smtp), want);
    let per_run = |r: &RunRecord| if r.report == "pulse" { 2 } else { 1 };
    assert_eq!(
        smtp.received().len(),
        all.iter().map(per_run).sum::<usize>()
    );
}

/// Starts serve again after one was killed mid-run: it takes the period
/// over at once (catch-up), and later fires find it done. Returns the run
/// log: the killed run, interrupted, then the restarted one, ok.
fn restart_after_kill(d: &Path) -> Vec<RunRecord> {
    let mut second = Proc::serve(d, "second");
    wait_until(
        "the restarted server finished the period",
        &[&second],
        || !ok_runs(d).is_empty(),
    );
    wait_until("a later fire finds it done", &[&second], || {
        second.events("already ran successfully") >= 1
    });
    assert_eq!(second.terminate().code(), Some(0), "{}", second.log());

    let all = runs(d);
    assert_once_per_period(d);
    assert_eq!(
        outcomes(&all),
        [("catch-up", "interrupted"), ("catch-up", "ok")],
        "{all:#?}"
    );
    assert_eq!(all[0].period, all[1].period);
    all
}

#[test]
fn a_server_killed_mid_pull_is_not_repeated_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    let src = SlowSource::start();
    write_config(d, "", &smtp, Some(&src.url), MONTHLY_EVERY_SECOND);

    let mut first = Proc::serve(d, "first");
    wait_until("the first server is mid-pull", &[&first], || {
        src.requests() == 1 && runs(d).iter().any(|r| r.outcome == "running")
    });
    first.kill_9();
    let stuck = runs(d);
    assert_eq!(stuck.len(), 1);
    assert_eq!(stuck[0].outcome, "running");
    assert!(smtp.received().is_empty());

    src.release();
    let all = restart_after_kill(d);
    // One pull by the killed server, one by the restarted one, no more.
    assert_eq!(src.requests(), 2);
    let key = all[1].period.clone();
    assert_eq!(
        emails(d, &smtp),
        [("monthly".to_string(), key, "ceo@example.com".to_string())]
    );
}

#[test]
fn a_server_killed_mid_delivery_sends_the_rest_once_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    // The first recipient gets the report; the server then sits on the
    // second one's RCPT TO while the first process is killed.
    smtp.hold("vp@example.com");
    write_config(d, "", &smtp, None, MONTHLY_TO_TWO);

    let mut first = Proc::serve(d, "first");
    wait_until("the first server is mid-delivery", &[&first], || {
        smtp.held() == 1
    });
    first.kill_9();
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["ceo@example.com"]);
    let stuck = runs(d);
    assert_eq!(stuck.len(), 1, "{stuck:#?}");
    assert_eq!(stuck[0].outcome, "running");

    smtp.release();
    let all = restart_after_kill(d);
    assert_recipients(&all[1], &["vp@example.com"], &["ceo@example.com"]);
    assert_eq!(emails(d, &smtp), once_each(d, &[("monthly", TWO)]));
    assert_eq!(smtp.received().len(), 2);
}

#[test]
fn a_manual_run_beside_a_delivering_server_waits_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    smtp.hold("vp@example.com");
    write_config(d, "", &smtp, None, MONTHLY_TO_TWO);
    let mut s = Proc::serve(d, "serve");
    wait_until("serve is mid-delivery", &[&s], || smtp.held() == 1);
    let attempts = smtp.attempts();

    // The same period by hand, while serve holds it: it waits, before it
    // pulls, records or sends anything.
    let mut manual = Proc::spawn(d, "manual", &["run", "--report", "monthly"]);
    wait_until("the manual run waits for serve", &[&s, &manual], || {
        manual.events("another salesops process (") == 1
    });
    assert_eq!(smtp.attempts(), attempts, "the manual run sent nothing");
    assert_eq!(runs(d).len(), 1, "the manual run recorded nothing");

    // Serve finishes; the manual run then finds everyone served.
    smtp.release();
    assert_eq!(manual.wait_exit().code(), Some(0), "{}", manual.log());
    assert!(
        manual
            .stdout()
            .contains("already sent to ceo@example.com, vp@example.com"),
        "{}",
        manual.stdout()
    );
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());

    let all = runs(d);
    assert_eq!(
        outcomes(&all),
        [("catch-up", "ok"), ("manual", "ok")],
        "{all:#?}"
    );
    assert_eq!(all[0].period, all[1].period);
    assert_recipients(&all[1], &[], TWO);
    assert_eq!(emails(d, &smtp), once_each(d, &[("monthly", TWO)]));
    assert_eq!(smtp.received().len(), 2);
}

#[test]
fn a_partial_delivery_is_retried_for_the_failed_recipient_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    smtp.refuse("vp@example.com");
    // A monthly schedule: only catch-up runs it now.
    write_config(
        d,
        "retry_for_minutes = 1",
        &smtp,
        None,
        r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "0 7 1 * *"
to = ["ceo@example.com", "vp@example.com"]
"#,
    );
    let mut s = Proc::serve(d, "serve");
    wait_until("a partly delivered run", &[&s], || {
        runs(d).iter().any(|r| r.outcome == "partial")
    });
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, ["ceo@example.com"]);
    smtp.accept_all();
    wait_until("the retry delivered the rest", &[&s], || {
        !ok_runs(d).is_empty()
    });
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());

    let all = runs(d);
    assert_eq!(
        outcomes(&all),
        [("catch-up", "partial"), ("retry", "ok")],
        "{all:#?}"
    );
    assert_eq!(all[0].period, all[1].period);
    assert_recipients(&all[0], &["ceo@example.com"], &[]);
    assert_recipients(&all[1], &["vp@example.com"], &["ceo@example.com"]);

    // A restart finds the period done: no run, no email.
    let mut again = Proc::serve(d, "again");
    wait_until("the restart looked at the period", &[&again], || {
        again.events("catch-up: the latest scheduled period already ran ok") == 1
    });
    assert_eq!(again.terminate().code(), Some(0), "{}", again.log());
    assert_eq!(runs(d).len(), 2);
    assert_eq!(emails(d, &smtp), once_each(d, &[("monthly", TWO)]));
    assert_eq!(smtp.received().len(), 2);
}

#[test]
fn sigterm_lets_the_run_in_flight_finish_and_send() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    let src = SlowSource::start();
    write_config(
        d,
        "shutdown_timeout_seconds = 60",
        &smtp,
        Some(&src.url),
        MONTHLY_EVERY_SECOND,
    );
    let mut s = Proc::serve(d, "serve");
    wait_until("a run in flight", &[&s], || src.requests() == 1);
    s.signal(libc::SIGTERM);
    wait_until("shutdown began", &[&s], || {
        s.events("shutting down: no new runs") == 1
    });
    assert_eq!(runs(d)[0].outcome, "running");
    src.release();
    assert_eq!(s.wait_exit().code(), Some(0), "{}", s.log());
    let all = runs(d);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].outcome, "ok", "{all:#?}");
    assert_eq!(
        emails(d, &smtp),
        [(
            "monthly".to_string(),
            all[0].period.clone(),
            "ceo@example.com".to_string()
        )]
    );
}

#[test]
fn shutdown_gives_up_on_a_run_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    let src = SlowSource::start();
    write_config(
        d,
        "shutdown_timeout_seconds = 1",
        &smtp,
        Some(&src.url),
        MONTHLY_EVERY_SECOND,
    );
    let mut s = Proc::serve(d, "serve");
    wait_until("a run in flight", &[&s], || src.requests() == 1);
    let status = s.terminate();
    assert_eq!(status.code(), Some(1), "{}", s.log());
    assert_eq!(
        s.events("runs still going after shutdown_timeout_seconds"),
        1
    );
    assert_eq!(runs(d)[0].outcome, "running");
    assert_eq!(smtp.attempts(), 0);
}

#[test]
fn catch_up_runs_a_missed_period_and_retries_until_it_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let smtp = TestSmtp::start();
    // A monthly schedule: its latest fire is in the past, so only
    // catch-up can run it. The source file is missing at first.
    write_config(
        d,
        "retry_for_minutes = 1",
        &smtp,
        Some("crm.json"),
        r#"
[[reports]]
name = "monthly"
period = "previous_month"
schedule = "0 7 1 * *"
to = ["ceo@example.com"]
"#,
    );
    let mut s = Proc::serve(d, "serve");
    wait_until("the catch-up run failed", &[&s], || {
        runs(d).iter().any(|r| r.outcome == "failed")
    });
    assert_eq!(smtp.attempts(), 0, "nothing is sent on missing data");
    std::fs::copy(
        common::fixtures().join("vectors/crm-final.json"),
        d.join("crm.json"),
    )
    .unwrap();
    wait_until("the retry succeeded", &[&s], || !ok_runs(d).is_empty());
    assert_eq!(s.terminate().code(), Some(0), "{}", s.log());

    let all = runs(d);
    assert_eq!(
        outcomes(&all),
        [("catch-up", "failed"), ("retry", "ok")],
        "{all:#?}"
    );
    let (failed, ok) = (&all[0], &all[1]);
    assert!(
        failed.error.as_deref().unwrap().contains("crm.json"),
        "{failed:?}"
    );
    assert_eq!(failed.period, ok.period);
    assert!(!ok.period.contains('@'), "a finished month: {}", ok.period);
    assert_eq!(
        failed.fired_at, ok.fired_at,
        "retries keep the fire instant"
    );
    assert_eq!(s.events("catch-up:"), 1);
    assert_eq!(
        emails(d, &smtp),
        once_each(d, &[("monthly", &["ceo@example.com"])])
    );
    assert_eq!(smtp.received().len(), 1);
}
