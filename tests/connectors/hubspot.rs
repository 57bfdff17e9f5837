//! HubSpot CRM v3 (shared/crm/README.md §1), pages from tests/fixtures/hubspot.

use super::support::{self, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, ForecastCategory, Snapshot, When};
use wiremock::matchers::{
    bearer_token, method, path, query_param, query_param_contains, query_param_is_missing,
};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const V: &str = "hubspot";

fn is_page2(r: &Request) -> bool {
    r.url.path() == "/crm/v3/objects/deals"
        && r.url
            .query_pairs()
            .any(|(k, v)| k == "after" && v == "1234567892")
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

/// HubSpot with the recorded pages: deals in three pages (100 a page asked).
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
        .and(query_param_is_missing("after"))
        .and(query_param("limit", "100"))
        .and(query_param("archived", "false"))
        .and(query_param_contains(
            "properties",
            "hs_manual_forecast_category",
        ))
        .and(query_param_contains("properties", "dealstage"))
        .respond_with(page(V, "deals-1.json"))
        .mount(&server)
        .await;
    get(
        &server,
        "/crm/v3/objects/deals",
        &[("after", "1234567892")],
        page(V, "deals-2.json"),
    )
    .await;
    get(
        &server,
        "/crm/v3/objects/deals",
        &[("after", "1234567894")],
        page(V, "deals-3.json"),
    )
    .await;
    for object in ["calls", "meetings", "emails", "tasks", "contacts"] {
        get(
            &server,
            &format!("/crm/v3/objects/{object}"),
            &[("limit", "100")],
            page(V, &format!("{object}.json")),
        )
        .await;
    }
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
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(
        s.notes[0].starts_with("1 deal(s) have no owner"),
        "{}",
        s.notes[0]
    );
    assert!(s.notes[0].ends_with(": 1234567894"), "{}", s.notes[0]);
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
