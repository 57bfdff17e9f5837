//! The `pipedrive` source: users (v1), stages, deals and done activities
//! (v2, 500 a page, the maximum) and leads (v1), all at once under the
//! shared limiter, then mapped (`map.rs`) into the snapshot. Deals and
//! leads come from two lists each, the current and the archived one. The
//! API token goes in the `x-api-token` header, never in the URL.

mod api;
pub mod map;

use super::http::{Auth, Http, Tuning};
use super::paging::{endpoint, Listing, Progress};
use super::Pulled;
use crate::config::Settings;
use anyhow::{Context, Result};
use api::{Activity, Deal, Lead, List, Paging, Stage, User};

/// Lite plans allow 20 requests per 2 s; less a margin.
const DEFAULT_RPS: f64 = 8.0;

pub async fn pull(s: &Settings, tuning: &Tuning) -> Result<Pulled> {
    let src = &s.source;
    let mapping = src.pipedrive.clone().unwrap_or_default();
    let rules = map::Rules::new(&mapping)?;
    let http = Http::new(
        &api::VENDOR,
        src,
        Auth::Header("x-api-token"),
        DEFAULT_RPS,
        &[],
        tuning,
    )?;
    let base = src
        .base_url
        .as_deref()
        .context("source.base_url is required for kind = \"pipedrive\"")?;
    let progress = Progress::new(api::VENDOR.name);
    let started = std::time::Instant::now();

    let users: List<User> = List::new("users", endpoint(base, "api/v1/users", &[])?, Paging::Whole);
    let stages: List<Stage> = List::new(
        "stages",
        endpoint(base, "api/v2/stages", &[("limit", "500")])?,
        Paging::Cursor,
    );
    // Since 2025-07-15 the deal and lead lists leave archived records out;
    // only the `/archived` lists return them, and an archived deal keeps
    // its won or lost status ("Breaking change: archived deals and leads
    // will not be returned in existing endpoints", developers.pipedrive.com
    // changelog). Closed deals are archived routinely: both lists, always.
    let deal_list = |object, path| -> Result<List<Deal>> {
        Ok(List::new(
            object,
            endpoint(base, path, &[("limit", "500")])?,
            Paging::Cursor,
        ))
    };
    let deals = deal_list("deals", "api/v2/deals")?;
    let archived_deals = deal_list("archived deals", "api/v2/deals/archived")?;
    let activities: List<Activity> = List::new(
        "activities",
        endpoint(
            base,
            "api/v2/activities",
            &[("limit", "500"), ("done", "true")],
        )?,
        Paging::Cursor,
    );
    let lead_list = |object, path| -> Result<List<Lead>> {
        Ok(List::new(
            object,
            endpoint(base, path, &[("limit", "500"), ("start", "0")])?,
            Paging::Offset,
        ))
    };
    let leads = lead_list("leads", "api/v1/leads")?;
    let archived_leads = lead_list("archived leads", "api/v1/leads/archived")?;

    let (h, p) = (&http, &progress);
    let (users, stages, mut deals, archived_deals, activities, mut leads, archived_leads) = futures::try_join!(
        users.pull_all(h, p),
        stages.pull_all(h, p),
        deals.pull_all(h, p),
        archived_deals.pull_all(h, p),
        activities.pull_all(h, p),
        leads.pull_all(h, p),
        archived_leads.pull_all(h, p),
    )?;
    deals.extend(archived_deals);
    leads.extend(archived_leads);
    let raw = map::Raw {
        users,
        stages,
        deals,
        activities,
        leads,
    };
    super::finish(&http, started, s, || map::map(raw, &rules, s.tz))
}
