//! The `hubspot` source: owners (active and archived), deal pipelines,
//! deals, calls, meetings, emails, tasks and contacts from the CRM v3 list
//! endpoints, all pulled at once under the shared limiter (100 records a
//! page, the list maximum; deals 50 with their history, the maximum with
//! `propertiesWithHistory`), activities with their deals' ids
//! (`associations=deals`), then mapped (`map.rs`) into the snapshot.

mod api;
pub mod map;

use super::http::{Auth, Http, Tuning};
use super::paging::{endpoint, Listing, Progress};
use super::Pulled;
use crate::config::Settings;
use anyhow::Result;
use api::{List, Object, Owner, Pipeline};

pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";
/// 100 per 10 s on Free/Starter private apps, less a margin.
const DEFAULT_RPS: f64 = 9.0;

pub async fn pull(s: &Settings, tuning: &Tuning) -> Result<Pulled> {
    let src = &s.source;
    let mapping = src.hubspot.clone().unwrap_or_default();
    let rules = map::Rules::new(&mapping)?;
    let http = Http::new(&api::VENDOR, src, Auth::Bearer, DEFAULT_RPS, &[], tuning)?;
    let base = src.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL);
    let progress = Progress::new(api::VENDOR.name);
    let started = std::time::Instant::now();

    // `extra`: more query parameters (history, associations).
    let list = |object: &'static str,
                props: Vec<&str>,
                limit: &str,
                extra: &[(&str, &str)]|
     -> Result<List<Object>> {
        let props = dedup(props).join(",");
        let mut params = vec![
            ("limit", limit),
            ("archived", "false"),
            ("properties", props.as_str()),
        ];
        params.extend_from_slice(extra);
        let url = endpoint(base, &format!("crm/v3/objects/{object}"), &params)?;
        Ok(List::new(object, url))
    };
    let objects = |object, props| list(object, props, "100", &[]);
    // An engagement with the ids of its deals: no extra request (§1.12).
    let engagements = |object, props| list(object, props, "100", &[("associations", "deals")]);
    let owners = |object: &'static str, archived: &str| -> Result<List<Owner>> {
        let url = endpoint(
            base,
            "crm/v3/owners",
            &[("limit", "100"), ("archived", archived)],
        )?;
        Ok(List::new(object, url))
    };
    let mut deal_props = vec![
        "dealname",
        "amount",
        "dealstage",
        "pipeline",
        "closedate",
        "createdate",
        "hubspot_owner_id",
        &mapping.forecast_category_property,
    ];
    deal_props.extend(rules.currency_property.as_deref());
    deal_props.extend(rules.deal_type_property.as_deref());
    let mut contact_props = vec!["createdate", "hubspot_owner_id"];
    contact_props.extend(mapping.first_response_properties.iter().map(String::as_str));
    contact_props.extend(rules.score_property.as_deref());

    let active = owners("owners", "false")?;
    let archived = owners("archived owners", "true")?;
    let pipelines: List<Pipeline> =
        List::new("pipelines", endpoint(base, "crm/v3/pipelines/deals", &[])?);
    // With history HubSpot refuses more than 50 records a page (HTTP 400).
    let history = map::history_properties(&mapping);
    let deals = if mapping.history {
        list(
            "deals",
            deal_props,
            "50",
            &[("propertiesWithHistory", &history.join(","))],
        )?
    } else {
        objects("deals", deal_props)?
    };
    let calls = engagements(
        "calls",
        vec![
            "hs_timestamp",
            "hs_call_duration",
            "hubspot_owner_id",
            "hs_activity_type",
        ],
    )?;
    let meetings = engagements(
        "meetings",
        vec![
            "hs_timestamp",
            "hs_meeting_start_time",
            "hs_meeting_end_time",
            "hs_meeting_outcome",
            "hubspot_owner_id",
            "hs_activity_type",
        ],
    )?;
    let emails = engagements(
        "emails",
        vec!["hs_timestamp", "hs_email_direction", "hubspot_owner_id"],
    )?;
    let tasks = engagements(
        "tasks",
        vec!["hs_timestamp", "hs_task_type", "hubspot_owner_id"],
    )?;
    let contacts = objects("contacts", contact_props)?;

    let (h, p) = (&http, &progress);
    let (owners, archived_owners, pipelines, deals, calls, meetings, emails, tasks, contacts) = futures::try_join!(
        active.pull_all(h, p),
        archived.pull_all(h, p),
        pipelines.pull_all(h, p),
        deals.pull_all(h, p),
        calls.pull_all(h, p),
        meetings.pull_all(h, p),
        emails.pull_all(h, p),
        tasks.pull_all(h, p),
        contacts.pull_all(h, p),
    )?;

    let raw = map::Raw {
        owners,
        archived_owners,
        pipelines,
        deals,
        calls,
        meetings,
        emails,
        tasks,
        contacts,
    };
    super::finish(&http, started, s, || map::map(raw, &rules))
}

/// Each property once, in the order given.
fn dedup(props: Vec<&str>) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    props.into_iter().filter(|p| seen.insert(*p)).collect()
}
