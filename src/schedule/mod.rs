//! Scheduling: cron parsing and fire times (`cron`), the pure decisions
//! about fires, periods, catch-up and retries (`plan`), and the `serve`
//! loop built on tokio-cron-scheduler (`serve`, with one fire's run in
//! `attempt` and the heartbeat /healthz watches in `heartbeat`).

mod attempt;
pub(crate) mod cron;
mod heartbeat;
pub mod plan;
pub mod serve;

pub use crate::app::claim::CLAIM_TTL;
