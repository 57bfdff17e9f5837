//! Deliveries and the run log: what went out, to whom, and how each run ended.

use super::{ts, Store};
use anyhow::Result;
use chrono::{DateTime, Utc};
use rusqlite::OptionalExtension;

/// One recipient (an address, or a chat destination such as
/// "slack:#sales") who got a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub report: String,
    pub period: String,
    pub recipient: String,
    pub message_id: String,
    pub sent_at: String,
}

/// One row of `salesops history`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: i64,
    pub report: String,
    pub period: String,
    pub trigger: String,
    pub fired_at: Option<String>,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub outcome: String,
    pub rows_pulled: Option<i64>,
    pub recipients: Option<String>,
    pub error: Option<String>,
}

impl Store {
    /// Recipients of `report` for `period` who already got it.
    pub fn delivered_to(&mut self, report: &str, period: &str) -> Result<Vec<String>> {
        Ok(self
            .delivered(report, period)?
            .into_iter()
            .map(|(r, _)| r)
            .collect())
    }

    /// Recipients of `report` (a delivery key: the report's name, or
    /// `<report>/teams/<team>`) for `period` who already got it, with the
    /// message id recorded for each.
    pub fn delivered(&mut self, report: &str, period: &str) -> Result<Vec<(String, String)>> {
        let mut st = self.conn().prepare(
            "SELECT recipient, message_id FROM deliveries WHERE report = ?1 AND period = ?2",
        )?;
        let rows = st.query_map([report, period], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records one successful delivery (a resend with `--force`, or a
    /// finished Slack thread, updates it).
    pub fn record_delivery(&mut self, d: &Delivery) -> Result<()> {
        self.conn().execute(
            "INSERT INTO deliveries (report, period, recipient, message_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (report, period, recipient) DO UPDATE SET message_id = excluded.message_id, sent_at = excluded.sent_at",
            rusqlite::params![d.report, d.period, d.recipient, d.message_id, d.sent_at],
        )?;
        Ok(())
    }

    /// Starts a run log row (outcome "running"); returns its id.
    /// `period` is the period key (`Period::key`), `holder` the process
    /// (`holder::this_process`).
    pub fn run_started(
        &mut self,
        report: &str,
        period: &str,
        trigger: &str,
        fired_at: Option<DateTime<Utc>>,
        holder: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO runs (report, period, trigger, fired_at, started_at, outcome, holder)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6)",
            rusqlite::params![
                report,
                period,
                trigger,
                fired_at.map(ts),
                ts(started_at),
                holder
            ],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Ends a run log row with its outcome ("ok", "partial", "failed").
    pub fn run_finished(&mut self, id: i64, end: &RunEnd<'_>) -> Result<()> {
        self.conn().execute(
            "UPDATE runs SET finished_at = ?2, outcome = ?3, rows_pulled = ?4, recipients = ?5, error = ?6, deals_pulled = ?7 WHERE id = ?1",
            rusqlite::params![
                id,
                ts(end.finished_at),
                end.outcome,
                end.rows_pulled,
                end.recipients,
                end.error,
                end.deals_pulled
            ],
        )?;
        Ok(())
    }

    /// The run log, newest first.
    pub fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let mut st = self.conn().prepare(
            "SELECT id, report, period, trigger, fired_at, started_at, finished_at, outcome, rows_pulled, recipients, error
             FROM runs WHERE (?1 IS NULL OR report = ?1) ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = st.query_map(rusqlite::params![report, limit as i64], |r| {
            Ok(RunRecord {
                id: r.get(0)?,
                report: r.get(1)?,
                period: r.get(2)?,
                trigger: r.get(3)?,
                fired_at: r.get(4)?,
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
                outcome: r.get(7)?,
                rows_pulled: r.get(8)?,
                recipients: r.get(9)?,
                error: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How (report, period key) stands: "ok" when any run of it ended ok
    /// (the key is done, as claims judge it, even if a later manual run
    /// failed), else the latest run's outcome; None when it never ran.
    pub fn period_outcome(&mut self, report: &str, period: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT outcome FROM runs WHERE report = ?1 AND period = ?2
                 ORDER BY outcome = 'ok' DESC, id DESC LIMIT 1",
                [report, period],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// How many deals the latest successful run pulled (any report);
    /// None when no successful run recorded it.
    pub fn last_ok_deals(&mut self) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT deals_pulled FROM runs WHERE outcome = 'ok' AND deals_pulled IS NOT NULL
                 ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The delivery log in the order it was written (a `--force` resend
    /// keeps its place); only `report`'s when given.
    pub fn deliveries(&mut self, report: Option<&str>) -> Result<Vec<Delivery>> {
        let mut st = self.conn().prepare(
            "SELECT report, period, recipient, message_id, sent_at FROM deliveries
             WHERE (?1 IS NULL OR report = ?1) ORDER BY rowid",
        )?;
        let rows = st.query_map([report], |r| {
            Ok(Delivery {
                report: r.get(0)?,
                period: r.get(1)?,
                recipient: r.get(2)?,
                message_id: r.get(3)?,
                sent_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// When each report's latest "ok" run finished.
    pub fn last_successes(&mut self) -> Result<Vec<(String, DateTime<Utc>)>> {
        let mut st = self.conn().prepare(
            "SELECT report, MAX(finished_at) FROM runs
             WHERE outcome = 'ok' AND finished_at IS NOT NULL GROUP BY report",
        )?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (report, at) = row?;
            if let Ok(t) = DateTime::parse_from_rfc3339(&at) {
                out.push((report, t.with_timezone(&Utc)));
            }
        }
        Ok(out)
    }

    /// Holders of rows still marked "running".
    pub fn running_holders(&mut self) -> Result<Vec<String>> {
        let mut st = self.conn().prepare(
            "SELECT DISTINCT holder FROM runs WHERE outcome = 'running' AND holder IS NOT NULL",
        )?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks the "running" rows of a holder that died as "interrupted".
    pub fn mark_interrupted(&mut self, holder: &str, now: DateTime<Utc>) -> Result<usize> {
        Ok(mark_interrupted(self.conn(), holder, None, now)?)
    }
}

/// How a run ended, for `run_finished`.
#[derive(Debug, Clone)]
pub struct RunEnd<'a> {
    pub finished_at: DateTime<Utc>,
    pub outcome: &'a str,
    pub rows_pulled: Option<i64>,
    /// How many of those rows were deals.
    pub deals_pulled: Option<i64>,
    /// JSON: {"sent": [..], "already": [..], "failed": [[addr, reason], ..]}
    pub recipients: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// True when a run of (report, period key) ended "ok".
pub(super) fn is_done(
    conn: &rusqlite::Connection,
    report: &str,
    period: &str,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE report = ?1 AND period = ?2 AND outcome = 'ok')",
        [report, period],
        |r| r.get(0),
    )
}

/// Shared by `mark_interrupted` and a claim taken over from a dead holder
/// (which only closes that holder's rows for the claimed key).
pub(super) fn mark_interrupted(
    conn: &rusqlite::Connection,
    holder: &str,
    key: Option<(&str, &str)>,
    now: DateTime<Utc>,
) -> rusqlite::Result<usize> {
    let (report, period) = key.unzip();
    conn.execute(
        "UPDATE runs SET outcome = 'interrupted', finished_at = ?2,
                error = 'the process running it stopped before it finished'
         WHERE holder = ?1 AND outcome = 'running'
           AND (?3 IS NULL OR report = ?3) AND (?4 IS NULL OR period = ?4)",
        rusqlite::params![holder, ts(now), report, period],
    )
}
