//! HubSpot CRM v3 (shared/crm/README.md §1), pages from tests/fixtures/hubspot.

use super::support::{self, fixture, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, DealType, ForecastCategory, Snapshot, When};
use serde_json::Value;
use wiremock::matchers::{
    bearer_token, method, path, query_param, query_param_contains, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const V: &str = "hubspot";

fn is_page2(r: &Request) -> bool {
    r.url.path() == "/crm/v3/objects/deals"
        && r.url
            .query_pairs()
            .any(|(k, v)| k == "after" && v == "1234567892")
}

/// Whether a request asks for `param`.
fn asks(r: &Request, param: &str) -> bool {
    r.url.query_pairs().any(|(k, _)| k == param)
}

/// A recorded page answered as HubSpot answers: property versions only
/// when `propertiesWithHistory` is asked, associated ids only when
/// `associations` is (§1.11, §1.12).
pub struct AsAsked(pub Value);

impl AsAsked {
    pub fn recorded(file: &str) -> AsAsked {
        AsAsked(serde_json::from_slice(&fixture(V, file)).unwrap())
    }
}

impl Respond for AsAsked {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let mut body = self.0.clone();
        for rec in body["results"].as_array_mut().into_iter().flatten() {
            let rec = rec.as_object_mut().unwrap();
            for (param, key) in [
                ("propertiesWithHistory", "propertiesWithHistory"),
                ("associations", "associations"),
            ] {
                if !asks(r, param) {
                    rec.remove(key);
                }
            }
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// A list asked with history for more than 50 records a page: HubSpot
/// refuses it with 400 (§1.11; the body text is not documented).
pub fn too_many_with_history(r: &Request) -> bool {
    asks(r, "propertiesWithHistory")
        && r.url
            .query_pairs()
            .any(|(k, v)| k == "limit" && v.parse::<u32>().is_ok_and(|l| l > 50))
}

pub fn history_limit_error() -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(serde_json::json!({"status": "error",
        "message": "The maximum number of objects that can be read with property history is 50",
        "correlationId": "5a7b2e0c-1f7a-4c2e-9d5b-3b3f0e6f2a11", "category": "VALIDATION_ERROR"}))
}

async fn get(server: &MockServer, p: &str, extra: &[(&str, &str)], body: ResponseTemplate) {
    let mut m = Mock::given(method("GET"))
        .and(path(p))
        .and(bearer_token(TOKEN));
    for (k, v) in extra {
        m = m.and(query_param(*k, *v));
    }
    m.respond_with(body).mount(server).await;
}

/// HubSpot with the recorded pages: deals in three pages (50 a page asked,
/// with their history), engagements with their deals' ids.
pub async fn crm() -> Crm {
    let server = MockServer::start().await;
    get(
        &server,
        "/crm/v3/owners",
        &[("archived", "false"), ("limit", "100")],
        page(V, "owners.json"),
    )
    .await;
    get(
        &server,
        "/crm/v3/owners",
        &[("archived", "true")],
        page(V, "owners-archived.json"),
    )
    .await;
    get(
        &server,
        "/crm/v3/pipelines/deals",
        &[],
        page(V, "pipelines.json"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals"))
        .and(too_many_with_history)
        .respond_with(history_limit_error())
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals"))
        .and(query_param_is_missing("after"))
        .and(query_param("archived", "false"))
        .and(query_param_contains(
            "properties",
            "hs_manual_forecast_category",
        ))
        .and(query_param_contains("properties", "dealstage"))
        .and(query_param_contains("properties", "dealtype"))
        .respond_with(AsAsked::recorded("deals-1.json"))
        .mount(&server)
        .await;
    for (after, file) in [
        ("1234567892", "deals-2.json"),
        ("1234567894", "deals-3.json"),
    ] {
        Mock::given(method("GET"))
            .and(path("/crm/v3/objects/deals"))
            .and(bearer_token(TOKEN))
            .and(query_param("after", after))
            .respond_with(AsAsked::recorded(file))
            .mount(&server)
            .await;
    }
    for object in ["calls", "meetings", "emails", "tasks"] {
        Mock::given(method("GET"))
            .and(path(format!("/crm/v3/objects/{object}")))
            .and(bearer_token(TOKEN))
            .and(query_param("limit", "100"))
            .and(query_param("associations", "deals"))
            .respond_with(AsAsked::recorded(&format!("{object}.json")))
            .mount(&server)
            .await;
    }
    get(
        &server,
        "/crm/v3/objects/contacts",
        &[("limit", "100")],
        page(V, "contacts.json"),
    )
    .await;
    Crm::recorded(
        server,
        V,
        "deals",
        is_page2,
        "deals-2.json",
        (429, "error-429.json"),
    )
}

fn deal<'a>(s: &'a Snapshot, id: &str) -> &'a salesops::snapshot::Deal {
    s.deals.iter().find(|d| d.id == id).unwrap()
}

#[tokio::test]
async fn pulls_every_page_and_maps_the_standard_properties() {
    let crm = crm().await;
    let s = support::pulls_every_page(&crm).await.snapshot;
    // Owners, active and archived; the queue is not a rep; deals of unknown
    // owners go to "(no owner)".
    assert_eq!(
        support::reps(&s),
        vec![
            ("512345600", "Old Timer", false),
            ("512345678", "Ana Rep", true),
            ("512345679", "Ben Seller", true),
            ("(no owner)", "(no owner)", false),
        ]
    );
    assert_eq!(s.stages.len(), 7);
    let won = s.stages.iter().find(|st| st.id == "closedwon").unwrap();
    assert!(won.closed && won.won);
    let acme = deal(&s, "1234567890");
    assert_eq!(acme.amount, Some(Decimal::from(15000)));
    assert_eq!(s.stages[acme.stage].probability, Decimal::new(9, 1));
    assert_eq!(acme.forecast_category, Some(ForecastCategory::Commit));
    // A UI-picked close date arrives as midnight UTC: it is that calendar day.
    assert_eq!(acme.close_date, When::Date("2026-07-31".parse().unwrap()));
    assert_eq!(s.reps[acme.owner].id, "512345678");
    let globex = deal(&s, "1234567891");
    assert_eq!(globex.amount, Some(Decimal::new(820050, 2)));
    assert!(s.stages[globex.stage].won);
    // Calls 2, meetings 2, one outgoing email of two, tasks 2.
    let kinds: Vec<ActivityKind> = s.activities.iter().map(|a| a.kind).collect();
    assert_eq!(kinds.len(), 7);
    assert_eq!(
        kinds.iter().filter(|k| **k == ActivityKind::Email).count(),
        1
    );
    assert!(kinds.contains(&ActivityKind::Social));
    let call = s.activities.iter().find(|a| a.id == "81234567890").unwrap();
    assert_eq!(call.duration_minutes, Decimal::from(7));
    let meeting = s.activities.iter().find(|a| a.id == "71234567891").unwrap();
    assert_eq!(
        (meeting.duration_minutes, meeting.outcome.as_deref()),
        (Decimal::from(30), Some("no_show"))
    );
    assert!(!meeting.is_booked_meeting());
    // A task of an owner that is not a user: kept for team figures.
    assert_eq!(
        s.activities
            .iter()
            .find(|a| a.id == "51234567891")
            .unwrap()
            .owner,
        None
    );
    let lead = s.leads.iter().find(|l| l.id == "101").unwrap();
    assert_eq!(
        lead.first_response_at,
        Some(When::Instant("2026-06-01T03:40:00Z".parse().unwrap()))
    );
    assert_eq!(lead.score, Some(Decimal::from(14)));
}

#[tokio::test]
async fn missing_optional_properties_have_their_defaults() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let stark = deal(&s, "1234567894");
    assert_eq!(stark.amount, None);
    assert_eq!(stark.forecast_category, None);
    assert_eq!(s.reps[stark.owner].id, "(no owner)");
    assert_eq!(stark.deal_type, None);
    let owners: Vec<&String> = s.notes.iter().filter(|n| n.contains("owner")).collect();
    assert_eq!(owners.len(), 1, "{:?}", s.notes);
    assert!(
        owners[0].starts_with("1 deal(s) have no owner"),
        "{}",
        owners[0]
    );
    assert!(owners[0].ends_with(": 1234567894"), "{}", owners[0]);
    let silent = s.activities.iter().find(|a| a.id == "81234567891").unwrap();
    assert_eq!(silent.duration_minutes, Decimal::ZERO);
    let bare = s.leads.iter().find(|l| l.id == "102").unwrap();
    assert_eq!(
        (bare.owner.as_deref(), bare.first_response_at, bare.score),
        (None, None, None)
    );
}

#[tokio::test]
async fn a_daily_limit_429_stops_at_once() {
    let crm = crm().await;
    let daily = ResponseTemplate::new(429).set_body_raw(
        r#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","correlationId":"c033cdaa-2c40-4a64-ae48-b4cec88dad24","policyName":"DAILY"}"#,
        "application/json",
    );
    let err = support::pull_fails_with(&crm, daily).await;
    assert!(err.contains("daily API limit is used up"), "{err}");
    assert_eq!(crm.page2_requests().await, 1);
}

#[tokio::test]
async fn only_the_configured_pipelines() {
    let crm = crm().await;
    let toml = format!(
        "{}\n[source.hubspot]\npipelines = [\"other\"]\n",
        crm.toml()
    );
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert!(s.stages.is_empty() && s.deals.is_empty());
}

#[tokio::test]
async fn a_page_that_times_out_is_asked_again() {
    let crm = crm().await;
    crm.page2()
        .respond_with(
            crm.page2_body
                .clone()
                .set_delay(std::time::Duration::from_millis(2500)),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let toml = format!("{}timeout_seconds = 1\n", crm.toml());
    let pulled = support::pull(&toml).await.unwrap();
    assert_eq!(pulled.snapshot.deals.len(), 5);
    assert_eq!(pulled.stats.retries, 1);
    assert_eq!(crm.page2_requests().await, 2);
}

scenarios!("internal error while reading deals");

#[tokio::test]
async fn a_used_up_rate_limit_window_is_waited_out_before_asking_again() {
    let crm = crm().await;
    let at = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let spent = crm
        .page2_body
        .clone()
        .insert_header("x-hubspot-ratelimit-interval-milliseconds", "1000")
        .insert_header("x-hubspot-ratelimit-max", "100")
        .insert_header("x-hubspot-ratelimit-remaining", "0");
    crm.page2()
        .respond_with(support::Stamped {
            template: spent,
            at: at.clone(),
        })
        .with_priority(1)
        .mount(&crm.server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals"))
        .and(query_param("after", "1234567894"))
        .respond_with(support::Stamped {
            template: page(V, "deals-3.json"),
            at: at.clone(),
        })
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let pulled = support::pull(&crm.toml()).await.unwrap();
    assert_eq!(pulled.snapshot.deals.len(), 5);
    assert_eq!(pulled.stats.throttled, 0, "paced, never refused");
    let at = at.lock().unwrap();
    assert_eq!(at.len(), 2);
    assert!(
        at[1] - at[0] >= std::time::Duration::from_secs(1),
        "{:?}",
        at[1] - at[0]
    );
}

/// Every deals request of a pull.
async fn deal_requests(crm: &Crm) -> Vec<Request> {
    let all = crm.server.received_requests().await.unwrap();
    all.into_iter()
        .filter(|r| r.url.path() == "/crm/v3/objects/deals")
        .collect()
}

fn param(r: &Request, key: &str) -> Option<String> {
    r.url
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn deal_history_is_asked_50_a_page_and_read_oldest_first() {
    let crm = crm().await;
    let s = support::pulls_every_page(&crm).await.snapshot;
    // Every deals page asked with history, 50 a page (more is refused).
    let asked = deal_requests(&crm).await;
    assert_eq!(asked.len(), 3);
    for r in &asked {
        assert_eq!(param(r, "limit").as_deref(), Some("50"), "{}", r.url);
        assert_eq!(
            param(r, "propertiesWithHistory").as_deref(),
            Some("dealstage,amount,closedate,hs_manual_forecast_category")
        );
    }
    // Acme: versions come newest first; the history is oldest first, the
    // oldest version of each property at createdate (the stage's 3 ms
    // before it), values read as the current ones.
    let acme = deal(&s, "1234567890");
    let history: Vec<(String, salesops::snapshot::Field)> = s
        .history_of(acme)
        .iter()
        .map(|c| (c.at.to_rfc3339(), c.value.clone()))
        .collect();
    let stage = |id: &str| {
        salesops::snapshot::Field::Stage(s.stages.iter().position(|st| st.id == id).unwrap() as u32)
    };
    use salesops::snapshot::Field as F;
    let created = "2026-05-02T09:15:22.123+00:00".to_string();
    let may15 = "2026-05-15T08:30:00+00:00".to_string();
    let june1 = "2026-06-01T10:00:00+00:00".to_string();
    assert_eq!(
        history,
        vec![
            (created.clone(), stage("appointmentscheduled")),
            (created.clone(), F::Amount(Some(Decimal::from(12000)))),
            (
                created.clone(),
                F::CloseDate(When::Date("2026-08-31".parse().unwrap()))
            ),
            (created, F::Category(Some(ForecastCategory::Pipeline))),
            (may15.clone(), stage("qualifiedtobuy")),
            (
                may15,
                F::CloseDate(When::Date("2026-07-31".parse().unwrap()))
            ),
            (june1.clone(), stage("contractsent")),
            (june1.clone(), F::Amount(Some(Decimal::from(15000)))),
            (june1, F::Category(Some(ForecastCategory::Commit))),
        ]
    );
    // The current values stay the properties.
    assert_eq!(acme.amount, Some(Decimal::from(15000)));
    // A deal whose properties have no versions has no history.
    assert!(s.history_of(deal(&s, "1234567894")).is_empty());
    assert!(!s.history_of(deal(&s, "1234567893")).is_empty());
}

#[tokio::test]
async fn a_history_page_above_50_is_refused_by_hubspot() {
    // What salesops must never ask: the double answers as HubSpot does.
    let crm = crm().await;
    let url = format!(
        "{}/crm/v3/objects/deals?limit=100&propertiesWithHistory=dealstage",
        crm.server.uri()
    );
    let answer = reqwest::Client::new()
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    // And salesops does not: its pull completes (pulls_every_page above).
    assert!(support::pull(&crm.toml()).await.is_ok());
}

#[tokio::test]
async fn without_history_deals_come_100_a_page_and_have_none() {
    let crm = crm().await;
    let toml = format!("{}\n[source.hubspot]\nhistory = false\n", crm.toml());
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert_eq!(s.deals.len(), 5);
    assert!(s.changes.is_empty());
    for r in deal_requests(&crm).await {
        assert_eq!(param(&r, "limit").as_deref(), Some("100"), "{}", r.url);
        assert_eq!(param(&r, "propertiesWithHistory"), None);
    }
}

#[tokio::test]
async fn deal_types_from_dealtype_and_its_portal_options() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let types: Vec<(&str, Option<DealType>)> = s
        .deals
        .iter()
        .map(|d| (d.id.as_str(), d.deal_type))
        .collect();
    // HubSpot's two options map by default; the portal's own do not.
    assert_eq!(
        types,
        vec![
            ("1234567890", None),
            ("1234567891", Some(DealType::Upsell)),
            ("1234567892", Some(DealType::NewBusiness)),
            ("1234567893", None),
            ("1234567894", None),
        ]
    );
    assert!(
        s.notes.iter().any(|n| n == "hubspot: deal type value(s) \"crosssell\" (1), \"renewal\" (1) are not mapped and count as untyped; map them in [source.hubspot] deal_types"),
        "{:?}",
        s.notes
    );
    let toml = format!(
        "{}\n[source.hubspot]\ndeal_types = {{ crosssell = \"cross_sell\", renewal = \"renewal\" }}\n",
        crm.toml()
    );
    let s = support::pull(&toml).await.unwrap().snapshot;
    let types: Vec<Option<DealType>> = s.deals.iter().map(|d| d.deal_type).collect();
    assert_eq!(
        types,
        vec![
            Some(DealType::Renewal),
            Some(DealType::Upsell),
            Some(DealType::NewBusiness),
            Some(DealType::CrossSell),
            None
        ]
    );
    assert!(
        !s.notes.iter().any(|n| n.contains("deal type")),
        "{:?}",
        s.notes
    );
}

#[tokio::test]
async fn calls_meetings_emails_and_tasks_carry_their_deals() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let deal_of = |id: &str| {
        let a = s.activities.iter().find(|a| a.id == id).unwrap();
        s.deal_id_of(a)
    };
    assert_eq!(deal_of("81234567890"), Some("1234567890")); // call
    assert_eq!(deal_of("71234567890"), Some("1234567893")); // meeting, two labels
    assert_eq!(deal_of("61234567890"), Some("1234567891")); // email
    assert_eq!(deal_of("51234567890"), Some("1234567892")); // task
                                                            // No associations key: no deal.
    assert_eq!(deal_of("81234567891"), None);
    assert_eq!(deal_of("71234567891"), None);
    // A deal that was not pulled (another pipeline): kept, and noted.
    assert_eq!(deal_of("51234567891"), Some("9988776655"));
    assert!(
        s.notes.iter().any(|n| n.starts_with(
            "1 activity name a deal that is not in the data (deal_id \"9988776655\")"
        )),
        "{:?}",
        s.notes
    );
    let all = crm.server.received_requests().await.unwrap();
    for object in ["calls", "meetings", "emails", "tasks"] {
        let r = all
            .iter()
            .find(|r| r.url.path() == format!("/crm/v3/objects/{object}"))
            .unwrap();
        assert_eq!(
            param(r, "associations").as_deref(),
            Some("deals"),
            "{object}"
        );
    }
}

#[tokio::test]
async fn a_reps_team_is_the_owners_primary_team() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let teams: Vec<(&str, Option<&str>)> = s
        .reps
        .iter()
        .map(|r| (r.id.as_str(), r.team.as_deref()))
        .collect();
    // Ben is on two teams, the primary one listed second.
    assert_eq!(
        teams,
        vec![
            ("512345600", Some("EMEA Sales")),
            ("512345678", Some("EMEA Sales")),
            ("512345679", Some("EMEA Sales")),
            ("(no owner)", None),
        ]
    );
    let toml = format!("{}\n[source.hubspot]\nrep_teams = false\n", crm.toml());
    let s = support::pull(&toml).await.unwrap().snapshot;
    assert!(s.reps.iter().all(|r| r.team.is_none()));
}
