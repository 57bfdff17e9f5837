//! Pipedrive API v2 and v1 (shared/crm/README.md §3), pages from
//! tests/fixtures/pipedrive.

use super::support::{self, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, When};
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const V: &str = "pipedrive";
const CURSOR2: &str = "eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6NDIxMn0";
const CURSOR3: &str = "eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6NDIxNH0";

fn is_page2(r: &Request) -> bool {
    r.url.path() == "/api/v2/deals"
        && r.url
            .query_pairs()
            .any(|(k, v)| k == "cursor" && v == CURSOR2)
}

async fn get(server: &MockServer, p: &str, extra: &[(&str, &str)], body: ResponseTemplate) {
    let mut m = Mock::given(method("GET"))
        .and(path(p))
        .and(header("x-api-token", TOKEN));
    for (k, v) in extra {
        m = m.and(query_param(*k, *v));
    }
    m.respond_with(body).mount(server).await;
}

pub async fn crm() -> Crm {
    let server = MockServer::start().await;
    get(&server, "/api/v1/users", &[], page(V, "users.json")).await;
    get(
        &server,
        "/api/v2/stages",
        &[("limit", "500")],
        page(V, "stages.json"),
    )
    .await;
    Mock::given(method("GET"))
        .and(path("/api/v2/deals"))
        .and(query_param("limit", "500"))
        .and(query_param_is_missing("cursor"))
        .and(header("x-api-token", TOKEN))
        .respond_with(page(V, "deals-1.json"))
        .mount(&server)
        .await;
    get(
        &server,
        "/api/v2/deals",
        &[("cursor", CURSOR2)],
        page(V, "deals-2.json"),
    )
    .await;
    get(
        &server,
        "/api/v2/deals",
        &[("cursor", CURSOR3)],
        page(V, "deals-3.json"),
    )
    .await;
    get(
        &server,
        "/api/v2/activities",
        &[("done", "true"), ("limit", "500")],
        page(V, "activities.json"),
    )
    .await;
    // Archived deals and leads are only on their own lists (since
    // 2025-07-15); the current lists leave them out.
    get(
        &server,
        "/api/v2/deals/archived",
        &[("limit", "500")],
        page(V, "deals-archived.json"),
    )
    .await;
    // Leads answer with the paging keys directly under additional_data
    // (the official client's GetLeadsResponse), and page 1 is short of the
    // limit though more follow (rows the token may not see are left out).
    get(
        &server,
        "/api/v1/leads",
        &[("start", "0"), ("limit", "500")],
        page(V, "leads.json"),
    )
    .await;
    get(
        &server,
        "/api/v1/leads",
        &[("start", "2"), ("limit", "500")],
        page(V, "leads-2.json"),
    )
    .await;
    get(
        &server,
        "/api/v1/leads/archived",
        &[("start", "0"), ("limit", "500")],
        page(V, "leads-archived.json"),
    )
    .await;
    let mut crm = Crm::recorded(
        server,
        V,
        "deals",
        is_page2,
        "deals-2.json",
        (429, "error-429.json"),
    );
    crm.deal_count = 6;
    crm
}

#[tokio::test]
async fn pulls_every_page_and_maps_the_standard_fields() {
    let crm = crm().await;
    let s = support::pulls_every_page(&crm).await.snapshot;
    assert_eq!(
        support::reps(&s),
        vec![
            ("13", "Ana Rep", true),
            ("14", "Ben Seller", true),
            ("15", "Old Timer", false),
            ("(no owner)", "(no owner)", false)
        ]
    );
    // Five stages in order_nr order, then the synthetic won and lost.
    let stages: Vec<(&str, String, bool, bool)> = s
        .stages
        .iter()
        .map(|st| {
            (
                st.id.as_str(),
                st.probability.normalize().to_string(),
                st.closed,
                st.won,
            )
        })
        .collect();
    assert_eq!(stages[0], ("1", "0.1".to_string(), false, false));
    assert_eq!(stages[5], ("won", "1".to_string(), true, true));
    assert_eq!(stages[6], ("lost", "0".to_string(), true, false));
    let globex = s.deals.iter().find(|d| d.id == "4212").unwrap();
    assert!(s.stages[globex.stage].won);
    assert_eq!(
        globex.close_date,
        When::Instant("2026-06-20T16:00:01Z".parse().unwrap())
    );
    assert_eq!(globex.amount, Some(Decimal::new(82005, 1)));
    let acme = s.deals.iter().find(|d| d.id == "4211").unwrap();
    assert_eq!(acme.close_date, When::Date("2026-07-31".parse().unwrap()));
    assert_eq!(s.stages[acme.stage].probability, Decimal::new(8, 1));
    let initech = s.deals.iter().find(|d| d.id == "4213").unwrap();
    assert_eq!(s.stages[initech.stage].id, "lost");
    // A deal in another currency is noted, not converted.
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("1 deal(s) are in EUR, not USD")),
        "{:?}",
        s.notes
    );
    let call = s.activities.iter().find(|a| a.id == "9051").unwrap();
    assert_eq!(
        call.at,
        When::Instant("2026-06-02T10:00:00Z".parse().unwrap())
    );
    assert_eq!(
        (call.kind, call.duration_minutes),
        (ActivityKind::Call, Decimal::from(7))
    );
    let lunch = s.activities.iter().find(|a| a.id == "9054").unwrap();
    assert_eq!(
        (lunch.kind, lunch.duration_minutes),
        (ActivityKind::Task, Decimal::from(60))
    );
    assert_eq!(lunch.at, When::Date("2026-06-07".parse().unwrap()));
    // The first response is the earliest due time of the lead's done
    // activities (9051 at 10:00), not when one was marked done (9055 was
    // marked done first but is due on 2026-06-04).
    let lead = s
        .leads
        .iter()
        .find(|l| l.id == "adf21080-0e10-11eb-879b-05d71fb426ec")
        .unwrap();
    assert_eq!(
        lead.first_response_at,
        Some(When::Instant("2026-06-02T10:00:00Z".parse().unwrap()))
    );
}

#[tokio::test]
async fn archived_deals_and_leads_count() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    // A won deal archived after it closed keeps its status and close.
    let wayne = s.deals.iter().find(|d| d.id == "4216").unwrap();
    assert!(s.stages[wayne.stage].won);
    assert_eq!(
        wayne.close_date,
        When::Instant("2026-06-18T11:30:00Z".parse().unwrap())
    );
    assert_eq!(wayne.amount, Some(Decimal::from(12500)));
    assert_eq!(s.reps[wayne.owner].id, "14");
    // Both pages of current leads and the archived one.
    let leads: Vec<&str> = s.leads.iter().map(|l| l.id.as_str()).collect();
    assert_eq!(
        leads,
        vec![
            "adf21080-0e10-11eb-879b-05d71fb426ec",
            "b0b2c3d4-0e10-11eb-879b-05d71fb426ec",
            "c3d4e5f6-0e10-11eb-879b-05d71fb426ec",
            "e5f6a7b8-0e10-11eb-879b-05d71fb426ec"
        ]
    );
    let archived = s.leads.last().unwrap();
    assert_eq!(
        archived.first_response_at,
        Some(When::Instant("2026-06-05T08:30:00Z".parse().unwrap()))
    );
    // No list is asked with the parameter Pipedrive dropped.
    let asked = crm.server.received_requests().await.unwrap();
    assert!(asked
        .iter()
        .all(|r| !r.url.query_pairs().any(|(k, _)| k == "archived_status")));
}

/// `n` leads in the v1 shape, ids numbered from `from`.
fn leads(from: usize, n: usize) -> Vec<serde_json::Value> {
    (from..from + n)
        .map(|i| {
            serde_json::json!({"id": format!("00000000-0000-4000-8000-{i:012}"), "title": "Lead",
            "owner_id": 13, "add_time": "2026-06-01T03:00:00.000Z", "is_archived": false})
        })
        .collect()
}

#[tokio::test]
async fn a_full_v1_page_without_paging_keys_is_followed_by_the_next() {
    let crm = crm().await;
    for (start, body) in [("0", leads(0, 500)), ("500", leads(500, 3))] {
        Mock::given(method("GET"))
            .and(path("/api/v1/leads"))
            .and(query_param("start", start))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({"success": true, "data": body})),
            )
            .with_priority(1)
            .mount(&crm.server)
            .await;
    }
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    // 503 current leads (the page of 500 said nothing, so the next was
    // asked; the short one ended the list) and the archived one.
    assert_eq!(s.leads.len(), 504);
    let asked = crm.server.received_requests().await.unwrap();
    let starts: Vec<String> = asked
        .iter()
        .filter(|r| r.url.path() == "/api/v1/leads")
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "start")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(starts, vec!["0", "500"]);
}

#[tokio::test]
async fn missing_optional_fields_have_their_defaults() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let stark = s.deals.iter().find(|d| d.id == "4215").unwrap();
    assert_eq!((stark.amount, stark.forecast_category), (None, None));
    assert_eq!(s.reps[stark.owner].id, "(no owner)");
    let email = s.activities.iter().find(|a| a.id == "9053").unwrap();
    assert_eq!(email.duration_minutes, Decimal::ZERO);
    let bare = s
        .leads
        .iter()
        .find(|l| l.id == "b0b2c3d4-0e10-11eb-879b-05d71fb426ec")
        .unwrap();
    assert_eq!(
        (bare.owner.as_deref(), bare.first_response_at, bare.score),
        (None, None, None)
    );
}

#[tokio::test]
async fn waits_out_a_429_by_the_rate_limit_reset_header() {
    let crm = crm().await;
    let answer = crm
        .throttled
        .clone()
        .insert_header("x-ratelimit-reset", "1")
        .insert_header("x-ratelimit-remaining", "0");
    support::waits_out(&crm, answer).await;
}

#[tokio::test]
async fn success_false_on_a_200_page_is_an_error() {
    let crm = crm().await;
    let refused = ResponseTemplate::new(200).set_body_raw(
        r#"{"success":false,"error":"feature capping: deals limit reached","data":null}"#,
        "application/json",
    );
    let err = support::pull_fails_with(&crm, refused).await;
    assert!(
        err.contains("feature capping: deals limit reached"),
        "{err}"
    );
}

scenarios!("Internal server error while listing deals");
