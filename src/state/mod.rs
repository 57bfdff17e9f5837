//! The state store: one SQLite file in `state_dir` holding the forecasts
//! runs made (for forecast accuracy), the deliveries (so nobody is emailed
//! twice), the run log and the claims that keep two processes from running
//! one period at once. All SQL lives in this module.
//!
//! Schema changes are numbered migrations applied in order; the file's
//! `user_version` says which have run, so a newer binary upgrades an older
//! file in place. WAL mode and a busy timeout let two processes share it.

mod claims;
mod forecasts;
pub(crate) mod holder;
mod runs;

pub use claims::Claim;
pub use runs::{Delivery, RunEnd, RunRecord};

use anyhow::{Context, Result};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const FILE_NAME: &str = "salesops.sqlite3";

/// Each entry upgrades the schema by one version. Never edit a released
/// entry; append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: forecasts, deliveries, runs, claims
    r#"
    CREATE TABLE forecasts (
        method        TEXT NOT NULL,
        target_label  TEXT NOT NULL,
        target_start  TEXT NOT NULL,
        target_end    TEXT NOT NULL,
        as_of         TEXT NOT NULL,
        value         TEXT NOT NULL,
        report        TEXT NOT NULL,
        stored_at     TEXT NOT NULL,
        PRIMARY KEY (method, target_start, target_end, as_of)
    );
    CREATE TABLE deliveries (
        report        TEXT NOT NULL,
        period        TEXT NOT NULL,
        recipient     TEXT NOT NULL,
        message_id    TEXT NOT NULL,
        sent_at       TEXT NOT NULL,
        PRIMARY KEY (report, period, recipient)
    );
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        report        TEXT NOT NULL,
        period        TEXT NOT NULL,
        trigger       TEXT NOT NULL,
        fired_at      TEXT,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        outcome       TEXT NOT NULL,
        rows_pulled   INTEGER,
        recipients    TEXT,
        error         TEXT
    );
    CREATE INDEX runs_by_report ON runs (report, period);
    CREATE TABLE claims (
        report        TEXT NOT NULL,
        period        TEXT NOT NULL,
        holder        TEXT NOT NULL,
        claimed_at    TEXT NOT NULL,
        expires_at    TEXT NOT NULL,
        PRIMARY KEY (report, period)
    );
    "#,
    // 2: who wrote each run row (a process that died mid-run is found by it)
    r#"
    ALTER TABLE runs ADD COLUMN holder TEXT;
    "#,
    // 3: forecasts are kept per report and team (a team's forecasts are
    // judged apart from the organisation's); '' is the organisation
    r#"
    CREATE TABLE forecasts_by_team (
        report        TEXT NOT NULL,
        team          TEXT NOT NULL,
        method        TEXT NOT NULL,
        target_label  TEXT NOT NULL,
        target_start  TEXT NOT NULL,
        target_end    TEXT NOT NULL,
        as_of         TEXT NOT NULL,
        value         TEXT NOT NULL,
        stored_at     TEXT NOT NULL,
        PRIMARY KEY (report, team, method, target_start, target_end, as_of)
    );
    INSERT OR REPLACE INTO forecasts_by_team
        SELECT report, '', method, target_label, target_start, target_end, as_of, value, stored_at
        FROM forecasts;
    DROP TABLE forecasts;
    ALTER TABLE forecasts_by_team RENAME TO forecasts;
    "#,
    // 4: how many deals each run pulled (a pull with none after a run
    // that had some stops: `app::empty`)
    r#"
    ALTER TABLE runs ADD COLUMN deals_pulled INTEGER;
    "#,
    // 5: team reports in the run log: a row per team report, `team` its
    // name and `parent_id` the run of its report (`fan_out = "teams"`);
    // a `run --team` row has the team and no parent
    r#"
    ALTER TABLE runs ADD COLUMN team TEXT;
    ALTER TABLE runs ADD COLUMN parent_id INTEGER;
    CREATE INDEX runs_by_parent ON runs (parent_id);
    "#,
];

/// Instants in the store: UTC, milliseconds, fixed width, so that text
/// order is time order (claims compare expiry times in SQL).
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, and migrates it.
    pub fn open(dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(dir).with_context(|| {
            format!(
                "cannot create state_dir {}: check the path and its permissions",
                dir.display()
            )
        })?;
        let path = dir.join(FILE_NAME);
        // Switching a new file to WAL does not wait on the busy handler, so
        // two processes opening a fresh store at once retry here briefly.
        let mut attempt = 0;
        loop {
            match Self::open_once(&path) {
                Ok(store) => return Ok(store),
                Err(e) if attempt < 100 && is_busy(&e) => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!(
                            "cannot open the state store {}: check state_dir and its permissions",
                            path.display()
                        )
                    })
                }
            }
        }
    }

    /// Opens the store in `dir` to read only (no migration, no write
    /// lock), or None when there is none yet. For readers beside a running
    /// process, such as the metrics.
    pub fn open_read_only(dir: &Path) -> Result<Option<Store>> {
        let path = dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags)
            .with_context(|| format!("cannot read the state store {}", path.display()))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        Ok(Some(Store { conn, path }))
    }

    fn open_once(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            anyhow::bail!(
                "the state store {} was written by a newer salesops (schema {version}, this one knows {}): upgrade salesops",
                self.path.display(),
                MIGRATIONS.len()
            );
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)
                .with_context(|| format!("migrating the state store to schema {}", i + 1))?;
            tx.pragma_update(None, "user_version", i + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

fn is_busy(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_a_file_written_by_the_first_release() {
        // A store as schema 1 left it, with a forecast in it.
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(FILE_NAME)).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO forecasts VALUES ('stage_weighted', '2026-07', '2026-07-01', '2026-08-01', '2026-07-01', '123.45', 'r', 'now')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO deliveries VALUES ('r', '2026-07', 'ceo@example.com', '<id@x>', 'then')",
            [],
        )
        .unwrap();
        drop(conn);
        let mut s = Store::open(dir.path()).unwrap();
        let v: usize = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len());
        let got = s.stored_forecasts("r", "").unwrap();
        assert_eq!(got[0].value.to_string(), "123.45");
        // Deliveries keep their rows.
        assert_eq!(
            s.delivered("r", "2026-07").unwrap(),
            vec![("ceo@example.com".to_string(), "<id@x>".to_string())]
        );
    }

    #[test]
    fn migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let mut s = Store::open(dir.path()).unwrap();
        let v: usize = s
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len());
    }

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.conn().pragma_update(None, "user_version", 99).unwrap();
        drop(s);
        let err = format!("{:#}", Store::open(dir.path()).err().unwrap());
        assert!(err.contains("newer salesops"), "{err}");
    }
}
