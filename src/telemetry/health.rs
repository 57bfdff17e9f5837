//! Whether `serve` is alive and ready, as /healthz and /readyz answer.
//!
//! Alive: the scheduler's heartbeat (a job the scheduler fires every
//! `HEARTBEAT`, armed the way a report's fire is) went off within `STALE`;
//! a scheduler loop that stopped firing turns /healthz 503 within that.
//! While starting up (each step bounded by its own timeout) and while
//! shutting down (bounded by `shutdown_timeout_seconds`) it is alive.
//!
//! Ready: the config is loaded, the state store opened and migrated and
//! every report's first fire armed; not ready again from the first
//! SIGTERM/SIGINT on, so probes and load balancers stop counting on it
//! before it exits.
//!
//! Pure state: the clock is passed in to the decisions.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the scheduler's heartbeat job fires.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A heartbeat older than this means the scheduler loop is wedged.
pub const STALE: Duration = Duration::from_secs(30);

/// An answer to a probe: healthy or not, and a line saying why.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub ok: bool,
    pub message: String,
}

impl Probe {
    fn new(ok: bool, message: impl Into<String>) -> Probe {
        Probe {
            ok,
            message: message.into(),
        }
    }
}

#[derive(Debug)]
pub struct Health {
    origin: Instant,
    ready: AtomicBool,
    stopping: AtomicBool,
    /// Milliseconds from `origin` to the last heartbeat, plus one; 0: the
    /// scheduler has not started yet.
    beat: AtomicU64,
}

impl Default for Health {
    fn default() -> Self {
        Health::new()
    }
}

impl Health {
    pub fn new() -> Health {
        Health {
            origin: Instant::now(),
            ready: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            beat: AtomicU64::new(0),
        }
    }

    /// The scheduler loop is alive now (its heartbeat job went off, or it
    /// has just started).
    pub fn beat(&self) {
        self.beat_at(Instant::now());
    }

    fn beat_at(&self, now: Instant) {
        let ms = now.saturating_duration_since(self.origin).as_millis() as u64;
        self.beat.store(ms + 1, Ordering::Release);
    }

    /// Start-up is done: config, state store, first fires armed.
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// A signal came: not ready from now on.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    pub fn liveness(&self) -> Probe {
        self.liveness_at(Instant::now())
    }

    fn liveness_at(&self, now: Instant) -> Probe {
        if self.stopping.load(Ordering::Acquire) {
            return Probe::new(true, "shutting down: finishing the runs in flight");
        }
        let beat = self.beat.load(Ordering::Acquire);
        if beat == 0 {
            return Probe::new(true, "starting");
        }
        let last = self.origin + Duration::from_millis(beat - 1);
        let age = now.saturating_duration_since(last);
        if age > STALE {
            Probe::new(
                false,
                format!(
                    "the scheduler loop has not ticked for {} s (expected every {} s): it is wedged; restart salesops serve",
                    age.as_secs(),
                    HEARTBEAT.as_secs()
                ),
            )
        } else {
            Probe::new(
                true,
                format!("ok: the scheduler loop ticked {} s ago", age.as_secs()),
            )
        }
    }

    pub fn readiness(&self) -> Probe {
        if self.stopping.load(Ordering::Acquire) {
            Probe::new(false, "shutting down")
        } else if self.ready.load(Ordering::Acquire) {
            Probe::new(true, "ready")
        } else {
            Probe::new(
                false,
                "starting: opening the state store and arming the schedules",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_after_start_up_and_not_from_the_signal_on() {
        let h = Health::new();
        assert!(!h.readiness().ok);
        h.set_ready();
        assert_eq!(h.readiness(), Probe::new(true, "ready"));
        h.set_stopping();
        assert_eq!(h.readiness(), Probe::new(false, "shutting down"));
    }

    #[test]
    fn a_wedged_loop_fails_liveness_within_a_minute() {
        let h = Health::new();
        let t0 = h.origin;
        assert!(h.liveness_at(t0 + Duration::from_secs(600)).ok, "starting");
        h.beat_at(t0 + Duration::from_secs(1));
        let at = |s: u64| h.liveness_at(t0 + Duration::from_secs(s));
        assert!(at(1).ok);
        assert_eq!(at(31).message, "ok: the scheduler loop ticked 30 s ago");
        assert!(at(31).ok);
        // No heartbeat since second 1: at most STALE later it is 503.
        let wedged = at(32);
        assert!(!wedged.ok);
        assert!(wedged.message.contains("not ticked for 31 s"), "{wedged:?}");
        assert!(STALE + HEARTBEAT < Duration::from_secs(60));
        // A heartbeat brings it back.
        h.beat_at(t0 + Duration::from_secs(40));
        assert!(at(41).ok);
    }

    #[test]
    fn alive_while_shutting_down() {
        let h = Health::new();
        h.beat_at(h.origin);
        h.set_stopping();
        assert!(h.liveness_at(h.origin + Duration::from_secs(100)).ok);
    }
}
