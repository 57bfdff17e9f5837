//! The run log: every run, manual or scheduled, becomes one row per report
//! in the state store's `runs` table and two tracing events (started; then
//! finished with duration, rows pulled, recipients and outcome), so ops can
//! always tell whether a report went out. A dry run changes no state, so it
//! is traced only. It never decides anything about the run itself.

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
    trigger: Trigger,
    fired_at: Option<DateTime<Utc>>,
    store: Option<Store>,
    rows_pulled: Option<usize>,
    entries: Vec<Entry>,
}

struct Entry {
    id: Option<i64>,
    report: String,
    key: String,
    started_at: DateTime<Utc>,
    clock: Instant,
    ended: bool,
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
            trigger: opts.trigger,
            fired_at: opts.fired_at,
            store: None,
            rows_pulled: None,
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
                Some(st) => Some(st.run_started(
                    &r.name,
                    &key,
                    self.trigger.as_str(),
                    self.fired_at,
                    holder::this_process(),
                    started_at,
                )?),
                None => None,
            };
            tracing::info!(
                report = %r.name,
                period = %key,
                trigger = self.trigger.as_str(),
                fired_at = self.fired_at.map(crate::state::ts),
                dry_run = self.dry_run,
                "run started"
            );
            self.entries.push(Entry {
                id,
                report: r.name.clone(),
                key,
                started_at,
                clock: Instant::now(),
                ended: false,
            });
        }
        Ok(())
    }

    pub(super) fn pulled(&mut self, rows: usize) {
        self.rows_pulled = Some(rows);
    }

    pub(super) fn report_done(&mut self, name: &str, res: &Result<ReportOutcome>) {
        let Some(i) = self
            .entries
            .iter()
            .position(|e| !e.ended && e.report == name)
        else {
            return;
        };
        match res {
            Ok(o) => {
                let d = &o.delivery_all();
                let recipients = serde_json::json!({
                    "sent": d.sent,
                    "already": d.already,
                    "failed": d.failed,
                })
                .to_string();
                let counts = (d.sent.len(), d.already.len(), d.failed.len());
                let (outcome, error) = outcome_of(d);
                self.end(i, outcome, Some(&recipients), error.as_deref(), counts);
            }
            Err(e) => self.end(i, "failed", None, Some(&format!("{e:#}")), (0, 0, 0)),
        }
    }

    /// Ends every row not ended yet: the run stopped with `res`'s error
    /// before reaching those reports.
    pub(super) fn finish(mut self, res: &Result<Vec<ReportOutcome>>) {
        let err = match res {
            Err(e) => format!("{e:#}"),
            Ok(_) => "the run ended without reporting on this report".into(),
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
        let e = &mut self.entries[i];
        e.ended = true;
        let finished_at = Utc::now();
        let duration_ms = e.clock.elapsed().as_millis() as u64;
        if let (Some(st), Some(id)) = (self.store.as_mut(), e.id) {
            let end = RunEnd {
                finished_at,
                outcome,
                rows_pulled: self.rows_pulled.map(|n| n as i64),
                recipients,
                error,
            };
            if let Err(err) = st.run_finished(id, &end) {
                tracing::error!(
                    report = %e.report,
                    period = %e.key,
                    error_code = "run_log_write_failed",
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
                    period = %e.key,
                    trigger = self.trigger.as_str(),
                    fired_at = self.fired_at.map(crate::state::ts),
                    started_at = crate::state::ts(e.started_at),
                    finished_at = crate::state::ts(finished_at),
                    duration_ms,
                    rows_pulled = self.rows_pulled,
                    sent,
                    already,
                    failed,
                    outcome,
                    $($rest)*
                )
            };
        }
        match error {
            None => ended!(tracing::Level::INFO, "run finished"),
            Some(error) => ended!(
                tracing::Level::ERROR,
                error_code = "run_failed",
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
