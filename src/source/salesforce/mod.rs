//! The `salesforce` source: User, OpportunityStage, Opportunity, Task,
//! Event, Lead and (deal history) OpportunityHistory through SOQL queries
//! on the REST query resource (Task and Event on queryAll, which also
//! returns archived activities; up to 2,000 records a batch), all at once
//! under the shared limiter, then mapped (`map.rs`) into the snapshot.

mod api;
pub mod map;

use super::http::{Auth, Http, Tuning};
use super::paging::{endpoint, Listing, Progress};
use super::Pulled;
use crate::config::Settings;
use anyhow::{Context, Result};
use api::Query;

pub const DEFAULT_API_VERSION: &str = "v62.0";
/// Salesforce counts requests per 24 hours, not per second; a pull needs
/// few (2,000 records each). This only keeps bursts modest.
const DEFAULT_RPS: f64 = 10.0;
/// queryAll's rows less the deleted ones: the live and the archived.
const LIVE: &str = "IsDeleted = false";

pub async fn pull(s: &Settings, tuning: &Tuning) -> Result<Pulled> {
    let src = &s.source;
    let mapping = src.salesforce.clone().unwrap_or_default();
    let rules = map::Rules::new(&mapping)?;
    let http = Http::new(
        &api::VENDOR,
        src,
        Auth::Bearer,
        DEFAULT_RPS,
        &[("sforce-query-options", "batchSize=2000")],
        tuning,
    )?;
    let instance_text = src
        .instance_url
        .as_deref()
        .context("source.instance_url is required for kind = \"salesforce\"")?;
    let instance = endpoint(instance_text, "", &[])?;
    let version = src.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION);
    let progress = Progress::new(api::VENDOR.name);
    let started = std::time::Instant::now();

    // `resource`: "query", or "queryAll" (also archived and deleted rows);
    // `order`: an ORDER BY list.
    let query = |resource: &str,
                 object: &'static str,
                 fields: &[&str],
                 filter: Option<&str>,
                 order: Option<&str>|
     -> Result<Query> {
        let mut seen = std::collections::HashSet::new();
        let fields: Vec<&str> = fields
            .iter()
            .copied()
            .filter(|f| !f.is_empty() && seen.insert(f.to_ascii_lowercase()))
            .collect();
        let mut soql = format!("SELECT {} FROM {object}", fields.join(", "));
        if let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) {
            soql.push_str(&format!(" WHERE {f}"));
        }
        if let Some(o) = order {
            soql.push_str(&format!(" ORDER BY {o}"));
        }
        let first = endpoint(
            instance_text,
            &format!("services/data/{version}/{resource}"),
            &[("q", &soql)],
        )?;
        Ok(Query {
            object,
            first,
            instance: instance.clone(),
        })
    };
    let users = query(
        "query",
        "User",
        &["Id", "Name", "Email", "IsActive", &mapping.team_field],
        Some(&mapping.user_filter),
        None,
    )?;
    let stages = query(
        "query",
        "OpportunityStage",
        &[
            "Id",
            "ApiName",
            "MasterLabel",
            "DefaultProbability",
            "IsClosed",
            "IsWon",
            "SortOrder",
        ],
        None,
        None,
    )?;
    let opportunities = query(
        "query",
        "Opportunity",
        &[
            "Id",
            "Name",
            "Amount",
            "StageName",
            "CloseDate",
            "CreatedDate",
            "OwnerId",
            &mapping.forecast_category_field,
            &mapping.currency_field,
            &mapping.deal_type_field,
        ],
        mapping.opportunity_filter.as_deref(),
        None,
    )?;
    // Every change of stage, amount, close date or forecast category, with
    // the values then (§2.5), of the opportunities pulled.
    let history_filter = mapping
        .opportunity_filter
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| format!("OpportunityId IN (SELECT Id FROM Opportunity WHERE {f})"));
    let history = mapping
        .history
        .then(|| {
            query(
                "query",
                "OpportunityHistory",
                &[
                    "OpportunityId",
                    "CreatedDate",
                    "StageName",
                    "Amount",
                    "CloseDate",
                    "ForecastCategory",
                ],
                history_filter.as_deref(),
                Some("OpportunityId, CreatedDate"),
            )
        })
        .transpose()?;
    // Salesforce archives events and closed tasks older than a year, and
    // the query resource leaves archived rows out; queryAll returns them,
    // and deleted ones too, hence IsDeleted = false ("QueryAll also
    // returns information about archived task and event records",
    // developer.salesforce.com REST API guide, resources_queryall).
    let tasks = query(
        "queryAll",
        "Task",
        &[
            "Id",
            "OwnerId",
            "WhoId",
            "WhatId",
            "Type",
            "TaskSubtype",
            "ActivityDate",
            "CreatedDate",
            "CallDurationInSeconds",
        ],
        Some(LIVE),
        None,
    )?;
    let events = query(
        "queryAll",
        "Event",
        &[
            "Id",
            "OwnerId",
            "WhoId",
            "WhatId",
            "Type",
            "EventSubtype",
            "ActivityDate",
            "ActivityDateTime",
            "DurationInMinutes",
            "CreatedDate",
        ],
        Some(LIVE),
        None,
    )?;
    let leads = query(
        "query",
        "Lead",
        &[
            "Id",
            "OwnerId",
            "CreatedDate",
            &mapping.first_response_field,
            &mapping.score_field,
        ],
        None,
        None,
    )?;

    let (h, p) = (&http, &progress);
    let history = async {
        match &history {
            Some(q) => q.pull_all(h, p).await,
            None => Ok(Vec::new()),
        }
    };
    let (users, stages, opportunities, tasks, events, leads, history) = futures::try_join!(
        users.pull_all(h, p),
        stages.pull_all(h, p),
        opportunities.pull_all(h, p),
        tasks.pull_all(h, p),
        events.pull_all(h, p),
        leads.pull_all(h, p),
        history,
    )?;
    let raw = map::Raw {
        users,
        stages,
        opportunities,
        tasks,
        events,
        leads,
        history,
    };
    super::finish(&http, started, s, || map::map(raw, &rules))
}
