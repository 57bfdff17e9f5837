//! Claims: which process may run (report, period key) now. A scheduled run
//! claims its key before it pulls or sends, so two `serve` processes on one
//! state file never both run it; a claim expires (and a holder known to be
//! dead is replaced at once), so a crash does not block the period forever.
//! A key that already has an "ok" run is done and is never claimed again.

use super::{runs, ts, Store};
use anyhow::Result;
use chrono::{DateTime, Duration, Utc};
use rusqlite::OptionalExtension;

/// The answer to `Store::claim`.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// This holder has it until the TTL runs out; `replaced` names a dead
    /// holder whose claim (and "running" rows for the key) it took over.
    Acquired { replaced: Option<String> },
    /// A run of this key already ended "ok": nothing to do.
    Done,
    /// Another live holder has it.
    Busy { holder: String, expires_at: String },
}

impl Store {
    /// Claims (report, key) for `holder` until `now + ttl`, in one
    /// transaction: done keys are refused, the holder's own claim is
    /// renewed, an expired claim or one whose holder `is_dead` is replaced.
    /// What a scheduled run does before it pulls.
    pub fn claim(
        &mut self,
        report: &str,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        is_dead: impl Fn(&str) -> bool,
    ) -> Result<Claim> {
        self.claim_key(report, key, holder, now, ttl, is_dead, true)
    }

    /// `claim`, but a done key is claimed too (never `Claim::Done`): what
    /// a manual run does, which may run a done period again on purpose
    /// (new files, `--force`) but must not run beside another process.
    pub fn claim_even_if_done(
        &mut self,
        report: &str,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        is_dead: impl Fn(&str) -> bool,
    ) -> Result<Claim> {
        self.claim_key(report, key, holder, now, ttl, is_dead, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn claim_key(
        &mut self,
        report: &str,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        is_dead: impl Fn(&str) -> bool,
        refuse_done: bool,
    ) -> Result<Claim> {
        let tx = self
            .conn()
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if refuse_done && runs::is_done(&tx, report, key)? {
            return Ok(Claim::Done);
        }
        let current: Option<(String, String)> = tx
            .query_row(
                "SELECT holder, expires_at FROM claims WHERE report = ?1 AND period = ?2",
                [report, key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let replaced = match current {
            None => None,
            Some((h, _)) if h == holder => None,
            Some((h, exp)) if exp <= ts(now) => Some(h),
            Some((h, _)) if is_dead(&h) => {
                runs::mark_interrupted(&tx, &h, Some((report, key)), now)?;
                Some(h)
            }
            Some((h, exp)) => {
                return Ok(Claim::Busy {
                    holder: h,
                    expires_at: exp,
                })
            }
        };
        tx.execute(
            "INSERT INTO claims (report, period, holder, claimed_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (report, period) DO UPDATE SET holder = excluded.holder,
                 claimed_at = excluded.claimed_at, expires_at = excluded.expires_at",
            rusqlite::params![report, key, holder, ts(now), ts(now + ttl)],
        )?;
        tx.commit()?;
        Ok(Claim::Acquired { replaced })
    }

    /// Extends a claim this holder still has; false when it lost it.
    pub fn renew(
        &mut self,
        report: &str,
        key: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE claims SET expires_at = ?4 WHERE report = ?1 AND period = ?2 AND holder = ?3",
            rusqlite::params![report, key, holder, ts(now + ttl)],
        )?;
        Ok(n == 1)
    }

    /// Releases a claim held by `holder`.
    pub fn release(&mut self, report: &str, key: &str, holder: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM claims WHERE report = ?1 AND period = ?2 AND holder = ?3",
            rusqlite::params![report, key, holder],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::runs::RunEnd;
    use chrono::TimeZone;

    fn t(s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 8, 1, 7, 0, 0).unwrap() + Duration::seconds(s as i64)
    }

    const TTL: Duration = Duration::seconds(60);
    fn alive(_: &str) -> bool {
        false
    }

    #[test]
    fn second_holder_waits_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::open(dir.path()).unwrap();
        let mut b = Store::open(dir.path()).unwrap();
        assert_eq!(
            a.claim("m", "2026-07", "A", t(0), TTL, alive).unwrap(),
            Claim::Acquired { replaced: None }
        );
        let busy = b.claim("m", "2026-07", "B", t(1), TTL, alive).unwrap();
        assert!(
            matches!(&busy, Claim::Busy { holder, .. } if holder == "A"),
            "{busy:?}"
        );
        // Another key is independent; the holder itself may renew.
        assert!(matches!(
            b.claim("m", "2026-08", "B", t(1), TTL, alive).unwrap(),
            Claim::Acquired { .. }
        ));
        assert!(a.renew("m", "2026-07", "A", t(30), TTL).unwrap());
        assert!(!b.renew("m", "2026-07", "B", t(30), TTL).unwrap());
        a.release("m", "2026-07", "A").unwrap();
        assert_eq!(
            b.claim("m", "2026-07", "B", t(31), TTL, alive).unwrap(),
            Claim::Acquired { replaced: None }
        );
    }

    #[test]
    fn an_expired_claim_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.claim("m", "k", "A", t(0), TTL, alive).unwrap();
        assert!(matches!(
            s.claim("m", "k", "B", t(59), TTL, alive).unwrap(),
            Claim::Busy { .. }
        ));
        assert_eq!(
            s.claim("m", "k", "B", t(60), TTL, alive).unwrap(),
            Claim::Acquired {
                replaced: Some("A".into())
            }
        );
        // A, back from a long stall, has lost it.
        assert!(!s.renew("m", "k", "A", t(61), TTL).unwrap());
    }

    #[test]
    fn a_dead_holder_is_replaced_and_its_run_marked_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.claim("m", "k", "A", t(0), TTL, alive).unwrap();
        let id = s
            .run_started("m", "k", "schedule", Some(t(0)), "A", t(0))
            .unwrap();
        let other = s
            .run_started("m", "other", "manual", None, "A", t(0))
            .unwrap();
        let got = s.claim("m", "k", "B", t(5), TTL, |h| h == "A").unwrap();
        assert_eq!(
            got,
            Claim::Acquired {
                replaced: Some("A".into())
            }
        );
        let rows = s.history(None, 10).unwrap();
        let outcome = |id| rows.iter().find(|r| r.id == id).unwrap().outcome.clone();
        assert_eq!(outcome(id), "interrupted");
        assert_eq!(outcome(other), "running", "only the claimed key's rows");
        assert_eq!(s.mark_interrupted("A", t(6)).unwrap(), 1);
    }

    #[test]
    fn a_key_with_an_ok_run_is_done() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let end = |outcome| RunEnd {
            finished_at: t(2),
            outcome,
            rows_pulled: Some(10),
            deals_pulled: Some(4),
            recipients: None,
            error: None,
        };
        let id = s
            .run_started("m", "k", "schedule", Some(t(0)), "A", t(0))
            .unwrap();
        s.run_finished(id, &end("failed")).unwrap();
        assert!(matches!(
            s.claim("m", "k", "B", t(3), TTL, alive).unwrap(),
            Claim::Acquired { .. }
        ));
        s.release("m", "k", "B").unwrap();
        let id = s
            .run_started("m", "k", "retry", Some(t(0)), "B", t(4))
            .unwrap();
        s.run_finished(id, &end("ok")).unwrap();
        assert_eq!(
            s.claim("m", "k", "C", t(5), TTL, alive).unwrap(),
            Claim::Done
        );
        assert_eq!(s.period_outcome("m", "k").unwrap().as_deref(), Some("ok"));
        assert_eq!(s.period_outcome("m", "nope").unwrap(), None);

        // A later manual run of the done key that fails leaves it done.
        let id = s.run_started("m", "k", "manual", None, "D", t(6)).unwrap();
        s.run_finished(id, &end("failed")).unwrap();
        assert_eq!(s.period_outcome("m", "k").unwrap().as_deref(), Some("ok"));
        assert_eq!(
            s.claim("m", "k", "C", t(7), TTL, alive).unwrap(),
            Claim::Done
        );
    }

    #[test]
    fn a_manual_claim_takes_done_keys_but_never_a_held_one() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let id = s
            .run_started("m", "k", "schedule", Some(t(0)), "A", t(0))
            .unwrap();
        s.run_finished(
            id,
            &RunEnd {
                finished_at: t(1),
                outcome: "ok",
                rows_pulled: Some(1),
                deals_pulled: Some(0),
                recipients: None,
                error: None,
            },
        )
        .unwrap();
        assert_eq!(
            s.claim_even_if_done("m", "k", "M", t(2), TTL, alive)
                .unwrap(),
            Claim::Acquired { replaced: None }
        );
        // While the manual run holds it, serve is told it is done (it is)
        // and another manual run is told who holds it.
        assert_eq!(
            s.claim("m", "k", "A", t(3), TTL, alive).unwrap(),
            Claim::Done
        );
        assert!(matches!(
            s.claim_even_if_done("m", "k", "N", t(3), TTL, alive).unwrap(),
            Claim::Busy { holder, .. } if holder == "M"
        ));
        // A scheduled holder's key not done yet is not taken from it.
        s.claim("m", "open", "A", t(4), TTL, alive).unwrap();
        assert!(matches!(
            s.claim_even_if_done("m", "open", "M", t(5), TTL, alive).unwrap(),
            Claim::Busy { holder, .. } if holder == "A"
        ));
    }
}
