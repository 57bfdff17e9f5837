//! salesops: a sales organisation's operations review as a batch job.
//!
//! Data flows one way, and the modules follow it:
//! `source` (CRM connectors) → `snapshot` (canonical model) → `metrics`
//! (pure figures) → `report` (output model) → `render` → `deliver`, with
//! `app` (one run), `schedule` and the CLI on top and `state` beside;
//! `telemetry` (metrics, health probes) is told what happened.

pub mod app;
pub mod config;
pub mod deliver;
pub(crate) mod error_code;
pub mod metrics;
pub mod period;
pub mod redact;
pub mod render;
pub mod report;
pub mod schedule;
pub mod snapshot;
pub mod source;
pub mod state;
pub mod telemetry;
