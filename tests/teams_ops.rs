//! Sales teams in operation (issues 12 and 13), through the real binary:
//! `fan_out = "teams"` delivery to a real SMTP server inside this process
//! (each manager their own team's report, `team_cc` one per team, the
//! organisation's recipients the organisation's only, exactly once, a
//! refused manager retried alone), the team rows of `history` and the
//! run counter, `check` and `check --pull`, and `schedules`.
//!
//! The data and config are the spec's worked example (tests/fixtures/vectors):
//! config teams "Gangnam Growth" (manager growth.lead@) and "Seoul
//! Enterprise" (manager enterprise.lead@), the CRM-only teams "부산 SMB"
//! and "Inside Sales" (no manager), two reps in no team, `team_cc =
//! ["ops@example.com"]`.

mod common;

use assert_cmd::Command;
use common::smtp::{Received, TestSmtp};
use mail_parser::MessageParser;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// The vectors with the organisation's report to ceo@ only, and
    /// `delivery` appended.
    fn new(delivery: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let v = common::fixtures().join("vectors");
        for f in ["crm-early.json", "crm-final.json"] {
            fs::copy(v.join(f), dir.path().join(f)).unwrap();
        }
        let cfg = fs::read_to_string(v.join("salesops.toml"))
            .unwrap()
            .replace(
                "to = [\"ceo@example.com\", \"vp@example.com\"]",
                "to = [\"ceo@example.com\"]",
            );
        assert!(cfg.contains("fan_out = \"teams\"") && cfg.contains("team_cc"));
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

    fn edit_config(&self, f: impl Fn(&str) -> String) {
        let p = self.path("salesops.toml");
        let text = fs::read_to_string(&p).unwrap();
        fs::write(&p, f(&text)).unwrap();
    }

    /// `salesops <args> --config salesops.toml`: (exit code, stdout, stderr).
    fn salesops(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("salesops")
            .unwrap()
            .current_dir(self.dir.path())
            .env_remove("SALESOPS_CONFIG")
            .args(args)
            .args(["--config", "salesops.toml"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `salesops run` on June 2026 (books as of 1 July).
    fn run(&self, extra: &[&str]) -> (i32, String, String) {
        let mut args = vec!["run", "--period", "2026-06", "--as-of", "2026-07-01"];
        args.extend(extra);
        self.salesops(&args)
    }

    fn json(&self, p: &str) -> Value {
        serde_json::from_slice(&fs::read(self.path(p)).unwrap()).unwrap()
    }

    /// A team's report.json for June.
    fn team_json(&self, team: &str) -> Value {
        self.json(&format!("reports/vectors/teams/{team}/2026-06/report.json"))
    }
}

fn smtp_delivery(port: u16) -> String {
    format!(
        "[delivery]\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"Sales Ops <ops@reports.example.com>\"\ntimeout_seconds = 10\nmax_attempts = 2\n"
    )
}

/// Money (a report.json number) as the report writes it in USD.
fn usd(v: &Value) -> String {
    let d = rust_decimal::Decimal::from_str_exact(&v.to_string()).unwrap();
    salesops::render::format::money("USD", d)
}

/// One accepted message, parsed: (subject, text part, Message-ID, To, Cc).
struct Mail {
    subject: String,
    text: String,
    id: String,
    to: Vec<String>,
    cc: Vec<String>,
}

fn addresses(a: Option<&mail_parser::Address>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address().map(str::to_string))
            .collect()
    })
    .unwrap_or_default()
}

/// The messages the server accepted, by envelope recipient.
fn by_recipient(got: &[Received]) -> BTreeMap<String, Vec<Mail>> {
    let mut out: BTreeMap<String, Vec<Mail>> = BTreeMap::new();
    for m in got {
        assert_eq!(m.to.len(), 1, "one envelope recipient per message");
        let msg = MessageParser::default().parse(&m.data).unwrap();
        out.entry(m.to[0].clone()).or_default().push(Mail {
            subject: msg.subject().unwrap().to_string(),
            text: msg.body_text(0).unwrap().to_string(),
            id: msg.message_id().unwrap().to_string(),
            to: addresses(msg.to()),
            cc: addresses(msg.cc()),
        });
    }
    out
}

/// The value of the Prometheus sample `key` in `text`.
fn sample(text: &str, key: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
}

#[test]
fn each_manager_gets_their_own_teams_report_once_and_leadership_the_organisations() {
    let server = TestSmtp::start();
    let fx = Fixture::new(&smtp_delivery(server.port()));
    let (code, out, err) = fx.run(&["--metrics-file", "run.prom"]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");

    let org = fx.json("reports/vectors/2026-06/report.json");
    let org_won = usd(&org["kpis"]["won_revenue"]);
    let mail = by_recipient(&server.received());
    assert_eq!(
        mail.keys().collect::<Vec<_>>(),
        [
            "ceo@example.com",
            "enterprise.lead@example.com",
            "growth.lead@example.com",
            "ops@example.com"
        ],
        "nobody else: the teams without a manager are not emailed"
    );

    // The organisation's recipients get the organisation's report only.
    let ceo = &mail["ceo@example.com"];
    assert_eq!(ceo.len(), 1);
    assert_eq!(
        ceo[0].subject,
        "Sales report · 2026-06 · won $193K (94% of quota)"
    );
    assert!(ceo[0].text.contains(&org_won), "{}", ceo[0].text);

    // Each manager exactly one message: their own team's, with its figures.
    for (manager, team) in [
        ("growth.lead@example.com", "Gangnam Growth"),
        ("enterprise.lead@example.com", "Seoul Enterprise"),
    ] {
        let got = &mail[manager];
        assert_eq!(got.len(), 1, "{manager}: exactly one message");
        let m = &got[0];
        assert!(
            m.subject
                .starts_with(&format!("Sales report · {team} · 2026-06")),
            "{manager}: {}",
            m.subject
        );
        let j = fx.team_json(team);
        assert_eq!(j["team"], team);
        let won = usd(&j["kpis"]["won_revenue"]);
        assert_ne!(won, org_won, "a team's figures are not the organisation's");
        assert!(
            m.text.contains("Won revenue") && m.text.contains(&won),
            "{manager} gets {team}'s won revenue {won}:\n{}",
            m.text
        );
        assert!(!m.text.contains(&org_won), "{}", m.text);
        assert_eq!(m.to, [manager]);
        assert_eq!(m.cc, ["ops@example.com"]);
        assert!(fs::read_to_string(
            fx.path(&format!("reports/vectors/teams/{team}/2026-06/report.txt"))
        )
        .unwrap()
        .contains(&won));
    }

    // team_cc gets one message per emailed team: the same message as its
    // manager (one Message-ID per team report).
    let ops = &mail["ops@example.com"];
    assert_eq!(ops.len(), 2, "one per team with a manager");
    let mut ops_ids: Vec<&str> = ops.iter().map(|m| m.id.as_str()).collect();
    ops_ids.sort();
    let mut manager_ids = vec![
        mail["growth.lead@example.com"][0].id.as_str(),
        mail["enterprise.lead@example.com"][0].id.as_str(),
    ];
    manager_ids.sort();
    assert_eq!(ops_ids, manager_ids);
    assert!(!ops_ids.contains(&ceo[0].id.as_str()));

    // The CRM-only teams (no manager) are written, not emailed.
    for team in ["부산 SMB", "Inside Sales"] {
        assert_eq!(fx.team_json(team)["team"], team);
        assert!(fx
            .path(&format!("reports/vectors/teams/{team}/2026-06/report.html"))
            .exists());
    }
    assert_eq!(server.received().len(), 5);

    // history: the run, then each team report it made, with its recipients.
    let (code, hist, err) = fx.salesops(&["history"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = hist.lines().collect();
    assert!(lines[0].starts_with("REPORT "), "{hist}");
    let row = |l: &str| l.split("  ").next().unwrap().trim().to_string();
    assert_eq!(
        lines
            .iter()
            .filter(|l| !l.starts_with(' '))
            .skip(1)
            .map(|l| row(l))
            .collect::<Vec<_>>(),
        [
            "vectors",
            "vectors/teams/Gangnam Growth",
            "vectors/teams/Seoul Enterprise",
            "vectors/teams/부산 SMB",
            "vectors/teams/Inside Sales"
        ],
        "{hist}"
    );
    for want in [
        "    recipients: sent: ceo@example.com\n    teams: 4 team reports below (4 ok)\n",
        "    recipients: sent: growth.lead@example.com, ops@example.com\n",
        "    recipients: sent: enterprise.lead@example.com, ops@example.com\n",
        "    recipients: none (the team has no manager or channel: written only)\n",
    ] {
        assert!(hist.contains(want), "{want:?} not in:\n{hist}");
    }
    for l in lines.iter().filter(|l| l.starts_with("vectors")) {
        assert!(l.contains(" ok "), "{l}");
    }

    // The run counter: the run once (team ""), and each team report.
    let prom = fs::read_to_string(fx.path("run.prom")).unwrap();
    for team in [
        "",
        "Gangnam Growth",
        "Seoul Enterprise",
        "부산 SMB",
        "Inside Sales",
    ] {
        let key = format!(
            "salesops_report_runs_total{{outcome=\"ok\",report=\"vectors\",team=\"{team}\",trigger=\"manual\"}}"
        );
        assert_eq!(sample(&prom, &key), Some(1.0), "{key}:\n{prom}");
        let last = format!(
            "salesops_report_last_success_timestamp_seconds{{report=\"vectors\",team=\"{team}\"}}"
        );
        assert!(
            sample(&prom, &last).is_some_and(|t| t > 0.0),
            "{last}:\n{prom}"
        );
    }

    // A second run sends nothing.
    let (code, out2, err2) = fx.run(&[]);
    assert_eq!(code, 0, "{err2}");
    assert_eq!(server.received().len(), 5, "nothing sent twice");
    assert!(
        out2.contains("already sent to growth.lead@example.com, ops@example.com"),
        "{out2}"
    );
    assert!(out2.contains("already sent to ceo@example.com"), "{out2}");

    // One team alone (`run --team`, any letter case) is that team's run,
    // named as the run found the team; the report's period stays as it was.
    let (code, _, err3) = fx.run(&["--report", "vectors", "--team", "inside sales"]);
    assert_eq!(code, 0, "{err3}");
    let (_, hist, _) = fx.salesops(&["history", "--limit", "1"]);
    let rows: Vec<&str> = hist
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert_eq!(rows.len(), 1, "{hist}");
    assert!(
        rows[0].starts_with("vectors/teams/Inside Sales  "),
        "{hist}"
    );
    assert!(hist.contains("written only"), "{hist}");
}

#[test]
fn a_refused_manager_is_retried_next_run_and_nobody_else_gets_it_twice() {
    let server = TestSmtp::start();
    server.refuse("growth.lead@example.com");
    let fx = Fixture::new(&smtp_delivery(server.port()));
    let (code, out, err) = fx.run(&[]);
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        err.contains("delivery to growth.lead@example.com (team Gangnam Growth) failed: ")
            && err.contains("550"),
        "{err}"
    );
    let first = server.received();
    let mail = by_recipient(&first);
    assert!(!mail.contains_key("growth.lead@example.com"));
    assert_eq!(mail["ceo@example.com"].len(), 1);
    assert_eq!(mail["enterprise.lead@example.com"].len(), 1);
    assert_eq!(mail["ops@example.com"].len(), 2, "team_cc still gets both");
    assert_eq!(first.len(), 4);

    // history says which team report is short, and the run is partial
    // (so the scheduler retries it).
    let (_, hist, _) = fx.salesops(&["history"]);
    let row = |prefix: &str| {
        hist.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} row in:\n{hist}"))
            .to_string()
    };
    assert!(row("vectors  ").contains(" partial "), "{hist}");
    assert!(
        row("vectors/teams/Gangnam Growth").contains(" partial "),
        "{hist}"
    );
    assert!(
        row("vectors/teams/Seoul Enterprise").contains(" ok "),
        "{hist}"
    );
    assert!(
        hist.contains("    teams: 4 team reports below (1 partial, 3 ok)\n"),
        "{hist}"
    );
    assert!(
        hist.contains("    recipients: sent: ops@example.com; failed: growth.lead@example.com (")
            && hist.contains("550"),
        "{hist}"
    );

    // The next run sends to the refused manager only.
    server.accept_all();
    let (code, out, err) = fx.run(&[]);
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    let all = server.received();
    assert_eq!(all.len(), 5, "one more message");
    let again = by_recipient(&all[4..]);
    let m = &again["growth.lead@example.com"][0];
    assert!(m.subject.contains("Gangnam Growth"), "{}", m.subject);
    assert_eq!(m.cc, ["ops@example.com"], "the same message, cc named");
    let (_, hist, _) = fx.salesops(&["history", "--limit", "1"]);
    assert!(row_ok(&hist, "vectors  "), "{hist}");
    assert!(
        hist.contains("    recipients: sent: growth.lead@example.com; already: ops@example.com\n"),
        "{hist}"
    );
    assert!(
        hist.contains("    teams: 4 team reports below (4 ok)\n"),
        "{hist}"
    );
}

fn row_ok(hist: &str, prefix: &str) -> bool {
    hist.lines()
        .find(|l| l.starts_with(prefix))
        .is_some_and(|l| l.contains(" ok "))
}

#[test]
fn check_lists_the_teams_and_with_pull_matches_them_against_the_crm() {
    let fx = Fixture::new("");
    let (code, out, err) = fx.salesops(&["check"]);
    assert_eq!(code, 0, "{err}");
    for want in [
        "    fan_out = \"teams\": also one report per team, to the team's manager and channels, cc ops@example.com (team_cc)\n",
        "  teams in the config (2); to see them matched against the CRM data (members that match no rep, reps in no team), run salesops check --pull:\n",
        "    Gangnam Growth: manager growth.lead@example.com; members rep-101, PARK.JIHOON@EXAMPLE.COM, Choi.YuNa@Example.com, rep-114, former.rep@example.com\n",
        "    Seoul Enterprise: manager enterprise.lead@example.com; members: the reps whose CRM team is \"Seoul Enterprise\" (letter case ignored)\n",
        "  each fire makes 3 reports: the organisation's and 2 teams' of [[teams]] (fan_out = \"teams\"); each team found only in the CRM data adds one\n",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    assert!(!out.contains("pulled"), "no pull without --pull:\n{out}");

    let (code, out, err) = fx.salesops(&["check", "--pull"]);
    assert_eq!(code, 0, "{err}");
    let pulled = out
        .split_once("\npulled ")
        .unwrap_or_else(|| panic!("{out}"))
        .1;
    let want = "\
file crm-early.json: 16 reps, 980 deals, 6595 activities, 1061 leads
teams as matched against the CRM data: 4 teams, 2 reps in no team
  Gangnam Growth (config; manager growth.lead@example.com): 4 reps
    Lee Seo-yeon <lee.seoyeon@example.com> (rep-101): listed in members
    Park Ji-hoon <park.jihoon@example.com> (rep-102): listed in members
    Choi Yu-na <choi.yuna@example.com> (rep-103): listed in members
    Hwang Bo-ra <hwang.bora@example.com> (rep-114): listed in members
    member \"former.rep@example.com\": matches no rep in the CRM data (check its email or id)
  Seoul Enterprise (config; manager enterprise.lead@example.com): 5 reps
    Kim Min-ji <kim.minji@example.com> (rep-100): CRM team \"seoul enterprise\"
    Kang Do-hyun <kang.dohyun@example.com> (rep-105): CRM team \" SEOUL Enterprise \"
    Han Ye-jin <han.yejin@example.com> (rep-109): CRM team \"Seoul enterprise\"
    Shin Da-eun <shin.daeun@example.com> (rep-112): CRM team \"SEOUL ENTERPRISE\"
    Kwon Tae-yang <kwon.taeyang@example.com> (rep-113): CRM team \"seoul Enterprise  \"
  부산 SMB (CRM only; no manager: written, not emailed): 3 reps
    Jung Hae-won <jung.haewon@example.com> (rep-104): CRM team \"부산 SMB\"
    Yoon Ji-woo <yoon.jiwoo@example.com> (rep-106): CRM team \"부산 smb\"
    Oh Seung-min <oh.seungmin@example.com> (rep-110): CRM team \" 부산 SMB \"
  Inside Sales (CRM only; no manager: written, not emailed): 2 reps
    Lim Chae-won <lim.chaewon@example.com> (rep-108): CRM team \"Inside Sales\"
    Seo Jun-ho <seo.junho@example.com> (rep-111): CRM team \"INSIDE SALES\"
  reps in no team: 2
    Jang Soo-bin <jang.soobin@example.com> (rep-107): no team in the CRM
    Ahn Sung-jae <ahn.sungjae@example.com> (rep-115): no team in the CRM
report \"vectors\" (fan_out = \"teams\") makes 5 reports a run: the organisation's and 4 teams'
";
    assert_eq!(pulled, want);
    // Nothing was written, stored or sent.
    assert!(!fx.path("state").exists() && !fx.path("reports").exists());

    // A rep two teams list is found only in the data: --pull says so (exit 2).
    fx.edit_config(|c| {
        c.replace(
            "manager = \"enterprise.lead@example.com\"",
            "manager = \"enterprise.lead@example.com\"\nmembers = [\"lee.seoyeon@example.com\"]",
        )
    });
    let (code, _, _) = fx.salesops(&["check"]);
    assert_eq!(code, 0, "the config alone cannot tell");
    let (code, _, err) = fx.salesops(&["check", "--pull"]);
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "rep \"rep-101\" is a member of both \"Gangnam Growth\" and \"Seoul Enterprise\""
        ),
        "{err}"
    );
}

#[test]
fn schedules_say_how_many_reports_each_fire_makes() {
    let fx = Fixture::new("");
    let (code, out, err) = fx.salesops(&["schedules", "-n", "1"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        lines[0],
        "vectors: \"0 7 1 * *\" in Asia/Seoul, period previous_month"
    );
    assert_eq!(
        lines[1],
        "  each fire makes 3 reports: the organisation's and 2 teams' of [[teams]] (fan_out = \"teams\"); each team found only in the CRM data adds one"
    );
    assert!(
        lines[2].contains(" KST ") && lines[2].contains(" covers "),
        "{out}"
    );

    // Without fan-out, a fire makes one report and says nothing more.
    fx.edit_config(|c| c.replace("fan_out = \"teams\"", "fan_out = \"none\""));
    let (_, out, _) = fx.salesops(&["schedules", "-n", "1"]);
    assert_eq!(out.lines().count(), 2, "{out}");
}
