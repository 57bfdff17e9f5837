//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod smtp;

use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Compares `got` with `want` key by key: money and other numbers to 1e-9
/// (money is already rounded to cents on both sides), nulls must be null.
/// Keys only in `got` are ignored. Returns every difference.
pub fn diff(want: &Value, got: &Value, path: &str, out: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                match g.get(k) {
                    Some(gv) => diff(wv, gv, &format!("{path}.{k}"), out),
                    None => out.push(format!("{path}.{k}: missing (want {wv})")),
                }
            }
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                out.push(format!("{path}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                // Items are named by their identifying key when they have one.
                let id = ["id", "period", "metric", "name"]
                    .iter()
                    .find_map(|k| wv.get(*k).and_then(|v| v.as_str()))
                    .map(|s| format!("[{s}]"))
                    .unwrap_or(format!("[{i}]"));
                diff(wv, gv, &format!("{path}{id}"), out);
            }
        }
        (Value::Number(w), Value::Number(g)) => {
            let (w, g) = (w.as_f64().unwrap(), g.as_f64().unwrap());
            if (w - g).abs() > 1e-9 * w.abs().max(1.0) {
                out.push(format!("{path}: got {g}, want {w}"));
            }
        }
        (w, g) if w == g => {}
        (w, g) => out.push(format!("{path}: got {g}, want {w}")),
    }
}

pub fn assert_matches(want: &Value, got: &Value) {
    let mut out = Vec::new();
    diff(want, got, "", &mut out);
    assert!(
        out.is_empty(),
        "{} difference(s):\n{}",
        out.len(),
        out.join("\n")
    );
}

/// The `salesops` binary, run in `dir`, with no config path from the
/// environment.
pub fn salesops(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("salesops").unwrap();
    c.current_dir(dir).env_remove("SALESOPS_CONFIG");
    c
}

/// A working folder with `config` as salesops.toml and `crm` as the file
/// source's crm.json.
pub fn workdir(config: &str, crm: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("salesops.toml"), config).unwrap();
    write_crm(dir.path(), crm);
    dir
}

/// Writes (or replaces) `dir`/crm.json.
pub fn write_crm(dir: &Path, crm: &Value) {
    std::fs::write(
        dir.join("crm.json"),
        serde_json::to_vec_pretty(crm).unwrap(),
    )
    .unwrap();
}

/// Runs `salesops run --config salesops.toml --period P --as-of D` in `dir`
/// (it must succeed) and returns that report's report.json.
pub fn run_report(dir: &Path, report: &str, period: &str, as_of: &str) -> Value {
    salesops(dir)
        .args([
            "run",
            "--config",
            "salesops.toml",
            "--period",
            period,
            "--as-of",
            as_of,
        ])
        .assert()
        .success();
    let path = dir
        .join("reports")
        .join(report)
        .join(period)
        .join("report.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
