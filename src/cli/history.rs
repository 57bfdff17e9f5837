//! `salesops history`: the run log from the state store, newest first, so
//! ops never have to guess whether last month's report went out.

use super::ConfigArg;
use anyhow::Result;
use clap::Args;
use salesops::state::{RunRecord, Store, FILE_NAME};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this report's runs. Default: all reports.
    #[arg(long)]
    pub report: Option<String>,
    /// Show at most this many runs.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

pub fn history(args: HistoryArgs) -> Result<i32> {
    let (s, _) = super::settings(&args.config)?;
    // Reading history must not create a store.
    if !s.state_dir.join(FILE_NAME).exists() {
        println!(
            "no runs recorded yet: there is no state store in {}",
            s.state_dir.display()
        );
        return Ok(0);
    }
    let mut store = Store::open(&s.state_dir)?;
    let runs = store.history(args.report.as_deref(), args.limit)?;
    if runs.is_empty() {
        println!(
            "no runs recorded yet{}",
            match &args.report {
                Some(r) => format!(" for report {r:?}"),
                None => String::new(),
            }
        );
        return Ok(0);
    }
    print!("{}", table(&runs));
    Ok(0)
}

/// "2026-08-01T07:00:00.000Z" → "2026-08-01 07:00:00".
fn when(t: Option<&str>) -> String {
    match t {
        None => "-".into(),
        Some(t) => t.replace('T', " ").chars().take(19).collect(),
    }
}

/// The stored recipients JSON as one readable line; None when nobody.
fn recipients(json: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json?).ok()?;
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .map(|a| {
                a.iter()
                    .map(|x| match x {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Array(p) => format!(
                            "{} ({})",
                            p.first().and_then(|s| s.as_str()).unwrap_or("?"),
                            p.get(1).and_then(|s| s.as_str()).unwrap_or("?")
                        ),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let parts: Vec<String> = ["sent", "already", "failed"]
        .into_iter()
        .filter_map(|k| {
            let l = list(k);
            (!l.is_empty()).then(|| format!("{k}: {}", l.join(", ")))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn table(runs: &[RunRecord]) -> String {
    let head = [
        "REPORT",
        "PERIOD",
        "TRIGGER",
        "FIRED AT (UTC)",
        "STARTED (UTC)",
        "FINISHED (UTC)",
        "OUTCOME",
        "ROWS",
    ];
    let rows: Vec<[String; 8]> = runs
        .iter()
        .map(|r| {
            [
                r.report.clone(),
                r.period.clone(),
                r.trigger.clone(),
                when(r.fired_at.as_deref()),
                when(Some(&r.started_at)),
                when(r.finished_at.as_deref()),
                r.outcome.clone(),
                r.rows_pulled.map(|n| n.to_string()).unwrap_or("-".into()),
            ]
        })
        .collect();
    let mut width = head.map(|h| h.chars().count());
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut l: String = cells
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}  "))
            .collect();
        l.truncate(l.trim_end().len());
        l.push('\n');
        l
    };
    let mut out = line(&head.map(String::from));
    for (row, r) in rows.iter().zip(runs) {
        out.push_str(&line(row));
        if let Some(to) = recipients(r.recipients.as_deref()) {
            out.push_str(&format!("    recipients: {to}\n"));
        }
        if let Some(e) = &r.error {
            out.push_str(&format!("    error: {e}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_recipients_and_errors() {
        let run = |id, outcome: &str, rec: Option<&str>, err: Option<&str>| RunRecord {
            id,
            report: "monthly".into(),
            period: "2026-10".into(),
            trigger: "schedule".into(),
            fired_at: Some("2026-11-01T12:00:00.000Z".into()),
            started_at: "2026-11-01T12:00:00.412Z".into(),
            finished_at: Some("2026-11-01T12:00:03.020Z".into()),
            outcome: outcome.into(),
            rows_pulled: Some(12000),
            recipients: rec.map(String::from),
            error: err.map(String::from),
        };
        let got = table(&[
            run(
                2,
                "partial",
                Some(
                    r#"{"sent":["ceo@example.com"],"already":[],"failed":[["cfo@example.com","550 no such user"]]}"#,
                ),
                None,
            ),
            run(1, "failed", None, Some("pulling the CRM data: timed out")),
        ]);
        let want = "\
REPORT   PERIOD   TRIGGER   FIRED AT (UTC)       STARTED (UTC)        FINISHED (UTC)       OUTCOME  ROWS
monthly  2026-10  schedule  2026-11-01 12:00:00  2026-11-01 12:00:00  2026-11-01 12:00:03  partial  12000
    recipients: sent: ceo@example.com; failed: cfo@example.com (550 no such user)
monthly  2026-10  schedule  2026-11-01 12:00:00  2026-11-01 12:00:00  2026-11-01 12:00:03  failed   12000
    error: pulling the CRM data: timed out
";
        assert_eq!(got, want);
    }
}
