//! Sources: where a snapshot comes from. Each maps what it reads into the
//! canonical snapshot and never computes a figure.
//!
//! One name everywhere: `[source] kind = "file"` is `SourceKind::File` is
//! `source/file.rs` is the log field `source="file"`.

pub mod demo;
pub mod file;

use crate::config::{ConfigOrigin, Settings, SourceKind};
use crate::snapshot::Snapshot;
use anyhow::{bail, Result};
use chrono::NaiveDate;

/// A pulled snapshot and a line saying what was read.
pub struct Pulled {
    pub snapshot: Snapshot,
    /// e.g. `file crm.json: 1,500 deals, 9,000 activities, 1,500 leads`
    pub description: String,
}

impl Pulled {
    pub fn rows(&self) -> usize {
        let s = &self.snapshot;
        s.reps.len() + s.stages.len() + s.deals.len() + s.activities.len() + s.leads.len()
    }
}

pub fn describe(name: &str, s: &Snapshot) -> String {
    format!(
        "{name}: {} reps, {} deals, {} activities, {} leads",
        s.reps.len(),
        s.deals.len(),
        s.activities.len(),
        s.leads.len()
    )
}

/// Pulls the configured source completely, or fails: a report is never
/// computed from part of the data.
pub async fn pull(settings: &Settings, origin: &ConfigOrigin, today: NaiveDate) -> Result<Pulled> {
    let src = &settings.source;
    match src.kind {
        SourceKind::Demo => {
            let snapshot = demo::generate(today);
            Ok(Pulled { description: describe("demo", &snapshot), snapshot })
        }
        SourceKind::File => file::pull(src, origin).await,
        SourceKind::Hubspot | SourceKind::Salesforce | SourceKind::Pipedrive => bail!(
            "source.kind = {:?} is not available in this build yet; export a canonical snapshot and use kind = \"file\"",
            src.kind.as_str()
        ),
    }
}
