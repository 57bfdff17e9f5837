//! Salesforce REST query (shared/crm/README.md §2), batches from
//! tests/fixtures/salesforce.

use super::support::{self, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, ForecastCategory, When};
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

pub async fn crm() -> Crm {
    let server = MockServer::start().await;
    for (object, file) in [
        ("User", "users.json"),
        ("OpportunityStage", "stages.json"),
        ("Opportunity", "opportunities-1.json"),
        ("Task", "tasks.json"),
        ("Event", "events.json"),
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
