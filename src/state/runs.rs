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
    /// The configured report's name (a team's report too).
    pub report: String,
    /// A team's report: the team's name. None: the organisation's report.
    pub team: Option<String>,
    /// A team's report made by its report's run: that run's id.
    pub parent: Option<i64>,
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

    /// Starts the run log row of team `team`'s report inside run `parent`
    /// (same report, period, trigger, fire time and holder); returns its id.
    pub fn team_run_started(
        &mut self,
        parent: i64,
        team: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64> {
        let n = self.conn().execute(
            "INSERT INTO runs (report, period, trigger, fired_at, started_at, outcome, holder, team, parent_id)
             SELECT report, period, trigger, fired_at, ?3, 'running', holder, ?2, id FROM runs WHERE id = ?1",
            rusqlite::params![parent, team, ts(started_at)],
        )?;
        anyhow::ensure!(n == 1, "run {parent} is not in the run log");
        Ok(self.conn().last_insert_rowid())
    }

    /// Names the team of a run that makes one team's report alone (`run
    /// --team`): it is that team's run, not its report's.
    pub fn set_run_team(&mut self, id: i64, team: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE runs SET team = ?2 WHERE id = ?1",
            rusqlite::params![id, team],
        )?;
        Ok(())
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

    /// The run log, newest first: at most `limit` runs (of `report` when
    /// given), each followed by the rows of the team reports it made, in
    /// the order it made them.
    pub fn history(&mut self, report: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        const COLUMNS: &str = "id, report, team, parent_id, period, trigger, fired_at, started_at, finished_at, outcome, rows_pulled, recipients, error";
        fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRecord> {
            Ok(RunRecord {
                id: r.get(0)?,
                report: r.get(1)?,
                team: r.get(2)?,
                parent: r.get(3)?,
                period: r.get(4)?,
                trigger: r.get(5)?,
                fired_at: r.get(6)?,
                started_at: r.get(7)?,
                finished_at: r.get(8)?,
                outcome: r.get(9)?,
                rows_pulled: r.get(10)?,
                recipients: r.get(11)?,
                error: r.get(12)?,
            })
        }
        let runs: Vec<RunRecord> = {
            let mut st = self.conn().prepare(&format!(
                "SELECT {COLUMNS} FROM runs WHERE parent_id IS NULL AND (?1 IS NULL OR report = ?1)
                 ORDER BY id DESC LIMIT ?2"
            ))?;
            let rows = st.query_map(rusqlite::params![report, limit as i64], record)?;
            rows.collect::<Result<_, _>>()?
        };
        let mut st = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM runs WHERE parent_id = ?1 ORDER BY id"
        ))?;
        let mut out = Vec::new();
        for run in runs {
            let id = run.id;
            out.push(run);
            for team in st.query_map([id], record)? {
                out.push(team?);
            }
        }
        Ok(out)
    }

    /// How (report, period key) stands: "ok" when any run of it ended ok
    /// (the key is done, as claims judge it, even if a later manual run
    /// failed), else the latest run's outcome; None when it never ran.
    /// Runs of the report's teams alone (`run --team`) and team rows do
    /// not count: the report's run stands for its teams.
    pub fn period_outcome(&mut self, report: &str, period: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT outcome FROM runs WHERE report = ?1 AND period = ?2 AND team IS NULL
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

    /// When each (report, team) last had an "ok" run: team "" is the
    /// report's own run, a team's name its team report's.
    pub fn last_successes(&mut self) -> Result<Vec<(String, String, DateTime<Utc>)>> {
        let mut st = self.conn().prepare(
            "SELECT report, COALESCE(team, ''), MAX(finished_at) FROM runs
             WHERE outcome = 'ok' AND finished_at IS NOT NULL GROUP BY report, COALESCE(team, '')",
        )?;
        let rows = st.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (report, team, at) = row?;
            if let Ok(t) = DateTime::parse_from_rfc3339(&at) {
                out.push((report, team, t.with_timezone(&Utc)));
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

/// True when a run of (report, period key) ended "ok" (the report's own
/// run, which stands for its teams' reports too).
pub(super) fn is_done(
    conn: &rusqlite::Connection,
    report: &str,
    period: &str,
) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM runs WHERE report = ?1 AND period = ?2 AND outcome = 'ok' AND team IS NULL)",
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 1, 7, 0, 0).unwrap() + chrono::Duration::seconds(s)
    }

    fn end(s: &mut Store, id: i64, outcome: &str, at: i64) {
        s.run_finished(
            id,
            &RunEnd {
                finished_at: t(at),
                outcome,
                rows_pulled: None,
                deals_pulled: None,
                recipients: None,
                error: None,
            },
        )
        .unwrap();
    }

    /// A fan-out run: the report's row, then its team rows under it.
    #[test]
    fn team_rows_follow_their_run_and_never_make_the_period_done() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let old = s
            .run_started("m", "2026-06", "manual", None, "A", t(0))
            .unwrap();
        end(&mut s, old, "ok", 1);
        let run = s
            .run_started("m", "2026-07", "schedule", Some(t(9)), "A", t(10))
            .unwrap();
        let seoul = s.team_run_started(run, "Seoul", t(11)).unwrap();
        let busan = s.team_run_started(run, "부산 SMB", t(11)).unwrap();
        end(&mut s, seoul, "ok", 12);
        end(&mut s, busan, "partial", 12);
        // A team's ok row is not its report's: the period is not done.
        assert_eq!(
            s.period_outcome("m", "2026-07").unwrap().as_deref(),
            Some("running")
        );
        assert!(!is_done(s.conn(), "m", "2026-07").unwrap());
        end(&mut s, run, "partial", 13);
        // One team alone (`run --team`): its own run, never the report's.
        let alone = s
            .run_started("m", "2026-07", "manual", None, "A", t(20))
            .unwrap();
        s.set_run_team(alone, "Seoul").unwrap();
        end(&mut s, alone, "ok", 21);
        assert_eq!(
            s.period_outcome("m", "2026-07").unwrap().as_deref(),
            Some("partial")
        );
        assert!(!is_done(s.conn(), "m", "2026-07").unwrap());

        let h = s.history(None, 2).unwrap();
        let rows: Vec<(i64, Option<&str>, Option<i64>)> = h
            .iter()
            .map(|r| (r.id, r.team.as_deref(), r.parent))
            .collect();
        assert_eq!(
            rows,
            [
                (alone, Some("Seoul"), None),
                (run, None, None),
                (seoul, Some("Seoul"), Some(run)),
                (busan, Some("부산 SMB"), Some(run)),
            ],
            "--limit counts runs; team rows come with theirs"
        );
        // The team rows carry their run's period, trigger and fire time.
        assert_eq!(h[2].period, "2026-07");
        assert_eq!(h[2].trigger, "schedule");
        assert_eq!(h[2].fired_at, h[1].fired_at);
        assert_eq!(s.history(Some("other"), 10).unwrap(), []);

        let mut last: Vec<(String, String)> = s
            .last_successes()
            .unwrap()
            .into_iter()
            .map(|(r, team, _)| (r, team))
            .collect();
        last.sort();
        assert_eq!(
            last,
            [
                ("m".to_string(), String::new()),
                ("m".to_string(), "Seoul".to_string())
            ]
        );
    }

    #[test]
    fn a_dead_holders_team_rows_are_interrupted_with_its_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let run = s
            .run_started("m", "k", "schedule", None, "dead", t(0))
            .unwrap();
        let team = s.team_run_started(run, "Seoul", t(1)).unwrap();
        mark_interrupted(s.conn(), "dead", Some(("m", "k")), t(5)).unwrap();
        let h = s.history(None, 10).unwrap();
        assert_eq!(h.len(), 2);
        assert!(h.iter().all(|r| r.outcome == "interrupted"), "{h:?}");
        assert_eq!(h[1].id, team);
    }
}
