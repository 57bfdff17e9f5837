//! Every key of the spec on a small data set worked out by hand
//! (tests/fixtures/small, America/New_York), through the real binary and a
//! real SQLite state file. The arithmetic is in the comments.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};
use std::fs;
use std::path::Path;

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["salesops.toml", "crm.json"] {
        fs::copy(common::fixtures().join("small").join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn run(dir: &Path, period: &str, as_of: &str) -> Value {
    common::run_report(dir, "small", period, as_of)
}

#[test]
fn july_every_key_by_hand() {
    let dir = setup();
    let got = run(dir.path(), "2026-07", "2026-08-01");
    let want = json!({
        "period": {"label": "2026-07", "start": "2026-07-01", "end": "2026-08-01"},
        "as_of": "2026-08-01",
        "currency": "USD",
        "kpis": {
            // Won in July before as_of: d1 10,000 + d2 20,000 (created 23:30 local on
            // June 30, which is July 1 in UTC) + d5 6,000. d4 closes on as_of: still open.
            "won_revenue": 36000.0, "deals_won": 3, "deals_lost": 1,
            "win_rate": 0.75, "avg_won_deal_size": 12000.0,
            // Open at as_of: d4 7,000 (won since: weight 1), d6 1,000 × 0.6, d7 no
            // amount (0), d9 4,000 × 0.6; d8 was created on as_of (not yet).
            "pipeline_total": 12000.0, "pipeline_weighted": 10000.0, "avg_open_deal_size": 3000.0,
            // Open closing in August: 7,000 + 1,000 + 0 over August's team quota
            // 25,000 + 10,000 + 10,000 × 22/31 (Park starts Aug 10) = 1,305,000/31.
            "pipeline_coverage": 248000.0 / 1305000.0,
            // Kim 30,000 ≥ 25,000; Lee 6,000 ≥ 10,000 × 16/31; Park has no July quota.
            "quota_attainment_rate": 1.0,
            // Cycles (local dates): d1 06-01 → 07-10 = 39, d2 06-30 → 07-31 = 31, d5 07-16 → 07-25 = 9.
            "sales_cycle_days_mean": 79.0 / 3.0, "sales_cycle_days_median": 31.0,
            // Leads created in July (local): l1..l5 (l4 at 23:30 on July 31).
            // Answered by as_of: l1 0.5 h, l2 2 h, l5 1 h (l4's answer is on as_of).
            "lead_response_hours_median": 1.0, "lead_response_hours_mean": 3.5 / 3.0,
            "leads_unanswered": 2,
            // Within 60 minutes: l1 and l5 (exactly 60) of 5.
            "lead_response_within_sla": 0.4,
            // Selling: call 30 + meetings 60 + 45 + 30 + 30 + email 10 + social 0 = 205;
            // all: + admin 20 + training 60 (unknown owner still counts) = 285.
            // a9 is on as_of, a11 in June.
            "selling_time_share": 205.0 / 285.0,
            // Booked: a2 completed, a8 scheduled (a3 no-show, a7 canceled);
            // prospecting: a1 call, a4 email, a6 social.
            "meetings_per_prospecting_activity": 2.0 / 3.0
        },
        "reps": [
            {"id": "r1", "name": "Kim", "won_revenue": 30000.0, "prev_won_revenue": 2000.0,
             "deals_won": 2, "deals_lost": 1, "win_rate": 2.0 / 3.0, "avg_won_deal_size": 15000.0,
             "pipeline_total": 11000.0, "pipeline_weighted": 9400.0, "quota": 25000.0,
             "attainment": 1.2, "sales_cycle_days_mean": 35.0, "quadrant": "rising_star",
             // 0.10 × 25,000 + 0.15 × 5,000
             "commission": 3250.0},
            {"id": "r2", "name": "Lee", "won_revenue": 6000.0, "prev_won_revenue": 0.0,
             "deals_won": 1, "deals_lost": 0, "win_rate": 1.0, "avg_won_deal_size": 6000.0,
             "pipeline_total": 1000.0, "pipeline_weighted": 600.0,
             // Starts July 16: 10,000 × 16/31
             "quota": 5161.29, "attainment": 6000.0 * 31.0 / 160000.0, "sales_cycle_days_mean": 9.0,
             "quadrant": "rising_star", "commission": 600.0},
            {"id": "r3", "name": "Park", "won_revenue": 0.0, "prev_won_revenue": 0.0,
             "deals_won": 0, "deals_lost": 0, "win_rate": null, "avg_won_deal_size": null,
             "pipeline_total": 0.0, "pipeline_weighted": 0.0, "quota": null, "attainment": null,
             "sales_cycle_days_mean": null, "quadrant": null, "commission": null}
        ],
        "forecasts": {
            // July is over at as_of, so the target is August; nothing won in it yet.
            "target": "2026-08",
            // d4 7,000 × 1 + d6 1,000 × 0.6 + d7 0
            "stage_weighted": 7600.0,
            // Typical cycle of wins in the last 365 days: (39 + 31 + 9 + 45) / 4 = 31.
            // d4 is 27 days old: 7,000 × 27/31; d6 47 days: 1,000 × 1.
            "cycle_length": 7096.77,
            "rep_commit": 1000.0,
            "best_case": 1000.0,
            // (May-July won 38,000) / 3 × 1.05 + 1 new rep (Park) × 5,000
            "historical": 18300.0
        },
        "forecast_accuracy": {},
        // SQLs: l1 (10 + 3), l2 (CRM score 20), l4 (empty events: CRM score 15);
        // l5's pricing visit comes after as_of (5 points only).
        "leads": {"sql_count": 3, "mql_to_sql_rate": 0.6}
    });
    common::assert_matches(&want, &got);
    let notes = got["data_quality"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().contains("d7")),
        "missing-amount note: {notes:?}"
    );
}

#[test]
fn forecast_accuracy_across_two_runs() {
    let dir = setup();
    // Run 1 on July 1: July is running, so it forecasts July itself.
    // Open at July 1 closing in July: d1 10,000 and d2 20,000 (won since: weight 1), d3 (lost: 0).
    let first = run(dir.path(), "2026-07", "2026-07-01");
    assert_eq!(first["forecasts"]["target"], "2026-07");
    assert_eq!(first["forecasts"]["stage_weighted"], json!(30000.0));
    // Run 2 after July: the July 1 forecast is the forecast of record (made on P's start).
    let second = run(dir.path(), "2026-07", "2026-08-01");
    let acc = &second["forecast_accuracy"]["stage_weighted"];
    common::assert_matches(
        &json!({"forecast": 30000.0, "actual": 36000.0, "accuracy": 1.0 - 6000.0 / 36000.0,
                "bias": -6000.0 / 36000.0, "late": false}),
        acc,
    );
    for m in ["cycle_length", "rep_commit", "best_case", "historical"] {
        assert_eq!(
            second["forecast_accuracy"][m]["forecast"], first["forecasts"][m],
            "{m}"
        );
        assert_eq!(second["forecast_accuracy"][m]["late"], json!(false), "{m}");
    }
}

#[test]
fn a_forecast_made_during_the_period_is_late() {
    let dir = setup();
    run(dir.path(), "2026-07", "2026-07-15");
    let after = run(dir.path(), "2026-07", "2026-08-01");
    assert_eq!(
        after["forecast_accuracy"]["stage_weighted"]["late"],
        json!(true)
    );
}

#[test]
fn dry_run_stores_nothing() {
    let dir = setup();
    Command::cargo_bin("salesops")
        .unwrap()
        .current_dir(dir.path())
        .args([
            "run",
            "--config",
            "salesops.toml",
            "--period",
            "2026-07",
            "--as-of",
            "2026-07-01",
            "--dry-run",
        ])
        .assert()
        .success();
    assert!(!dir.path().join("state").exists());
    let after = run(dir.path(), "2026-07", "2026-08-01");
    assert_eq!(after["forecast_accuracy"], json!({}));
}

#[test]
fn quarter_prorates_reps_starting_mid_quarter() {
    let dir = setup();
    let q = run(dir.path(), "2026-Q3", "2026-08-01");
    assert_eq!(
        q["period"],
        json!({"label": "2026-Q3", "start": "2026-07-01", "end": "2026-10-01"})
    );
    // Q3 is running, so it is its own forecast target.
    assert_eq!(q["forecasts"]["target"], "2026-Q3");
    let reps = q["reps"].as_array().unwrap();
    assert_eq!(reps[0]["quota"], json!(75000.0));
    // Lee from July 16: 30,000 × 77/92; Park from Aug 10: 30,000 × 52/92.
    assert_eq!(reps[1]["quota"], json!(25108.7));
    assert_eq!(reps[2]["quota"], json!(16956.52));
    // Park's attainment is 0 of a prorated quota, so he has a quadrant.
    assert_eq!(reps[2]["quadrant"], json!("improving_laggard"));
}

#[test]
fn explicit_range_counts_days_over_30() {
    let dir = setup();
    let r = run(dir.path(), "2026-07-01..2026-07-15", "2026-07-16");
    assert_eq!(r["period"]["label"], "2026-07-01..2026-07-15");
    // Kim: 25,000 × 15/30; Lee starts after the range: no quota.
    assert_eq!(r["reps"][0]["quota"], json!(12500.0));
    assert_eq!(r["reps"][1]["quota"], Value::Null);
    assert_eq!(r["kpis"]["won_revenue"], json!(10000.0));
}

#[test]
fn concurrent_runs_share_the_state_store_safely() {
    let dir = setup();
    let bin = assert_cmd::cargo::cargo_bin("salesops");
    // All six start before any is waited for, so they overlap.
    let children: Vec<_> = [
        "2026-06", "2026-07", "2026-07", "2026-08", "2026-Q3", "2026-Q3",
    ]
    .iter()
    .map(|p| {
        std::process::Command::new(&bin)
            .current_dir(dir.path())
            .args([
                "run",
                "--config",
                "salesops.toml",
                "--period",
                p,
                "--as-of",
                "2026-10-01",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    })
    .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let conn = rusqlite::Connection::open(dir.path().join("state/salesops.sqlite3")).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    // Each distinct (target, as_of) kept its five forecasts (cycle_length may be null).
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT target_label || as_of) FROM forecasts",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(n >= 4, "{n}");
    for p in ["2026-06", "2026-07", "2026-08", "2026-Q3"] {
        assert!(
            dir.path()
                .join("reports/small")
                .join(p)
                .join("report.json")
                .exists(),
            "{p}"
        );
    }
}

#[test]
fn a_period_that_has_not_started_shows_its_forecast() {
    // September, seen on August 1: nothing won yet; the forecast targets
    // September itself (it is not over); d9 is the open deal closing in it.
    let dir = setup();
    let r = run(dir.path(), "2026-09", "2026-08-01");
    assert_eq!(r["kpis"]["won_revenue"], json!(0.0));
    assert_eq!(r["forecasts"]["target"], "2026-09");
    assert_eq!(r["forecasts"]["stage_weighted"], json!(2400.0));
    assert_eq!(r["forecasts"]["rep_commit"], json!(4000.0));
}
