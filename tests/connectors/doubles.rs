//! Test doubles that serve a canonical snapshot (CANONICAL.md JSON)
//! through each vendor's own shapes and paging (shared/crm/README.md), as
//! MAPPING.md says the vendor's standard fields hold it — deal types,
//! history, activity deal links and rep teams included — so that pulling
//! it back must give the snapshot again. They also behave as documented
//! where a connector could miss records or shift times: Pipedrive lists
//! archived deals and leads only on `/archived` lists and keeps history as
//! old → new pairs, one changelog per deal; Salesforce answers only the
//! selected fields (relationship paths as nested records), keeps a Task's
//! day in `ActivityDate` (marked done later), returns year-old activities
//! only through queryAll, and history as OpportunityHistory rows of full
//! values; HubSpot sends property versions newest first, refuses more than
//! 50 records a page with history, lists associations only when asked and
//! a deal once per association label.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{method, path, path_regex, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn arr<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v[key].as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

fn instant(v: &Value) -> DateTime<Utc> {
    let t = v.as_str().unwrap();
    DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
}

fn z(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A canonical date or instant as a vendor instant: a bare date is
/// midnight UTC (how HubSpot stores date pickers).
fn as_instant(v: &Value) -> String {
    let t = v.as_str().unwrap();
    if t.len() == 10 {
        format!("{t}T00:00:00Z")
    } else {
        z(instant(v))
    }
}

/// The month the round trip reports on.
pub const PERIOD: &str = "2026-06";

/// How many records of each documented behaviour a double served, so that
/// a test can check each one is there.
#[derive(Debug, Default)]
pub struct Cases(pub std::collections::BTreeMap<&'static str, usize>);

impl Cases {
    fn add(&mut self, case: &'static str) {
        *self.0.entry(case).or_default() += 1;
    }
}

fn minutes(a: &Value) -> i64 {
    a["duration_minutes"].as_f64().unwrap_or(0.0).round() as i64
}

/// Mounts `records` as pages of `size` on `path` (plus `filter`), asked for
/// with the cursor parameter `key`; `first` is its value on the first page
/// (`None`: absent). `body` makes a page from its records and next cursor.
#[allow(clippy::too_many_arguments)]
async fn paged(
    server: &MockServer,
    p: &str,
    filter: &[(&str, &str)],
    key: &str,
    first: Option<&str>,
    records: Vec<Value>,
    size: usize,
    body: impl Fn(&[Value], Option<String>, usize) -> Value,
) {
    let chunks: Vec<&[Value]> = if records.is_empty() {
        vec![&[]]
    } else {
        records.chunks(size).collect()
    };
    let n = chunks.len();
    for (i, chunk) in chunks.into_iter().enumerate() {
        let start = i * size;
        let next = (i + 1 < n).then(|| ((i + 1) * size).to_string());
        let mut m = Mock::given(method("GET")).and(path(p));
        for (k, v) in filter {
            m = m.and(query_param(*k, *v));
        }
        m = match (i, first) {
            (0, None) => m.and(query_param_is_missing(key)),
            (0, Some(f)) => m.and(query_param(key, f)),
            _ => m.and(query_param(key, start.to_string())),
        };
        m.respond_with(ResponseTemplate::new(200).set_body_json(body(chunk, next, start)))
            .mount(server)
            .await;
    }
}

// ---------------------------------------------------------------- HubSpot

fn hs_page(records: &[Value], next: Option<String>, _: usize) -> Value {
    let mut page = json!({ "results": records });
    if let Some(after) = next {
        page["paging"] = json!({"next": {"after": after, "link": format!("?after={after}")}});
    }
    page
}

/// A HubSpot number property: "0.2", "1.0".
fn hs_number(v: f64) -> String {
    let t = v.to_string();
    if t.contains('.') {
        t
    } else {
        format!("{t}.0")
    }
}

fn hs_object(id: &str, props: Value, created: &str) -> Value {
    json!({"id": id, "properties": props, "createdAt": created, "updatedAt": created, "archived": false})
}

/// hs_activity_type of the canonical kinds that HubSpot keeps as meetings
/// of a portal-defined type (the config maps them back).
pub const HS_MEETING_TYPES: [(&str, &str); 2] = [
    ("training", "Training"),
    ("internal_meeting", "Internal meeting"),
];

/// The `dealtype` option of each canonical type: HubSpot's two defaults,
/// and two options of the portal's own (the config maps them).
pub const HS_DEAL_TYPES: [(&str, &str); 4] = [
    ("new_business", "newbusiness"),
    ("upsell", "existingbusiness"),
    ("cross_sell", "crosssell"),
    ("renewal", "renewal"),
];

/// A HubSpot time as the API writes it, to the millisecond.
fn hs_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A CRM v3 list as HubSpot answers it: `limit` records from the offset
/// `after`, a `paging.next.after` while more follow; property versions only
/// of the properties asked in `propertiesWithHistory`, and then at most 50
/// records a page (more is refused with 400); associations only when
/// `associations` is asked.
struct HsList(Vec<Value>);

impl Respond for HsList {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let q = |k: &str| {
            r.url
                .query_pairs()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.into_owned())
        };
        let limit: usize = q("limit").and_then(|l| l.parse().ok()).unwrap_or(10);
        let history = q("propertiesWithHistory");
        if limit > 100 || (history.is_some() && limit > 50) {
            return ResponseTemplate::new(400).set_body_json(json!({"status": "error",
                "message": "limit is above the maximum for this request", "category": "VALIDATION_ERROR",
                "correlationId": "0b5e2c1a-7f3d-4a8e-9c21-5d6e7f8a9b0c"}));
        }
        let asked: Vec<String> = history
            .map(|h| h.split(',').map(String::from).collect())
            .unwrap_or_default();
        let after: usize = q("after").and_then(|a| a.parse().ok()).unwrap_or(0);
        let end = (after + limit).min(self.0.len());
        let results: Vec<Value> = self.0[after.min(end)..end]
            .iter()
            .map(|rec| {
                let mut rec = rec.clone();
                let o = rec.as_object_mut().unwrap();
                if let Some(Value::Object(h)) = o.get_mut("propertiesWithHistory") {
                    h.retain(|k, _| asked.contains(k));
                }
                if asked.is_empty() {
                    o.remove("propertiesWithHistory");
                }
                if q("associations").is_none() {
                    o.remove("associations");
                }
                rec
            })
            .collect();
        let next = (end < self.0.len()).then(|| end.to_string());
        ResponseTemplate::new(200).set_body_json(hs_page(&results, next, after))
    }
}

async fn hs_list(server: &MockServer, object: &str, records: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(format!("/crm/v3/objects/{object}")))
        .respond_with(HsList(records))
        .mount(server)
        .await;
}

/// Each property's versions, newest first, from a canonical history; the
/// first stage version a few milliseconds before createdate, as HubSpot
/// records it.
fn hs_versions(d: &Value, cases: &mut Cases) -> Value {
    let history = arr(d, "history");
    let mut out = serde_json::Map::new();
    for (canonical, property) in [
        ("stage", "dealstage"),
        ("amount", "amount"),
        ("close_date", "closedate"),
        ("forecast_category", "hs_manual_forecast_category"),
    ] {
        let mut versions: Vec<Value> = Vec::new();
        for (i, e) in history.iter().enumerate() {
            let Some(v) = e.get(canonical) else { continue };
            let mut at = instant(&e["at"]);
            if i == 0 && canonical == "stage" {
                at -= Duration::milliseconds(3);
            }
            let value = match canonical {
                "amount" => v.as_f64().map_or(String::new(), |a| a.to_string()),
                "close_date" => as_instant(v),
                "forecast_category" => s(v).map_or(String::new(), hs_category),
                _ => s(v).unwrap().to_string(),
            };
            if value.is_empty() {
                cases.add("property versions emptied");
            }
            versions.push(
                json!({"value": value, "timestamp": hs_time(at), "sourceType": "CRM_UI",
                                 "sourceId": "userId:9876543", "updatedByUserId": 9876543}),
            );
        }
        versions.reverse();
        if versions.len() > 1 {
            cases.add("properties with versions newest first");
        }
        out.insert(property.into(), Value::Array(versions));
    }
    Value::Object(out)
}

fn hs_category(c: &str) -> String {
    match c {
        "omitted" => "OMIT".to_string(),
        other => other.to_ascii_uppercase(),
    }
}

pub async fn serve_hubspot(server: &MockServer, x: &Value) -> Cases {
    let mut cases = Cases::default();
    let owner = |(i, r): (usize, &Value)| {
        let name = s(&r["name"]).unwrap();
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        let mut o = json!({"id": r["id"], "email": r["email"], "type": "PERSON", "firstName": first, "lastName": last,
               "createdAt": "2025-01-10T08:00:00.000Z", "updatedAt": "2026-02-01T12:30:00.000Z",
               "archived": r["active"] == json!(false)});
        if let Some(team) = s(&r["team"]) {
            // Every other rep is also on a team that is not their primary
            // one, listed first.
            let mut teams = vec![];
            if i % 2 == 0 {
                teams.push(json!({"id": "9001", "name": "Webinar squad", "primary": false}));
            }
            teams.push(
                json!({"id": format!("{}", 4000 + team.len()), "name": team, "primary": true}),
            );
            o["teams"] = json!(teams);
        }
        o
    };
    for (archived, active) in [("false", true), ("true", false)] {
        let owners: Vec<Value> = arr(x, "reps")
            .iter()
            .enumerate()
            .filter(|(_, r)| r["active"].as_bool().unwrap_or(true) == active)
            .map(owner)
            .collect();
        paged(
            server,
            "/crm/v3/owners",
            &[("archived", archived)],
            "after",
            None,
            owners,
            100,
            hs_page,
        )
        .await;
    }
    if arr(x, "reps")
        .iter()
        .enumerate()
        .any(|(i, r)| i % 2 == 0 && r.get("team").is_some_and(|t| t.is_string()))
    {
        cases.add("owners on a second team");
    }
    let stages: Vec<Value> = arr(x, "stages")
        .iter()
        .map(|st| {
            json!({"id": st["id"], "label": st["label"], "displayOrder": st["order"].as_i64().unwrap() - 1,
                   "metadata": {"isClosed": st["closed"].as_bool().unwrap().to_string(),
                                "probability": hs_number(st["probability"].as_f64().unwrap())},
                   "archived": false, "createdAt": "1970-01-01T00:00:00Z", "updatedAt": "2026-01-15T10:00:00.000Z"})
        })
        .collect();
    Mock::given(method("GET"))
        .and(path("/crm/v3/pipelines/deals"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [{
            "id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": false,
            "createdAt": "1970-01-01T00:00:00Z", "updatedAt": "2026-01-15T10:00:00.000Z", "stages": stages}]})))
        .mount(server)
        .await;
    let mut deals = Vec::new();
    for d in arr(x, "deals") {
        let created = z(instant(&d["created_at"]));
        let category = s(&d["forecast_category"]).map(hs_category);
        let kind = s(&d["type"]).map(|t| HS_DEAL_TYPES.iter().find(|(k, _)| *k == t).unwrap().1);
        let mut deal = hs_object(
            s(&d["id"]).unwrap(),
            json!({"dealname": d["name"], "amount": d["amount"].as_f64().map(|a| a.to_string()),
                   "dealstage": d["stage"], "pipeline": "default", "closedate": as_instant(&d["close_date"]),
                   "createdate": created, "hubspot_owner_id": d["owner"], "hs_manual_forecast_category": category,
                   "deal_currency_code": null, "dealtype": kind}),
            &created,
        );
        deal["propertiesWithHistory"] = hs_versions(d, &mut cases);
        deals.push(deal);
    }
    hs_list(server, "deals", deals).await;

    let (mut calls, mut meetings, mut emails, mut tasks) = (vec![], vec![], vec![], vec![]);
    for (i, a) in arr(x, "activities").iter().enumerate() {
        let at = instant(&a["at"]);
        let id = s(&a["id"]).unwrap();
        let mut p = json!({"hs_timestamp": z(at), "hubspot_owner_id": a["owner"]});
        let kind = s(&a["kind"]).unwrap();
        let object = match kind {
            "call" => {
                p["hs_call_duration"] = json!((minutes(a) * 60_000).to_string());
                "call"
            }
            "meeting" | "training" | "internal_meeting" => {
                p["hs_meeting_start_time"] = json!(z(at));
                p["hs_meeting_end_time"] = json!(z(at + Duration::minutes(minutes(a))));
                p["hs_meeting_outcome"] = json!(s(&a["outcome"]).map(str::to_ascii_uppercase));
                p["hs_activity_type"] = json!(HS_MEETING_TYPES
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map(|(_, t)| *t));
                "meeting"
            }
            "email" => {
                p["hs_email_direction"] = json!("EMAIL");
                "email"
            }
            "social" | "task" => {
                p["hs_task_type"] = json!(if kind == "social" {
                    "LINKED_IN"
                } else {
                    "TODO"
                });
                "task"
            }
            other => panic!("HubSpot cannot carry a {other:?} activity: project it first"),
        };
        let mut rec = hs_object(id, p, &z(at));
        if let Some(deal) = s(&a["deal_id"]) {
            // The association type names the pair; some deals are listed
            // twice, once per association label.
            let label = if object == "meeting" {
                "meeting_event_to_deal".to_string()
            } else {
                format!("{object}_to_deal")
            };
            let mut results = vec![json!({"id": deal, "type": label})];
            if i % 7 == 0 {
                cases.add("engagements listing their deal twice");
                results.push(json!({"id": deal, "type": format!("{label}_unlabeled")}));
            }
            rec["associations"] = json!({"deals": {"results": results}});
        }
        match object {
            "call" => calls.push(rec),
            "meeting" => meetings.push(rec),
            "email" => emails.push(rec),
            _ => tasks.push(rec),
        }
    }
    // A reply logged in the CRM: not the rep's activity.
    emails.push(hs_object(
        "incoming-1",
        json!({"hs_timestamp": "2026-06-15T01:00:00Z", "hs_email_direction": "INCOMING_EMAIL"}),
        "2026-06-15T01:00:00Z",
    ));
    for (object, list) in [
        ("calls", calls),
        ("meetings", meetings),
        ("emails", emails),
        ("tasks", tasks),
    ] {
        hs_list(server, object, list).await;
    }
    let contacts: Vec<Value> = arr(x, "leads")
        .iter()
        .map(|l| {
            let created = z(instant(&l["created_at"]));
            hs_object(
                s(&l["id"]).unwrap(),
                json!({"createdate": created, "hubspot_owner_id": l["owner"],
                       "hs_first_outreach_date": l.get("first_response_at").map(|f| z(instant(f))),
                       "hubspotscore": l["score"].as_f64().map(|v| v.to_string())}),
                &created,
            )
        })
        .collect();
    paged(
        server,
        "/crm/v3/objects/contacts",
        &[],
        "after",
        None,
        contacts,
        100,
        hs_page,
    )
    .await;
    cases
}

// ------------------------------------------------------------- Salesforce

fn sf_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

/// The Type picklist values of the canonical kinds (the config maps the
/// org-defined ones back).
pub const SF_TYPES: [(&str, &str); 7] = [
    ("call", "Call"),
    ("email", "Email"),
    ("meeting", "Meeting"),
    ("social", "LinkedIn"),
    ("training", "Training"),
    ("admin", "Admin"),
    ("internal_meeting", "Internal"),
];

/// The TaskSubtype of the kinds Salesforce keeps as Tasks (logged calls,
/// emails, LinkedIn messages, to-dos); the other kinds are Events.
pub const SF_TASKS: [(&str, &str); 5] = [
    ("call", "Call"),
    ("email", "Email"),
    ("social", "LinkedIn"),
    ("task", "Task"),
    ("admin", "Task"),
];

/// The time zone of the vectors (salesops.toml) and of the org: a Task's
/// ActivityDate is a date there.
pub const ZONE: chrono_tz::Tz = chrono_tz::Asia::Seoul;
/// The day the round trip runs (`--as-of`).
pub const AS_OF: &str = "2026-07-01";

/// The local date of `t` in `ZONE`.
pub fn local_date(t: DateTime<Utc>) -> chrono::NaiveDate {
    t.with_timezone(&ZONE).date_naive()
}

/// How Salesforce keeps a Task or an Event: the query resource returns only
/// live ones; queryAll also archived ones (Salesforce archives activities
/// older than a year) and deleted ones (unless the SOQL says
/// `IsDeleted = false`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kept {
    Live,
    Archived,
    Deleted,
}

fn kept(t: DateTime<Utc>) -> Kept {
    let as_of: chrono::NaiveDate = AS_OF.parse().unwrap();
    if local_date(t) < as_of - Duration::days(365) {
        Kept::Archived
    } else {
        Kept::Live
    }
}

/// The fields `SELECT a, b FROM …` names.
fn selected(soql: &str) -> Vec<String> {
    let upper = soql.to_ascii_uppercase();
    let (Some(from), Some(to)) = (upper.find("SELECT "), upper.find(" FROM ")) else {
        return vec![];
    };
    soql[from + 7..to]
        .split(',')
        .map(|f| f.trim().to_string())
        .collect()
}

/// Answers a query's batch as Salesforce does: each record has its
/// `attributes` and exactly the fields the SELECT names, spelt as the API
/// names them, null where the record has no value; a relationship path
/// (`UserRole.Name`) comes as a nested record with its own `attributes`,
/// or null. A later batch answers the fields of the first request of its
/// query (it has no SOQL itself).
pub struct Selected {
    body: Value,
    fields: Arc<Mutex<Vec<String>>>,
}

impl Selected {
    pub fn new(body: Value) -> Selected {
        Selected {
            body,
            fields: Arc::default(),
        }
    }
}

/// `all`'s field `f` (ignoring case): its name as the record spells it and
/// its value, null when it has none.
fn field(all: &serde_json::Map<String, Value>, f: &str) -> (String, Value) {
    all.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(f))
        .map_or((f.to_string(), Value::Null), |(k, v)| {
            (k.clone(), v.clone())
        })
}

/// Puts the field path `f` of `all` into `out`, as Salesforce answers it.
fn select(all: &serde_json::Map<String, Value>, f: &str, out: &mut serde_json::Map<String, Value>) {
    match f.split_once('.') {
        None => {
            let (name, value) = field(all, f);
            out.insert(name, value);
        }
        Some((rel, rest)) => {
            let (name, value) = field(all, rel);
            match value.as_object() {
                None => {
                    out.insert(name, Value::Null);
                }
                Some(inner) => {
                    let nested = out.entry(name).or_insert_with(|| json!({}));
                    if let Some(n) = nested.as_object_mut() {
                        n.insert("attributes".into(), inner["attributes"].clone());
                        select(inner, rest, n);
                    }
                }
            }
        }
    }
}

impl Respond for Selected {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        if let Some((_, q)) = r.url.query_pairs().find(|(k, _)| k == "q") {
            *self.fields.lock().unwrap() = selected(&q);
        }
        let fields = self.fields.lock().unwrap().clone();
        let mut body = self.body.clone();
        for rec in body["records"].as_array_mut().into_iter().flatten() {
            let all = rec.as_object().unwrap().clone();
            let mut out = serde_json::Map::new();
            out.insert("attributes".into(), all["attributes"].clone());
            for f in &fields {
                select(&all, f, &mut out);
            }
            *rec = Value::Object(out);
        }
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// Serves `records` as the answer to `SELECT … FROM object` on `resource`
/// (`query` or `queryAll`), in batches of `batch`. `not_deleted`:
/// `Some(b)` answers only a SOQL that does (`b`) or does not say
/// `IsDeleted = false`. queryAll's nextRecordsUrl is under `/query/` too
/// ("Although the nextRecordsUrl has query in the URL, it still provides
/// the remaining results from the initial QueryAll request", REST API
/// guide, QueryAll).
async fn soql(
    server: &MockServer,
    resource: &'static str,
    object: &'static str,
    not_deleted: Option<bool>,
    records: Vec<Value>,
    batch: usize,
) {
    let locator = format!(
        "01g{object}{}",
        match (resource, not_deleted) {
            ("query", _) => "",
            (_, Some(false)) => "D",
            _ => "A",
        }
    );
    let chunks: Vec<&[Value]> = if records.is_empty() {
        vec![&[]]
    } else {
        records.chunks(batch).collect()
    };
    let n = chunks.len();
    let fields = Arc::new(Mutex::new(Vec::new()));
    for (i, chunk) in chunks.into_iter().enumerate() {
        let mut body = json!({"totalSize": records.len(), "done": i + 1 == n, "records": chunk});
        if i + 1 < n {
            body["nextRecordsUrl"] = json!(format!(
                "/services/data/v62.0/query/{locator}-{}",
                (i + 1) * batch
            ));
        }
        let m = if i == 0 {
            Mock::given(method("GET"))
                .and(path(format!("/services/data/v62.0/{resource}")))
                .and(move |r: &Request| {
                    super::salesforce::soql_from(r, object)
                        && not_deleted.is_none_or(|b| {
                            super::salesforce::soql_says(r, "IsDeleted = false") == b
                        })
                })
        } else {
            Mock::given(method("GET")).and(path(format!(
                "/services/data/v62.0/query/{locator}-{}",
                i * batch
            )))
        };
        m.respond_with(Selected {
            body,
            fields: fields.clone(),
        })
        .mount(server)
        .await;
    }
}

fn sf(object: &str, id: &str, mut fields: Value) -> Value {
    fields["attributes"] =
        json!({"type": object, "url": format!("/services/data/v62.0/sobjects/{object}/{id}")});
    fields["Id"] = json!(id);
    fields
}

/// The `Type` value of each canonical type: a new org's defaults, and one
/// of the org's own (the config maps it).
pub const SF_DEAL_TYPES: [(&str, &str); 4] = [
    ("new_business", "New Customer"),
    ("upsell", "Existing Customer - Upgrade"),
    ("renewal", "Existing Customer - Replacement"),
    ("cross_sell", "Cross-sell"),
];

/// A canonical deal's OpportunityHistory rows: one per history entry, each
/// with the values of all four fields then (§2.5); `label` names a stage.
fn sf_history(d: &Value, label: &dyn Fn(&Value) -> Value, cases: &mut Cases) -> Vec<Value> {
    let mut now = serde_json::Map::new();
    let mut rows = Vec::new();
    for (i, e) in arr(d, "history").iter().enumerate() {
        for (k, v) in e.as_object().unwrap() {
            now.insert(k.clone(), v.clone());
        }
        let category =
            s(&now.get("forecast_category").cloned().unwrap_or_default()).map(|c| match c {
                "best_case" => "BestCase",
                "commit" => "Forecast",
                "omitted" => "Omitted",
                "pipeline" => "Pipeline",
                _ => "Closed",
            });
        if i > 0 && e.get("amount").is_none() {
            cases.add("history rows repeating an unchanged amount");
        }
        let id = format!("008{}{i}", s(&d["id"]).unwrap());
        rows.push(sf("OpportunityHistory", &id, json!({"OpportunityId": d["id"],
            "CreatedDate": sf_time(instant(&e["at"])), "StageName": label(&now["stage"]),
            "Amount": now.get("amount").cloned().unwrap_or_default(), "CloseDate": now["close_date"],
            "ForecastCategory": category, "Probability": null})));
    }
    rows
}

pub async fn serve_salesforce(server: &MockServer, x: &Value, batch: usize) -> Cases {
    let mut cases = Cases::default();
    let users = arr(x, "reps")
        .iter()
        .map(|r| {
            let role = s(&r["team"]).map(|team| {
                cases.add("users with a role");
                json!({"attributes": {"type": "UserRole", "url": "/services/data/v62.0/sobjects/UserRole/00E"},
                       "Name": team})
            });
            sf(
                "User",
                s(&r["id"]).unwrap(),
                json!({"Name": r["name"], "Email": r["email"], "IsActive": r["active"], "UserRole": role}),
            )
        })
        .collect();
    soql(server, "query", "User", None, users, batch).await;
    let stages = arr(x, "stages")
        .iter()
        .map(|st| {
            sf(
                "OpportunityStage",
                &format!("01J{}", s(&st["id"]).unwrap()),
                json!({"ApiName": st["id"], "MasterLabel": st["label"],
                "DefaultProbability": (st["probability"].as_f64().unwrap() * 100.0).round(),
                "IsClosed": st["closed"], "IsWon": st["won"], "SortOrder": st["order"]}),
            )
        })
        .collect();
    soql(server, "query", "OpportunityStage", None, stages, batch).await;
    let label = |id: &Value| {
        arr(x, "stages")
            .iter()
            .find(|st| st["id"] == *id)
            .map(|st| st["label"].clone())
            .unwrap()
    };
    let mut renewals = 0;
    let mut history = Vec::new();
    let opportunities = arr(x, "deals")
        .iter()
        .map(|d| {
            let category = s(&d["forecast_category"]).map(|c| match c {
                "best_case" => "Best Case".to_string(),
                other => format!("{}{}", other[..1].to_ascii_uppercase(), &other[1..]),
            });
            let kind = s(&d["type"]).map(|t| match t {
                // Both of a new org's values that salesops reads as renewal.
                "renewal" => {
                    renewals += 1;
                    if renewals % 2 == 0 {
                        "Existing Customer - Downgrade"
                    } else {
                        "Existing Customer - Replacement"
                    }
                }
                t => SF_DEAL_TYPES.iter().find(|(k, _)| *k == t).unwrap().1,
            });
            history.extend(sf_history(d, &label, &mut cases));
            sf("Opportunity", s(&d["id"]).unwrap(), json!({"Name": d["name"], "Amount": d["amount"],
                "StageName": label(&d["stage"]), "CloseDate": &s(&d["close_date"]).unwrap()[..10],
                "CreatedDate": sf_time(instant(&d["created_at"])), "OwnerId": d["owner"], "ForecastCategoryName": category,
                "Type": kind}))
        })
        .collect();
    soql(server, "query", "Opportunity", None, opportunities, batch).await;
    history.sort_by_key(|h| (h["OpportunityId"].to_string(), h["CreatedDate"].to_string()));
    soql(server, "query", "OpportunityHistory", None, history, batch).await;
    let (mut tasks, mut events) = (vec![], vec![]);
    for (i, a) in arr(x, "activities").iter().enumerate() {
        let t = instant(&a["at"]);
        // On its opportunity, or (every third one without) on an account.
        let what = match s(&a["deal_id"]) {
            Some(deal) => json!(deal),
            None if i % 3 == 0 => {
                cases.add("activities on an account");
                json!("001XX000003DHPhYAO")
            }
            None => Value::Null,
        };
        let (id, kind, m) = (s(&a["id"]).unwrap(), s(&a["kind"]).unwrap(), minutes(a));
        let kept = kept(t);
        if kept == Kept::Archived {
            cases.add("archived activities");
        }
        let type_of = SF_TYPES.iter().find(|(k, _)| *k == kind).map(|(_, t)| *t);
        match SF_TASKS.iter().find(|(k, _)| *k == kind) {
            Some((_, subtype)) => {
                // Logged when done, a little after the call ended: often
                // on the next local day for an evening call.
                let done = t + Duration::minutes(m + 15);
                if local_date(done) != local_date(t) {
                    cases.add("tasks marked done on a later local day");
                }
                let call = kind == "call";
                if call && m > 0 {
                    cases.add("calls with CallDurationInSeconds");
                }
                tasks.push((kept, sf("Task", id, json!({"OwnerId": a["owner"], "WhoId": null, "WhatId": what, "Type": type_of.unwrap_or("Other"),
                    "TaskSubtype": subtype, "Status": "Completed", "ActivityDate": local_date(t).to_string(),
                    "CompletedDateTime": sf_time(done), "CreatedDate": sf_time(done),
                    "CallDurationInSeconds": if call { json!(m * 60) } else { Value::Null }}))));
            }
            None => events.push((kept, sf("Event", id, json!({"OwnerId": a["owner"], "WhoId": null, "WhatId": what, "Type": type_of.unwrap(),
                "EventSubtype": "Event", "ActivityDate": local_date(t).to_string(), "ActivityDateTime": sf_time(t),
                "DurationInMinutes": m, "CreatedDate": sf_time(t)})))),
        }
    }
    // A call deleted after it was logged: in the recycle bin, which
    // queryAll lists unless the SOQL leaves deleted rows out.
    if let Some(rep) = arr(x, "reps").first() {
        cases.add("deleted tasks");
        tasks.push((Kept::Deleted, sf("Task", "00T-deleted-1", json!({"OwnerId": rep["id"], "WhoId": null, "Type": "Call",
            "TaskSubtype": "Call", "Status": "Completed", "ActivityDate": format!("{PERIOD}-15"),
            "CompletedDateTime": format!("{PERIOD}-15T05:00:00.000+0000"), "CreatedDate": format!("{PERIOD}-15T05:00:00.000+0000"),
            "CallDurationInSeconds": 3600}))));
    }
    let mut leads = vec![];
    for l in arr(x, "leads") {
        let id = s(&l["id"]).unwrap();
        if let Some(f) = l.get("first_response_at") {
            // The first touch: a task logged on the lead.
            let f = instant(f);
            tasks.push((kept(f), sf(
                "Task",
                &format!("00T-{id}"),
                json!({"OwnerId": l["owner"], "WhoId": id, "Type": "Other",
                "TaskSubtype": "Task", "Status": "Completed", "ActivityDate": null, "CompletedDateTime": null,
                "CreatedDate": sf_time(f), "CallDurationInSeconds": null}),
            )));
        }
        leads.push(sf("Lead", id, json!({"OwnerId": l["owner"], "CreatedDate": sf_time(instant(&l["created_at"])), "Score__c": l["score"]})));
    }
    for (object, list) in [("Task", tasks), ("Event", events)] {
        let only = |keep: &[Kept]| -> Vec<Value> {
            list.iter()
                .filter(|(k, _)| keep.contains(k))
                .map(|(_, r)| r.clone())
                .collect()
        };
        soql(server, "query", object, None, only(&[Kept::Live]), batch).await;
        let live = only(&[Kept::Live, Kept::Archived]);
        soql(server, "queryAll", object, Some(true), live, batch).await;
        let all = only(&[Kept::Live, Kept::Archived, Kept::Deleted]);
        soql(server, "queryAll", object, Some(false), all, batch).await;
    }
    soql(server, "query", "Lead", None, leads, batch).await;
    cases
}

// -------------------------------------------------------------- Pipedrive

/// A deal custom field (an option list) holding the forecast category, and
/// its option ids: Pipedrive has no forecast category of its own.
pub const PD_FORECAST_FIELD: &str = "5f3a9c0e1b2d4f6a8c0e1b2d4f6a8c0e1b2d4f6a";
pub const PD_FORECAST_OPTIONS: [(&str, u64); 5] = [
    ("omitted", 31),
    ("pipeline", 32),
    ("best_case", 33),
    ("commit", 34),
    ("closed", 35),
];

fn pd_page(records: &[Value], next: Option<String>, _: usize) -> Value {
    json!({"success": true, "data": records, "additional_data": {"next_cursor": next}})
}

fn num(v: &Value) -> Value {
    match v.as_str() {
        Some(t) => json!(t.parse::<u64>().expect("project ids to numbers first")),
        None => Value::Null,
    }
}

/// A deal custom field (an option list) holding the kind of business, and
/// its option ids: Pipedrive has no deal type of its own.
pub const PD_TYPE_FIELD: &str = "8d3ef1c2a7b94f6e0a1c2d3e4f5a6b7c8d9e0f1a";
pub const PD_TYPE_OPTIONS: [(&str, u64); 4] = [
    ("new_business", 51),
    ("upsell", 52),
    ("cross_sell", 53),
    ("renewal", 54),
];

fn pd_option(options: &[(&str, u64)], v: &Value) -> Value {
    s(v).map_or(Value::Null, |c| {
        json!(options.iter().find(|(k, _)| *k == c).unwrap().1.to_string())
    })
}

/// A canonical deal's changelog in Pipedrive's terms (§3.9), newest first:
/// old → new pairs of `stage_id`, `status` (won and lost are statuses, the
/// stage stays), `value`, `expected_close_date` and the forecast field;
/// also the deal's stage and expected close date at the end.
fn pd_changelog(d: &Value, cases: &mut Cases) -> (Vec<Value>, Option<Value>, Value) {
    let history = arr(d, "history");
    let closed = |st: &str| st == "won" || st == "lost";
    let (mut status, mut stage_id) = ("open".to_string(), None::<Value>);
    let (mut value, mut expected, mut category) = (Value::Null, Value::Null, Value::Null);
    let mut rows: Vec<Value> = Vec::new();
    let text = |v: &Value| match v {
        Value::Null => Value::Null,
        Value::String(_) => v.clone(),
        other => json!(other.to_string()),
    };
    for (i, e) in history.iter().enumerate() {
        let time = instant(&e["at"]).format("%Y-%m-%d %H:%M:%S").to_string();
        let mut row = |key: &str, old: &Value, new: &Value| {
            rows.push(json!({"field_key": key, "old_value": text(old), "new_value": text(new),
                "actor_user_id": 1, "time": time, "change_source": "app", "change_source_user_agent": null,
                "is_bulk_update_flag": false}));
        };
        if let Some(st) = s(&e["stage"]) {
            if closed(st) {
                if i > 0 && status != st {
                    row("status", &json!(status), &json!(st));
                }
                status = st.to_string();
            } else {
                let n = num(&e["stage"]);
                if i > 0 && closed(&status) {
                    cases.add("reopened deals");
                    row("status", &json!(status), &json!("open"));
                }
                if i > 0 && stage_id.as_ref() != Some(&n) {
                    row("stage_id", stage_id.as_ref().unwrap_or(&Value::Null), &n);
                }
                status = "open".into();
                stage_id = Some(n);
            }
        }
        if let Some(a) = e.get("amount") {
            if i > 0 {
                row("value", &value, a);
            }
            value = a.clone();
        }
        if let Some(c) = e.get("close_date") {
            if i > 0 {
                row("expected_close_date", &expected, c);
            }
            expected = c.clone();
        }
        if let Some(c) = e.get("forecast_category") {
            let c = pd_option(&PD_FORECAST_OPTIONS, c);
            if i > 0 {
                row(PD_FORECAST_FIELD, &category, &c);
            }
            category = c;
        }
    }
    rows.reverse();
    if history.is_empty() {
        expected = d["close_date"].clone();
    }
    (rows, stage_id, expected)
}

/// Each deal's changelog, by the deal id in the path, in pages of the
/// asked `limit` (at most 100) by `cursor`.
struct PdChangelogs(std::collections::HashMap<String, Vec<Value>>);

impl Respond for PdChangelogs {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let id = r
            .url
            .path()
            .trim_start_matches("/api/v1/deals/")
            .trim_end_matches("/changelog");
        let Some(rows) = self.0.get(id) else {
            return ResponseTemplate::new(404).set_body_json(json!({"success": false, "error": "Deal not found",
                "error_info": "Please check developers.pipedrive.com for more information about Pipedrive API.",
                "data": null, "additional_data": null}));
        };
        let q = |k: &str| {
            r.url
                .query_pairs()
                .find(|(key, _)| key == k)
                .and_then(|(_, v)| v.parse::<usize>().ok())
        };
        let limit = q("limit").unwrap_or(100).min(100);
        let from = q("cursor").unwrap_or(0).min(rows.len());
        let to = (from + limit).min(rows.len());
        let next = (to < rows.len()).then(|| to.to_string());
        ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": &rows[from..to],
            "additional_data": {"next_cursor": next}}))
    }
}

pub async fn serve_pipedrive(server: &MockServer, x: &Value) -> Cases {
    let mut cases = Cases::default();
    let users: Vec<Value> = arr(x, "reps")
        .iter()
        .map(|r| json!({"id": num(&r["id"]), "name": r["name"], "email": r["email"], "active_flag": r["active"], "is_admin": 0}))
        .collect();
    Mock::given(method("GET"))
        .and(path("/api/v1/users"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"success": true, "data": users})),
        )
        .mount(server)
        .await;
    let open: Vec<&Value> = arr(x, "stages")
        .iter()
        .filter(|st| st["closed"] == json!(false))
        .collect();
    let stages: Vec<Value> = open
        .iter()
        .map(|st| json!({"id": num(&st["id"]), "order_nr": st["order"], "name": st["label"], "pipeline_id": 1,
                          "deal_probability": (st["probability"].as_f64().unwrap() * 100.0).round() as i64, "is_deleted": false}))
        .collect();
    paged(
        server,
        "/api/v2/stages",
        &[],
        "cursor",
        None,
        stages,
        500,
        pd_page,
    )
    .await;
    let stage = |id: &Value| {
        arr(x, "stages")
            .iter()
            .find(|st| st["id"] == *id)
            .unwrap()
            .clone()
    };
    // One closed deal in ten is archived: since 2025-07-15 only
    // /api/v2/deals/archived lists it, and it keeps its won/lost status.
    let (mut deals, mut archived_deals) = (vec![], vec![]);
    let mut changelogs = std::collections::HashMap::new();
    let mut closed = 0;
    for d in arr(x, "deals") {
        let (rows, last_stage, expected) = pd_changelog(d, &mut cases);
        if !rows.is_empty() {
            cases.add("deals with a changelog");
        }
        changelogs.insert(num(&d["id"]).to_string(), rows);
        let st = stage(&d["stage"]);
        let status = match (
            st["closed"].as_bool().unwrap(),
            st["won"].as_bool().unwrap(),
        ) {
            (false, _) => "open",
            (true, true) => "won",
            (true, false) => "lost",
        };
        let closed_at = (status != "open").then(|| as_instant(&d["close_date"]));
        if status != "open" {
            closed += 1;
        }
        let archived = status != "open" && closed % 10 == 0;
        let archive_time = archived.then(|| z(instant(&json!(closed_at)) + Duration::days(7)));
        let deal = json!({"id": num(&d["id"]), "title": d["name"], "owner_id": num(&d["owner"]), "creator_user_id": num(&d["owner"]),
               "value": d["amount"], "currency": "USD", "status": status, "is_deleted": false,
               "is_archived": archived, "archive_time": archive_time,
               "stage_id": if status == "open" { num(&st["id"]) } else { last_stage.unwrap_or_else(|| num(&open[0]["id"])) },
               "pipeline_id": 1, "add_time": z(instant(&d["created_at"])), "close_time": closed_at,
               "won_time": if status == "won" { json!(closed_at) } else { Value::Null },
               "lost_time": if status == "lost" { json!(closed_at) } else { Value::Null },
               "expected_close_date": expected,
               "probability": null, "custom_fields": {PD_FORECAST_FIELD: s(&d["forecast_category"])
                   .map(|c| PD_FORECAST_OPTIONS.iter().find(|(k, _)| *k == c).unwrap().1),
                   PD_TYPE_FIELD: s(&d["type"]).map(|t| PD_TYPE_OPTIONS.iter().find(|(k, _)| *k == t).unwrap().1)}});
        if archived {
            if status == "won" && s(&d["close_date"]).is_some_and(|c| c.starts_with(PERIOD)) {
                cases.add("archived deals won in the period");
            }
            archived_deals.push(deal);
        } else {
            deals.push(deal);
        }
    }
    for (p, list) in [
        ("/api/v2/deals", deals),
        ("/api/v2/deals/archived", archived_deals),
    ] {
        paged(server, p, &[], "cursor", None, list, 500, pd_page).await;
    }
    Mock::given(method("GET"))
        .and(path_regex(r"^/api/v1/deals/\d+/changelog$"))
        .respond_with(PdChangelogs(changelogs))
        .mount(server)
        .await;
    // A done activity: held at due_date + due_time (UTC, to the minute),
    // marked done a little later, as reps log them.
    let activity = |id: Value,
                    kind: &str,
                    owner: Value,
                    at: DateTime<Utc>,
                    minutes: i64,
                    lead: Value,
                    deal: Value| {
        json!({"id": id, "type": kind, "owner_id": owner, "deal_id": deal, "is_deleted": false, "due_date": at.format("%Y-%m-%d").to_string(),
               "due_time": at.format("%H:%M").to_string(),
               "duration": if minutes > 0 { format!("{:02}:{:02}", minutes / 60, minutes % 60) } else { String::new() },
               "done": true, "marked_as_done_time": z(at + Duration::minutes(minutes + 20)), "lead_id": lead, "add_time": z(at)})
    };
    // Activity types are the company's own keys; "linkedin" is one.
    let key = |kind: &str| {
        if kind == "social" {
            "linkedin".to_string()
        } else {
            kind.to_string()
        }
    };
    let mut acts: Vec<Value> = arr(x, "activities")
        .iter()
        .map(|a| {
            activity(
                num(&a["id"]),
                &key(s(&a["kind"]).unwrap()),
                num(&a["owner"]),
                instant(&a["at"]),
                minutes(a),
                Value::Null,
                num(&a["deal_id"]),
            )
        })
        .collect();
    let mut next_id = acts.len() as u64 + 1;
    for (i, l) in arr(x, "leads").iter().enumerate() {
        if let Some(f) = l.get("first_response_at") {
            // The first touch: a done activity linked to the lead; every
            // third lead also has a follow-up, due later.
            let f = instant(f);
            let touches: &[i64] = if i % 3 == 0 { &[0, 26 * 60] } else { &[0] };
            for after in touches {
                acts.push(activity(
                    json!(next_id),
                    "task",
                    num(&l["owner"]),
                    f + Duration::minutes(*after),
                    0,
                    l["id"].clone(),
                    Value::Null,
                ));
                next_id += 1;
            }
        }
    }
    paged(
        server,
        "/api/v2/activities",
        &[("done", "true")],
        "cursor",
        None,
        acts,
        500,
        pd_page,
    )
    .await;
    // One lead in ten is archived: only /v1/leads/archived lists it. Both
    // lists put their paging keys directly under additional_data (the
    // official client's GetLeadsResponse).
    let (mut leads, mut archived_leads) = (vec![], vec![]);
    for (i, l) in arr(x, "leads").iter().enumerate() {
        let archived = i % 10 == 5;
        let lead = json!({"id": l["id"], "title": "Lead", "owner_id": num(&l["owner"]), "add_time": z(instant(&l["created_at"])),
                          "is_archived": archived});
        if archived {
            cases.add("archived leads");
            archived_leads.push(lead);
        } else {
            leads.push(lead);
        }
    }
    for (p, list) in [
        ("/api/v1/leads", leads),
        ("/api/v1/leads/archived", archived_leads),
    ] {
        paged(server, p, &[("limit", "500")], "start", Some("0"), list, 500, |records, next, start| {
            json!({"success": true, "data": records, "additional_data": {"start": start, "limit": 500,
                   "more_items_in_collection": next.is_some()}})
        })
        .await;
    }
    cases
}
