//! The `pipedrive` source: users (v1), stages, deals and done activities
//! (v2, 500 a page, the maximum) and leads (v1), all at once under the
//! shared limiter, then mapped (`map.rs`) into the snapshot. Deals and
//! leads come from two lists each, the current and the archived one. With
//! `history`, each deal's changelog (v1, one request or more per deal) as
//! soon as the deals are read, many at once so that the rate limit, not
//! the wait for answers, sets the pace. The API token goes in the
//! `x-api-token` header, never in the URL.

mod api;
pub mod map;

use super::http::{Auth, Http, Tuning};
use super::paging::{endpoint, Listing, Progress};
use super::Pulled;
use crate::config::Settings;
use anyhow::{Context, Result};
use api::{Activity, Change, Deal, Lead, List, Paging, Stage, User};
use futures::{StreamExt, TryStreamExt};
use std::collections::HashMap;

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
    let rps = src.max_requests_per_second.unwrap_or(DEFAULT_RPS);
    let deals_and_changes = async {
        let (mut deals, archived) =
            futures::try_join!(deals.pull_all(h, p), archived_deals.pull_all(h, p))?;
        deals.extend(archived);
        let changes = if mapping.history {
            changelogs(h, p, base, map::wanted(&deals, &rules), rps).await?
        } else {
            HashMap::new()
        };
        Ok::<_, anyhow::Error>((deals, changes))
    };
    let (users, stages, (deals, changes), activities, mut leads, archived_leads) = futures::try_join!(
        users.pull_all(h, p),
        stages.pull_all(h, p),
        deals_and_changes,
        activities.pull_all(h, p),
        leads.pull_all(h, p),
        archived_leads.pull_all(h, p),
    )?;
    leads.extend(archived_leads);
    let raw = map::Raw {
        users,
        stages,
        deals,
        activities,
        leads,
        changes,
    };
    super::finish(&http, started, s, || map::map(raw, &rules, s.tz))
}

/// The changelog of each deal in `ids` (`GET /api/v1/deals/{id}/changelog`,
/// to its last cursor), by deal id. Pipedrive has no bulk history, so this
/// is a request per deal at least: enough are in flight at once (what the
/// rate limit allows in two seconds) that the shared limiter, not the
/// time each answer takes, sets the pace. One progress line for all.
async fn changelogs(
    http: &Http,
    progress: &Progress,
    base: &str,
    ids: Vec<String>,
    rps: f64,
) -> Result<HashMap<String, Vec<Change>>> {
    let in_flight = (rps * 2.0).ceil().clamp(4.0, 64.0) as usize;
    let lists = ids
        .into_iter()
        .map(|id| {
            let url = endpoint(
                base,
                &format!("api/v1/deals/{id}/changelog"),
                &[("limit", "500")],
            )?;
            Ok((
                id,
                List::<Change>::new("deal changelog", url, Paging::Cursor),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let tally = progress.tally("deal changelogs");
    let total = lists.len();
    let mut out = HashMap::with_capacity(total);
    let mut pages = 0u32;
    let each: Vec<_> = lists.iter().map(|l| changelog(http, l)).collect();
    let mut read = futures::stream::iter(each).buffer_unordered(in_flight);
    while let Some((id, rows, n)) = read.try_next().await? {
        pages += n;
        out.insert(id.clone(), rows);
        tally.page(out.len(), Some(total as u64));
    }
    tally.finish(out.len(), pages);
    Ok(out)
}

/// One deal's changelog read. Boxed, and made before they are streamed: the
/// scheduler needs the pull's future to be Send, which the compiler cannot
/// prove of a stream that makes these borrowing futures itself.
fn changelog<'a>(
    http: &'a Http,
    (id, list): &'a (String, List<Change>),
) -> futures::future::BoxFuture<'a, Result<(&'a String, Vec<Change>, u32)>> {
    Box::pin(async move {
        let (rows, pages) = list
            .pull_quiet(http)
            .await
            .with_context(|| format!("the changelog of deal {id}"))?;
        Ok((id, rows, pages))
    })
}
