//! Deliveries and the run log: what went out, to whom, and how each run ended.

use super::Store;
use anyhow::Result;
use rusqlite::OptionalExtension;

/// One recipient who got a report.
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
        let mut st = self
            .conn()
            .prepare("SELECT recipient FROM deliveries WHERE report = ?1 AND period = ?2")?;
        let rows = st.query_map([report, period], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records one successful delivery (a resend with `--force` updates it).
    pub fn record_delivery(&mut self, d: &Delivery) -> Result<()> {
        self.conn().execute(
            "INSERT INTO deliveries (report, period, recipient, message_id, sent_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (report, period, recipient) DO UPDATE SET message_id = excluded.message_id, sent_at = excluded.sent_at",
            rusqlite::params![d.report, d.period, d.recipient, d.message_id, d.sent_at],
        )?;
        Ok(())
    }

    /// Starts a run log row; returns its id.
    pub fn run_started(
        &mut self,
        report: &str,
        period: &str,
        trigger: &str,
        fired_at: Option<&str>,
    ) -> Result<i64> {
        let now = chrono::Utc::now().to_rfc3339();
        self.conn().execute(
            "INSERT INTO runs (report, period, trigger, fired_at, started_at, outcome) VALUES (?1, ?2, ?3, ?4, ?5, 'running')",
            rusqlite::params![report, period, trigger, fired_at, now],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    /// Ends a run log row with its outcome.
    pub fn run_finished(
        &mut self,
        id: i64,
        outcome: &str,
        rows_pulled: Option<i64>,
        recipients: Option<&str>,
        error: Option<&str>,
    ) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339();
        self.conn().execute(
            "UPDATE runs SET finished_at = ?2, outcome = ?3, rows_pulled = ?4, recipients = ?5, error = ?6 WHERE id = ?1",
            rusqlite::params![id, now, outcome, rows_pulled, recipients, error],
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

    /// Claims (report, period) for `holder` until `expires_at` (RFC 3339).
    /// Returns false when another live holder has it: only the winner delivers.
    pub fn claim(
        &mut self,
        report: &str,
        period: &str,
        holder: &str,
        expires_at: &str,
    ) -> Result<bool> {
        let now = chrono::Utc::now().to_rfc3339();
        let tx = self
            .conn()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current: Option<(String, String)> = tx
            .query_row(
                "SELECT holder, expires_at FROM claims WHERE report = ?1 AND period = ?2",
                [report, period],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let free = match &current {
            None => true,
            Some((h, exp)) => h == holder || exp.as_str() <= now.as_str(),
        };
        if free {
            tx.execute(
                "INSERT INTO claims (report, period, holder, claimed_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (report, period) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at,
                 expires_at = excluded.expires_at",
                rusqlite::params![report, period, holder, now, expires_at],
            )?;
        }
        tx.commit()?;
        Ok(free)
    }

    /// Releases a claim held by `holder`.
    pub fn release(&mut self, report: &str, period: &str, holder: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM claims WHERE report = ?1 AND period = ?2 AND holder = ?3",
            rusqlite::params![report, period, holder],
        )?;
        Ok(())
    }
}
