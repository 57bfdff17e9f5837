//! `salesops history`: the run log from the state store, newest first, so
//! ops never have to guess whether last month's report went out. A run of
//! a report with `fan_out = "teams"` is followed by the team reports it
//! made, each as `<report>/teams/<team>` with its own recipients and
//! outcome (the run's outcome counts its teams' too).

use super::ConfigArg;
use anyhow::Result;
use clap::Args;
use salesops::state::{RunRecord, Store, FILE_NAME};

#[derive(Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Only this report's runs (with its team reports). Default: all reports.
    #[arg(long)]
    pub report: Option<String>,
    /// Show at most this many runs (each with its team reports).
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

/// The REPORT column: the report, or `<report>/teams/<team>` (the team
/// report's folder and delivery key).
fn report_cell(r: &RunRecord) -> String {
    match &r.team {
        Some(t) => format!("{}/teams/{t}", r.report),
        None => r.report.clone(),
    }
}

/// Under a run that made team reports: how they went.
fn teams_line(teams: &[&RunRecord]) -> String {
    let mut by: Vec<(&str, usize)> = Vec::new();
    for t in teams {
        match by.iter_mut().find(|(o, _)| *o == t.outcome) {
            Some((_, n)) => *n += 1,
            None => by.push((&t.outcome, 1)),
        }
    }
    let outcomes: Vec<String> = by.iter().map(|(o, n)| format!("{n} {o}")).collect();
    format!(
        "    teams: {} team report{} below ({})\n",
        teams.len(),
        if teams.len() == 1 { "" } else { "s" },
        outcomes.join(", ")
    )
}

fn table(runs: &[RunRecord]) -> String {
    use unicode_width::UnicodeWidthStr;
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
                report_cell(r),
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
    // Display columns: a Hangul team name is twice as wide as its chars.
    let mut width = head.map(|h| h.width());
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.width());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut l: String = cells
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c}{}  ", " ".repeat(w - c.width())))
            .collect();
        l.truncate(l.trim_end().len());
        l.push('\n');
        l
    };
    let mut out = line(&head.map(String::from));
    for (row, r) in rows.iter().zip(runs) {
        out.push_str(&line(row));
        match recipients(r.recipients.as_deref()) {
            Some(to) => out.push_str(&format!("    recipients: {to}\n")),
            // A team report that went to nobody: say so, or it looks lost.
            None if r.team.is_some() && r.outcome == "ok" => out.push_str(
                "    recipients: none (the team has no manager or channel: written only)\n",
            ),
            None => {}
        }
        if let Some(e) = &r.error {
            out.push_str(&format!("    error: {e}\n"));
        }
        let teams: Vec<&RunRecord> = runs.iter().filter(|t| t.parent == Some(r.id)).collect();
        if !teams.is_empty() {
            out.push_str(&teams_line(&teams));
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
            team: None,
            parent: None,
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

    #[test]
    fn team_reports_follow_their_run_aligned_by_display_width() {
        let run = |id, team: Option<&str>, outcome: &str, rec: Option<&str>| RunRecord {
            id,
            report: "monthly".into(),
            team: team.map(String::from),
            parent: team.map(|_| 7),
            period: "2026-10".into(),
            trigger: "manual".into(),
            fired_at: None,
            started_at: "2026-11-01T12:00:00.412Z".into(),
            finished_at: Some("2026-11-01T12:00:03.020Z".into()),
            outcome: outcome.into(),
            rows_pulled: team.is_none().then_some(12000),
            recipients: rec.map(String::from),
            error: None,
        };
        let got = table(&[
            run(
                7,
                None,
                "partial",
                Some(r#"{"sent":["ceo@example.com"],"already":[],"failed":[]}"#),
            ),
            run(
                8,
                Some("Seoul"),
                "partial",
                Some(
                    r#"{"sent":["ops@example.com"],"already":[],"failed":[["lead@example.com","550 no such user"]]}"#,
                ),
            ),
            run(
                9,
                Some("부산 SMB"),
                "ok",
                Some(r#"{"sent":[],"already":[],"failed":[]}"#),
            ),
        ]);
        let want = "\
REPORT                  PERIOD   TRIGGER  FIRED AT (UTC)  STARTED (UTC)        FINISHED (UTC)       OUTCOME  ROWS
monthly                 2026-10  manual   -               2026-11-01 12:00:00  2026-11-01 12:00:03  partial  12000
    recipients: sent: ceo@example.com
    teams: 2 team reports below (1 partial, 1 ok)
monthly/teams/Seoul     2026-10  manual   -               2026-11-01 12:00:00  2026-11-01 12:00:03  partial  -
    recipients: sent: ops@example.com; failed: lead@example.com (550 no such user)
monthly/teams/부산 SMB  2026-10  manual   -               2026-11-01 12:00:00  2026-11-01 12:00:03  ok       -
    recipients: none (the team has no manager or channel: written only)
";
        assert_eq!(got, want);
    }
}
