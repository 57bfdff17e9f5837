//! The spec's worked example (shared/spec/vectors, copied into
//! tests/fixtures/vectors): the runs of its README through the real binary
//! on one state store, compared key by key with the expected report.json
//! files (money to the cent, other numbers to 1e-9, nulls null).
//!
//! Known differences: the expected files were made by an implementation
//! that sums amounts in binary floating point. Where the exact sum (which
//! METRICS.md asks for: "sums of cents stay exact") ends on an exact half
//! cent, its float sum can land a hair below or above, and rounds the other
//! way. Each such key is listed here with its exact value; everything that
//! depends on it (accuracy, bias, mean accuracy) moves with it. See
//! docs/metrics.md "Money and rounding".

mod common;

use serde_json::Value;
use std::fs;
use std::path::Path;

/// Keys where the expected file holds a float sum's rounding of an exact
/// half cent (the exact value in the comment), in any of the files.
const FLOAT_HALF_CENTS: &[&str] = &[
    // 29,122.70 / 4 = 7,280.675 exactly; the float sum 29122.699999999997 gives .67
    ".reps[rep-101].avg_won_deal_size",
    // Σ amount × probability = 115,869.535 exactly (reconstructed March forecast)
    ".forecast_track_record.methods.stage_weighted[2026-03].forecast",
    ".forecast_track_record.methods.stage_weighted[2026-03].accuracy",
    ".forecast_track_record.methods.stage_weighted[2026-03].bias",
    ".forecast_track_record.mean_accuracy.stage_weighted",
    // Σ amount × probability = 15,588.605 exactly
    ".reps[rep-106].pipeline_weighted",
    // 449,204.50 / 3 × 1.05 + 5,000 = 162,221.575 exactly
    ".forecasts.historical",
];

fn expected(name: &str) -> Value {
    serde_json::from_slice(&fs::read(common::fixtures().join("vectors").join(name)).unwrap())
        .unwrap()
}

fn run(dir: &Path, crm: &str, period: &str, as_of: &str) -> Value {
    let cfg = fs::read_to_string(common::fixtures().join("vectors/salesops.toml")).unwrap();
    fs::write(
        dir.join("salesops.toml"),
        cfg.replace("crm-early.json", crm),
    )
    .unwrap();
    common::run_report(dir, "vectors", period, as_of)
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in ["crm-early.json", "crm-final.json"] {
        fs::copy(
            common::fixtures().join("vectors").join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    dir
}

/// Every difference except the known float half cents; and each known one
/// must really differ by no more than that half cent's consequences.
fn assert_matches(want: &Value, got: &Value) {
    let mut out = Vec::new();
    common::diff(want, got, "", &mut out);
    let unexpected: Vec<&String> = out
        .iter()
        .filter(|d| {
            !FLOAT_HALF_CENTS
                .iter()
                .any(|k| d.starts_with(&format!("{k}:")))
        })
        .collect();
    assert!(
        unexpected.is_empty(),
        "{} difference(s):\n{}",
        unexpected.len(),
        unexpected
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    for d in &out {
        // "path: got G, want W": a cent at most apart for money, 1e-6 for ratios.
        let (g, w) = d
            .split_once(": got ")
            .unwrap()
            .1
            .split_once(", want ")
            .unwrap();
        let (g, w): (f64, f64) = (g.parse().unwrap(), w.parse().unwrap());
        assert!((g - w).abs() <= 0.0100001, "{d}");
    }
}

#[test]
fn june_then_july_match_the_expected_reports() {
    let dir = setup();
    let june = run(dir.path(), "crm-early.json", "2026-06", "2026-07-01");
    assert_matches(&expected("expected-june.json"), &june);
    assert_eq!(june["team"], Value::Null);

    let july = run(dir.path(), "crm-final.json", "2026-07", "2026-08-01");
    assert_matches(&expected("expected-july.json"), &july);

    // The team's own report of the same run, judged on its own forecasts.
    let team_json = dir
        .path()
        .join("reports/vectors/teams/Seoul Enterprise/2026-07/report.json");
    let team: Value = serde_json::from_slice(&fs::read(team_json).unwrap()).unwrap();
    assert_matches(&expected("expected-july-team-seoul-enterprise.json"), &team);
    assert!(
        team.get("teams").is_none(),
        "a team's report has no teams list"
    );
}

#[test]
fn june_from_todays_books_equals_june_as_it_stood() {
    // The point-in-time pair: today's snapshot with history, read at
    // as_of, gives the report made on July 1 from July 1's snapshot.
    let dir = setup();
    let june = run(dir.path(), "crm-final.json", "2026-06", "2026-07-01");
    assert_matches(&expected("expected-june-from-final.json"), &june);
    let early = expected("expected-june.json");
    assert_eq!(early, expected("expected-june-from-final.json"));
}

#[test]
fn team_report_alone_equals_the_fanned_out_one() {
    // `--report vectors --team "Seoul Enterprise"` after the June run gives
    // the same report.json as the fan-out.
    let dir = setup();
    run(dir.path(), "crm-early.json", "2026-06", "2026-07-01");
    let cfg = fs::read_to_string(common::fixtures().join("vectors/salesops.toml")).unwrap();
    fs::write(
        dir.path().join("salesops.toml"),
        cfg.replace("crm-early.json", "crm-final.json"),
    )
    .unwrap();
    assert_cmd::Command::cargo_bin("salesops")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("SALESOPS_CONFIG")
        .args([
            "run",
            "--config",
            "salesops.toml",
            "--period",
            "2026-07",
            "--as-of",
            "2026-08-01",
        ])
        .args([
            "--report",
            "vectors",
            "--team",
            "seoul enterprise",
            "--dry-run",
        ])
        .assert()
        .success();
    let team_json = dir
        .path()
        .join("reports/vectors/teams/Seoul Enterprise/2026-07/report.json");
    let team: Value = serde_json::from_slice(&fs::read(team_json).unwrap()).unwrap();
    assert_matches(&expected("expected-july-team-seoul-enterprise.json"), &team);
    // Only the team's report was made.
    assert!(!dir.path().join("reports/vectors/2026-07").exists());
}
