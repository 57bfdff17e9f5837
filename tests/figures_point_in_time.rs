//! The books at as_of (METRICS.md "The books at as_of (point in time)") and
//! the forecast track record with reconstructed forecasts ("Forecast
//! accuracy", "Track record"), on small snapshots written here, worked out
//! by hand, through the real binary and a real SQLite state store.
//!
//! The main data set ("pit", Asia/Seoul, every timestamp written with its
//! +09:00 offset; stages discovery 0.1, demo 0.3, proposal 0.6, won, lost;
//! `track_record_periods = 3`):
//!
//! - p1 (Kim) created 05-10: discovery, 10,000, close 07-31, pipeline;
//!   06-15 proposal + commit; **07-01 00:00 exactly** amount 15,000 +
//!   best_case; 07-20 won (close 07-20). Now: won 15,000.
//! - p2 (Lee) created 04-01: discovery, 20,000, close 07-15, pipeline;
//!   05-01 proposal + best_case; 06-10 **back to demo**; 08-05 lost.
//! - p3 (Kim) created 05-01: proposal, 5,500, close 06-25, commit; 06-20
//!   close 07-10; 07-05 close **pushed to 09-30** (out of July).
//! - p4 (Lee) created 06-05: discovery, **amount null**, close 07-25,
//!   pipeline; 07-03 amount 8,000.
//! - p5 (Kim) **created 07-01 00:00 exactly**: proposal, 7,000, close 07-30,
//!   commit; 07-28 won (close 07-28).
//! - p6 (Lee) created 05-15, **no history**: won 12,000, close 06-12.
//! - p7 (Kim) created 04-10: discovery, 6,000, close 06-30, pipeline; two
//!   entries at the same instant 06-05 10:00, demo + pipeline then
//!   proposal + commit (the later in the list wins); 06-18 won (close 06-18).
//! - p8 (Lee) created 05-01: demo, 3,000, close 06-30; 06-22 lost.
//! - p10 (Lee) **created 07-02** (after the June as_of) with history:
//!   discovery, 900, close 09-30, pipeline.
//!
//! Stage cycles used below: p6 05-15 → 06-12 = 28 days, p7 04-10 → 06-18 =
//! 69 days (typical 48.5); p1 05-10 → 07-20 = 71, p5 07-01 → 07-28 = 27.

mod common;

use serde_json::{json, Value};

fn h(at: &str, fields: Value) -> Value {
    let mut e = fields;
    e["at"] = json!(format!("2026-{at}:00+09:00"));
    e
}

fn stages() -> Value {
    json!([
        {"id": "discovery", "label": "Discovery", "probability": 0.1, "order": 1, "closed": false, "won": false},
        {"id": "demo", "label": "Demo", "probability": 0.3, "order": 2, "closed": false, "won": false},
        {"id": "proposal", "label": "Proposal", "probability": 0.6, "order": 3, "closed": false, "won": false},
        {"id": "won", "label": "Won", "probability": 1.0, "order": 4, "closed": true, "won": true},
        {"id": "lost", "label": "Lost", "probability": 0.0, "order": 5, "closed": true, "won": false}
    ])
}

#[allow(clippy::too_many_arguments)]
fn deal(
    id: &str,
    owner: &str,
    created: &str,
    stage: &str,
    amount: Value,
    close: &str,
    fc: &str,
    history: Vec<Value>,
) -> Value {
    let mut d = json!({
        "id": id, "name": format!("deal {id}"), "owner": owner,
        "created_at": format!("2026-{created}:00+09:00"), "stage": stage,
        "amount": amount, "close_date": close, "forecast_category": fc
    });
    if !history.is_empty() {
        d["history"] = json!(history);
    }
    d
}

/// Today's books (2026-11), every deal's full history.
fn final_books() -> Value {
    json!({
        "currency": "USD",
        "reps": [
            {"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2025-01-01"},
            {"id": "r2", "name": "Lee", "email": "lee@example.com", "start_date": "2025-01-01"}
        ],
        "stages": stages(),
        "deals": [
            deal("p1", "r1", "05-10T10:00", "won", json!(15000), "2026-07-20", "closed", vec![
                h("05-10T10:00", json!({"stage": "discovery", "amount": 10000, "close_date": "2026-07-31", "forecast_category": "pipeline"})),
                h("06-15T10:00", json!({"stage": "proposal", "forecast_category": "commit"})),
                h("07-01T00:00", json!({"amount": 15000, "forecast_category": "best_case"})),
                h("07-20T10:00", json!({"stage": "won", "close_date": "2026-07-20", "forecast_category": "closed"})),
            ]),
            deal("p2", "r2", "04-01T10:00", "lost", json!(20000), "2026-08-05", "omitted", vec![
                h("04-01T10:00", json!({"stage": "discovery", "amount": 20000, "close_date": "2026-07-15", "forecast_category": "pipeline"})),
                h("05-01T10:00", json!({"stage": "proposal", "forecast_category": "best_case"})),
                h("06-10T10:00", json!({"stage": "demo"})),
                h("08-05T10:00", json!({"stage": "lost", "close_date": "2026-08-05", "forecast_category": "omitted"})),
            ]),
            deal("p3", "r1", "05-01T10:00", "proposal", json!(5500), "2026-09-30", "commit", vec![
                h("05-01T10:00", json!({"stage": "proposal", "amount": 5500, "close_date": "2026-06-25", "forecast_category": "commit"})),
                h("06-20T10:00", json!({"close_date": "2026-07-10"})),
                h("07-05T10:00", json!({"close_date": "2026-09-30"})),
            ]),
            deal("p4", "r2", "06-05T10:00", "discovery", json!(8000), "2026-07-25", "pipeline", vec![
                h("06-05T10:00", json!({"stage": "discovery", "amount": null, "close_date": "2026-07-25", "forecast_category": "pipeline"})),
                h("07-03T10:00", json!({"amount": 8000})),
            ]),
            deal("p5", "r1", "07-01T00:00", "won", json!(7000), "2026-07-28", "closed", vec![
                h("07-01T00:00", json!({"stage": "proposal", "amount": 7000, "close_date": "2026-07-30", "forecast_category": "commit"})),
                h("07-28T10:00", json!({"stage": "won", "close_date": "2026-07-28", "forecast_category": "closed"})),
            ]),
            deal("p6", "r2", "05-15T10:00", "won", json!(12000), "2026-06-12", "closed", vec![]),
            deal("p7", "r1", "04-10T10:00", "won", json!(6000), "2026-06-18", "closed", vec![
                h("04-10T10:00", json!({"stage": "discovery", "amount": 6000, "close_date": "2026-06-30", "forecast_category": "pipeline"})),
                h("06-05T10:00", json!({"stage": "demo", "forecast_category": "pipeline"})),
                h("06-05T10:00", json!({"stage": "proposal", "forecast_category": "commit"})),
                h("06-18T10:00", json!({"stage": "won", "close_date": "2026-06-18", "forecast_category": "closed"})),
            ]),
            deal("p8", "r2", "05-01T10:00", "lost", json!(3000), "2026-06-22", "omitted", vec![
                h("05-01T10:00", json!({"stage": "demo", "amount": 3000, "close_date": "2026-06-30", "forecast_category": "pipeline"})),
                h("06-22T10:00", json!({"stage": "lost", "close_date": "2026-06-22", "forecast_category": "omitted"})),
            ]),
            deal("p10", "r2", "07-02T10:00", "discovery", json!(900), "2026-09-30", "pipeline", vec![
                h("07-02T10:00", json!({"stage": "discovery", "amount": 900, "close_date": "2026-09-30", "forecast_category": "pipeline"})),
            ])
        ]
    })
}

/// The same books as they stood at 2026-07-01 00:00 Seoul, written by hand:
/// the deals created before that instant, their values then, and only the
/// history entries before it.
fn early_books() -> Value {
    let mut b = final_books();
    let deals = b["deals"].as_array_mut().unwrap();
    deals.retain(|d| d["id"] != "p5" && d["id"] != "p10");
    let set = |d: &mut Value, stage: &str, amount: Value, close: &str, fc: &str, keep: usize| {
        d["stage"] = json!(stage);
        d["amount"] = amount;
        d["close_date"] = json!(close);
        d["forecast_category"] = json!(fc);
        d["history"].as_array_mut().unwrap().truncate(keep);
    };
    set(
        &mut deals[0],
        "proposal",
        json!(10000),
        "2026-07-31",
        "commit",
        2,
    );
    set(
        &mut deals[1],
        "demo",
        json!(20000),
        "2026-07-15",
        "best_case",
        3,
    );
    set(
        &mut deals[2],
        "proposal",
        json!(5500),
        "2026-07-10",
        "commit",
        2,
    );
    set(
        &mut deals[3],
        "discovery",
        Value::Null,
        "2026-07-25",
        "pipeline",
        1,
    );
    b
}

fn strip_history(mut b: Value) -> Value {
    for d in b["deals"].as_array_mut().unwrap() {
        d.as_object_mut().unwrap().remove("history");
    }
    b
}

const PIT_CONFIG: &str = r#"
timezone = "Asia/Seoul"
currency = "USD"
default_role = "junior"

[source]
kind = "file"
path = "crm.json"

[roles.junior]
monthly_quota = 10000

[forecast]
track_record_periods = 3

[[reports]]
name = "pit"
period = "previous_month"
"#;

fn setup(config: &str, books: &Value) -> tempfile::TempDir {
    common::workdir(config, books)
}

fn notes(r: &Value) -> Vec<String> {
    r["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// One method's entry of a track record.
fn row(period: &str, forecast: Value, actual: f64, accuracy: Value, bias: Value) -> Value {
    json!({"period": period, "forecast": forecast, "actual": actual,
           "accuracy": accuracy, "bias": bias})
}

#[test]
fn june_reads_the_books_as_they_stood_on_july_1() {
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    let want = json!({
        "period": {"label": "2026-06", "start": "2026-06-01", "end": "2026-07-01"},
        "as_of": "2026-07-01",
        "kpis": {
            // Won in June: p6 12,000 (no history: as it is now) + p7 6,000; lost p8.
            "won_revenue": 18000.0, "deals_won": 2, "deals_lost": 1,
            "win_rate": 2.0 / 3.0, "avg_won_deal_size": 9000.0,
            // Open at July 1 00:00: p1 proposal 10,000 (the 07-01 00:00 entry is
            // at as_of: not yet), p2 demo 20,000 (moved back from proposal),
            // p3 proposal 5,500, p4 no amount yet (0). p5 is created at as_of
            // and p10 after it: absent.
            "pipeline_total": 35500.0,
            // 6,000 + 6,000 + 3,300 + 0
            "pipeline_weighted": 15300.0,
            "avg_open_deal_size": 35500.0 / 4.0,
            // p6 28 days, p7 69
            "sales_cycle_days_mean": 48.5
        },
        "reps": [
            // Kim: p1 10,000 × 0.6 + p3 5,500 × 0.6; won p7.
            {"id": "r1", "won_revenue": 6000.0, "pipeline_total": 15500.0, "pipeline_weighted": 9300.0},
            // Lee: p2 20,000 × 0.3 + p4 0; won p6.
            {"id": "r2", "won_revenue": 12000.0, "pipeline_total": 20000.0, "pipeline_weighted": 6000.0}
        ],
        "forecasts": {
            "target": "2026-07",
            // Open in July at as_of: p1 (07-31), p2 (07-15), p3 (07-10, moved
            // in on 06-20, out only on 07-05), p4 (07-25). Nothing won yet.
            // 6,000 + 6,000 + 3,300 + 0
            "stage_weighted": 15300.0,
            // Typical cycle 48.5; ages at July 1: p1 52, p2 91, p3 61 (all ≥ 48.5:
            // full amount), p4 26 × 0.
            "cycle_length": 35500.0,
            // Commit at as_of: p1 (commit since 06-15; best_case only from
            // 07-01 00:00) + p3.
            "rep_commit": 15500.0,
            // + p2 best_case 20,000
            "best_case": 35500.0,
            // Won April-June at as_of: 18,000 / 3 × 1.05
            "historical": 6300.0
        }
    });
    common::assert_matches(&want, &got);
    let n = notes(&got);
    assert!(
        n.iter().any(|n| n.contains("p4")),
        "p4's amount is missing at as_of: {n:?}"
    );
}

#[test]
fn entries_at_the_same_instant_the_later_in_the_list_wins() {
    // June as of June 10: June is running, so it is the target. Open in June
    // at June 10 00:00: p3 proposal 5,500 commit (close 06-25), p6 (no
    // history, won on 06-12: weight 1) 12,000, p7 proposal 6,000 commit (the
    // later of the two 06-05 entries), p8 demo 3,000 (close 06-30). p1, p2
    // and p4 close in July. Nothing won in June yet.
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-06", "2026-06-10");
    common::assert_matches(
        &json!({"forecasts": {
            "target": "2026-06",
            // 3,300 + 12,000 + 3,600 + 900
            "stage_weighted": 19800.0,
            // p3 + p7
            "rep_commit": 11500.0
        }}),
        &got,
    );
}

#[test]
fn a_field_first_recorded_after_as_of_takes_its_earliest_recorded_value() {
    // p3 with its amount recorded only from 07-05 (5,500) and 07-10 (7,777,
    // its amount now). At July 1 every entry carrying the amount is after
    // t: the earliest of them (5,500) applies, not today's 7,777.
    let mut books = final_books();
    let p3 = &mut books["deals"][2];
    p3["amount"] = json!(7777);
    let hist = p3["history"].as_array_mut().unwrap();
    hist[0].as_object_mut().unwrap().remove("amount");
    hist[2]["amount"] = json!(5500);
    hist.push(h("07-10T10:00", json!({"amount": 7777})));
    let dir = setup(PIT_CONFIG, &books);
    let june = common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    // As in june_reads_the_books_as_they_stood_on_july_1.
    common::assert_matches(
        &json!({"kpis": {"pipeline_total": 35500.0, "pipeline_weighted": 15300.0}}),
        &june,
    );
    // At Aug 1 the 07-10 entry applies: 34,400 − 5,500 + 7,777 and
    // 10,190 − 3,300 + 7,777 × 0.6 = 11,556.2.
    let july = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    common::assert_matches(
        &json!({"kpis": {"pipeline_total": 36677.0, "pipeline_weighted": 11556.2}}),
        &july,
    );
}

#[test]
fn a_null_forecast_category_in_history_means_no_category() {
    // p3 loses its category on 06-25: at July 1 it is neither commit nor
    // best case. Commit 10,000 (p1); best case + p2 20,000.
    let mut books = final_books();
    books["deals"][2]["history"]
        .as_array_mut()
        .unwrap()
        .insert(2, h("06-25T10:00", json!({"forecast_category": null})));
    books["deals"][2]["forecast_category"] = Value::Null;
    let dir = setup(PIT_CONFIG, &books);
    let got = common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    common::assert_matches(
        &json!({"forecasts": {"stage_weighted": 15300.0, "rep_commit": 10000.0,
                              "best_case": 30000.0}}),
        &got,
    );
}

fn broken_history(entry: Value) -> String {
    let mut books = final_books();
    books["deals"][2]["history"]
        .as_array_mut()
        .unwrap()
        .push(entry);
    let dir = setup(PIT_CONFIG, &books);
    let out = assert_cmd::Command::cargo_bin("salesops")
        .unwrap()
        .current_dir(dir.path())
        .env_remove("SALESOPS_CONFIG")
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .assert()
        .failure()
        .get_output()
        .clone();
    assert!(!dir.path().join("reports").exists(), "nothing written");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_broken_history_entry_names_the_deal_and_the_field() {
    // CANONICAL.md: an entry's stage must exist; an entry whose `at` is not
    // a timestamp, or that carries no field, is a broken record.
    let err = broken_history(json!({"at": "2026-07-06T10:00:00+09:00", "stage": "negotiation"}));
    assert!(
        err.contains("p3") && err.contains("history") && err.contains("negotiation"),
        "{err}"
    );
    let err = broken_history(json!({"at": "2026-07-32T10:00:00+09:00", "amount": 5}));
    assert!(
        err.contains("p3") && err.contains("history") && err.contains("2026-07-32"),
        "{err}"
    );
    let err = broken_history(json!({"at": "2026-07-06T10:00:00+09:00"}));
    assert!(err.contains("p3") && err.contains("history"), "{err}");
}

#[test]
fn july_sees_the_amount_set_later_and_the_deal_created_after_june() {
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    common::assert_matches(
        &json!({"kpis": {
            // Won in July: p1 15,000 (amount of the 07-01 entry) + p5 7,000.
            "won_revenue": 22000.0, "deals_won": 2, "deals_lost": 0, "win_rate": 1.0,
            // Open at Aug 1: p2 demo 20,000 (lost only on 08-05), p3 5,500,
            // p4 8,000 (set 07-03), p10 900.
            "pipeline_total": 34400.0,
            // 6,000 + 3,300 + 800 + 90
            "pipeline_weighted": 10190.0,
            // p1 05-10 → 07-20 71, p5 07-01 → 07-28 27
            "sales_cycle_days_mean": 49.0
        }}),
        &got,
    );
    let n = notes(&got);
    assert!(
        !n.iter().any(|n| n.contains("p4")),
        "p4 has its amount at Aug 1: {n:?}"
    );
}

#[test]
fn june_from_todays_books_equals_june_from_the_books_of_july_1() {
    // The point-in-time pair on the hand-made data: every key equal.
    let a = setup(PIT_CONFIG, &final_books());
    let b = setup(PIT_CONFIG, &early_books());
    let from_final = common::run_report(a.path(), "pit", "2026-06", "2026-07-01");
    let from_early = common::run_report(b.path(), "pit", "2026-06", "2026-07-01");
    common::assert_matches(&from_early, &from_final);
    common::assert_matches(&from_final, &from_early);
    assert_eq!(from_final["data_quality"], from_early["data_quality"]);
    assert_eq!(
        from_final["forecast_track_record"]["periods"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn without_history_the_books_are_read_as_they_are_now() {
    let dir = setup(PIT_CONFIG, &strip_history(final_books()));
    let got = common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    let none = |p: &str, actual: f64| {
        json!({"period": p, "forecast": null, "actual": actual, "accuracy": null,
               "bias": null, "late": false, "reconstructed": false})
    };
    let rows = json!([
        none("2026-06", 18000.0),
        none("2026-05", 0.0),
        none("2026-04", 0.0)
    ]);
    let want = json!({
        "kpis": {
            "won_revenue": 18000.0, "deals_won": 2, "deals_lost": 1,
            // Open at July 1 by today's values: p1 won on 07-20 (weight 1),
            // p2 lost on 08-05 (weight 0), p3 5,500 × 0.6, p4 8,000 × 0.1.
            // p5 is created at as_of: absent.
            "pipeline_total": 48500.0,
            "pipeline_weighted": 19100.0
        },
        "forecasts": {
            "target": "2026-07",
            // Closing in July by today's values: p1 15,000 × 1 + p4 800 (p2 closes
            // 08-05, p3 09-30). Categories as now: closed, pipeline.
            "stage_weighted": 15800.0, "rep_commit": 0.0, "best_case": 0.0
        },
        // No stored forecast and no history: nothing to judge or reconstruct.
        "forecast_accuracy": {},
        "forecast_track_record": {
            "periods": ["2026-06", "2026-05", "2026-04"],
            "methods": {"stage_weighted": rows, "cycle_length": rows, "rep_commit": rows,
                        "best_case": rows, "historical": rows},
            "mean_accuracy": {"stage_weighted": null, "cycle_length": null,
                              "rep_commit": null, "best_case": null, "historical": null},
            "best_method": null
        }
    });
    common::assert_matches(&want, &got);
    let n = notes(&got);
    assert!(
        !n.iter().any(|n| n.contains("p4")),
        "p4 has an amount now: {n:?}"
    );
}

/// The June forecast reconstructed at June 1 (no history entry of p3, p7, p8
/// after May 1 applies yet; p6 has no history: won on 06-12, still open at
/// June 1 with weight 1 and category closed; p4 is not created yet). Open in
/// June: p3 5,500 × 0.6 commit, p6 12,000 × 1, p7 6,000 × 0.1, p8 3,000 × 0.3.
/// Actual June: 18,000. Cycle: no win before June 1: null. Historical:
/// nothing won March-May: 0.
fn june_reconstructed() -> Value {
    json!({
        "stage_weighted": row("2026-06", json!(16800.0), 18000.0, json!(14.0 / 15.0), json!(-1.0 / 15.0)),
        "cycle_length": row("2026-06", Value::Null, 18000.0, Value::Null, Value::Null),
        "rep_commit": row("2026-06", json!(5500.0), 18000.0, json!(11.0 / 36.0), json!(-25.0 / 36.0)),
        "best_case": row("2026-06", json!(5500.0), 18000.0, json!(11.0 / 36.0), json!(-25.0 / 36.0)),
        "historical": row("2026-06", json!(0.0), 18000.0, json!(0.0), json!(-1.0))
    })
}

/// Sets `late` and `reconstructed` on every entry that has a forecast
/// (a null reconstruction's flags are left out: see the report).
fn flags(mut v: Value, late: bool, reconstructed: bool) -> Value {
    for (_, r) in v.as_object_mut().unwrap() {
        if !r["forecast"].is_null() {
            r["late"] = json!(late);
            r["reconstructed"] = json!(reconstructed);
        } else {
            r["late"] = json!(false);
        }
    }
    v
}

#[test]
fn june_accuracy_is_reconstructed_from_history_on_a_fresh_store() {
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    let mut want = without_period(flags(june_reconstructed(), false, true));
    // The cycle-length reconstruction is null (no win in the year before
    // June 1): the spec does not say whether forecast_accuracy then lists
    // the method with a null forecast or leaves it out; not asserted.
    want.as_object_mut().unwrap().remove("cycle_length");
    common::assert_matches(&json!({"forecast_accuracy": want}), &got);
}

/// July's forecasts made at June 20 (the run `--period 2026-07 --as-of
/// 2026-06-20`): p1 proposal 10,000 commit (06-15), p2 demo 20,000
/// best_case, p4 no amount, all closing in July; p3 still closes 06-25 (its
/// 06-20 10:00 entry is after as_of). Actual July: p1 15,000 + p5 7,000 =
/// 22,000.
fn july_stored_june_20() -> Value {
    json!({
        // 6,000 + 6,000 + 0
        "stage_weighted": row("2026-07", json!(12000.0), 22000.0, json!(6.0 / 11.0), json!(-5.0 / 11.0)),
        // Typical cycle at June 20: p6 28, p7 69 → 48.5. p1 is 41 days old:
        // 10,000 × 41/48.5 = 8,453.608..; p2 (80 days) 20,000; p4 0 →
        // 28,453.61, and its accuracy from the cents.
        "cycle_length": row("2026-07", json!(28453.61), 22000.0,
                            json!(1.0 - 6453.61 / 22000.0), json!(6453.61 / 22000.0)),
        "rep_commit": row("2026-07", json!(10000.0), 22000.0, json!(5.0 / 11.0), json!(-6.0 / 11.0)),
        "best_case": row("2026-07", json!(30000.0), 22000.0, json!(7.0 / 11.0), json!(4.0 / 11.0)),
        // Won April-June at June 20: 18,000 / 3 × 1.05
        "historical": row("2026-07", json!(6300.0), 22000.0, json!(63.0 / 220.0), json!(-157.0 / 220.0))
    })
}

fn without_period(v: Value) -> Value {
    let mut v = v;
    for (_, r) in v.as_object_mut().unwrap() {
        r.as_object_mut().unwrap().remove("period");
    }
    v
}

#[test]
fn a_running_period_has_a_track_record_of_the_periods_before_it() {
    // July as of July 15 has not ended: the last 3 months that have ended are
    // June, May and April. June's entry is the reconstruction at June 1.
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-07-15");
    let t = &got["forecast_track_record"];
    assert_eq!(t["periods"], json!(["2026-06", "2026-05", "2026-04"]));
    common::assert_matches(
        &json!([{"period": "2026-06", "forecast": 16800.0, "actual": 18000.0,
                 "accuracy": 14.0 / 15.0, "late": false, "reconstructed": true}]),
        &json!([t["methods"]["stage_weighted"][0].clone()]),
    );
}

#[test]
fn a_stored_forecast_wins_over_reconstruction_through_two_runs() {
    let dir = setup(PIT_CONFIG, &final_books());
    // Run 1, June 20: July has not started, so it forecasts July and stores it.
    let first = common::run_report(dir.path(), "pit", "2026-07", "2026-06-20");
    common::assert_matches(
        &json!({"forecasts": {"target": "2026-07", "stage_weighted": 12000.0,
                "cycle_length": 28453.61, "rep_commit": 10000.0, "best_case": 30000.0,
                "historical": 6300.0}}),
        &first,
    );
    // Run 2 after July, same store: the June 20 forecast is July's forecast
    // of record (reconstructing at July 1 would give 15,300 stage-weighted).
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    let july = flags(july_stored_june_20(), false, false);
    common::assert_matches(
        &json!({"forecast_accuracy": without_period(july.clone())}),
        &got,
    );
    // The track record: July stored, June and May reconstructed (May: at
    // May 1 only p2 and p7 exist and neither closes in May; nothing won in
    // May: accuracy null).
    let june = flags(june_reconstructed(), false, true);
    let may = |f: Value| {
        let mut r = row("2026-05", f.clone(), 0.0, Value::Null, Value::Null);
        r["late"] = json!(false);
        if !f.is_null() {
            r["reconstructed"] = json!(true);
        }
        r
    };
    let mut methods = serde_json::Map::new();
    for m in [
        "stage_weighted",
        "cycle_length",
        "rep_commit",
        "best_case",
        "historical",
    ] {
        let may_f = if m == "cycle_length" {
            Value::Null
        } else {
            json!(0.0)
        };
        methods.insert(
            m.to_string(),
            json!([july[m].clone(), june[m].clone(), may(may_f)]),
        );
    }
    common::assert_matches(
        &json!({"forecast_track_record": {
            "periods": ["2026-07", "2026-06", "2026-05"],
            "methods": methods,
            "mean_accuracy": {
                // (6/11 + 14/15) / 2 = 122/165
                "stage_weighted": 122.0 / 165.0,
                // July only
                "cycle_length": 1.0 - 6453.61 / 22000.0,
                // (5/11 + 11/36) / 2
                "rep_commit": 301.0 / 792.0,
                // (7/11 + 11/36) / 2
                "best_case": 373.0 / 792.0,
                // (63/220 + 0) / 2
                "historical": 63.0 / 440.0
            },
            "best_method": "stage_weighted"
        }}),
        &got,
    );
}

#[test]
fn the_latest_stored_forecast_on_or_before_the_start_is_of_record() {
    let dir = setup(PIT_CONFIG, &final_books());
    common::run_report(dir.path(), "pit", "2026-07", "2026-06-20");
    // The June report on July 1 stores July's forecasts again, as of July 1.
    common::run_report(dir.path(), "pit", "2026-06", "2026-07-01");
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    // July 1 is later than June 20 and still on P's start: 15,300 (see
    // june_reads_the_books_as_they_stood_on_july_1), stored, not reconstructed.
    common::assert_matches(
        &json!({"forecast_accuracy": {"stage_weighted": {
            "forecast": 15300.0, "actual": 22000.0, "accuracy": 153.0 / 220.0,
            "bias": -67.0 / 220.0, "late": false, "reconstructed": false}}}),
        &got,
    );
}

#[test]
fn july_reconstructed_when_nothing_was_stored() {
    let dir = setup(PIT_CONFIG, &final_books());
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    // Reconstructed at July 1: the June report's forecasts for July.
    let july = json!({
        "stage_weighted": {"forecast": 15300.0, "accuracy": 153.0 / 220.0, "bias": -67.0 / 220.0},
        // |35,500 − 22,000| = 13,500
        "cycle_length": {"forecast": 35500.0, "accuracy": 85.0 / 220.0, "bias": 135.0 / 220.0},
        "rep_commit": {"forecast": 15500.0, "accuracy": 155.0 / 220.0, "bias": -65.0 / 220.0},
        "best_case": {"forecast": 35500.0, "accuracy": 85.0 / 220.0, "bias": 135.0 / 220.0},
        "historical": {"forecast": 6300.0, "accuracy": 63.0 / 220.0, "bias": -157.0 / 220.0}
    });
    let mut want = july.clone();
    for (_, r) in want.as_object_mut().unwrap() {
        r["actual"] = json!(22000.0);
        r["late"] = json!(false);
        r["reconstructed"] = json!(true);
    }
    common::assert_matches(&json!({"forecast_accuracy": want}), &got);
    // Nothing reconstructed is stored: the store holds no July forecast as
    // of July 1 (this run stored only its own, for August as of Aug 1).
    let conn = rusqlite::Connection::open(dir.path().join("state/salesops.sqlite3")).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM forecasts WHERE target_label = '2026-07'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn a_forecast_stored_after_the_period_is_never_of_record() {
    // The June report run on Aug 5 forecasts July (June is over) and stores
    // it as of Aug 5: neither on or before July 1 nor made during July. July's
    // forecast of record is then reconstructed at July 1 (15,300).
    let dir = setup(PIT_CONFIG, &final_books());
    let late = common::run_report(dir.path(), "pit", "2026-06", "2026-08-05");
    // At Aug 5 July's 22,000 is won and nothing open closes in July but p2
    // (demo 20,000, close 07-15; lost only on 08-05 10:00) and p4 (8,000):
    // 22,000 + 6,000 + 800.
    assert_eq!(late["forecasts"]["target"], "2026-07");
    assert_eq!(late["forecasts"]["stage_weighted"], json!(28800.0));
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-06");
    common::assert_matches(
        &json!({"forecast_accuracy": {"stage_weighted": {
            "forecast": 15300.0, "actual": 22000.0, "accuracy": 153.0 / 220.0,
            "late": false, "reconstructed": true}}}),
        &got,
    );
}

#[test]
fn a_forecast_stored_during_the_period_is_late_and_beats_reconstruction() {
    let dir = setup(PIT_CONFIG, &final_books());
    // July 15: July is running, so it is the target. At July 15 00:00: p1
    // proposal 15,000 best_case (07-01 entry), p2 demo 20,000 best_case
    // closing 07-15, p4 8,000 discovery, p5 proposal 7,000 commit; p3 closes
    // 09-30 since 07-05 (pushed out of July). Nothing won in July yet.
    let first = common::run_report(dir.path(), "pit", "2026-07", "2026-07-15");
    common::assert_matches(
        // 9,000 + 6,000 + 800 + 4,200; commit p5; + p1 + p2
        &json!({"forecasts": {"target": "2026-07", "stage_weighted": 20000.0,
                "rep_commit": 7000.0, "best_case": 42000.0}}),
        &first,
    );
    let got = common::run_report(dir.path(), "pit", "2026-07", "2026-08-01");
    common::assert_matches(
        &json!({"forecast_accuracy": {
            "stage_weighted": {"forecast": 20000.0, "actual": 22000.0, "accuracy": 10.0 / 11.0,
                               "bias": -1.0 / 11.0, "late": true, "reconstructed": false},
            "rep_commit": {"forecast": 7000.0, "actual": 22000.0, "accuracy": 7.0 / 22.0,
                           "bias": -15.0 / 22.0, "late": true, "reconstructed": false},
            "best_case": {"forecast": 42000.0, "actual": 22000.0, "accuracy": 1.0 / 11.0,
                          "bias": 10.0 / 11.0, "late": true, "reconstructed": false}
        }}),
        &got,
    );
}

#[test]
fn as_of_is_local_midnight_on_the_day_after_daylight_saving_starts() {
    // America/New_York moves to UTC−4 on 2026-03-08, so as_of 2026-03-09
    // begins at 2026-03-09T04:00:00Z. z1's 03:59 UTC entry (best_case) is
    // before it; its 04:30 UTC entry (proposal, 5,000) is after it.
    let config = PIT_CONFIG.replace("Asia/Seoul", "America/New_York");
    let books = json!({
        "currency": "USD",
        "reps": [{"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2025-01-01"}],
        "stages": stages(),
        "deals": [{
            "id": "z1", "name": "z1", "owner": "r1", "created_at": "2026-02-01T15:00:00Z",
            "stage": "proposal", "amount": 5000, "close_date": "2026-03-20",
            "forecast_category": "best_case",
            "history": [
                {"at": "2026-02-01T15:00:00Z", "stage": "discovery", "amount": 1000,
                 "close_date": "2026-03-20", "forecast_category": "commit"},
                {"at": "2026-03-09T03:59:00Z", "forecast_category": "best_case"},
                {"at": "2026-03-09T04:30:00Z", "stage": "proposal", "amount": 5000}
            ]
        }]
    });
    let dir = setup(&config, &books);
    let got = common::run_report(dir.path(), "pit", "2026-03", "2026-03-09");
    // March is running: the target. z1 discovery 1,000 × 0.1, best case.
    common::assert_matches(
        &json!({"forecasts": {"target": "2026-03", "stage_weighted": 100.0,
                              "rep_commit": 0.0, "best_case": 1000.0},
                "kpis": {"pipeline_total": 1000.0}}),
        &got,
    );
}

// ---------------------------------------------------------------------------
// Quarters across a fiscal-year boundary (fiscal_year_start_month = 4, UTC).
// With 4, 2026-Q1 is April-June 2026, 2025-Q4 January-March 2026, 2025-Q3
// October-December 2025. One rep since 2024 (no new reps anywhere).
//
// - f1 created 2025-09-01: proposal, 10,000, close 2025-11-15, commit; won
//   2025-11-15 (cycle 75 days).
// - f2 created 2025-12-01: demo, 20,000, close 2026-02-10, best_case; won
//   2026-02-10 (cycle 71 days).
// - f3 created 2026-03-01: proposal, 5,000, close 2026-05-20, commit; won
//   2026-05-20.

const FISCAL_CONFIG: &str = r#"
timezone = "UTC"
currency = "USD"
fiscal_year_start_month = 4

[source]
kind = "file"
path = "crm.json"

[roles.junior]
monthly_quota = 10000

[[reports]]
name = "fq"
period = "previous_quarter"
"#;

fn utc_deal(id: &str, created: &str, amount: f64, first: Value, won: &str) -> Value {
    let mut e0 = first;
    e0["at"] = json!(format!("{created}T09:00:00Z"));
    e0["amount"] = json!(amount);
    json!({
        "id": id, "name": id, "owner": "r1", "created_at": format!("{created}T09:00:00Z"),
        "stage": "won", "amount": amount, "close_date": won, "forecast_category": "closed",
        "history": [e0, {"at": format!("{won}T09:00:00Z"), "stage": "won",
                         "close_date": won, "forecast_category": "closed"}]
    })
}

fn fiscal_books() -> Value {
    json!({
        "currency": "USD",
        "reps": [{"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2024-01-01"}],
        "stages": stages(),
        "deals": [
            utc_deal("f1", "2025-09-01", 10000.0,
                json!({"stage": "proposal", "close_date": "2025-11-15", "forecast_category": "commit"}), "2025-11-15"),
            utc_deal("f2", "2025-12-01", 20000.0,
                json!({"stage": "demo", "close_date": "2026-02-10", "forecast_category": "best_case"}), "2026-02-10"),
            utc_deal("f3", "2026-03-01", 5000.0,
                json!({"stage": "proposal", "close_date": "2026-05-20", "forecast_category": "commit"}), "2026-05-20")
        ]
    })
}

#[test]
fn quarter_track_record_across_a_fiscal_year_boundary() {
    let dir = setup(FISCAL_CONFIG, &fiscal_books());
    let got = common::run_report(dir.path(), "fq", "2026-Q1", "2026-07-01");
    assert_eq!(
        got["period"],
        json!({"label": "2026-Q1", "start": "2026-04-01", "end": "2026-07-01"})
    );
    let t = &got["forecast_track_record"];
    // Default track_record_periods = 6 quarters ended by July 1 2026.
    assert_eq!(
        t["periods"],
        json!(["2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1", "2024-Q4"])
    );
    // Each reconstructed at the quarter's start (all forecasts of record are
    // reconstructed; nothing was stored).
    //
    // 2026-Q1 at 2026-04-01: f3 proposal 5,000 commit. Actual 5,000.
    //   Cycle: wins in [2025-04-01, 2026-04-01): f1 75, f2 71 → 73; f3 is
    //   31 days old: 5,000 × 31/73 = 2,123.2876.. → 2,123.29.
    //   Historical: won January-March 2026 (f2 20,000) × 1.05 = 21,000.
    // 2025-Q4 at 2026-01-01: f2 demo 20,000 best_case. Actual 20,000.
    //   Cycle: f1 75; f2 31 days old: 20,000 × 31/75 = 8,266.67.
    //   Historical: October-December 2025 (f1 10,000) × 1.05 = 10,500.
    // 2025-Q3 at 2025-10-01: f1 proposal 10,000 commit. Actual 10,000.
    //   Cycle: no win in the year before: null. Historical: 0.
    // Earlier quarters: nothing open, nothing won: forecasts 0 (cycle null),
    //   actual 0, accuracy and bias null.
    let empty = |p: &str, f: Value| row(p, f, 0.0, Value::Null, Value::Null);
    let tail = |f: Value| {
        vec![
            empty("2025-Q2", f.clone()),
            empty("2025-Q1", f.clone()),
            empty("2024-Q4", f),
        ]
    };
    let mut want_methods = serde_json::Map::new();
    let mut put = |m: &str, head: Vec<Value>, f: Value| {
        let mut all = head;
        all.extend(tail(f));
        want_methods.insert(m.to_string(), json!(all));
    };
    put(
        "stage_weighted",
        vec![
            row("2026-Q1", json!(3000.0), 5000.0, json!(0.6), json!(-0.4)),
            row("2025-Q4", json!(6000.0), 20000.0, json!(0.3), json!(-0.7)),
            row("2025-Q3", json!(6000.0), 10000.0, json!(0.6), json!(-0.4)),
        ],
        json!(0.0),
    );
    put(
        "cycle_length",
        vec![
            row(
                "2026-Q1",
                json!(2123.29),
                5000.0,
                json!(2123.29 / 5000.0),
                json!(-2876.71 / 5000.0),
            ),
            row(
                "2025-Q4",
                json!(8266.67),
                20000.0,
                json!(8266.67 / 20000.0),
                json!(-11733.33 / 20000.0),
            ),
            row("2025-Q3", Value::Null, 10000.0, Value::Null, Value::Null),
        ],
        Value::Null,
    );
    put(
        "rep_commit",
        vec![
            row("2026-Q1", json!(5000.0), 5000.0, json!(1.0), json!(0.0)),
            row("2025-Q4", json!(0.0), 20000.0, json!(0.0), json!(-1.0)),
            row("2025-Q3", json!(10000.0), 10000.0, json!(1.0), json!(0.0)),
        ],
        json!(0.0),
    );
    put(
        "best_case",
        vec![
            row("2026-Q1", json!(5000.0), 5000.0, json!(1.0), json!(0.0)),
            row("2025-Q4", json!(20000.0), 20000.0, json!(1.0), json!(0.0)),
            row("2025-Q3", json!(10000.0), 10000.0, json!(1.0), json!(0.0)),
        ],
        json!(0.0),
    );
    put(
        "historical",
        vec![
            // |21,000 − 5,000| / 5,000 = 3.2 → accuracy max(0, −2.2) = 0
            row("2026-Q1", json!(21000.0), 5000.0, json!(0.0), json!(3.2)),
            row(
                "2025-Q4",
                json!(10500.0),
                20000.0,
                json!(0.525),
                json!(-0.475),
            ),
            row("2025-Q3", json!(0.0), 10000.0, json!(0.0), json!(-1.0)),
        ],
        json!(0.0),
    );
    common::assert_matches(
        &json!({
            "periods": ["2026-Q1", "2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1", "2024-Q4"],
            "methods": want_methods,
            "mean_accuracy": {
                "stage_weighted": 0.5,
                "cycle_length": (2123.29 / 5000.0 + 8266.67 / 20000.0) / 2.0,
                "rep_commit": 2.0 / 3.0,
                "best_case": 1.0,
                "historical": 0.175
            },
            "best_method": "best_case"
        }),
        t,
    );
    for (m, rows) in t["methods"].as_object().unwrap() {
        for r in rows.as_array().unwrap() {
            assert_eq!(r["late"], json!(false), "{m} {r}");
            if !r["forecast"].is_null() {
                assert_eq!(r["reconstructed"], json!(true), "{m} {r}");
            }
        }
    }
    // The report's own accuracy is its period's row.
    common::assert_matches(
        &json!({"stage_weighted": {"forecast": 3000.0, "actual": 5000.0, "accuracy": 0.6,
                                   "bias": -0.4, "late": false, "reconstructed": true}}),
        &got["forecast_accuracy"],
    );
}

// ---------------------------------------------------------------------------
// A tie for the best method (UTC, May 2026 as of June 1).
//
// - q1 created 04-01: proposal, 9,000, close 05-20, commit; won 05-20.
// - q2 created 04-05: proposal, 2,000, close 05-25, best_case; lost 05-25.
// - q3 created 05-10, no history: won 1,000 on 05-20.
//
// May reconstructed at May 1 (q3 not created yet): stage-weighted 0.6 ×
// 11,000 = 6,600; commit 9,000; best case 11,000; cycle null (no earlier
// win); historical 0. Actual 10,000: accuracies 0.66, 0.9, 0.9, 0. Earlier
// months: nothing won, accuracies null. Rep commit and best case tie at 0.9
// (one 1,000 under, one 1,000 over): the earlier, rep_commit, is best.

fn tie_config(extra: &str) -> String {
    format!(
        r#"
timezone = "UTC"
currency = "USD"

[source]
kind = "file"
path = "crm.json"

[roles.junior]
monthly_quota = 10000
{extra}
[[reports]]
name = "tie"
period = "previous_month"
"#
    )
}

fn tie_books() -> Value {
    let q3 = json!({"id": "q3", "name": "q3", "owner": "r1", "created_at": "2026-05-10T09:00:00Z",
                    "stage": "won", "amount": 1000, "close_date": "2026-05-20", "forecast_category": "closed"});
    let mut q2 = utc_deal(
        "q2",
        "2026-04-05",
        2000.0,
        json!({"stage": "proposal", "close_date": "2026-05-25", "forecast_category": "best_case"}),
        "2026-05-25",
    );
    q2["stage"] = json!("lost");
    q2["forecast_category"] = json!("omitted");
    q2["history"][1] = json!({"at": "2026-05-25T09:00:00Z", "stage": "lost",
                              "close_date": "2026-05-25", "forecast_category": "omitted"});
    json!({
        "currency": "USD",
        "reps": [{"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2024-01-01"}],
        "stages": stages(),
        "deals": [
            utc_deal("q1", "2026-04-01", 9000.0,
                json!({"stage": "proposal", "close_date": "2026-05-20", "forecast_category": "commit"}), "2026-05-20"),
            q2,
            q3
        ]
    })
}

#[test]
fn a_tie_goes_to_the_earlier_method() {
    let dir = setup(&tie_config(""), &tie_books());
    let got = common::run_report(dir.path(), "tie", "2026-05", "2026-06-01");
    let t = &got["forecast_track_record"];
    common::assert_matches(
        &json!({
            "mean_accuracy": {"stage_weighted": 0.66, "cycle_length": null, "rep_commit": 0.9,
                              "best_case": 0.9, "historical": 0.0},
            "best_method": "rep_commit"
        }),
        t,
    );
    common::assert_matches(
        &json!({
            "stage_weighted": {"forecast": 6600.0, "actual": 10000.0, "accuracy": 0.66, "bias": -0.34},
            "rep_commit": {"forecast": 9000.0, "actual": 10000.0, "accuracy": 0.9, "bias": -0.1},
            "best_case": {"forecast": 11000.0, "actual": 10000.0, "accuracy": 0.9, "bias": 0.1},
            "historical": {"forecast": 0.0, "actual": 10000.0, "accuracy": 0.0, "bias": -1.0}
        }),
        &got["forecast_accuracy"],
    );
    // Default track_record_periods = 6 months, most recent first.
    assert_eq!(
        t["periods"],
        json!(["2026-05", "2026-04", "2026-03", "2026-02", "2026-01", "2025-12"])
    );
    for (m, rows) in t["methods"].as_object().unwrap() {
        assert_eq!(rows.as_array().unwrap().len(), 6, "{m}");
    }
}

#[test]
fn track_record_periods_is_respected() {
    let dir = setup(
        &tie_config("\n[forecast]\ntrack_record_periods = 2\n"),
        &tie_books(),
    );
    let got = common::run_report(dir.path(), "tie", "2026-05", "2026-06-01");
    let t = &got["forecast_track_record"];
    assert_eq!(t["periods"], json!(["2026-05", "2026-04"]));
    for m in [
        "stage_weighted",
        "cycle_length",
        "rep_commit",
        "best_case",
        "historical",
    ] {
        let rows = t["methods"][m].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{m}");
        assert_eq!(rows[0]["period"], "2026-05", "{m}");
        assert_eq!(rows[1]["period"], "2026-04", "{m}");
        // April: nothing won, accuracy null.
        assert_eq!(rows[1]["actual"], json!(0.0), "{m}");
        assert_eq!(rows[1]["accuracy"], Value::Null, "{m}");
    }
    assert_eq!(t["best_method"], "rep_commit");
}

#[test]
fn an_explicit_range_has_an_empty_track_record() {
    let dir = setup(&tie_config(""), &tie_books());
    let got = common::run_report(dir.path(), "tie", "2026-05-01..2026-05-31", "2026-06-01");
    assert_eq!(got["period"]["label"], "2026-05-01..2026-05-31");
    let t = &got["forecast_track_record"];
    assert_eq!(t["periods"], json!([]));
    assert_eq!(t["best_method"], Value::Null);
    for m in [
        "stage_weighted",
        "cycle_length",
        "rep_commit",
        "best_case",
        "historical",
    ] {
        if let Some(rows) = t["methods"].get(m) {
            assert_eq!(rows, &json!([]), "{m}");
        }
        if let Some(mean) = t["mean_accuracy"].get(m) {
            assert_eq!(mean, &Value::Null, "{m}");
        }
    }
    // The range's own figures are still there: won in May 10,000.
    assert_eq!(got["kpis"]["won_revenue"], json!(10000.0));
}
