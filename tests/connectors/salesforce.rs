//! Salesforce REST query (shared/crm/README.md §2), batches from
//! tests/fixtures/salesforce.

use super::doubles::Selected;
use super::support::{self, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, DealType, Field as F, ForecastCategory, Snapshot, When};
use serde_json::{json, Value};
use wiremock::matchers::{bearer_token, header, method, path};
use wiremock::{Mock, MockServer, Request};

const V: &str = "salesforce";
const QUERY: &str = "/services/data/v62.0/query";

fn is_page2(r: &Request) -> bool {
    r.url.path() == "/services/data/v62.0/query/01gXX0000012345AAA-2"
}

/// The SOQL `q` of a request selects FROM `object` (exactly that object).
pub fn soql_from(r: &Request, object: &str) -> bool {
    r.url.query_pairs().any(|(k, q)| {
        k == "q"
            && q.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0].eq_ignore_ascii_case("FROM") && w[1] == object)
    })
}

/// The SOQL of a request says `words` (spacing and case aside).
pub fn soql_says(r: &Request, words: &str) -> bool {
    let norm = |t: &str| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
    };
    r.url
        .query_pairs()
        .any(|(k, q)| k == "q" && norm(&q).contains(&norm(words)))
}

pub async fn crm() -> Crm {
    let server = MockServer::start().await;
    for (object, file) in [
        ("User", "users.json"),
        ("OpportunityStage", "stages.json"),
        ("Opportunity", "opportunities-1.json"),
        ("Lead", "leads.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(QUERY))
            .and(bearer_token(TOKEN))
            .and(header("sforce-query-options", "batchSize=2000"))
            .and(move |r: &Request| soql_from(r, object))
            .respond_with(page(V, file))
            .mount(&server)
            .await;
    }
    // Tasks and events on queryAll: also the archived task 00TXX0000005
    // (a year old), which the query resource leaves out; and a deleted one
    // unless the SOQL says IsDeleted = false.
    let tasks: Value = serde_json::from_slice(&support::fixture(V, "tasks.json")).unwrap();
    let mut live = tasks.clone();
    let records = live["records"].as_array_mut().unwrap();
    records.retain(|r| r["Id"] != "00TXX0000005");
    live["totalSize"] = json!(records.len());
    let mut deleted = tasks.clone();
    let records = deleted["records"].as_array_mut().unwrap();
    records.push(json!({"attributes": {"type": "Task", "url": "/services/data/v62.0/sobjects/Task/00TXX0000009"},
        "Id": "00TXX0000009", "OwnerId": "005XX000001SvW1YAK", "WhoId": null, "Type": "Call", "TaskSubtype": "Call",
        "ActivityDate": "2026-06-03", "CreatedDate": "2026-06-03T08:00:00.000+0000", "CallDurationInSeconds": 900}));
    deleted["totalSize"] = json!(records.len());
    let events: Value = serde_json::from_slice(&support::fixture(V, "events.json")).unwrap();
    let history: Value =
        serde_json::from_slice(&support::fixture(V, "opportunity-history.json")).unwrap();
    Mock::given(method("GET"))
        .and(path(QUERY))
        .and(bearer_token(TOKEN))
        .and(|r: &Request| soql_from(r, "OpportunityHistory"))
        .respond_with(Selected::new(history))
        .mount(&server)
        .await;
    for (resource, object, not_deleted, body) in [
        ("query", "Task", None, live),
        ("queryAll", "Task", Some(true), tasks),
        ("queryAll", "Task", Some(false), deleted),
        ("query", "Event", None, events.clone()),
        ("queryAll", "Event", None, events),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/services/data/v62.0/{resource}")))
            .and(bearer_token(TOKEN))
            .and(move |r: &Request| {
                soql_from(r, object)
                    && not_deleted.is_none_or(|b| soql_says(r, "IsDeleted = false") == b)
            })
            .respond_with(Selected::new(body))
            .mount(&server)
            .await;
    }
    for (locator, file) in [
        ("01gXX0000012345AAA-2", "opportunities-2.json"),
        ("01gXX0000012345AAA-4", "opportunities-3.json"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("{QUERY}/{locator}")))
            .and(bearer_token(TOKEN))
            .respond_with(page(V, file))
            .mount(&server)
            .await;
    }
    Crm::recorded(
        server,
        V,
        "Opportunity",
        is_page2,
        "opportunities-2.json",
        (503, "error-503.json"),
    )
}

#[tokio::test]
async fn pulls_every_batch_and_maps_the_standard_fields() {
    let crm = crm().await;
    let s = support::pulls_every_page(&crm).await.snapshot;
    let reps: Vec<(&str, bool)> = s.reps.iter().map(|r| (r.name.as_str(), r.active)).collect();
    assert_eq!(
        reps,
        vec![
            ("Ana Rep", true),
            ("Ben Seller", true),
            ("Old Timer", false),
            ("(no owner)", false)
        ]
    );
    let stages: Vec<(&str, String)> = s
        .stages
        .iter()
        .map(|st| (st.id.as_str(), st.probability.normalize().to_string()))
        .collect();
    assert_eq!(stages[3], ("Negotiation", "0.9".to_string()));
    let acme = s
        .deals
        .iter()
        .find(|d| d.id == "006XX000004TmiQYAS")
        .unwrap();
    assert_eq!(s.stages[acme.stage].label, "Negotiation/Review");
    assert_eq!(
        acme.created_at,
        When::Instant("2026-05-02T09:15:22Z".parse().unwrap())
    );
    assert_eq!(acme.close_date, When::Date("2026-07-31".parse().unwrap()));
    assert_eq!(acme.forecast_category, Some(ForecastCategory::Commit));
    let umbrella = s
        .deals
        .iter()
        .find(|d| d.id == "006XX000004TmiTYAS")
        .unwrap();
    assert_eq!(umbrella.forecast_category, Some(ForecastCategory::BestCase));
    let call = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000001")
        .unwrap();
    assert_eq!(
        (call.kind, call.duration_minutes),
        (ActivityKind::Call, Decimal::from(7))
    );
    let email = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000002")
        .unwrap();
    assert_eq!(email.kind, ActivityKind::Email);
    let meeting = s
        .activities
        .iter()
        .find(|a| a.id == "00UXX0000001")
        .unwrap();
    assert_eq!(
        (meeting.kind, meeting.duration_minutes),
        (ActivityKind::Meeting, Decimal::from(45))
    );
    // The first Task or Event on the lead is its first response.
    let lead = s.leads.iter().find(|l| l.id == "00QXX0000001").unwrap();
    assert_eq!(
        lead.first_response_at,
        Some(When::Instant("2026-06-01T03:40:00Z".parse().unwrap()))
    );
    // A lead owned by a queue has no owner.
    assert_eq!(
        s.leads
            .iter()
            .find(|l| l.id == "00QXX0000002")
            .unwrap()
            .owner,
        None
    );
}

#[tokio::test]
async fn missing_optional_fields_have_their_defaults() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let stark = s
        .deals
        .iter()
        .find(|d| d.id == "006XX000004TmiUYAS")
        .unwrap();
    assert_eq!((stark.amount, stark.forecast_category), (None, None));
    assert_eq!(s.reps[stark.owner].id, "(no owner)");
    assert!(
        s.notes[0].ends_with(": 006XX000004TmiUYAS"),
        "{:?}",
        s.notes
    );
    let other = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000003")
        .unwrap();
    assert_eq!(
        (other.kind, other.duration_minutes),
        (ActivityKind::Task, Decimal::ZERO)
    );
    assert_eq!(
        other.at,
        When::Instant("2026-06-07T09:00:00Z".parse().unwrap())
    );
}

#[tokio::test]
async fn tasks_keep_their_activity_date_and_archived_ones_come_too() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let ids: Vec<&str> = s.activities.iter().map(|a| a.id.as_str()).collect();
    // The year-old call only queryAll returns is there; the deleted one not.
    assert!(ids.contains(&"00TXX0000005"), "{ids:?}");
    assert!(!ids.contains(&"00TXX0000009"), "{ids:?}");
    let old = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000005")
        .unwrap();
    assert_eq!(old.at, When::Date("2025-05-20".parse().unwrap()));
    // Marked done (CompletedDateTime) the next day: the call stays on its
    // ActivityDate, and lasts its CallDurationInSeconds.
    let late = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000004")
        .unwrap();
    assert_eq!(late.at, When::Date("2026-06-05".parse().unwrap()));
    assert_eq!(
        (late.kind, late.duration_minutes),
        (ActivityKind::Call, Decimal::from(25))
    );
    // Only calls have a duration; an email task has none.
    let email = s
        .activities
        .iter()
        .find(|a| a.id == "00TXX0000002")
        .unwrap();
    assert_eq!(email.duration_minutes, Decimal::ZERO);
    assert_eq!(email.at, When::Date("2026-06-02".parse().unwrap()));
    let asked = crm.server.received_requests().await.unwrap();
    for object in ["Task", "Event"] {
        let on = |resource: &str| {
            asked
                .iter()
                .filter(|r| r.url.path().ends_with(resource) && soql_from(r, object))
                .count()
        };
        assert_eq!((on("/query"), on("/queryAll")), (0, 1), "{object}");
    }
}

#[tokio::test]
async fn the_used_up_daily_allowance_stops_at_once() {
    let crm = crm().await;
    let used_up = wiremock::ResponseTemplate::new(403).set_body_raw(
        r#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#,
        "application/json",
    );
    let err = support::pull_fails_with(&crm, used_up).await;
    assert!(err.contains("API request allowance"), "{err}");
    assert!(!err.contains("refused the token"), "{err}");
    assert_eq!(crm.page2_requests().await, 1);
}

scenarios!("UNKNOWN_EXCEPTION");

fn deal<'a>(s: &'a Snapshot, id: &str) -> &'a salesops::snapshot::Deal {
    s.deals.iter().find(|d| d.id == id).unwrap()
}

/// The SOQL of every request for `object`.
async fn soql_of(crm: &Crm, object: &str) -> Vec<String> {
    let all = crm.server.received_requests().await.unwrap();
    all.iter()
        .filter(|r| soql_from(r, object))
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "q")
                .map(|(_, q)| q.into_owned())
        })
        .collect()
}

#[tokio::test]
async fn opportunity_history_rows_become_deal_history() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    assert_eq!(
        soql_of(&crm, "OpportunityHistory").await,
        vec!["SELECT OpportunityId, CreatedDate, StageName, Amount, CloseDate, ForecastCategory FROM OpportunityHistory ORDER BY OpportunityId, CreatedDate"]
    );
    let stage = |id: &str| F::Stage(s.stages.iter().position(|st| st.id == id).unwrap() as u32);
    let acme = deal(&s, "006XX000004TmiQYAS");
    let got: Vec<(String, F)> = s
        .history_of(acme)
        .iter()
        .map(|c| (c.at.to_rfc3339(), c.value.clone()))
        .collect();
    let (created, may10, june1) = (
        "2026-05-02T09:15:22+00:00".to_string(),
        "2026-05-10T08:00:00+00:00".to_string(),
        "2026-06-01T10:00:00+00:00".to_string(),
    );
    let date = |d: &str| F::CloseDate(When::Date(d.parse().unwrap()));
    // The first row: all four; then what changed (a row where nothing of
    // the four changed gives nothing); labels name stages, Forecast is
    // Commit's API value.
    assert_eq!(
        got,
        vec![
            (created.clone(), stage("Prospecting")),
            (created.clone(), F::Amount(None)),
            (created.clone(), date("2026-08-31")),
            (created, F::Category(Some(ForecastCategory::Pipeline))),
            (may10.clone(), stage("Proposal")),
            (may10, F::Amount(Some(Decimal::from(12000)))),
            (june1.clone(), stage("Negotiation")),
            (june1.clone(), F::Amount(Some(Decimal::from(15000)))),
            (june1.clone(), date("2026-07-31")),
            (june1, F::Category(Some(ForecastCategory::Commit))),
        ]
    );
    let globex = deal(&s, "006XX000004TmiRYAS");
    // Won: stage, close date and category changed, the amount did not.
    assert_eq!(s.history_of(globex).len(), 7);
    // An opportunity without rows has no history.
    assert!(s.history_of(deal(&s, "006XX000004TmiSYAS")).is_empty());
}

#[tokio::test]
async fn history_follows_the_opportunity_filter_and_can_be_off() {
    let crm = crm().await;
    let toml = format!(
        "{}\n[source.salesforce]\nopportunity_filter = \"RecordType.DeveloperName = 'New_Business'\"\n",
        crm.toml()
    );
    support::pull(&toml).await.unwrap();
    assert_eq!(
        soql_of(&crm, "OpportunityHistory").await,
        vec!["SELECT OpportunityId, CreatedDate, StageName, Amount, CloseDate, ForecastCategory FROM OpportunityHistory WHERE OpportunityId IN (SELECT Id FROM Opportunity WHERE RecordType.DeveloperName = 'New_Business') ORDER BY OpportunityId, CreatedDate"]
    );
    let crm = super::salesforce::crm().await;
    let toml = format!("{}\n[source.salesforce]\nhistory = false\n", crm.toml());
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert!(s.changes.is_empty());
    assert!(soql_of(&crm, "OpportunityHistory").await.is_empty());
}

#[tokio::test]
async fn opportunity_types_from_type_and_the_config() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let types: Vec<Option<DealType>> = s.deals.iter().map(|d| d.deal_type).collect();
    // A new org's values map by default; the org's own do not, and are noted.
    assert_eq!(
        types,
        vec![
            Some(DealType::Renewal),
            Some(DealType::Upsell),
            Some(DealType::NewBusiness),
            None,
            None
        ]
    );
    assert!(
        s.notes.iter().any(|n| n == "salesforce: deal type value(s) \"Cross-sell\" (1) are not mapped and count as untyped; map them in [source.salesforce] deal_types"),
        "{:?}",
        s.notes
    );
    assert!(soql_of(&crm, "Opportunity").await[0].contains(", Type FROM Opportunity"));
    let crm = super::salesforce::crm().await;
    let toml = format!(
        "{}\n[source.salesforce]\ndeal_types = {{ \"Cross-sell\" = \"cross_sell\" }}\n",
        crm.toml()
    );
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert_eq!(
        deal(&s, "006XX000004TmiTYAS").deal_type,
        Some(DealType::CrossSell)
    );
    assert!(
        !s.notes.iter().any(|n| n.contains("deal type")),
        "{:?}",
        s.notes
    );
}

#[tokio::test]
async fn tasks_and_events_belong_to_the_opportunity_they_are_on() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let deal_of = |id: &str| s.deal_id_of(s.activities.iter().find(|a| a.id == id).unwrap());
    assert_eq!(deal_of("00TXX0000001"), Some("006XX000004TmiQYAS"));
    assert_eq!(deal_of("00TXX0000004"), Some("006XX000004TmiRYAS"));
    assert_eq!(deal_of("00TXX0000005"), Some("006XX000004TmiSYAS"));
    assert_eq!(deal_of("00UXX0000001"), Some("006XX000004TmiTYAS"));
    // On an account, on a campaign, on nothing: no deal.
    assert_eq!(deal_of("00TXX0000002"), None);
    assert_eq!(deal_of("00UXX0000002"), None);
    assert_eq!(deal_of("00TXX0000003"), None);
    for object in ["Task", "Event"] {
        assert!(
            soql_of(&crm, object).await[0].contains("WhatId"),
            "{object}"
        );
    }
}

#[tokio::test]
async fn a_reps_team_is_the_users_role() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let teams: Vec<(&str, Option<&str>)> = s
        .reps
        .iter()
        .map(|r| (r.name.as_str(), r.team.as_deref()))
        .collect();
    assert_eq!(
        teams,
        vec![
            ("Ana Rep", Some("EMEA Sales")),
            ("Ben Seller", None),
            ("Old Timer", Some("Inside Sales")),
            ("(no owner)", None)
        ]
    );
    assert!(soql_of(&crm, "User").await[0]
        .starts_with("SELECT Id, Name, Email, IsActive, UserRole.Name FROM User"));
    let crm = super::salesforce::crm().await;
    let toml = format!("{}\n[source.salesforce]\nteam_field = \"\"\n", crm.toml());
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert!(s.reps.iter().all(|r| r.team.is_none()));
    assert!(!soql_of(&crm, "User").await[0].contains("UserRole"));
}
