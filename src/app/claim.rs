//! The claims a run holds while it works: (report, period key) in the
//! state store, so that no two processes pull and send one period at once
//! (two `serve` processes, or `salesops run` beside `serve` or beside
//! another `salesops run`). Every run that may send takes them before it
//! pulls: a manual run waits (bounded) for another holder to finish, then
//! finds the recipients it served in the delivery log; serve has already
//! claimed its key (refusing a done one) before it calls `app::run`, and
//! taking it again as the same holder only renews it.
//!
//! A heartbeat renews the claims while the run goes on. It is a thread of
//! its own, not a task beside the run: minutes of CPU-bound work on the
//! run's task (figures of a big snapshot, charts) cannot starve it, so a
//! busy run does not lose its claim. Dropping `Held` stops the heartbeat
//! and releases the claims. Right before sending, `confirm` checks the
//! claim is still this process's: one that stalled past the TTL and lost
//! it sends nothing. Never decides what a run computes or who gets mail.

use crate::state::{holder, Claim, Store};
use anyhow::{bail, Result};
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a claim lives without a heartbeat; a holder that stalls
/// longer (or dies on another host) loses it.
pub const CLAIM_TTL: Duration = Duration::from_secs(120);

/// How long `salesops run` waits for another process to finish the period
/// it wants (longer than CLAIM_TTL, so a holder that died elsewhere is
/// waited out).
pub const MANUAL_WAIT: Duration = Duration::from_secs(600);

/// How often a waiting take tries again.
const RECHECK: Duration = Duration::from_millis(500);

/// Claims held by this process until dropped.
pub struct Held {
    state_dir: PathBuf,
    keys: Vec<(String, String)>,
    ttl: Duration,
    stop: Option<mpsc::Sender<()>>,
    heartbeat: Option<JoinHandle<()>>,
}

fn chrono_ttl(ttl: Duration) -> chrono::Duration {
    chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX)
}

impl Held {
    /// Claims every (report, key) for this process, done keys included (a
    /// manual run may run a done period again on purpose). While another
    /// live process holds one of them, gives back what it took and tries
    /// again every `RECHECK` for up to `wait` (a claim whose holder died
    /// is free within CLAIM_TTL); then fails, naming the holder, with
    /// nothing pulled or sent.
    pub async fn take(state_dir: &Path, keys: &[(String, String)], wait: Duration) -> Result<Held> {
        Held::take_with_ttl(state_dir, keys, wait, CLAIM_TTL).await
    }

    async fn take_with_ttl(
        state_dir: &Path,
        keys: &[(String, String)],
        wait: Duration,
        ttl: Duration,
    ) -> Result<Held> {
        let start = Instant::now();
        let mut said = false;
        loop {
            let (report, key, holder, expires_at) = match Held::try_take(state_dir, keys, ttl)? {
                Ok(held) => return Ok(held),
                Err(busy) => busy,
            };
            if start.elapsed() + RECHECK > wait {
                let waited = if wait.is_zero() {
                    String::new()
                } else {
                    format!(", still after waiting {} s", wait.as_secs())
                };
                bail!(
                    "report {report:?}, period {key}: another salesops process ({holder}) is running it right now (its claim runs until {expires_at} unless renewed{waited}); nothing was pulled or sent. Wait until it has finished (salesops history shows its run) and run again: recipients it reached are then skipped"
                );
            }
            if !said {
                said = true;
                tracing::info!(
                    report = %report,
                    period = %key,
                    "another salesops process ({holder}) is running this period; waiting for it to finish (up to {} s) so that nobody is sent the report twice",
                    wait.as_secs()
                );
            }
            tokio::time::sleep(RECHECK).await;
        }
    }

    /// One attempt: all keys, or none and the first busy one's
    /// (report, key, holder, expires_at).
    fn try_take(
        state_dir: &Path,
        keys: &[(String, String)],
        ttl: Duration,
    ) -> Result<std::result::Result<Held, (String, String, String, String)>> {
        let mut store = Store::open(state_dir)?;
        let me = holder::this_process();
        let mut held = Held {
            state_dir: state_dir.to_path_buf(),
            keys: Vec::new(),
            ttl,
            stop: None,
            heartbeat: None,
        };
        for (report, key) in keys {
            if held.keys.iter().any(|(r, k)| r == report && k == key) {
                continue;
            }
            let got = store.claim_even_if_done(
                report,
                key,
                me,
                Utc::now(),
                chrono_ttl(ttl),
                holder::is_dead,
            )?;
            match got {
                Claim::Acquired { replaced } => {
                    if let Some(dead) = replaced {
                        tracing::warn!(
                            report = %report,
                            period = %key,
                            "took over the claim of {dead}, which stopped before it finished"
                        );
                    }
                    held.keys.push((report.clone(), key.clone()));
                }
                // Dropping `held` gives back what it took.
                Claim::Busy { holder, expires_at } => {
                    return Ok(Err((report.clone(), key.clone(), holder, expires_at)))
                }
                Claim::Done => unreachable!("claim_even_if_done never answers Done"),
            }
        }
        held.start_heartbeat();
        Ok(Ok(held))
    }

    fn start_heartbeat(&mut self) {
        let (tx, rx) = mpsc::channel::<()>();
        let (dir, keys, ttl) = (self.state_dir.clone(), self.keys.clone(), self.ttl);
        let spawned = std::thread::Builder::new()
            .name("claim-heartbeat".into())
            .spawn(move || heartbeat(&dir, keys, ttl, rx));
        match spawned {
            Ok(h) => {
                self.stop = Some(tx);
                self.heartbeat = Some(h);
            }
            // The claims still hold for one TTL; `confirm` catches a loss.
            Err(e) => tracing::warn!("cannot start the claim heartbeat: {e}"),
        }
    }

    /// Renews the claim on (report, key) now; an error when this process no
    /// longer holds it, so the run sends nothing.
    pub fn confirm(&self, store: &mut Store, report: &str, key: &str) -> Result<()> {
        let me = holder::this_process();
        if !store.renew(report, key, me, Utc::now(), chrono_ttl(self.ttl))? {
            bail!(
                "report {report:?}, period {key}: this run lost its claim (it stalled longer than {} s) and another process may be running the period, so it sends nothing; salesops history shows what went out",
                self.ttl.as_secs()
            );
        }
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.heartbeat.take() {
            let _ = h.join();
        }
        if self.keys.is_empty() {
            return;
        }
        let me = holder::this_process();
        let released = Store::open(&self.state_dir)
            .and_then(|mut st| self.keys.iter().try_for_each(|(r, k)| st.release(r, k, me)));
        if let Err(e) = released {
            tracing::warn!("cannot release the run's claims (they expire by themselves): {e:#}");
        }
    }
}

/// Renews `keys` every ttl/4 until `stop` is dropped.
fn heartbeat(dir: &Path, mut keys: Vec<(String, String)>, ttl: Duration, stop: mpsc::Receiver<()>) {
    let me = holder::this_process();
    let mut store = None;
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(ttl / 4) {
        if store.is_none() {
            store = Store::open(dir)
                .map_err(|e| tracing::warn!("cannot renew the run's claims: {e:#}"))
                .ok();
        }
        let Some(st) = store.as_mut() else { continue };
        keys.retain(|(report, key)| {
            match st.renew(report, key, me, Utc::now(), chrono_ttl(ttl)) {
                Ok(true) => true,
                Ok(false) => {
                    tracing::error!(
                        report = %report,
                        period = %key,
                        error_code = crate::error_code::ErrorCode::ClaimLost.as_str(),
                        "this run lost its claim (stalled longer than {} s?); another process may run the period too; this run will not send it",
                        ttl.as_secs()
                    );
                    false
                }
                Err(e) => {
                    tracing::warn!(report = %report, "cannot renew the claim: {e:#}");
                    true
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(r, k)| (r.to_string(), k.to_string()))
            .collect()
    }

    const MINUTE: chrono::Duration = chrono::Duration::seconds(60);

    fn never_dead(_: &str) -> bool {
        false
    }

    /// The expiry of the claim on ("m", "2026-07"), which must be held.
    fn expiry(dir: &Path) -> String {
        let mut st = Store::open(dir).unwrap();
        match st
            .claim_even_if_done("m", "2026-07", "probe", Utc::now(), MINUTE, never_dead)
            .unwrap()
        {
            Claim::Busy { expires_at, .. } => expires_at,
            other => panic!("the claim is not held: {other:?}"),
        }
    }

    #[tokio::test]
    async fn held_claims_are_renewed_by_the_heartbeat_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let ttl = Duration::from_secs(2);
        let held = Held::take_with_ttl(dir.path(), &keys(&[("m", "2026-07")]), Duration::ZERO, ttl)
            .await
            .unwrap();
        let first = expiry(dir.path());
        // The heartbeat (every 0.5 s) moves the expiry on by itself, while
        // this thread is blocked and does nothing for the claim.
        let start = Instant::now();
        while expiry(dir.path()) == first {
            assert!(start.elapsed() < Duration::from_secs(30), "never renewed");
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut st = Store::open(dir.path()).unwrap();
        held.confirm(&mut st, "m", "2026-07").unwrap();
        drop(held);
        assert_eq!(
            st.claim("m", "2026-07", "other", Utc::now(), MINUTE, never_dead)
                .unwrap(),
            Claim::Acquired { replaced: None }
        );
    }

    #[tokio::test]
    async fn a_key_held_elsewhere_fails_the_take_and_gives_back_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::open(dir.path()).unwrap();
        st.claim(
            "b",
            "2026-07",
            "serve-elsewhere",
            Utc::now(),
            MINUTE,
            never_dead,
        )
        .unwrap();
        let both = keys(&[("a", "2026-07"), ("b", "2026-07")]);
        let err = Held::take(dir.path(), &both, Duration::ZERO)
            .await
            .err()
            .unwrap();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("report \"b\", period 2026-07: another salesops process (serve-elsewhere) is running it right now")
                && msg.contains("nothing was pulled or sent"),
            "{msg}"
        );
        // "a" was taken, then given back.
        assert_eq!(
            st.claim("a", "2026-07", "x", Utc::now(), MINUTE, never_dead)
                .unwrap(),
            Claim::Acquired { replaced: None }
        );
        // With a wait, the error says how long it waited.
        let err = Held::take(
            dir.path(),
            &keys(&[("b", "2026-07")]),
            Duration::from_secs(1),
        )
        .await
        .err()
        .unwrap();
        assert!(
            format!("{err:#}").contains("still after waiting 1 s"),
            "{err:#}"
        );
    }

    #[tokio::test]
    async fn a_waiting_take_gets_the_key_once_the_other_claim_ends() {
        let dir = tempfile::tempdir().unwrap();
        let mut st = Store::open(dir.path()).unwrap();
        // A holder that stopped renewing: its claim ends in a second.
        let short = chrono::Duration::seconds(1);
        st.claim("m", "2026-07", "stalled", Utc::now(), short, never_dead)
            .unwrap();
        let held = Held::take(
            dir.path(),
            &keys(&[("m", "2026-07")]),
            Duration::from_secs(30),
        )
        .await
        .unwrap();
        held.confirm(&mut st, "m", "2026-07").unwrap();
    }

    #[tokio::test]
    async fn a_lost_claim_is_not_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let held = Held::take(dir.path(), &keys(&[("m", "2026-07")]), Duration::ZERO)
            .await
            .unwrap();
        let mut st = Store::open(dir.path()).unwrap();
        // Another process took it over (as after our claim expired).
        st.release("m", "2026-07", holder::this_process()).unwrap();
        st.claim("m", "2026-07", "other", Utc::now(), MINUTE, never_dead)
            .unwrap();
        let err = held.confirm(&mut st, "m", "2026-07").unwrap_err();
        assert!(format!("{err}").contains("sends nothing"), "{err}");
    }
}
