//! Sources: where a snapshot comes from. Each maps what it reads into the
//! canonical snapshot and never computes a figure.
//!
//! One name everywhere: `[source] kind = "hubspot"` is `SourceKind::Hubspot`
//! is `source/hubspot/` is the log field `connector="hubspot"`. The CRM
//! connectors share one HTTP client (`http.rs`: limiter, retries), one way
//! of paging (`paging.rs`), one lenient reader of vendor values (`wire.rs`)
//! and one way into the snapshot (`canonical.rs`); each vendor's folder
//! holds only its wire shapes (`api.rs`) and its mapping (`map.rs`).

pub(crate) mod canonical;
pub(crate) mod demo;
pub mod file;
mod http;
pub(crate) mod hubspot;
mod paging;
pub(crate) mod pipedrive;
pub(crate) mod salesforce;
pub(crate) mod wire;
/// For progress and benchmark lines: 48210 → "48,210".
pub use wire::thousands;

pub use http::{Stats, Tuning};

use crate::config::{ConfigOrigin, Settings, SourceKind};
use crate::snapshot::Snapshot;
use anyhow::Result;
use chrono::NaiveDate;

/// A pulled snapshot and a line saying what was read.
pub struct Pulled {
    pub snapshot: Snapshot,
    /// e.g. `file crm.json: 1,500 deals, 9,000 activities, 1,500 leads`
    pub description: String,
    /// Where the time went (CRM connectors only).
    pub stats: Stats,
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
    pull_tuned(settings, origin, today, &Tuning::default()).await
}

/// `pull` with other retry timings (tests).
#[doc(hidden)]
pub async fn pull_tuned(
    settings: &Settings,
    origin: &ConfigOrigin,
    today: NaiveDate,
    tuning: &Tuning,
) -> Result<Pulled> {
    let src = &settings.source;
    let mut pulled = match src.kind {
        SourceKind::Demo => {
            let snapshot = demo::generate(today);
            Ok(Pulled {
                description: describe("demo", &snapshot),
                snapshot,
                stats: Stats::default(),
            })
        }
        SourceKind::File => file::pull(src, origin).await,
        SourceKind::Hubspot => hubspot::pull(settings, tuning).await,
        SourceKind::Salesforce => salesforce::pull(settings, tuning).await,
        SourceKind::Pipedrive => pipedrive::pull(settings, tuning).await,
    }?;
    pulled.snapshot.currency = currency(settings.currency.as_deref(), &pulled.snapshot.currency)?;
    Ok(pulled)
}

/// The report currency, decided once, here, for every output (report.json,
/// the summary, the email): what the data says its amounts are in, else
/// the config's `currency`, else USD. salesops converts nothing, so a
/// config currency that differs from the data's is an error.
pub fn currency(config: Option<&str>, data: &str) -> Result<String> {
    match (config, data) {
        (None, "") => Ok("USD".into()),
        (None, d) => Ok(d.into()),
        (Some(c), "") => Ok(c.into()),
        (Some(c), d) if c.eq_ignore_ascii_case(d) => Ok(d.into()),
        (Some(c), d) => anyhow::bail!(
            "currency: the config says {c:?} but the CRM data's amounts are in {d}, and salesops does not convert between currencies: set currency = {d:?} in the config (or remove it)"
        ),
    }
}

/// The end of every connector's pull: map and check (timed), then describe.
fn finish(
    http: &http::Http,
    started: std::time::Instant,
    s: &Settings,
    map: impl FnOnce() -> canonical::Mapped,
) -> Result<Pulled> {
    let t = std::time::Instant::now();
    let opts = crate::snapshot::LoadOptions {
        skip_bad_records: s.source.skip_bad_records,
    };
    // The report currency: the config's, else USD (CRMs do not say one here).
    let currency = s.currency.as_deref().unwrap_or("USD");
    let snapshot = canonical::build(http.vendor(), map(), currency, opts)?;
    http.add_map_time(t.elapsed());
    let mut stats = http.stats();
    stats.wall = started.elapsed();
    let description = describe(http.vendor(), &snapshot);
    tracing::debug!(
        connector = http.vendor(),
        "{} requests ({} retried, {} throttled); network {:.1} s, parse {:.2} s, map {:.2} s, wall {:.1} s",
        stats.requests,
        stats.retries,
        stats.throttled,
        stats.network.as_secs_f64(),
        stats.parse.as_secs_f64(),
        stats.map.as_secs_f64(),
        stats.wall.as_secs_f64()
    );
    Ok(Pulled {
        snapshot,
        description,
        stats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The scheduler runs pulls on spawned tasks: the future must be Send.
    #[test]
    fn the_pull_future_is_send() {
        let s = Settings::from_toml("").unwrap();
        let origin = ConfigOrigin::Embedded;
        let today = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let f = pull(&s, &origin, today);
        assert_send(&f);
    }
}
