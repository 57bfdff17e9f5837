//! The round trip: a canonical snapshot (the spec vectors' crm-early.json,
//! and crm-final.json read at a past `as_of`, as far as each vendor's
//! standard fields can hold them: deal types, history, activity deal links
//! and rep teams included) served through the vendor's shapes, pulled back
//! by `salesops run`, gives the same report.json as the `file` source on
//! that snapshot (as precisely as the vendor gives it back); and `salesops
//! pull --save` writes a snapshot from which the `file` source gives it
//! again. The doubles serve the vendors' documented behaviour (archived
//! records on their own lists or only through queryAll, times kept as the
//! vendor keeps them, history newest first or as old → new pairs), and each
//! test checks that every such case was served.

use super::common;
use super::doubles;
use super::support;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use wiremock::MockServer;

fn vector(name: &str) -> Value {
    serde_json::from_slice(&fs::read(common::fixtures().join("vectors").join(name)).unwrap())
        .unwrap()
}

fn crm_early() -> Value {
    vector("crm-early.json")
}

/// `[leads.points]` of the vectors' config.
fn points() -> HashMap<&'static str, f64> {
    HashMap::from([
        ("pricing_page_visit", 10.0),
        ("email_open", 1.0),
        ("email_click", 3.0),
        ("wrong_company_details", -5.0),
        ("persona_fit", 5.0),
    ])
}

/// The records of list `key` (none when there is no such list).
fn each<'a>(x: &'a mut Value, key: &str) -> impl Iterator<Item = &'a mut Value> {
    x.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
}

/// The snapshot as far as the vendor's standard fields hold it:
/// - hire dates are not in any CRM (the config gives them: `[[reps]]
///   start_date`);
/// - score events are not either: a lead has the score they add up to
///   (HubSpot `hubspotscore`, a Salesforce score field), or none
///   (Pipedrive);
/// - HubSpot has no duration for emails and tasks, and no admin tasks;
/// - Salesforce and Pipedrive have no standard meeting outcome;
/// - Pipedrive's users have no team;
/// - Salesforce Opportunity ids start with 006 (how an activity's WhatId
///   says it is on an opportunity);
/// - Pipedrive ids are numbers.
fn project(vendor: &str, crm: &Value) -> Value {
    let mut x = crm.clone();
    let points = points();
    for r in each(&mut x, "reps") {
        let r = r.as_object_mut().unwrap();
        r.remove("start_date");
        if vendor == "pipedrive" {
            r.remove("team");
        }
    }
    if vendor == "salesforce" {
        let opportunity = |v: &mut Value| {
            if let Some(id) = v.as_str() {
                *v = json!(format!("006{}", id.replace('-', "")));
            }
        };
        for d in each(&mut x, "deals") {
            opportunity(&mut d["id"]);
        }
        for a in each(&mut x, "activities") {
            if let Some(d) = a.get_mut("deal_id") {
                opportunity(d);
            }
        }
    }
    for a in each(&mut x, "activities") {
        let kind = a["kind"].as_str().unwrap().to_string();
        match vendor {
            "hubspot" => {
                if kind == "admin" {
                    a["kind"] = json!("task");
                }
                if matches!(kind.as_str(), "email" | "social" | "task" | "admin") {
                    a["duration_minutes"] = json!(0);
                }
            }
            _ => {
                a.as_object_mut().unwrap().remove("outcome");
            }
        }
    }
    for l in each(&mut x, "leads") {
        let o = l.as_object_mut().unwrap();
        let events = o.remove("score_events");
        if vendor == "pipedrive" {
            o.remove("score");
        } else if let Some(Value::Array(evs)) =
            events.filter(|e| e.as_array().is_some_and(|a| !a.is_empty()))
        {
            let sum: f64 = evs
                .iter()
                .map(|e| {
                    points
                        .get(e["kind"].as_str().unwrap())
                        .copied()
                        .unwrap_or(0.0)
                })
                .sum();
            o.insert("score".into(), json!(sum));
        }
    }
    if vendor == "pipedrive" {
        renumber(&mut x);
    }
    x
}

/// What the connector reads back of `served`, as far as the vendor keeps it:
/// Pipedrive holds activity times to the minute (`due_time` "HH:MM"), when
/// a deal was won or lost as an instant (the double: midnight UTC), and
/// only changes (a deal that never changed has no history);
/// Salesforce keeps a Task's day (`ActivityDate`, a local date) and a
/// duration only for calls.
fn as_read(vendor: &str, served: &Value) -> Value {
    let mut x = served.clone();
    // Team names are read as text, without surrounding spaces.
    for r in each(&mut x, "reps") {
        if let Some(t) = r.get("team").and_then(Value::as_str).map(str::trim) {
            r["team"] = json!(t);
        }
    }
    if vendor == "salesforce" {
        for a in each(&mut x, "activities") {
            let kind = a["kind"].as_str().unwrap();
            if doubles::SF_TASKS.iter().any(|(k, _)| *k == kind) {
                if kind != "call" {
                    a["duration_minutes"] = json!(0);
                }
                let t: DateTime<Utc> = a["at"].as_str().unwrap().parse().unwrap();
                a["at"] = json!(doubles::local_date(t).to_string());
            }
        }
    }
    if vendor == "pipedrive" {
        let minute = |v: &mut Value| {
            if let Some(t) = v.as_str() {
                *v = json!(format!("{}:00Z", &t[..16]));
            }
        };
        for a in each(&mut x, "activities") {
            minute(&mut a["at"]);
        }
        for l in each(&mut x, "leads") {
            if let Some(f) = l.get_mut("first_response_at") {
                minute(f);
            }
        }
        for d in each(&mut x, "deals") {
            if d["history"].as_array().is_some_and(|h| h.len() == 1) {
                d.as_object_mut().unwrap().remove("history");
            }
            if matches!(d["stage"].as_str(), Some("won" | "lost")) {
                d["close_date"] = json!(format!("{}T00:00:00Z", d["close_date"].as_str().unwrap()));
            }
        }
    }
    x
}

/// Pipedrive ids: reps, deals, activities and open stages become numbers
/// (in their order, so the order stays; a deal id that names no deal comes
/// after them); closed stages are won and lost, in history too.
fn renumber(x: &mut Value) {
    let ids = |list: &Value| -> HashMap<String, String> {
        list.as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, v)| (v["id"].as_str().unwrap().to_string(), (i + 1).to_string()))
            .collect()
    };
    let reps = ids(&x["reps"]);
    let mut stages = HashMap::new();
    let mut n = 0;
    for st in x["stages"].as_array().unwrap() {
        let new = match (
            st["closed"].as_bool().unwrap(),
            st["won"].as_bool().unwrap(),
        ) {
            (true, true) => "won".to_string(),
            (true, false) => "lost".to_string(),
            _ => {
                n += 1;
                n.to_string()
            }
        };
        stages.insert(st["id"].as_str().unwrap().to_string(), new);
    }
    let swap = |v: &mut Value, key: &str, map: &HashMap<String, String>| {
        if let Some(old) = v[key].as_str() {
            v[key] = json!(map[old]);
        }
    };
    for st in each(x, "stages") {
        swap(st, "id", &stages);
    }
    for r in each(x, "reps") {
        swap(r, "id", &reps);
    }
    let mut deals = ids(&x["deals"]);
    for a in x["activities"].as_array().unwrap() {
        if let Some(id) = a["deal_id"].as_str() {
            let n = deals.len() + 1;
            deals.entry(id.to_string()).or_insert_with(|| n.to_string());
        }
    }
    for d in each(x, "deals") {
        swap(d, "id", &deals);
        swap(d, "owner", &reps);
        swap(d, "stage", &stages);
        for e in each(d, "history") {
            swap(e, "stage", &stages);
        }
    }
    let acts = ids(&x["activities"]);
    for a in each(x, "activities") {
        swap(a, "id", &acts);
        swap(a, "owner", &reps);
        swap(a, "deal_id", &deals);
    }
    for l in each(x, "leads") {
        swap(l, "owner", &reps);
    }
}

/// The vectors' config with this `[source]`, and each rep's hire date
/// (which no CRM holds) under `[[reps]]`.
fn config(dir: &Path, name: &str, source: &str) -> PathBuf {
    let mut text = fs::read_to_string(common::fixtures().join("vectors/salesops.toml")).unwrap();
    text = text.replace(
        "[source]\nkind = \"file\"\npath = \"crm-early.json\"\n",
        source,
    );
    for r in crm_early()["reps"].as_array().unwrap() {
        let line = format!("email = \"{}\"\n", r["email"].as_str().unwrap());
        text = text.replace(
            &line,
            &format!(
                "{line}start_date = \"{}\"\n",
                r["start_date"].as_str().unwrap()
            ),
        );
    }
    assert!(
        text.contains(source) && text.contains("start_date"),
        "the vectors config changed shape"
    );
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

async fn salesops(dir: &Path, args: &[&str]) -> String {
    let (code, text) = support::cli(dir, args).await;
    assert_eq!(code, Some(0), "salesops {args:?} failed:\n{text}");
    text
}

async fn report(dir: &Path, config: &Path, out: &str) -> Value {
    let config = config.to_str().unwrap();
    salesops(
        dir,
        &[
            "run",
            "--config",
            config,
            "--period",
            doubles::PERIOD,
            "--as-of",
            doubles::AS_OF,
            "--dry-run",
            "--out",
            out,
        ],
    )
    .await;
    let path = dir
        .join(out)
        .join(format!("vectors/{}/report.json", doubles::PERIOD));
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

fn same(want: &Value, got: &Value) {
    common::assert_matches(want, got);
    common::assert_matches(got, want);
}

/// Pulls `vendor`'s double of the vectors' `snapshot` back; `cases` are
/// the documented behaviours its double must have served at least once.
async fn round_trip(vendor: &str, snapshot: &str, cases: &[&str], source: impl Fn(&str) -> String) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let served = project(vendor, &vector(snapshot));
    let x = as_read(vendor, &served);
    fs::write(d.join("x.json"), serde_json::to_vec_pretty(&x).unwrap()).unwrap();
    let file_cfg = config(
        d,
        "file.toml",
        "[source]\nkind = \"file\"\npath = \"x.json\"\n",
    );
    let want = report(d, &file_cfg, "out-file").await;
    // The report has substance: revenue, activities, leads, notes.
    assert!(want["kpis"]["won_revenue"].as_f64().unwrap() > 0.0);
    assert!(want["kpis"]["selling_time_share"].as_f64().is_some());
    assert!(want["kpis"]["lead_response_hours_median"]
        .as_f64()
        .is_some());
    assert!(!want["data_quality"].as_array().unwrap().is_empty());

    let server = MockServer::start().await;
    let shown = match vendor {
        "hubspot" => doubles::serve_hubspot(&server, &served).await,
        "salesforce" => doubles::serve_salesforce(&server, &served, 400).await,
        _ => doubles::serve_pipedrive(&server, &served).await,
    };
    for case in cases {
        assert!(
            shown.0.get(case).is_some_and(|n| *n > 0),
            "the {vendor} double served no {case}: {shown:?}"
        );
    }
    let crm_cfg = config(d, "crm.toml", &source(&server.uri()));
    let got = report(d, &crm_cfg, "out-crm").await;
    same(&want, &got);

    let said = salesops(
        d,
        &[
            "pull",
            "--config",
            crm_cfg.to_str().unwrap(),
            "--save",
            "saved.json",
        ],
    )
    .await;
    assert!(said.contains("wrote saved.json"), "{said}");
    let saved_cfg = config(
        d,
        "saved.toml",
        "[source]\nkind = \"file\"\npath = \"saved.json\"\n",
    );
    let again = report(d, &saved_cfg, "out-saved").await;
    same(&want, &again);
    // Every record came back, at its time: the report alone would not see
    // a record it does not use (a year-old activity, say).
    let saved: Value = serde_json::from_slice(&fs::read(d.join("saved.json")).unwrap()).unwrap();
    every_record_back(&x, &saved);
}

/// Each deal, activity and lead of `x` is in `saved`, with the same times,
/// deal types, deal links and (reps) teams; and the deals that have
/// history have it.
fn every_record_back(x: &Value, saved: &Value) {
    let same_time = |a: &Value, b: &Value| match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) if a.len() > 10 && b.len() > 10 => {
            a.parse::<DateTime<Utc>>().ok() == b.parse::<DateTime<Utc>>().ok()
        }
        _ => a == b,
    };
    let mut wrong = Vec::new();
    for (list, time) in [
        ("deals", "close_date"),
        ("deals", "type"),
        ("deals", "history"),
        ("activities", "at"),
        ("activities", "deal_id"),
        ("leads", "first_response_at"),
        ("reps", "team"),
    ] {
        let back: HashMap<&str, &Value> = saved[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["id"].as_str().unwrap(), r))
            .collect();
        for r in x[list].as_array().unwrap() {
            let id = r["id"].as_str().unwrap();
            match back.get(id) {
                None => wrong.push(format!("{list} {id}: not pulled")),
                // History in the vendor's terms (entries of what changed,
                // times as the vendor keeps them): each deal has it or not.
                Some(b) if time == "history" => {
                    if r[time].is_array() != b[time].is_array() {
                        wrong.push(format!(
                            "deals {id}: history {} came back as {}",
                            r[time], b[time]
                        ));
                    }
                }
                Some(b) if !same_time(&r[time], &b[time]) => wrong.push(format!(
                    "{list} {id}: {time} {} came back as {}",
                    r[time], b[time]
                )),
                Some(_) => {}
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} record(s) not back as served:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(20)].join("\n")
    );
}

fn hubspot_source(uri: &str) -> String {
    let types: Vec<String> = doubles::HS_MEETING_TYPES
        .iter()
        .map(|(k, t)| format!("{t:?} = {k:?}"))
        .collect();
    format!(
        "[source]\nkind = \"hubspot\"\nbase_url = \"{uri}\"\nmax_requests_per_second = 1000\n\n[source.hubspot]\nactivity_types = {{ {} }}\ndeal_types = {{ crosssell = \"cross_sell\", renewal = \"renewal\" }}\n",
        types.join(", ")
    )
}

const HUBSPOT_CASES: [&str; 4] = [
    "properties with versions newest first",
    "property versions emptied",
    "engagements listing their deal twice",
    "owners on a second team",
];

#[tokio::test(flavor = "multi_thread")]
async fn hubspot_gives_the_report_of_the_file_source() {
    round_trip("hubspot", "crm-early.json", &HUBSPOT_CASES, hubspot_source).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hubspot_history_gives_the_books_as_they_were() {
    round_trip("hubspot", "crm-final.json", &HUBSPOT_CASES, hubspot_source).await;
}

fn salesforce_source(uri: &str) -> String {
    let types: Vec<String> = doubles::SF_TYPES[3..]
        .iter()
        .map(|(k, t)| format!("{t:?} = {k:?}"))
        .collect();
    format!(
        "[source]\nkind = \"salesforce\"\ninstance_url = \"{uri}\"\nmax_requests_per_second = 1000\n\n[source.salesforce]\nscore_field = \"Score__c\"\nactivity_types = {{ {} }}\ndeal_types = {{ \"Cross-sell\" = \"cross_sell\" }}\n",
        types.join(", ")
    )
}

const SALESFORCE_CASES: [&str; 7] = [
    "tasks marked done on a later local day",
    "calls with CallDurationInSeconds",
    "archived activities",
    "deleted tasks",
    "users with a role",
    "activities on an account",
    "history rows repeating an unchanged amount",
];

#[tokio::test(flavor = "multi_thread")]
async fn salesforce_gives_the_report_of_the_file_source() {
    round_trip(
        "salesforce",
        "crm-early.json",
        &SALESFORCE_CASES,
        salesforce_source,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn salesforce_history_gives_the_books_as_they_were() {
    round_trip(
        "salesforce",
        "crm-final.json",
        &SALESFORCE_CASES,
        salesforce_source,
    )
    .await;
}

fn pipedrive_source(uri: &str) -> String {
    let options = |list: &[(&str, u64)]| {
        list.iter()
            .map(|(k, id)| format!("\"{id}\" = {k:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[source]\nkind = \"pipedrive\"\nbase_url = \"{uri}\"\nmax_requests_per_second = 1000\n\n[source.pipedrive]\nactivity_types = {{ linkedin = \"social\", training = \"training\", admin = \"admin\", internal_meeting = \"internal_meeting\" }}\nforecast_category_field = \"{}\"\nforecast_categories = {{ {} }}\ndeal_type_field = \"{}\"\ndeal_types = {{ {} }}\nhistory = true\n",
        doubles::PD_FORECAST_FIELD,
        options(&doubles::PD_FORECAST_OPTIONS),
        doubles::PD_TYPE_FIELD,
        options(&doubles::PD_TYPE_OPTIONS),
    )
}

const PIPEDRIVE_CASES: [&str; 3] = [
    "archived deals won in the period",
    "archived leads",
    "deals with a changelog",
];

#[tokio::test(flavor = "multi_thread")]
async fn pipedrive_gives_the_report_of_the_file_source() {
    round_trip(
        "pipedrive",
        "crm-early.json",
        &PIPEDRIVE_CASES,
        pipedrive_source,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pipedrive_history_gives_the_books_as_they_were() {
    round_trip(
        "pipedrive",
        "crm-final.json",
        &PIPEDRIVE_CASES,
        pipedrive_source,
    )
    .await;
}
