//! Pipedrive API v2 and v1 (shared/crm/README.md §3), pages from
//! tests/fixtures/pipedrive.

use super::support::{self, page, Crm, TOKEN};
use rust_decimal::Decimal;
use salesops::snapshot::{ActivityKind, DealType, Field as F, Snapshot, When};
use wiremock::matchers::{header, method, path, path_regex, query_param, query_param_is_missing};
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
    // Each deal's changelog (read only with history = true): 4211's in two
    // pages, 4212's in one, the others' empty.
    for (deal, cursor, file) in [
        ("4211", None, "changelog-4211-1.json"),
        (
            "4211",
            Some("eyJjaGFuZ2Vsb2dfaWQiOjEyMzR9"),
            "changelog-4211-2.json",
        ),
        ("4212", None, "changelog-4212.json"),
    ] {
        let m = Mock::given(method("GET"))
            .and(path(format!("/api/v1/deals/{deal}/changelog")))
            .and(header("x-api-token", TOKEN));
        let m = match cursor {
            None => m.and(query_param_is_missing("cursor")),
            Some(c) => m.and(query_param("cursor", c)),
        };
        m.respond_with(page(V, file)).mount(&server).await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/deals/\d+/changelog$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"success": true, "data": [], "additional_data": {"next_cursor": null}}),
        ))
        .with_priority(10)
        .mount(&server)
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

/// The deal custom field of the recorded deals holding their kind of
/// business, an option list (ids 40–44).
const TYPE_FIELD: &str = "8d3ef1c2a7b94f6e0a1c2d3e4f5a6b7c8d9e0f1a";

fn changelog_requests(all: &[Request]) -> Vec<String> {
    all.iter()
        .filter(|r| r.url.path().ends_with("/changelog"))
        .map(|r| r.url.path().to_string())
        .collect()
}

fn with_history(crm: &Crm) -> String {
    format!("{}\n[source.pipedrive]\nhistory = true\n", crm.toml())
}

#[tokio::test]
async fn history_is_off_by_default_and_costs_no_request() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    assert!(s.changes.is_empty());
    let all = crm.server.received_requests().await.unwrap();
    assert!(changelog_requests(&all).is_empty());
}

#[tokio::test]
async fn with_history_every_deals_changelog_is_read_to_its_last_cursor() {
    let crm = crm().await;
    let pulled = support::pull(&with_history(&crm)).await.unwrap();
    let s = &pulled.snapshot;
    // One request per deal kept (six), and one more for 4211's second page.
    let all = crm.server.received_requests().await.unwrap();
    let mut asked = changelog_requests(&all);
    asked.sort();
    assert_eq!(asked.len(), 7, "{asked:?}");
    for id in ["4211", "4212", "4213", "4214", "4215", "4216"] {
        assert!(
            asked.contains(&format!("/api/v1/deals/{id}/changelog")),
            "{id}"
        );
    }
    let stage = |id: &str| F::Stage(s.stages.iter().position(|st| st.id == id).unwrap() as u32);
    let history = |d: &str| -> Vec<(String, F)> {
        s.history_of(deal(s, d))
            .iter()
            .map(|c| (c.at.to_rfc3339(), c.value.clone()))
            .collect()
    };
    let date = |d: &str| F::CloseDate(When::Date(d.parse().unwrap()));
    let (created, may10, june1, june15) = (
        "2026-05-02T09:15:22+00:00".to_string(),
        "2026-05-10T08:00:00+00:00".to_string(),
        "2026-06-01T10:00:00+00:00".to_string(),
        "2026-06-15T09:00:00+00:00".to_string(),
    );
    // Old → new pairs, newest first: the first old value of each field at
    // add_time, then each new value at its time ("YYYY-MM-DD HH:MM:SS",
    // UTC). The title is not history.
    assert_eq!(
        history("4211"),
        vec![
            (created.clone(), stage("1")),
            (created.clone(), F::Amount(Some(Decimal::from(12000)))),
            (created, date("2026-08-31")),
            (may10, stage("3")),
            (june1.clone(), stage("5")),
            (june1, F::Amount(Some(Decimal::from(15000)))),
            (june15, date("2026-07-31")),
        ]
    );
    // Won: open in its stage until then, then the won stage, closing when
    // the deal says it was won.
    let won_at = "2026-06-20T16:00:01+00:00".to_string();
    let won = When::Instant("2026-06-20T16:00:01Z".parse().unwrap());
    assert_eq!(
        history("4212"),
        vec![
            ("2026-04-11T14:02:00+00:00".to_string(), stage("4")),
            ("2026-04-11T14:02:00+00:00".to_string(), date("2026-06-30")),
            ("2026-06-10T12:00:00+00:00".to_string(), stage("5")),
            (won_at.clone(), stage("won")),
            (won_at, F::CloseDate(won)),
        ]
    );
    // An empty changelog: no history.
    assert!(history("4213").is_empty());
}

#[tokio::test]
async fn changelog_requests_go_through_the_shared_limiter_and_retries() {
    let crm = crm().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/deals/4213/changelog"))
        .respond_with(
            crm.throttled
                .clone()
                .insert_header("x-ratelimit-reset", "1")
                .insert_header("x-ratelimit-remaining", "0"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let pulled = support::pull(&with_history(&crm)).await.unwrap();
    assert_eq!(pulled.stats.throttled, 1);
    assert_eq!(pulled.snapshot.deals.len(), 6);
    // A changelog that keeps failing fails the pull, naming the deal.
    let crm = super::pipedrive::crm().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/deals/4214/changelog"))
        .respond_with(crm.error_500.clone())
        .with_priority(1)
        .mount(&crm.server)
        .await;
    let err = format!(
        "{:#}",
        support::pull(&with_history(&crm)).await.err().unwrap()
    );
    assert!(
        err.contains("the changelog of deal 4214: pipedrive deal changelog, page 1"),
        "{err}"
    );
}

fn deal<'a>(s: &'a Snapshot, id: &str) -> &'a salesops::snapshot::Deal {
    s.deals.iter().find(|d| d.id == id).unwrap()
}

#[tokio::test]
async fn deal_types_from_a_custom_field_by_option_id() {
    let crm = crm().await;
    // Without deal_type_field: Pipedrive has no deal type.
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    assert!(s.deals.iter().all(|d| d.deal_type.is_none()));
    let toml = format!(
        "{}\n[source.pipedrive]\ndeal_type_field = \"{TYPE_FIELD}\"\ndeal_types = {{ \"40\" = \"new_business\", \"41\" = \"renewal\", \"42\" = \"cross_sell\", \"43\" = \"upsell\" }}\n",
        crm.toml()
    );
    let s = support::pull(&toml).await.unwrap().snapshot;
    let types: Vec<(&str, Option<DealType>)> = s
        .deals
        .iter()
        .map(|d| (d.id.as_str(), d.deal_type))
        .collect();
    assert_eq!(
        types,
        vec![
            ("4211", Some(DealType::Renewal)),
            ("4212", Some(DealType::CrossSell)),
            ("4213", Some(DealType::NewBusiness)),
            ("4214", Some(DealType::Upsell)),
            ("4215", None),
            ("4216", None),
        ]
    );
    assert!(
        s.notes.iter().any(|n| n == "pipedrive: deal type value(s) \"44\" (1) are not mapped and count as untyped; map them in [source.pipedrive] deal_types"),
        "{:?}",
        s.notes
    );
}

#[tokio::test]
async fn activities_carry_their_deal_id_and_reps_no_team() {
    let crm = crm().await;
    let s = support::pull(&crm.toml()).await.unwrap().snapshot;
    let deal_of = |id: &str| s.deal_id_of(s.activities.iter().find(|a| a.id == id).unwrap());
    assert_eq!(deal_of("9051"), Some("4211"));
    assert_eq!(deal_of("9052"), Some("4212"));
    // An archived deal's activity is linked too.
    assert_eq!(deal_of("9054"), Some("4216"));
    assert_eq!(deal_of("9053"), None);
    // A deal not pulled: kept and noted.
    assert_eq!(deal_of("9055"), Some("9999"));
    assert!(
        s.notes
            .iter()
            .any(|n| n
                .starts_with("1 activity name a deal that is not in the data (deal_id \"9999\")")),
        "{:?}",
        s.notes
    );
    // Pipedrive's users carry no team: teams come from [[teams]].
    assert!(s.reps.iter().all(|r| r.team.is_none()));
}
