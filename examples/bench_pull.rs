//! Benchmark (not a test): pulls N HubSpot deals (default 100,000, in
//! pages of 100) from a local server answering in HubSpot's shapes, and
//! says how fast salesops itself is — pages per second with its own rate
//! limiter off — and how its time splits between waiting on the network
//! and parsing + mapping, against what the vendor's rate limit costs.
//!
//!     cargo run --release --example bench_pull [-- DEALS [RPS]]
//!
//! RPS (default: off) turns the limiter on at that rate, to see a pull
//! bound by it. Numbers are recorded in docs/performance.md.

use salesops::config::{ConfigOrigin, Settings};
use salesops::source::{pull_tuned, Tuning};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PAGE: usize = 100;

/// Serves pre-built deal pages by their `after` cursor (the index of the
/// first deal of the page), so the server costs next to nothing.
struct Deals(Arc<Vec<Vec<u8>>>);

impl Respond for Deals {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let after: usize = r
            .url
            .query_pairs()
            .find(|(k, _)| k == "after")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        ResponseTemplate::new(200).set_body_raw(self.0[after / PAGE].clone(), "application/json")
    }
}

fn pages(deals: usize, owners: usize) -> Vec<Vec<u8>> {
    let stages = [
        "appointmentscheduled",
        "qualifiedtobuy",
        "contractsent",
        "closedwon",
        "closedlost",
    ];
    let categories = ["COMMIT", "BEST_CASE", "PIPELINE", "OMIT"];
    let n_pages = deals.div_ceil(PAGE);
    (0..n_pages)
        .map(|p| {
            let results: Vec<_> = (p * PAGE..((p + 1) * PAGE).min(deals))
                .map(|i| {
                    let id = (1_000_000_000 + i).to_string();
                    json!({"id": id, "properties": {
                        "amount": format!("{}.{:02}", 1000 + i % 50_000, i % 100),
                        "closedate": format!("2026-{:02}-{:02}T00:00:00Z", 1 + i % 12, 1 + i % 28),
                        "createdate": format!("2025-{:02}-{:02}T09:15:22.123Z", 1 + i % 12, 1 + i % 28),
                        "dealname": format!("Account {i} renewal"),
                        "dealstage": stages[i % stages.len()],
                        "pipeline": "default",
                        "hubspot_owner_id": (500_000_000 + i % owners).to_string(),
                        "hs_manual_forecast_category": categories[i % 4],
                        "deal_currency_code": null,
                        "hs_object_id": id,
                        "hs_lastmodifieddate": "2026-06-01T10:00:00.000Z"},
                        "createdAt": "2025-05-02T09:15:22.123Z", "updatedAt": "2026-06-01T10:00:00.000Z",
                        "archived": false})
                })
                .collect();
            let mut page = json!({ "results": results });
            if p + 1 < n_pages {
                let after = (p + 1) * PAGE;
                page["paging"] = json!({"next": {"after": after.to_string(),
                    "link": format!("https://api.hubapi.com/crm/v3/objects/deals?after={after}")}});
            }
            serde_json::to_vec(&page).unwrap()
        })
        .collect()
}

async fn empty(server: &MockServer, p: &str, body: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path(p))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let deals: usize = args
        .get(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let rps: Option<f64> = args.get(2).map(|a| a.parse()).transpose()?;
    let owners = 50;

    let server = MockServer::start().await;
    let owner_list: Vec<_> = (0..owners)
        .map(|i| json!({"id": (500_000_000 + i).to_string(), "email": format!("rep{i}@example.com"),
                        "type": "PERSON", "firstName": "Rep", "lastName": i.to_string(), "archived": false}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/crm/v3/owners"))
        .and(wiremock::matchers::query_param("archived", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "results": owner_list })))
        .mount(&server)
        .await;
    empty(&server, "/crm/v3/owners", json!({"results": []})).await;
    let stage = |id: &str, order: u32, p: &str, closed: bool| {
        json!({"id": id, "label": id, "displayOrder": order,
               "metadata": {"probability": p, "isClosed": closed.to_string()}})
    };
    empty(
        &server,
        "/crm/v3/pipelines/deals",
        json!({"results": [{"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "stages": [
            stage("appointmentscheduled", 0, "0.2", false), stage("qualifiedtobuy", 1, "0.4", false),
            stage("contractsent", 2, "0.9", false), stage("closedwon", 3, "1.0", true),
            stage("closedlost", 4, "0.0", true)]}]}),
    )
    .await;
    for object in ["calls", "meetings", "emails", "tasks", "contacts"] {
        empty(
            &server,
            &format!("/crm/v3/objects/{object}"),
            json!({"results": []}),
        )
        .await;
    }
    let built = Instant::now();
    let bodies = Arc::new(pages(deals, owners));
    eprintln!(
        "server ready: {deals} deals in {} pages ({:.1} MB of JSON, built in {:.1} s)",
        bodies.len(),
        bodies.iter().map(Vec::len).sum::<usize>() as f64 / 1e6,
        built.elapsed().as_secs_f64()
    );
    Mock::given(method("GET"))
        .and(path("/crm/v3/objects/deals"))
        .respond_with(Deals(bodies.clone()))
        .mount(&server)
        .await;

    let toml = format!(
        "currency = \"USD\"\n[source]\nkind = \"hubspot\"\nbase_url = \"{}\"\ntoken = \"bench-token\"\nmax_requests_per_second = {}\n",
        server.uri(),
        // 1e9 a second: one request every nanosecond, i.e. no limit of ours.
        rps.unwrap_or(1e9)
    );
    let settings = Settings::from_toml(&toml)?;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
    let pulled = pull_tuned(
        &settings,
        &ConfigOrigin::Embedded,
        today,
        &Tuning::default(),
    )
    .await?;
    let st = &pulled.stats;
    assert_eq!(pulled.snapshot.deals.len(), deals);

    let deal_pages = bodies.len() as f64;
    let wall = st.wall.as_secs_f64();
    let work = st.parse + st.map;
    println!("{}", pulled.description);
    println!(
        "limiter: {}",
        rps.map_or("off".to_string(), |r| format!("{r} requests/s"))
    );
    println!(
        "requests {} (deal pages {deal_pages}), wall {wall:.2} s → {:.0} pages/s",
        st.requests,
        st.requests as f64 / wall
    );
    let waiting = st.network + st.limiter;
    println!(
        "waiting: network {:.2} s + rate limiter {:.2} s (summed over object types pulled at once)",
        st.network.as_secs_f64(),
        st.limiter.as_secs_f64()
    );
    println!(
        "work: parsing {:.3} s + mapping and checks {:.3} s = {:.1} % of the time waiting",
        st.parse.as_secs_f64(),
        st.map.as_secs_f64(),
        100.0 * work.as_secs_f64() / waiting.as_secs_f64()
    );
    for (tier, per_s) in [
        ("the default limiter (9/s)", 9.0),
        ("HubSpot Professional (19/s)", 19.0),
    ] {
        let wait = st.requests as f64 / per_s;
        println!(
            "pulled at {tier}: about {wait:.0} s of waiting, so parse + map = {:.2} % of it",
            100.0 * work.as_secs_f64() / wait
        );
    }
    Ok(())
}
