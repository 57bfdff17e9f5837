//! Follow-up discipline, revenue by type and goals (METRICS.md "Follow-up
//! discipline", "Goals", the KPI rows `won_revenue_by_type` ..
//! `open_under_target` and the per-rep keys), on a small snapshot written
//! here, worked out by hand, through the real binary and a real state store.
//!
//! The data set (Asia/Seoul, UTC+9 without daylight saving; every timestamp
//! is written with its +09:00 offset, so the local date is the date shown).
//! Report: July 2026, as_of 2026-08-01; the forecast target is August.
//! `[activities] follow_up_target = 3`.
//!
//! | deal | owner | stage | amount | type | created | close | touches at as_of |
//! | --- | --- | --- | --- | --- | --- | --- | --- |
//! | d1 | r1 | won | 15,000 | new_business | 06-01 | 07-10 | 3 (a1, a2, a3) |
//! | d2 | r1 | won | 20,000 | upsell | 06-15 | 07-20 | 1 (a7) |
//! | d3 | r2 | won | 5,000 | cross_sell | 07-01 | 07-25 | 4 (a9..a12) |
//! | d4 | r2 | won | 3,000 | renewal | 07-02 | 07-28 | 0 (no links) |
//! | d5 | r1 | won | 2,000 | untyped | 07-03 | 07-30 | 1 (a13) |
//! | d6 | r1 | lost | 4,000 | new_business | 06-01 | 07-15 | 2 (a14, a15) |
//! | d7 | r2 | lost | 6,000 | untyped | 06-10 | 07-18 | 3 (a16..a18) |
//! | d8 | r2 | lost | 1,000 | upsell | 06-20 | 07-22 | 0 (no links) |
//! | d9 | r1 | proposal 0.5 | 8,000 | - | 07-05 | 08-20 | 1 (a19; a20, a21 after as_of) |
//! | d10 | r2 | discovery 0.2 | 12,000 | - | 07-06 | 08-10 | 3 (a22..a24) |
//! | d11 | r2 | discovery 0.2 | 500 | - | 07-07 | 09-15 | 0 (not in August) |
//! | d12 | r1 | discovery 0.2 | 700 | - | 07-08 | 08-25 | 0 (no links) |
//! | d13 | r1 | won | 10,000 | renewal | 05-01 | 06-10 | June |
//! | d14 | r2 | won | 6,000 | upsell | 05-20 | 06-20 | June |
//! | d15 | r2 | lost | 2,000 | new_business | 05-05 | 06-25 | 1 (a26, June) |
//! | d16 | r1 | lost | 1,000 | untyped | 05-10 | 06-28 | 0 |
//!
//! d1's activities: a1 call 07-01, a2 email 07-05, a3 meeting (completed)
//! at 23:30 on the close date 07-10 (counts), a4 call at 00:30 on 07-11,
//! the day after the close date (does not count; in UTC it is still 07-10),
//! a5 meeting canceled 07-09 (does not count), a6 task 07-08 (not a selling
//! kind). d2: a7 call, a8 meeting no_show (does not count). d9: a20 at
//! 00:30 on as_of (in UTC still July 31) and a21 on 08-05 are after as_of.
//! a25 (call, 15 min) and a27 (email) link deals "ghost-1" and "ghost-2"
//! that are not in the snapshot: kept for every other figure, one
//! data-quality note.

mod common;
use common::salesops;

use predicates::str::contains;
use serde_json::{json, Value};
use std::path::Path;

const CONFIG_HEAD: &str = r#"
timezone = "Asia/Seoul"
currency = "USD"
default_role = "junior"

[source]
kind = "file"
path = "crm.json"

[roles.junior]
monthly_quota = 10000

[roles.senior]
monthly_quota = 25000

[[reps]]
email = "kim@example.com"
role = "senior"

[[reports]]
name = "fu"
period = "previous_month"
"#;

const FOLLOW_UP_3: &str = "\n[activities]\nfollow_up_target = 3\n";

const GOALS: &str = r#"
[[goals]]
metric = "win_rate"
change = 0.1
label = "Close rate +10 %"

[[goals]]
metric = "expansion_share"
change_by = 0.05

[[goals]]
metric = "won_revenue"
target = 50000
label = "Won revenue 50k"

[[goals]]
metric = "sales_cycle_days_mean"
change = -0.1
baseline = "2026-Q2"
label = "Shorter cycle"

[[goals]]
metric = "lost_before_target_share"
target = 0.5

[[goals]]
metric = "avg_won_deal_size"
change = 0.1
baseline = "2026-05"

[[goals]]
metric = "touches_mean_won"
target = 2
baseline = "2026-05"
"#;

fn deal(
    id: &str,
    owner: &str,
    stage: &str,
    amount: f64,
    ty: Option<&str>,
    created: &str,
    close: &str,
) -> Value {
    let mut d = json!({
        "id": id, "name": format!("deal {id}"), "owner": owner, "amount": amount,
        "stage": stage, "created_at": format!("{created}T10:00:00+09:00"),
        "close_date": close
    });
    if let Some(t) = ty {
        d["type"] = json!(t);
    }
    d
}

fn act(
    id: &str,
    owner: &str,
    kind: &str,
    at: &str,
    minutes: u32,
    outcome: Option<&str>,
    deal_id: Option<&str>,
) -> Value {
    let mut a = json!({
        "id": id, "owner": owner, "kind": kind, "at": at, "duration_minutes": minutes
    });
    if let Some(o) = outcome {
        a["outcome"] = json!(o);
    }
    if let Some(d) = deal_id {
        a["deal_id"] = json!(d);
    }
    a
}

fn snapshot() -> Value {
    let nb = Some("new_business");
    let at = |d: &str| format!("2026-{d}:00+09:00");
    json!({
        "currency": "USD",
        "reps": [
            {"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2025-01-01"},
            {"id": "r2", "name": "Lee", "email": "lee@example.com", "start_date": "2025-01-01"}
        ],
        "stages": [
            {"id": "discovery", "label": "Discovery", "probability": 0.2, "order": 1, "closed": false, "won": false},
            {"id": "proposal", "label": "Proposal", "probability": 0.5, "order": 2, "closed": false, "won": false},
            {"id": "won", "label": "Won", "probability": 1.0, "order": 3, "closed": true, "won": true},
            {"id": "lost", "label": "Lost", "probability": 0.0, "order": 4, "closed": true, "won": false}
        ],
        "deals": [
            deal("d1", "r1", "won", 15000.0, nb, "2026-06-01", "2026-07-10"),
            deal("d2", "r1", "won", 20000.0, Some("upsell"), "2026-06-15", "2026-07-20"),
            deal("d3", "r2", "won", 5000.0, Some("cross_sell"), "2026-07-01", "2026-07-25"),
            deal("d4", "r2", "won", 3000.0, Some("renewal"), "2026-07-02", "2026-07-28"),
            deal("d5", "r1", "won", 2000.0, None, "2026-07-03", "2026-07-30"),
            deal("d6", "r1", "lost", 4000.0, nb, "2026-06-01", "2026-07-15"),
            deal("d7", "r2", "lost", 6000.0, None, "2026-06-10", "2026-07-18"),
            deal("d8", "r2", "lost", 1000.0, Some("upsell"), "2026-06-20", "2026-07-22"),
            deal("d9", "r1", "proposal", 8000.0, None, "2026-07-05", "2026-08-20"),
            deal("d10", "r2", "discovery", 12000.0, None, "2026-07-06", "2026-08-10"),
            deal("d11", "r2", "discovery", 500.0, None, "2026-07-07", "2026-09-15"),
            deal("d12", "r1", "discovery", 700.0, None, "2026-07-08", "2026-08-25"),
            deal("d13", "r1", "won", 10000.0, Some("renewal"), "2026-05-01", "2026-06-10"),
            deal("d14", "r2", "won", 6000.0, Some("upsell"), "2026-05-20", "2026-06-20"),
            deal("d15", "r2", "lost", 2000.0, nb, "2026-05-05", "2026-06-25"),
            deal("d16", "r1", "lost", 1000.0, None, "2026-05-10", "2026-06-28")
        ],
        "activities": [
            act("a1", "r1", "call", &at("07-01T10:00"), 10, None, Some("d1")),
            act("a2", "r1", "email", &at("07-05T10:00"), 10, None, Some("d1")),
            act("a3", "r1", "meeting", &at("07-10T23:30"), 10, Some("completed"), Some("d1")),
            act("a4", "r1", "call", &at("07-11T00:30"), 10, None, Some("d1")),
            act("a5", "r1", "meeting", &at("07-09T10:00"), 0, Some("canceled"), Some("d1")),
            act("a6", "r1", "task", &at("07-08T10:00"), 30, None, Some("d1")),
            act("a7", "r1", "call", &at("07-15T10:00"), 10, None, Some("d2")),
            act("a8", "r1", "meeting", &at("07-16T10:00"), 0, Some("no_show"), Some("d2")),
            act("a9", "r2", "social", &at("07-02T10:00"), 10, None, Some("d3")),
            act("a10", "r2", "meeting", &at("07-03T10:00"), 10, Some("scheduled"), Some("d3")),
            act("a11", "r2", "email", &at("07-04T10:00"), 10, None, Some("d3")),
            act("a12", "r2", "call", &at("07-05T10:00"), 10, None, Some("d3")),
            act("a13", "r1", "call", &at("07-29T10:00"), 10, None, Some("d5")),
            act("a14", "r1", "call", &at("07-01T11:00"), 10, None, Some("d6")),
            act("a15", "r1", "email", &at("07-02T11:00"), 10, None, Some("d6")),
            act("a16", "r2", "call", &at("07-01T12:00"), 10, None, Some("d7")),
            act("a17", "r2", "call", &at("07-02T12:00"), 10, None, Some("d7")),
            act("a18", "r2", "call", &at("07-03T12:00"), 10, None, Some("d7")),
            act("a19", "r1", "call", &at("07-20T10:00"), 10, None, Some("d9")),
            act("a20", "r1", "call", &at("08-01T00:30"), 10, None, Some("d9")),
            act("a21", "r1", "email", &at("08-05T10:00"), 10, None, Some("d9")),
            act("a22", "r2", "call", &at("07-06T13:00"), 10, None, Some("d10")),
            act("a23", "r2", "call", &at("07-07T13:00"), 10, None, Some("d10")),
            act("a24", "r2", "call", &at("07-08T13:00"), 10, None, Some("d10")),
            act("a25", "r1", "call", &at("07-06T14:00"), 15, None, Some("ghost-1")),
            act("a26", "r2", "call", &at("06-20T10:00"), 10, None, Some("d15")),
            act("a27", "r2", "email", &at("07-07T14:00"), 10, None, Some("ghost-2"))
        ]
    })
}

fn setup(config_tail: &str, snap: &Value) -> tempfile::TempDir {
    common::workdir(&format!("{CONFIG_HEAD}{config_tail}"), snap)
}

fn july(dir: &Path) -> Value {
    common::run_report(dir, "fu", "2026-07", "2026-08-01")
}

#[test]
fn follow_up_and_revenue_by_type_by_hand() {
    let dir = setup(FOLLOW_UP_3, &snapshot());
    let got = july(dir.path());
    let want = json!({
        "kpis": {
            // Won in July: d1 15,000 + d2 20,000 + d3 5,000 + d4 3,000 + d5 2,000.
            "won_revenue": 45000.0, "deals_won": 5, "deals_lost": 3, "win_rate": 0.625,
            "won_revenue_by_type": {
                "new_business": 15000.0, "upsell": 20000.0, "cross_sell": 5000.0,
                "renewal": 3000.0, "untyped": 2000.0
            },
            // (20,000 upsell + 5,000 cross_sell) / 45,000
            "expansion_share": 25000.0 / 45000.0,
            // Touches of the won deals: d1 3 + d2 1 + d3 4 + d4 0 + d5 1 = 9 over 5.
            "touches_mean_won": 1.8,
            // Lost: d6 2 + d7 3 + d8 0 = 5 over 3.
            "touches_mean_lost": 5.0 / 3.0,
            // Fewer than 3 touches: d6 (2) and d8 (0) of 3 lost.
            "lost_before_target_share": 2.0 / 3.0,
            // Open at as_of closing in August: d9 (1 touch), d10 (3), d12 (0);
            // d11 closes in September. Under 3: d9 and d12.
            "open_under_target": 2,
            // The ghost-linked activities count for everything else.
            // Selling minutes in July before as_of: 14 calls (13 × 10 + a25 15) +
            // 4 emails 40 + social 10 + meetings a3 10, a10 10, a5 0, a8 0 = 215;
            // all: + task a6 30 = 245.
            "selling_time_share": 215.0 / 245.0,
            // Booked meetings: a3 completed, a10 scheduled; prospecting: 14 calls
            // (incl. a25) + 4 emails (incl. a27) + 1 social = 19.
            "meetings_per_prospecting_activity": 2.0 / 19.0,
            // Cycles: d1 06-01 → 07-10 39, d2 06-15 → 07-20 35, d3 24, d4 26, d5 27.
            "sales_cycle_days_mean": 151.0 / 5.0
        },
        "reps": [
            // Kim: won d1 + d2 + d5; expansion d2; lost under target d6;
            // open under target d9 and d12.
            {"id": "r1", "won_revenue": 37000.0, "expansion_revenue": 20000.0,
             "lost_before_target": 1, "open_under_target": 2},
            // Lee: won d3 + d4; expansion d3; lost under target d8 (d7 has 3);
            // d10 has 3 touches, d11 closes in September.
            {"id": "r2", "won_revenue": 8000.0, "expansion_revenue": 5000.0,
             "lost_before_target": 1, "open_under_target": 0}
        ],
        "forecasts": {"target": "2026-08"},
        // No [[goals]]: an empty list.
        "goals": []
    });
    common::assert_matches(&want, &got);
    let notes: Vec<&str> = got["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let ghost: Vec<&&str> = notes
        .iter()
        .filter(|n| n.contains("ghost-1") || n.contains("ghost-2"))
        .collect();
    assert_eq!(
        ghost.len(),
        1,
        "one note for the unknown deal_ids: {notes:?}"
    );
    assert!(
        ghost[0].contains("ghost-1") && ghost[0].contains("ghost-2") && ghost[0].contains('2'),
        "the note names the ids and the number of activities (2): {notes:?}"
    );
}

#[test]
fn follow_up_target_defaults_to_five() {
    // No [activities]: target 5. Every lost deal (2, 3, 0 touches) is under
    // it: 3/3; open in August under 5: d9 (1), d10 (3), d12 (0).
    let dir = setup("", &snapshot());
    let got = july(dir.path());
    common::assert_matches(
        &json!({
            "kpis": {"touches_mean_won": 1.8, "touches_mean_lost": 5.0 / 3.0,
                     "lost_before_target_share": 1.0, "open_under_target": 3},
            "reps": [
                {"id": "r1", "lost_before_target": 1, "open_under_target": 2},
                {"id": "r2", "lost_before_target": 2, "open_under_target": 1}
            ]
        }),
        &got,
    );
}

#[test]
fn touches_follow_the_configured_selling_kinds() {
    // Selling kinds without email and with task: a2, a11, a15 (emails) are
    // no touches; a6 (task, d1) is one.
    // Won: d1 a1 + a3 + a6 = 3, d2 1, d3 a9 + a10 + a12 = 3, d4 0, d5 1 → 8/5.
    // Lost: d6 a14 = 1, d7 3, d8 0 → 4/3; under 3: d6, d8.
    // Open in August: d9 1, d10 3, d12 0 → 2 under 3.
    let kinds = "\n[activities]\nfollow_up_target = 3\nselling_kinds = [\"call\", \"meeting\", \"social\", \"task\"]\n";
    let dir = setup(kinds, &snapshot());
    let got = july(dir.path());
    common::assert_matches(
        &json!({"kpis": {"touches_mean_won": 1.6, "touches_mean_lost": 4.0 / 3.0,
                         "lost_before_target_share": 2.0 / 3.0, "open_under_target": 2}}),
        &got,
    );
}

#[test]
fn no_deal_won_or_lost_gives_nulls() {
    // August, as of September 1 (nothing closes in August in this data set):
    // no won or lost deal, so the means and shares are null, never 0.
    let dir = setup(FOLLOW_UP_3, &snapshot());
    let got = common::run_report(dir.path(), "fu", "2026-08", "2026-09-01");
    common::assert_matches(
        &json!({"kpis": {
            "won_revenue": 0.0,
            "won_revenue_by_type": {"new_business": 0.0, "upsell": 0.0, "cross_sell": 0.0,
                                    "renewal": 0.0, "untyped": 0.0},
            "expansion_share": null, "touches_mean_won": null, "touches_mean_lost": null,
            "lost_before_target_share": null
        }}),
        &got,
    );
}

#[test]
fn one_goal_of_each_form_by_hand() {
    let dir = setup(&format!("{FOLLOW_UP_3}{GOALS}"), &snapshot());
    let got = july(dir.path());
    let want = json!({"goals": [
        // June (the previous period), as_of = min(July 1, Aug 1) = July 1:
        // won d13, d14, lost d15, d16 → 0.5. Target 0.5 × 1.1 = 0.55.
        // July: 5 won, 3 lost → 0.625. Progress (0.625 − 0.5) / 0.05 = 2.5.
        {"metric": "win_rate", "label": "Close rate +10 %", "baseline_period": "2026-06",
         "baseline": 0.5, "target": 0.55, "actual": 0.625, "progress": 2.5, "met": true},
        // June: 6,000 upsell / 16,000 = 0.375; target 0.425; July 25,000/45,000 = 5/9.
        // Progress (5/9 − 3/8) / 0.05 = (13/72) × 20 = 65/18. No label: null.
        {"metric": "expansion_share", "label": null, "baseline_period": "2026-06",
         "baseline": 0.375, "target": 0.425, "actual": 25.0 / 45.0, "progress": 65.0 / 18.0,
         "met": true},
        // Money: June won 16,000; target 50,000; July 45,000.
        // Progress (45,000 − 16,000) / (50,000 − 16,000) = 29/34.
        {"metric": "won_revenue", "label": "Won revenue 50k", "baseline_period": "2026-06",
         "baseline": 16000.0, "target": 50000.0, "actual": 45000.0, "progress": 29.0 / 34.0,
         "met": false},
        // Explicit quarter baseline, as_of = min(Q2's end July 1, Aug 1): won in
        // Q2 d13 (05-01 → 06-10, 40 days) and d14 (05-20 → 06-20, 31) → 35.5;
        // target 35.5 × 0.9 = 31.95. July 151/5 = 30.2 ≤ 31.95: met (lower is
        // better). Progress (30.2 − 35.5) / (31.95 − 35.5) = 5.3/3.55 = 106/71.
        {"metric": "sales_cycle_days_mean", "label": "Shorter cycle", "baseline_period": "2026-Q2",
         "baseline": 35.5, "target": 31.95, "actual": 30.2, "progress": 106.0 / 71.0,
         "met": true},
        // Lower is better, missed: June lost d15 (1 touch: a26) and d16 (0), both
        // under 3 → 1.0. July 2/3 > 0.5: not met. Progress (2/3 − 1) / (0.5 − 1) = 2/3.
        {"metric": "lost_before_target_share", "label": null, "baseline_period": "2026-06",
         "baseline": 1.0, "target": 0.5, "actual": 2.0 / 3.0, "progress": 2.0 / 3.0,
         "met": false},
        // Nothing was won in May: baseline null, so a change goal has no target;
        // progress and met null. July's actual 45,000 / 5 = 9,000.
        {"metric": "avg_won_deal_size", "label": null, "baseline_period": "2026-05",
         "baseline": null, "target": null, "actual": 9000.0, "progress": null, "met": null},
        // A target goal keeps its target when the baseline is null: 1.8 < 2,
        // not met; progress null.
        {"metric": "touches_mean_won", "label": null, "baseline_period": "2026-05",
         "baseline": null, "target": 2.0, "actual": 1.8, "progress": null, "met": false}
    ]});
    common::assert_matches(&want, &got);
}

#[test]
fn touches_stop_at_the_close_date_the_deal_had_at_as_of() {
    // d1 with history: created in proposal closing 07-31, won on 07-10 (close
    // 07-10), and on 08-03, after as_of, its close date corrected to 07-12.
    // At as_of its close date is 07-10, so a4 (07-11 00:30) is still no
    // touch: touches of the won deals stay 9 over 5. Read with today's close
    // date it would count (10/5 = 2.0).
    let mut snap = snapshot();
    let d1 = &mut snap["deals"][0];
    d1["close_date"] = json!("2026-07-12");
    d1["history"] = json!([
        {"at": "2026-06-01T10:00:00+09:00", "stage": "proposal", "amount": 15000,
         "close_date": "2026-07-31"},
        {"at": "2026-07-10T12:00:00+09:00", "stage": "won", "close_date": "2026-07-10"},
        {"at": "2026-08-03T10:00:00+09:00", "close_date": "2026-07-12"}
    ]);
    let dir = setup(FOLLOW_UP_3, &snap);
    let got = july(dir.path());
    common::assert_matches(
        &json!({"kpis": {"touches_mean_won": 1.8, "won_revenue": 45000.0,
                         "sales_cycle_days_mean": 151.0 / 5.0}}),
        &got,
    );
}

#[test]
fn a_money_goal_is_written_in_cents_and_judged_on_exact_values() {
    // Three deals won in July (1,000, 1,000 and 1,001: mean 1,000.333..),
    // one in June (900). Goal: avg_won_deal_size target 1,000.334.
    // Written: baseline 900.00, target 1,000.33, actual 1,000.33; but exactly
    // 3,001/3 < 1,000.334: not met, and progress (3,001/3 − 900) /
    // (1,000.334 − 900) = (301/3) / 100.334 = 301 / 301.002.
    let snap = json!({
        "currency": "USD",
        "reps": [{"id": "r1", "name": "Kim", "email": "kim@example.com", "start_date": "2025-01-01"}],
        "stages": snapshot()["stages"].clone(),
        "deals": [
            deal("m1", "r1", "won", 1000.0, None, "2026-07-01", "2026-07-05"),
            deal("m2", "r1", "won", 1000.0, None, "2026-07-01", "2026-07-06"),
            deal("m3", "r1", "won", 1001.0, None, "2026-07-01", "2026-07-07"),
            deal("m4", "r1", "won", 900.0, None, "2026-06-01", "2026-06-05")
        ]
    });
    let dir = setup(
        "\n[[goals]]\nmetric = \"avg_won_deal_size\"\ntarget = 1000.334\n",
        &snap,
    );
    let got = july(dir.path());
    common::assert_matches(
        &json!({"goals": [{"metric": "avg_won_deal_size", "baseline_period": "2026-06",
            "baseline": 900.0, "target": 1000.33, "actual": 1000.33,
            "progress": 301.0 / 301.002, "met": false}]}),
        &got,
    );
}

#[test]
fn goal_baselines_are_read_at_their_own_as_of() {
    // dx is won on 08-15: at the report's as_of (Aug 1) it is still open.
    let mut snap = snapshot();
    snap["deals"].as_array_mut().unwrap().push(deal(
        "dx",
        "r2",
        "won",
        9999.0,
        None,
        "2026-07-20",
        "2026-08-15",
    ));
    let goals = concat!(
        // Baseline Q3 as of min(Oct 1, Aug 1) = Aug 1: only July's wins
        // (45,000); dx (08-15) is not won yet. Target 49,500; actual July
        // 45,000; progress 0.
        "\n[[goals]]\nmetric = \"won_revenue\"\nchange = 0.1\nbaseline = \"2026-Q3\"\n",
        // Baseline June as of July 1: open then d1 15,000 and d2 20,000 (won
        // since, weight 1), d6, d7, d8 (lost since, weight 0); d3 was created
        // on July 1. 35,000, target 38,500. Actual at Aug 1: d9 8,000 × 0.5 +
        // d10 12,000 × 0.2 + d11 500 × 0.2 + d12 700 × 0.2 + dx 9,999 (won
        // since: weight 1) = 16,639. Progress (16,639 − 35,000) / 3,500.
        "\n[[goals]]\nmetric = \"pipeline_weighted\"\nchange = 0.1\n",
        // A range baseline, written as given.
        "\n[[goals]]\nmetric = \"win_rate\"\ntarget = 0.6\nbaseline = \"2026-06-01..2026-06-30\"\n",
        // No leads at all: baseline and actual null; met and progress null.
        "\n[[goals]]\nmetric = \"lead_response_hours_median\"\ntarget = 1\n",
    );
    let dir = setup(&format!("{FOLLOW_UP_3}{goals}"), &snap);
    let got = july(dir.path());
    common::assert_matches(
        &json!({"goals": [
            {"metric": "won_revenue", "baseline_period": "2026-Q3", "baseline": 45000.0,
             "target": 49500.0, "actual": 45000.0, "progress": 0.0, "met": false},
            {"metric": "pipeline_weighted", "baseline_period": "2026-06", "baseline": 35000.0,
             "target": 38500.0, "actual": 16639.0, "progress": (16639.0 - 35000.0) / 3500.0,
             "met": false},
            // June 2 won, 2 lost: 0.5; July 5 of 8.
            {"metric": "win_rate", "baseline_period": "2026-06-01..2026-06-30", "baseline": 0.5,
             "target": 0.6, "actual": 0.625, "progress": 1.25, "met": true},
            {"metric": "lead_response_hours_median", "baseline_period": "2026-06",
             "baseline": null, "target": 1.0, "actual": null, "progress": null, "met": null}
        ]}),
        &got,
    );
}

#[test]
fn deal_type_tolerates_letter_case_spaces_and_hyphens() {
    // Issue 9: "the same case/space tolerance as forecast categories".
    let mut snap = snapshot();
    snap["deals"][1]["type"] = json!("Upsell");
    snap["deals"][2]["type"] = json!(" Cross-Sell ");
    snap["deals"][3]["type"] = json!("RENEWAL");
    let dir = setup(FOLLOW_UP_3, &snap);
    let got = july(dir.path());
    common::assert_matches(
        &json!({"kpis": {"won_revenue_by_type": {
            "new_business": 15000.0, "upsell": 20000.0, "cross_sell": 5000.0,
            "renewal": 3000.0, "untyped": 2000.0
        }}}),
        &got,
    );
}

#[test]
fn an_unknown_deal_type_is_a_broken_record_naming_the_allowed_values() {
    let mut snap = snapshot();
    snap["deals"][4]["type"] = json!("expansion");
    let dir = setup(FOLLOW_UP_3, &snap);
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-07", "--as-of", "2026-08-01"])
        .assert()
        .failure()
        .stderr(contains("d5"))
        .stderr(contains("type"))
        .stderr(contains("expansion"))
        .stderr(contains("new_business"))
        .stderr(contains("cross_sell"))
        .stderr(contains("renewal"));
    assert!(!dir.path().join("reports").exists(), "nothing written");
}

fn check_fails(config_tail: &str) -> String {
    let dir = setup(config_tail, &snapshot());
    let out = salesops(dir.path())
        .args(["check", "--config", "salesops.toml"])
        .assert()
        .failure()
        .get_output()
        .clone();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn config_unknown_goal_metric_lists_the_valid_ones() {
    let err = check_fails("\n[[goals]]\nmetric = \"close_rate\"\nchange = 0.05\n");
    assert!(
        err.contains("goals[0]") && err.contains("close_rate"),
        "{err}"
    );
    for m in [
        "won_revenue",
        "win_rate",
        "avg_won_deal_size",
        "pipeline_weighted",
        "pipeline_coverage",
        "quota_attainment_rate",
        "sales_cycle_days_mean",
        "lead_response_hours_median",
        "lead_response_within_sla",
        "selling_time_share",
        "meetings_per_prospecting_activity",
        "expansion_share",
        "mql_to_sql_rate",
        "touches_mean_won",
        "lost_before_target_share",
    ] {
        assert!(err.contains(m), "valid metric {m} listed: {err}");
    }
}

#[test]
fn config_goal_with_none_or_two_rules_names_it_by_index_and_metric() {
    let err = check_fails(concat!(
        "\n[[goals]]\nmetric = \"win_rate\"\nchange = 0.05\n",
        "\n[[goals]]\nmetric = \"expansion_share\"\n",
        "\n[[goals]]\nmetric = \"won_revenue\"\nchange_by = 1000\ntarget = 50000\n",
    ));
    assert!(err.contains("2 problem(s)"), "{err}");
    let line = |needle: &str| {
        err.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle}: {err}"))
            .to_string()
    };
    let none = line("goals[1]");
    assert!(none.contains("expansion_share"), "{none}");
    let two = line("goals[2]");
    assert!(
        two.contains("won_revenue") && two.contains("change_by") && two.contains("target"),
        "{two}"
    );
    assert!(
        !err.contains("goals[0]"),
        "the good goal is not blamed: {err}"
    );
}

#[test]
fn config_bad_baseline_label_and_follow_up_target_zero_are_all_listed() {
    let err = check_fails(concat!(
        "\n[activities]\nfollow_up_target = 0\n",
        "\n[[goals]]\nmetric = \"win_rate\"\nchange = 0.05\nbaseline = \"2026-Q5\"\n",
        "\n[[goals]]\nmetric = \"win_rate\"\nchange = 0.05\nbaseline = \"last quarter\"\n",
    ));
    assert!(err.contains("3 problem(s)"), "{err}");
    assert!(err.contains("activities.follow_up_target"), "{err}");
    for (i, label) in [(0, "2026-Q5"), (1, "last quarter")] {
        let l = err
            .lines()
            .find(|l| l.contains(&format!("goals[{i}]")))
            .unwrap_or_else(|| panic!("goals[{i}]: {err}"));
        assert!(
            l.contains("baseline") && l.contains(label) && l.contains("win_rate"),
            "{l}"
        );
    }
}

#[test]
fn config_fractional_follow_up_target_is_an_error() {
    // Issue 9: `[activities] follow_up_target` (integer ≥ 1, default 5),
    // validated like every key. 2.5 touches is not a number of touches.
    let err = check_fails("\n[activities]\nfollow_up_target = 2.5\n");
    assert!(err.contains("activities.follow_up_target"), "{err}");
    assert!(err.contains("expected a whole number, got 2.5"), "{err}");
    // Every whole-number key reads the same way.
    let err = check_fails("\n[forecast]\ntrack_record_periods = 2.7\n");
    assert!(err.contains("forecast.track_record_periods"), "{err}");
}

#[test]
fn config_negative_follow_up_target_and_run_writes_nothing() {
    let dir = setup("\n[activities]\nfollow_up_target = -2\n", &snapshot());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-07", "--as-of", "2026-08-01"])
        .assert()
        .code(2)
        .stderr(contains("activities.follow_up_target"));
    assert!(!dir.path().join("reports").exists());
    assert!(!dir.path().join("state").exists());
}
