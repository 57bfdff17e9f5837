//! The spec's worked example (shared/spec/vectors, copied into
//! tests/fixtures/vectors): two runs through the real binary on one state
//! store, compared key by key with the expected report.json files.

mod common;

use serde_json::Value;
use std::fs;

fn run(dir: &std::path::Path, crm: &str, period: &str, as_of: &str) -> Value {
    let cfg = fs::read_to_string(common::fixtures().join("vectors/salesops.toml")).unwrap();
    fs::write(
        dir.join("salesops.toml"),
        cfg.replace("crm-early.json", crm),
    )
    .unwrap();
    common::run_report(dir, "vectors", period, as_of)
}

#[test]
fn june_then_july_match_the_expected_reports() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["crm-early.json", "crm-final.json"] {
        fs::copy(
            common::fixtures().join("vectors").join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    let want: Value = serde_json::from_slice(
        &fs::read(common::fixtures().join("vectors/expected-june.json")).unwrap(),
    )
    .unwrap();
    let june = run(dir.path(), "crm-early.json", "2026-06", "2026-07-01");
    common::assert_matches(&want, &june);

    let want: Value = serde_json::from_slice(
        &fs::read(common::fixtures().join("vectors/expected-july.json")).unwrap(),
    )
    .unwrap();
    let july = run(dir.path(), "crm-final.json", "2026-07", "2026-08-01");
    common::assert_matches(&want, &july);
}
