//! The run log: every run, manual or scheduled, becomes one row per report
//! in the state store's `runs` table and two tracing events (started; then
//! finished with duration, rows pulled, recipients and outcome), so ops can
//! always tell whether a report went out. A report's run with `fan_out =
//! "teams"` also gets a row per team report it makes (its `team`, and the
//! run as `parent`), with the team's own recipients and outcome; the
//! report's row has its own recipients and the outcome of the whole run,
//! teams included (a run is done, for claims and catch-up, when every
//! report it made went out). A `run --team` row is that team's. A dry run
//! changes no state, so it is traced only. It never decides anything about
//! the run itself.

use super::{DeliveryOutcome, ReportOutcome, RunOptions, Trigger};
use crate::config::{ReportSettings, Settings};
use crate::period::Period;
use crate::state::{holder, RunEnd, Store};
use anyhow::Result;
use chrono::{DateTime, NaiveDate, Utc};
use std::path::PathBuf;
use std::time::Instant;

pub(super) struct RunLog {
    state_dir: PathBuf,
    dry_run: bool,
    /// `run --team`: the team asked for (as typed, until the run names it).
    team: Option<String>,
    trigger: Trigger,
    fired_at: Option<DateTime<Utc>>,
    store: Option<Store>,
    rows_pulled: Option<usize>,
    deals_pulled: Option<usize>,
    entries: Vec<Entry>,
}

struct Entry {
    id: Option<i64>,
    report: String,
    /// The team of a team's report (a row of its own).
    team: Option<String>,
    /// A team report made by its report's run (`fan_out = "teams"`).
    child: bool,
    key: String,
    started_at: DateTime<Utc>,
    clock: Instant,
    ended: bool,
}

/// The run log's recipients column: {"sent": [..], "already": [..],
/// "failed": [[who, why], ..]}.
fn recipients_json(d: &DeliveryOutcome) -> String {
    serde_json::json!({
        "sent": d.sent,
        "already": d.already,
        "failed": d.failed,
    })
    .to_string()
}

fn counts(d: &DeliveryOutcome) -> (usize, usize, usize) {
    (d.sent.len(), d.already.len(), d.failed.len())
}

/// The run log's words for how a report's run that got as far as
/// delivering ended: "ok" when no recipient failed, "partial" when some
/// failed but others have the report, "failed" (with the reasons) when
/// nobody has it.
fn outcome_of(d: &DeliveryOutcome) -> (&'static str, Option<String>) {
    if d.failed.is_empty() {
        ("ok", None)
    } else if d.sent.is_empty() && d.already.is_empty() {
        let why: Vec<String> = d
            .failed
            .iter()
            .map(|(to, why)| format!("{to}: {why}"))
            .collect();
        (
            "failed",
            Some(format!("no recipient got the report: {}", why.join("; "))),
        )
    } else {
        ("partial", None)
    }
}

impl RunLog {
    pub(super) fn new(s: &Settings, opts: &RunOptions) -> RunLog {
        RunLog {
            state_dir: s.state_dir.clone(),
            dry_run: opts.dry_run,
            team: opts.team.as_deref().map(|t| t.trim().to_string()),
            trigger: opts.trigger,
            fired_at: opts.fired_at,
            store: None,
            rows_pulled: None,
            deals_pulled: None,
            entries: Vec::new(),
        }
    }

    /// One "running" row per planned report.
    pub(super) fn started(
        &mut self,
        reports: &[&ReportSettings],
        plans: &[(Period, NaiveDate)],
    ) -> Result<()> {
        if !self.dry_run {
            self.store = Some(Store::open(&self.state_dir)?);
        }
        for (r, (period, as_of)) in reports.iter().zip(plans) {
            let key = period.key(*as_of);
            let started_at = Utc::now();
            let id = match self.store.as_mut() {
                Some(st) => {
                    let id = st.run_started(
                        &r.name,
                        &key,
                        self.trigger.as_str(),
                        self.fired_at,
                        holder::this_process(),
                        started_at,
                    )?;
                    if let Some(t) = &self.team {
                        st.set_run_team(id, t)?;
                    }
                    Some(id)
                }
                None => None,
            };
            tracing::info!(
                report = %r.name,
                team = self.team.as_deref(),
                period = %key,
                trigger = self.trigger.as_str(),
                fired_at = self.fired_at.map(crate::state::ts),
                dry_run = self.dry_run,
                "run started"
            );
            self.entries.push(Entry {
                id,
                report: r.name.clone(),
                team: self.team.clone(),
                child: false,
                key,
                started_at,
                clock: Instant::now(),
                ended: false,
            });
        }
        Ok(())
    }

    pub(super) fn pulled(&mut self, rows: usize, deals: usize) {
        self.rows_pulled = Some(rows);
        self.deals_pulled = Some(deals);
    }

    /// Report `report`'s run made these teams' reports and is about to
    /// deliver them: one "running" row each, under the report's row. A row
    /// that cannot be written is logged, and the run goes on.
    pub(super) fn teams_started<'a>(
        &mut self,
        report: &str,
        teams: impl IntoIterator<Item = &'a str>,
    ) {
        let Some(parent) = self
            .entries
            .iter()
            .find(|e| !e.ended && !e.child && e.report == report)
        else {
            return;
        };
        let (parent_id, key) = (parent.id, parent.key.clone());
        for team in teams {
            let started_at = Utc::now();
            let id = match (self.store.as_mut(), parent_id) {
                (Some(st), Some(p)) => match st.team_run_started(p, team, started_at) {
                    Ok(id) => Some(id),
                    Err(err) => {
                        tracing::error!(
                            report,
                            team,
                            period = %key,
                            error_code = crate::error_code::ErrorCode::RunLogWriteFailed.as_str(),
                            "cannot record this team report in the state store's run log: {err:#}"
                        );
                        None
                    }
                },
                _ => None,
            };
            self.entries.push(Entry {
                id,
                report: report.to_string(),
                team: Some(team.to_string()),
                child: true,
                key: key.clone(),
                started_at,
                clock: Instant::now(),
                ended: false,
            });
        }
    }

    /// A team report of report `report`'s run is delivered (as far as it
    /// goes): its row ends with its own recipients and outcome.
    pub(super) fn team_done(&mut self, report: &str, t: &ReportOutcome) {
        let Some(j) = self.entries.iter().position(|e| {
            !e.ended && e.child && e.report == report && e.team.as_deref() == t.team.as_deref()
        }) else {
            return;
        };
        let (outcome, error) = outcome_of(&t.delivery);
        let recipients = recipients_json(&t.delivery);
        self.end(
            j,
            outcome,
            Some(&recipients),
            error.as_deref(),
            counts(&t.delivery),
        );
    }

    pub(super) fn report_done(&mut self, name: &str, res: &Result<ReportOutcome>) {
        let Some(i) = self
            .entries
            .iter()
            .position(|e| !e.ended && !e.child && e.report == name)
        else {
            return;
        };
        match res {
            Ok(o) => {
                for t in &o.teams {
                    self.team_done(name, t);
                }
                // `run --team`: the team as the run found it (a CRM team's
                // spelling, not the one typed).
                if let (Some(team), false) = (&o.team, o.team == self.entries[i].team) {
                    self.entries[i].team = Some(team.clone());
                    if let (Some(st), Some(id)) = (self.store.as_mut(), self.entries[i].id) {
                        if let Err(err) = st.set_run_team(id, team) {
                            tracing::error!(
                                report = name,
                                error_code =
                                    crate::error_code::ErrorCode::RunLogWriteFailed.as_str(),
                                "cannot record the team of this run in the state store: {err:#}"
                            );
                        }
                    }
                }
                // The report's own recipients; the outcome of all it made.
                let all = o.delivery_all();
                let recipients = recipients_json(&o.delivery);
                let (outcome, error) = outcome_of(&all);
                self.end(
                    i,
                    outcome,
                    Some(&recipients),
                    error.as_deref(),
                    counts(&all),
                );
            }
            Err(e) => {
                let why = format!("{e:#}");
                while let Some(j) = self
                    .entries
                    .iter()
                    .position(|e| !e.ended && e.child && e.report == name)
                {
                    self.end(j, "failed", None, Some(&why), (0, 0, 0));
                }
                self.end(i, "failed", None, Some(&why), (0, 0, 0));
            }
        }
    }

    /// Ends every row not ended yet: the run stopped with `err` before
    /// reaching those reports.
    pub(super) fn finish(mut self, err: Option<&anyhow::Error>) {
        let err = match err {
            Some(e) => format!("{e:#}"),
            None => "the run ended without reporting on this report".into(),
        };
        for i in 0..self.entries.len() {
            if !self.entries[i].ended {
                self.end(i, "failed", None, Some(&err), (0, 0, 0));
            }
        }
    }

    fn end(
        &mut self,
        i: usize,
        outcome: &str,
        recipients: Option<&str>,
        error: Option<&str>,
        (sent, already, failed): (usize, usize, usize),
    ) {
        // Secrets and control characters from outside never reach the
        // run log, `history` or the log.
        let recipients = recipients.map(|r| crate::redact::clean(r, false));
        let recipients = recipients.as_deref();
        let error = error.map(|r| crate::redact::clean(r, true));
        let error = error.as_deref();
        let e = &mut self.entries[i];
        e.ended = true;
        let finished_at = Utc::now();
        let took = e.clock.elapsed();
        let duration_ms = took.as_millis() as u64;
        if !self.dry_run {
            // team "": the organisation's report.
            let trigger = self.trigger.as_str();
            let team = e.team.as_deref().unwrap_or("");
            if e.child {
                crate::telemetry::team_run(&e.report, team, trigger, outcome, finished_at);
            } else {
                crate::telemetry::report_run(&e.report, team, trigger, outcome, took, finished_at);
            }
        }
        // The pull is the run's, counted on its row only.
        let (rows_pulled, deals_pulled) = match e.child {
            true => (None, None),
            false => (self.rows_pulled, self.deals_pulled),
        };
        if let (Some(st), Some(id)) = (self.store.as_mut(), e.id) {
            let end = RunEnd {
                finished_at,
                outcome,
                rows_pulled: rows_pulled.map(|n| n as i64),
                deals_pulled: deals_pulled.map(|n| n as i64),
                recipients,
                error,
            };
            if let Err(err) = st.run_finished(id, &end) {
                tracing::error!(
                    report = %e.report,
                    team = e.team.as_deref(),
                    period = %e.key,
                    error_code = crate::error_code::ErrorCode::RunLogWriteFailed.as_str(),
                    "cannot record the end of this run in the state store ({}): {err:#}",
                    st.path().display()
                );
            }
        }
        // One event either way; only the level, message and error differ.
        macro_rules! ended {
            ($level:expr, $($rest:tt)*) => {
                tracing::event!(
                    $level,
                    report = %e.report,
                    team = e.team.as_deref(),
                    period = %e.key,
                    trigger = self.trigger.as_str(),
                    fired_at = self.fired_at.map(crate::state::ts),
                    started_at = crate::state::ts(e.started_at),
                    finished_at = crate::state::ts(finished_at),
                    duration_ms,
                    rows_pulled,
                    sent,
                    already,
                    failed,
                    outcome,
                    $($rest)*
                )
            };
        }
        match error {
            // A team report's failure is its run's too: alerted there once.
            None if e.child => ended!(tracing::Level::INFO, "team report finished"),
            Some(error) if e.child => ended!(tracing::Level::WARN, error, "team report failed"),
            None => ended!(tracing::Level::INFO, "run finished"),
            Some(error) => ended!(
                tracing::Level::ERROR,
                error_code = crate::error_code::ErrorCode::RunFailed.as_str(),
                error,
                "run failed"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(sent: &[&str], already: &[&str], failed: &[&str]) -> DeliveryOutcome {
        let v = |l: &[&str]| l.iter().map(|s| s.to_string()).collect();
        DeliveryOutcome {
            sent: v(sent),
            already: v(already),
            failed: failed
                .iter()
                .map(|s| (s.to_string(), "550 no such user".to_string()))
                .collect(),
            ..DeliveryOutcome::default()
        }
    }

    #[test]
    fn partial_only_when_someone_has_the_report() {
        assert_eq!(outcome_of(&delivery(&["a@x.com"], &[], &[])), ("ok", None));
        assert_eq!(outcome_of(&delivery(&[], &[], &[])), ("ok", None));
        assert_eq!(
            outcome_of(&delivery(&["a@x.com"], &[], &["b@x.com"])).0,
            "partial"
        );
        assert_eq!(
            outcome_of(&delivery(&[], &["a@x.com"], &["b@x.com"])).0,
            "partial"
        );
        let (outcome, error) = outcome_of(&delivery(&[], &[], &["a@x.com", "b@x.com"]));
        assert_eq!(outcome, "failed");
        assert_eq!(
            error.as_deref(),
            Some(
                "no recipient got the report: a@x.com: 550 no such user; b@x.com: 550 no such user"
            )
        );
    }
}
