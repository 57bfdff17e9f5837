//! The binary end to end: the demo run, `check`, and bad input that must
//! fail clearly, exit non-zero and leave nothing behind.

mod common;
use common::salesops;

use predicates::str::contains;
use std::fs;
use std::path::Path;

fn small(dir: &Path) {
    for f in ["salesops.toml", "crm.json"] {
        fs::copy(common::fixtures().join("small").join(f), dir.join(f)).unwrap();
    }
}

/// No report, no stored forecast, no delivery. The run log may record the
/// failed attempt (so `salesops history` shows it), and nothing else.
fn nothing_written(dir: &Path) {
    assert!(!dir.join("reports").exists(), "a report was written");
    let db = dir.join("state/salesops.sqlite3");
    if db.exists() {
        let conn = rusqlite::Connection::open(db).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(
            count("SELECT COUNT(*) FROM forecasts"),
            0,
            "forecasts were stored"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM deliveries"),
            0,
            "a delivery was recorded"
        );
        assert_eq!(
            count("SELECT COUNT(*) FROM runs WHERE outcome <> 'failed'"),
            0,
            "a run counted as done"
        );
    }
}

#[test]
fn demo_run_needs_no_config() {
    let dir = tempfile::tempdir().unwrap();
    salesops(dir.path())
        .arg("run")
        .assert()
        .success()
        .stdout(contains("won revenue"))
        .stdout(contains("report.json"));
    let reports = dir.path().join("reports/monthly");
    // The organisation's period folder (beside the teams' folder).
    let period = fs::read_dir(&reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap() != "teams")
        .unwrap();
    assert!(reports.join("teams").is_dir(), "the demo fans out to teams");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(period.join("report.json")).unwrap()).unwrap();
    assert!(
        json["kpis"]["deals_won"].as_u64().unwrap() > 0,
        "last month has wins"
    );
    assert!(json["reps"].as_array().unwrap().len() >= 12);
}

#[test]
fn check_says_what_it_would_do() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    salesops(dir.path())
        .args(["check", "--config", "salesops.toml"])
        .assert()
        .success()
        .stdout(contains("config ok"))
        .stdout(contains("report \"small\""));
}

#[test]
fn wrong_type_in_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let cfg = fs::read_to_string(dir.path().join("salesops.toml")).unwrap()
        + "\n[forecast]\ngrowth_rate = \"5%\"\n";
    fs::write(dir.path().join("salesops.toml"), cfg).unwrap();
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .assert()
        .code(2)
        .stderr(contains(
            "forecast.growth_rate: expected a number, got \"5%\"",
        ));
    nothing_written(dir.path());
}

#[test]
fn all_config_problems_are_listed_together() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let cfg = fs::read_to_string(dir.path().join("salesops.toml"))
        .unwrap()
        .replace("America/New_York", "America/Nowhere")
        .replace("default_role = \"junior\"", "default_role = \"intern\"");
    fs::write(dir.path().join("salesops.toml"), cfg).unwrap();
    salesops(dir.path())
        .args(["check", "--config", "salesops.toml"])
        .assert()
        .code(2)
        .stderr(contains("2 problem(s)"))
        .stderr(contains("timezone: \"America/Nowhere\""))
        .stderr(contains("default_role: \"intern\""));
}

#[test]
fn missing_config_file_says_so() {
    let dir = tempfile::tempdir().unwrap();
    salesops(dir.path())
        .args(["run", "--config", "nope.toml"])
        .assert()
        .code(2)
        .stderr(contains("nope.toml"));
}

#[test]
fn bad_period_and_bad_date() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--period", "2026-13"])
        .assert()
        .code(2)
        .stderr(contains("\"2026-13\" is not a period"));
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--as-of", "2026-02-30"])
        .assert()
        .code(2)
        .stderr(contains("2026-02-30"));
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--report", "weekly"])
        .assert()
        .code(2)
        .stderr(contains("--report \"weekly\" is not configured"));
    nothing_written(dir.path());
}

#[test]
fn broken_record_stops_the_run_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let crm = fs::read_to_string(dir.path().join("crm.json"))
        .unwrap()
        .replace("\"2026-07-10\"", "\"2026-13-01\"");
    fs::write(dir.path().join("crm.json"), crm).unwrap();
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--period", "2026-07"])
        .assert()
        .code(2)
        .stderr(contains(
            "deals[0] (id \"d1\").close_date: \"2026-13-01\" is not a date",
        ))
        .stderr(contains("skip_bad_records"));
    nothing_written(dir.path());

    // With skip_bad_records the record is skipped and listed.
    let cfg = fs::read_to_string(dir.path().join("salesops.toml"))
        .unwrap()
        .replace(
            "path = \"crm.json\"",
            "path = \"crm.json\"\nskip_bad_records = true",
        );
    fs::write(dir.path().join("salesops.toml"), cfg).unwrap();
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--period", "2026-07"])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(
        &fs::read(dir.path().join("reports/small/2026-07/report.json")).unwrap(),
    )
    .unwrap();
    let notes = json["data_quality"].to_string();
    assert!(
        notes.contains("skipped deals[0] (id \\\"d1\\\").close_date"),
        "{notes}"
    );
}

#[test]
fn malformed_json_names_the_place() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let crm = fs::read_to_string(dir.path().join("crm.json"))
        .unwrap()
        .replacen("\"r1\"", "\"r1\",,", 1);
    fs::write(dir.path().join("crm.json"), crm).unwrap();
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml", "--period", "2026-07"])
        .assert()
        .code(2)
        .stderr(contains("not valid snapshot JSON at reps[0]"));
    nothing_written(dir.path());
}

#[test]
fn snapshot_over_http() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let body = fs::read(dir.path().join("crm.json")).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let s = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/crm.json"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_bytes(body))
            .mount(&s)
            .await;
        wiremock::Mock::given(wiremock::matchers::path("/gone.json"))
            .respond_with(wiremock::ResponseTemplate::new(404))
            .mount(&s)
            .await;
        s
    });
    let cfg = fs::read_to_string(dir.path().join("salesops.toml")).unwrap();
    fs::write(
        dir.path().join("http.toml"),
        cfg.replace("crm.json", &format!("{}/crm.json", server.uri())),
    )
    .unwrap();
    fs::write(
        dir.path().join("gone.toml"),
        cfg.replace("crm.json", &format!("{}/gone.json", server.uri())),
    )
    .unwrap();
    salesops(dir.path())
        .args([
            "run",
            "--config",
            "gone.toml",
            "--period",
            "2026-07",
            "--as-of",
            "2026-08-01",
        ])
        .assert()
        .code(2)
        .stderr(contains("404"));
    nothing_written(dir.path());
    salesops(dir.path())
        .args([
            "run",
            "--config",
            "http.toml",
            "--period",
            "2026-07",
            "--as-of",
            "2026-08-01",
        ])
        .assert()
        .success();
    let json: serde_json::Value = serde_json::from_slice(
        &fs::read(dir.path().join("reports/small/2026-07/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["kpis"]["won_revenue"], serde_json::json!(36000.0));
}
