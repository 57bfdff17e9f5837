//! Teams (METRICS.md "Teams"): membership, the organisation's `teams` list,
//! each team's own report over its sub-snapshot, forecasts stored and judged
//! per team, `run --team`, and the config error for a rep in two teams. A
//! small snapshot written here (UTC), worked out by hand, through the real
//! binary and a real SQLite state store.
//!
//! Config teams, in order:
//! - "North" (manager), members `KIM@Example.COM` (r1's email in another
//!   letter case; r1's CRM team says South: members win), `r2` (a rep id)
//!   and `ghost@example.com` (no such rep: a data-quality note);
//! - "South" (manager), no members: r3 (CRM team " SOUTH ") and r4
//!   ("south");
//! - "Interns" (no manager), members `r6`, who starts on 2026-09-01 (no
//!   quota in June or July).
//!
//! Then the CRM-only team "West Coast" (r5 "West Coast", r7 "west coast ")
//! and the reps in no team (r8). Roles: Kim senior 20,000 a month, everyone
//! else junior 10,000.
//!
//! June (as_of 2026-07-01, forecast target July), from `crm-june.json`:
//!
//! | deal | owner (team) | status | amount | close | category |
//! | --- | --- | --- | --- | --- | --- |
//! | t1 | r1 (North) | won | 20,000 | 06-10 | |
//! | t2 | r2 (North) | won | 5,000 | 06-15 | |
//! | t3 | r2 (North) | lost | 1,000 | 06-20 | |
//! | t4 | r3 (South) | won | 12,000 | 06-05 | |
//! | t5 | r4 (South) | proposal 0.5 | 8,000 | 07-20 | commit |
//! | t6 | r5 (West Coast) | won | 3,000 | 06-25 | |
//! | t7 | r6 (Interns) | won | 4,000 | 06-12 | |
//! | t8 | r8 (none) | won | 2,000 | 06-18 | |
//! | t9 | r1 (North) | proposal 0.5 | 10,000 | 07-15 | commit |
//! | t10 | r3 (South) | discovery 0.2 | 5,000 | 07-25 | best_case |
//! | t11 | r7 (West Coast) | discovery 0.2 | 2,500 | 08-10 | pipeline |
//!
//! Leads created in June: l1 (r1) answered in 1 h, l2 (no owner) never
//! answered, l3 (r8) answered in 2 h.
//!
//! July's books (`crm-july.json`, as_of 2026-08-01): t9 won 07-15, t5 lost
//! 07-20, t10 won 07-25, and t12 (r5, West Coast) created 07-02 and won
//! 1,500 on 07-10.

mod common;
use common::salesops;

use predicates::str::contains;
use serde_json::{json, Value};
use std::fs;
use std::path::{Path, PathBuf};

const TEAMS: &str = r#"
[[teams]]
name = "North"
manager = "north.lead@example.com"
members = ["KIM@Example.COM", "r2", "ghost@example.com"]

[[teams]]
name = "South"
manager = "south.lead@example.com"

[[teams]]
name = "Interns"
members = ["r6"]
"#;

fn config(teams: &str) -> String {
    format!(
        r#"
timezone = "UTC"
currency = "USD"
default_role = "junior"

[source]
kind = "file"
path = "crm.json"

[roles.junior]
monthly_quota = 10000

[roles.senior]
monthly_quota = 20000

[[reps]]
email = "kim@example.com"
role = "senior"
{teams}
[[reports]]
name = "org"
period = "previous_month"
to = ["ceo@example.com"]
fan_out = "teams"
team_cc = ["ops@example.com"]
"#
    )
}

fn rep(id: &str, name: &str, team: Option<&str>, start: &str) -> Value {
    let mut r = json!({"id": id, "name": name, "email": format!("{}@example.com", name.to_lowercase()),
                       "start_date": start});
    if let Some(t) = team {
        r["team"] = json!(t);
    }
    r
}

fn deal(id: &str, owner: &str, stage: &str, amount: f64, created: &str, close: &str) -> Value {
    json!({"id": id, "name": id, "owner": owner, "stage": stage, "amount": amount,
           "created_at": format!("2026-{created}T09:00:00Z"), "close_date": format!("2026-{close}")})
}

fn with_fc(mut d: Value, fc: &str) -> Value {
    d["forecast_category"] = json!(fc);
    d
}

fn june_books() -> Value {
    json!({
        "currency": "USD",
        "reps": [
            rep("r1", "Kim", Some("South"), "2024-01-01"),
            rep("r2", "Lee", None, "2024-01-01"),
            rep("r3", "Park", Some(" SOUTH "), "2024-01-01"),
            rep("r4", "Choi", Some("south"), "2024-01-01"),
            rep("r5", "Jung", Some("West Coast"), "2024-01-01"),
            rep("r6", "Yoon", None, "2026-09-01"),
            rep("r7", "Kang", Some("west coast "), "2024-01-01"),
            rep("r8", "Han", None, "2024-01-01")
        ],
        "stages": [
            {"id": "discovery", "label": "Discovery", "probability": 0.2, "order": 1, "closed": false, "won": false},
            {"id": "proposal", "label": "Proposal", "probability": 0.5, "order": 2, "closed": false, "won": false},
            {"id": "won", "label": "Won", "probability": 1.0, "order": 3, "closed": true, "won": true},
            {"id": "lost", "label": "Lost", "probability": 0.0, "order": 4, "closed": true, "won": false}
        ],
        "deals": [
            deal("t1", "r1", "won", 20000.0, "05-01", "06-10"),
            deal("t2", "r2", "won", 5000.0, "05-10", "06-15"),
            deal("t3", "r2", "lost", 1000.0, "05-10", "06-20"),
            deal("t4", "r3", "won", 12000.0, "05-01", "06-05"),
            with_fc(deal("t5", "r4", "proposal", 8000.0, "06-01", "07-20"), "commit"),
            deal("t6", "r5", "won", 3000.0, "06-01", "06-25"),
            deal("t7", "r6", "won", 4000.0, "06-01", "06-12"),
            deal("t8", "r8", "won", 2000.0, "06-01", "06-18"),
            with_fc(deal("t9", "r1", "proposal", 10000.0, "06-01", "07-15"), "commit"),
            with_fc(deal("t10", "r3", "discovery", 5000.0, "06-02", "07-25"), "best_case"),
            with_fc(deal("t11", "r7", "discovery", 2500.0, "06-03", "08-10"), "pipeline")
        ],
        "leads": [
            {"id": "l1", "owner": "r1", "created_at": "2026-06-03T09:00:00Z",
             "first_response_at": "2026-06-03T10:00:00Z"},
            {"id": "l2", "created_at": "2026-06-04T09:00:00Z"},
            {"id": "l3", "owner": "r8", "created_at": "2026-06-05T09:00:00Z",
             "first_response_at": "2026-06-05T11:00:00Z"}
        ]
    })
}

fn july_books() -> Value {
    let mut b = june_books();
    let deals = b["deals"].as_array_mut().unwrap();
    deals[4] = with_fc(
        deal("t5", "r4", "lost", 8000.0, "06-01", "07-20"),
        "omitted",
    );
    deals[8] = with_fc(deal("t9", "r1", "won", 10000.0, "06-01", "07-15"), "closed");
    deals[9] = with_fc(deal("t10", "r3", "won", 5000.0, "06-02", "07-25"), "closed");
    deals.push(deal("t12", "r5", "won", 1500.0, "07-02", "07-10"));
    b
}

fn setup(teams: &str, books: &Value) -> tempfile::TempDir {
    common::workdir(&config(teams), books)
}

fn team_json(dir: &Path, team: &str, period: &str) -> Value {
    let p = dir
        .join("reports/org/teams")
        .join(team)
        .join(period)
        .join("report.json");
    serde_json::from_slice(&fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

fn june(dir: &Path) -> Value {
    common::run_report(dir, "org", "2026-06", "2026-07-01")
}

#[test]
fn the_organisations_teams_list_by_hand() {
    let dir = setup(TEAMS, &june_books());
    let got = june(dir.path());
    let want = json!({
        "team": null,
        "kpis": {
            // 20,000 + 5,000 + 12,000 + 3,000 + 4,000 + 2,000; lost t3.
            "won_revenue": 46000.0, "deals_won": 6, "deals_lost": 1, "win_rate": 6.0 / 7.0,
            // l2 (no owner) counts for the organisation: unanswered.
            "leads_unanswered": 1, "lead_response_hours_median": 1.5,
            "lead_response_within_sla": 1.0 / 3.0
        },
        "teams": [
            // r1 (by email in another case) and r2 (by id). Won t1 + t2; quota
            // 20,000 + 10,000; Kim at quota, Lee not; won 2, lost 1; open t9
            // 10,000 × 0.5, closing in July over July's quota 30,000.
            {"name": "North", "manager": "north.lead@example.com", "reps": 2,
             "won_revenue": 25000.0, "team_quota": 30000.0, "team_attainment": 25000.0 / 30000.0,
             "quota_attainment_rate": 0.5, "win_rate": 2.0 / 3.0, "pipeline_weighted": 5000.0,
             "pipeline_coverage": 10000.0 / 30000.0, "stage_weighted": 5000.0},
            // r3 " SOUTH " and r4 "south" (r1 says South but is North's member).
            // Won t4 12,000 of 20,000; open t5 8,000 × 0.5 + t10 5,000 × 0.2,
            // both closing in July: 13,000 / 20,000.
            {"name": "South", "manager": "south.lead@example.com", "reps": 2,
             "won_revenue": 12000.0, "team_quota": 20000.0, "team_attainment": 0.6,
             "quota_attainment_rate": 0.5, "win_rate": 1.0, "pipeline_weighted": 5000.0,
             "pipeline_coverage": 0.65, "stage_weighted": 5000.0},
            // r6 starts in September: no quota, so no team quota, attainment,
            // attainment rate or coverage. Won t7 4,000.
            {"name": "Interns", "manager": null, "reps": 1,
             "won_revenue": 4000.0, "team_quota": null, "team_attainment": null,
             "quota_attainment_rate": null, "win_rate": 1.0, "pipeline_weighted": 0.0,
             "pipeline_coverage": null, "stage_weighted": 0.0},
            // From the CRM only, named as first spelled (r5). Won t6 3,000 of
            // 20,000; t11 2,500 × 0.2 closes in August: July coverage 0.
            {"name": "West Coast", "manager": null, "reps": 2,
             "won_revenue": 3000.0, "team_quota": 20000.0, "team_attainment": 0.15,
             "quota_attainment_rate": 0.0, "win_rate": 1.0, "pipeline_weighted": 500.0,
             "pipeline_coverage": 0.0, "stage_weighted": 0.0},
            // r8 in no team: won t8 2,000 of 10,000.
            {"name": null, "manager": null, "reps": 1,
             "won_revenue": 2000.0, "team_quota": 10000.0, "team_attainment": 0.2,
             "quota_attainment_rate": 0.0, "win_rate": 1.0, "pipeline_weighted": 0.0,
             "pipeline_coverage": 0.0, "stage_weighted": 0.0}
        ]
    });
    common::assert_matches(&want, &got);
    let notes: Vec<&str> = got["data_quality"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("ghost@example.com")),
        "the member that names no rep is noted: {notes:?}"
    );
}

#[test]
fn a_teams_report_is_the_whole_report_over_its_members() {
    let dir = setup(TEAMS, &june_books());
    june(dir.path());
    let north = team_json(dir.path(), "North", "2026-06");
    let want = json!({
        "team": "North",
        "kpis": {
            "won_revenue": 25000.0, "deals_won": 2, "deals_lost": 1, "win_rate": 2.0 / 3.0,
            "pipeline_total": 10000.0, "pipeline_weighted": 5000.0,
            "pipeline_coverage": 10000.0 / 30000.0, "quota_attainment_rate": 0.5,
            // Only l1 (r1's): 1 h, within the 60-minute SLA. l2 has no owner
            // and belongs to no team.
            "leads_unanswered": 0, "lead_response_hours_median": 1.0,
            "lead_response_within_sla": 1.0
        },
        "reps": [
            {"id": "r1", "won_revenue": 20000.0, "quota": 20000.0, "attainment": 1.0},
            {"id": "r2", "won_revenue": 5000.0, "quota": 10000.0, "attainment": 0.5}
        ],
        "forecasts": {
            "target": "2026-07",
            // t9 10,000 × 0.5; commit t9.
            "stage_weighted": 5000.0, "rep_commit": 10000.0, "best_case": 10000.0,
            // North's April-June wins 25,000 / 3 × 1.05
            "historical": 8750.0
        }
    });
    common::assert_matches(&want, &north);
    assert!(
        north.get("teams").is_none(),
        "a team's report has no teams list"
    );

    let south = team_json(dir.path(), "South", "2026-06");
    common::assert_matches(
        &json!({
            "team": "South",
            "kpis": {"won_revenue": 12000.0, "leads_unanswered": 0,
                     "lead_response_hours_median": null},
            "reps": [{"id": "r3"}, {"id": "r4"}],
            // t5 4,000 + t10 1,000; commit t5; + best case t10.
            "forecasts": {"target": "2026-07", "stage_weighted": 5000.0,
                          "rep_commit": 8000.0, "best_case": 13000.0}
        }),
        &south,
    );
    let west = team_json(dir.path(), "West Coast", "2026-06");
    common::assert_matches(
        &json!({"team": "West Coast", "reps": [{"id": "r5"}, {"id": "r7"}],
                "kpis": {"won_revenue": 3000.0}}),
        &west,
    );
    let interns = team_json(dir.path(), "Interns", "2026-06");
    common::assert_matches(
        &json!({"team": "Interns",
                "reps": [{"id": "r6", "quota": null, "attainment": null, "quadrant": null,
                          "commission": null}],
                "kpis": {"won_revenue": 4000.0, "quota_attainment_rate": null,
                         "pipeline_coverage": null}}),
        &interns,
    );
}

#[test]
fn two_teams_forecasts_are_stored_apart_and_judged_apart() {
    let dir = setup(TEAMS, &june_books());
    // Run 1 (June, as of July 1) stores July's forecasts for the
    // organisation and for each team under its own key.
    june(dir.path());
    // Run 2 on the same store with July's books.
    common::write_crm(dir.path(), &july_books());
    let org = common::run_report(dir.path(), "org", "2026-07", "2026-08-01");
    let acc = |f: f64, a: f64| {
        json!({"forecast": f, "actual": a, "accuracy": (1.0 - (a - f).abs() / a).max(0.0),
               "bias": (f - a) / a, "late": false, "reconstructed": false})
    };
    // Organisation: July won t9 10,000 + t10 5,000 + t12 1,500 = 16,500.
    // Stored: t9 5,000 + t5 4,000 + t10 1,000 = 10,000 (accuracy 20/33);
    // commit t9 + t5 = 18,000 (10/11); best case + t10 = 23,000 (20/33).
    common::assert_matches(
        &json!({"forecast_accuracy": {
            "stage_weighted": acc(10000.0, 16500.0),
            "rep_commit": acc(18000.0, 16500.0),
            "best_case": acc(23000.0, 16500.0)
        }}),
        &org,
    );
    assert!(
        (org["forecast_accuracy"]["stage_weighted"]["accuracy"]
            .as_f64()
            .unwrap()
            - 20.0 / 33.0)
            .abs()
            < 1e-9
    );
    // North: July won t9 10,000; its stored 5,000 → accuracy 0.5, bias −0.5;
    // commit 10,000 → 1.
    let north = team_json(dir.path(), "North", "2026-07");
    common::assert_matches(
        &json!({"team": "North", "forecast_accuracy": {
            "stage_weighted": {"forecast": 5000.0, "actual": 10000.0, "accuracy": 0.5,
                               "bias": -0.5, "late": false, "reconstructed": false},
            "rep_commit": {"forecast": 10000.0, "actual": 10000.0, "accuracy": 1.0,
                           "bias": 0.0, "late": false, "reconstructed": false}
        }}),
        &north,
    );
    // South: July won t10 5,000 (t5 lost); stored 5,000 → 1; commit 8,000 →
    // 0.4, bias 0.6; best case 13,000 → max(0, 1 − 1.6) = 0, bias 1.6.
    let south = team_json(dir.path(), "South", "2026-07");
    common::assert_matches(
        &json!({"team": "South", "forecast_accuracy": {
            "stage_weighted": {"forecast": 5000.0, "actual": 5000.0, "accuracy": 1.0,
                               "bias": 0.0, "late": false, "reconstructed": false},
            "rep_commit": {"forecast": 8000.0, "actual": 5000.0, "accuracy": 0.4,
                           "bias": 0.6, "late": false, "reconstructed": false},
            "best_case": {"forecast": 13000.0, "actual": 5000.0, "accuracy": 0.0,
                          "bias": 1.6, "late": false, "reconstructed": false}
        }}),
        &south,
    );
    // West Coast (a CRM team): stored 0, July won t12 1,500 → 0, bias −1.
    let west = team_json(dir.path(), "West Coast", "2026-07");
    common::assert_matches(
        &json!({"forecast_accuracy": {"stage_weighted": {"forecast": 0.0, "actual": 1500.0,
                "accuracy": 0.0, "bias": -1.0, "late": false}}}),
        &west,
    );
    // The track record's July entry is the same stored forecast.
    common::assert_matches(
        &json!({"periods": ["2026-07", "2026-06", "2026-05", "2026-04", "2026-03", "2026-02"],
                "methods": {"stage_weighted": [{"period": "2026-07", "forecast": 5000.0,
                            "actual": 10000.0, "accuracy": 0.5, "reconstructed": false}]}}),
        &{
            // Only the first entry is compared.
            let mut t = north["forecast_track_record"].clone();
            t["methods"]["stage_weighted"]
                .as_array_mut()
                .unwrap()
                .truncate(1);
            t
        },
    );
}

#[test]
fn each_teams_goals_use_the_teams_own_baseline() {
    let goal = "\n[[goals]]\nmetric = \"win_rate\"\nchange_by = 0.1\nbaseline = \"2026-06\"\n";
    let dir = setup(&format!("{TEAMS}{goal}"), &july_books());
    let org = common::run_report(dir.path(), "org", "2026-07", "2026-08-01");
    // Organisation: June 6 won, 1 lost → 6/7; target 6/7 + 0.1; July won t9,
    // t10, t12, lost t5 → 0.75. Progress (0.75 − 6/7) / 0.1 = −15/14.
    common::assert_matches(
        &json!({"goals": [{"metric": "win_rate", "baseline_period": "2026-06",
            "baseline": 6.0 / 7.0, "target": 6.0 / 7.0 + 0.1, "actual": 0.75,
            "progress": -15.0 / 14.0, "met": false}]}),
        &org,
    );
    // North: June won t1, t2, lost t3 → 2/3; July won t9 → 1.0.
    // Progress (1 − 2/3) / 0.1 = 10/3.
    let north = team_json(dir.path(), "North", "2026-07");
    common::assert_matches(
        &json!({"goals": [{"metric": "win_rate", "baseline_period": "2026-06",
            "baseline": 2.0 / 3.0, "target": 2.0 / 3.0 + 0.1, "actual": 1.0,
            "progress": 10.0 / 3.0, "met": true}]}),
        &north,
    );
    // South: June won t4 → 1.0; target 1.1; July won t10, lost t5 → 0.5.
    // Progress (0.5 − 1) / 0.1 = −5.
    let south = team_json(dir.path(), "South", "2026-07");
    common::assert_matches(
        &json!({"goals": [{"metric": "win_rate", "baseline_period": "2026-06",
            "baseline": 1.0, "target": 1.1, "actual": 0.5, "progress": -5.0, "met": false}]}),
        &south,
    );
}

#[test]
fn a_crm_team_joins_a_config_team_with_members_of_its_own() {
    // r8's CRM team " INTERNS" is the config team Interns (which also lists
    // r6 by id): nobody is left in no team, so there is no null row.
    let mut books = june_books();
    books["reps"][7]["team"] = json!(" INTERNS");
    let dir = setup(TEAMS, &books);
    let got = june(dir.path());
    let names: Vec<&Value> = got["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["name"])
        .collect();
    assert_eq!(
        names,
        vec![
            &json!("North"),
            &json!("South"),
            &json!("Interns"),
            &json!("West Coast")
        ]
    );
    // Interns: r6 (no quota) and r8 (10,000). Won t7 4,000 + t8 2,000 over
    // r8's quota alone; r8's 2,000 < 10,000 (r6 has no quota: not counted).
    common::assert_matches(
        &json!({"teams": [{"name": "North"}, {"name": "South"},
            {"name": "Interns", "reps": 2, "won_revenue": 6000.0, "team_quota": 10000.0,
             "team_attainment": 0.6, "quota_attainment_rate": 0.0,
             "pipeline_coverage": 0.0},
            {"name": "West Coast"}]}),
        &got,
    );
}

#[test]
fn a_teams_touches_are_its_members_activities() {
    // t9 (North) is touched by r1 (North) and by r3 (South). The
    // organisation counts both; North's sub-snapshot holds only the
    // activities its members own, so North counts one. Target 2.
    let mut books = june_books();
    books["activities"] = json!([
        {"id": "a1", "owner": "r1", "kind": "call", "at": "2026-06-10T09:00:00Z",
         "duration_minutes": 10, "deal_id": "t9"},
        {"id": "a2", "owner": "r3", "kind": "call", "at": "2026-06-11T09:00:00Z",
         "duration_minutes": 10, "deal_id": "t9"}
    ]);
    let dir = setup(
        &format!("{TEAMS}\n[activities]\nfollow_up_target = 2\n"),
        &books,
    );
    let org = june(dir.path());
    // Open closing in July: t5 (0 touches), t9 (2), t10 (0): under 2 are t5, t10.
    common::assert_matches(&json!({"kpis": {"open_under_target": 2}}), &org);
    assert_eq!(org["reps"][0]["id"], "r1");
    assert_eq!(org["reps"][0]["open_under_target"], json!(0));
    let north = team_json(dir.path(), "North", "2026-06");
    common::assert_matches(
        &json!({"kpis": {"open_under_target": 1},
                "reps": [{"id": "r1", "open_under_target": 1}, {"id": "r2", "open_under_target": 0}]}),
        &north,
    );
}

#[test]
fn team_names_are_unique_ignoring_letter_case_and_usable_as_folders() {
    let teams = r#"
[[teams]]
name = "North"

[[teams]]
name = "NORTH"

[[teams]]
name = "a/b"
"#;
    let dir = setup(teams, &june_books());
    let out = salesops(dir.path())
        .args(["check", "--config", "salesops.toml"])
        .assert()
        .failure()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("teams[1]") && err.contains("NORTH"), "{err}");
    assert!(err.contains("teams[2]") && err.contains("a/b"), "{err}");
}

#[test]
fn run_team_with_an_unknown_team_says_so() {
    let dir = setup(TEAMS, &june_books());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .args(["--report", "org", "--team", "Nowhere", "--dry-run"])
        .assert()
        .failure()
        .stderr(contains("Nowhere"));
    assert!(!dir.path().join("reports/org").exists(), "nothing written");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn run_team_makes_that_teams_report_alone() {
    let dir = setup(TEAMS, &june_books());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .args(["--report", "org", "--team", "south", "--dry-run"])
        .assert()
        .success();
    let south = team_json(dir.path(), "South", "2026-06");
    common::assert_matches(
        &json!({"team": "South", "kpis": {"won_revenue": 12000.0},
                "forecasts": {"stage_weighted": 5000.0}}),
        &south,
    );
    assert!(
        !dir.path().join("reports/org/2026-06").exists(),
        "no organisation report"
    );
    assert!(
        !dir.path().join("reports/org/teams/North").exists(),
        "no other team"
    );
    assert!(
        !dir.path().join("state").exists(),
        "a dry run stores nothing"
    );
}

#[test]
fn run_team_delivers_to_its_manager_only() {
    let dir = setup(TEAMS, &june_books());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .args(["--report", "org", "--team", "SOUTH"])
        .assert()
        .success();
    let mails: Vec<String> = files_under(&dir.path().join("reports/outbox"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .map(|p| fs::read_to_string(p).unwrap())
        .collect();
    // One file per recipient, each with its Delivered-To.
    let to = |who: &str| {
        mails
            .iter()
            .filter(|m| {
                m.lines()
                    .any(|l| l.starts_with("Delivered-To:") && l.contains(who))
            })
            .count()
    };
    assert_eq!(to("south.lead@example.com"), 1, "{mails:?}");
    assert_eq!(
        to("ceo@example.com"),
        0,
        "the organisation's report is not made"
    );
    assert_eq!(to("north.lead@example.com"), 0);
}

#[test]
fn run_team_finds_a_crm_team_ignoring_letter_case() {
    let dir = setup(TEAMS, &june_books());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .args(["--report", "org", "--team", "WEST COAST", "--dry-run"])
        .assert()
        .success();
    let west = team_json(dir.path(), "West Coast", "2026-06");
    common::assert_matches(
        &json!({"team": "West Coast", "kpis": {"won_revenue": 3000.0},
                "reps": [{"id": "r5"}, {"id": "r7"}]}),
        &west,
    );
}

#[test]
fn a_rep_listed_by_two_teams_is_a_config_error_naming_both() {
    // The same email in another letter case.
    let teams = r#"
[[teams]]
name = "North"
members = ["KIM@example.com"]

[[teams]]
name = "South"
members = ["kim@EXAMPLE.com"]
"#;
    let dir = setup(teams, &june_books());
    salesops(dir.path())
        .args(["check", "--config", "salesops.toml"])
        .assert()
        .failure()
        .stderr(contains("North"))
        .stderr(contains("South"));
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .assert()
        .failure()
        .stderr(contains("North"))
        .stderr(contains("South"));
    assert!(!dir.path().join("reports").exists(), "nothing written");
}

#[test]
fn a_rep_named_by_email_and_by_id_in_two_teams_is_an_error_naming_both() {
    // r1 by email in one team and by id in the other: only the snapshot
    // shows it is the same rep; the run stops before writing anything.
    let teams = r#"
[[teams]]
name = "North"
members = ["kim@example.com"]

[[teams]]
name = "South"
members = ["r1"]
"#;
    let dir = setup(teams, &june_books());
    salesops(dir.path())
        .args(["run", "--config", "salesops.toml"])
        .args(["--period", "2026-06", "--as-of", "2026-07-01"])
        .assert()
        .failure()
        .stderr(contains("North"))
        .stderr(contains("South"))
        .stderr(contains("r1"));
    assert!(!dir.path().join("reports").exists(), "nothing written");
}

#[test]
fn without_teams_the_list_is_empty() {
    // No [[teams]] and no CRM team on any rep.
    let mut books = june_books();
    for r in books["reps"].as_array_mut().unwrap() {
        r.as_object_mut().unwrap().remove("team");
    }
    let dir = setup("", &books);
    let got = june(dir.path());
    assert_eq!(got["teams"], json!([]));
    assert_eq!(got["team"], Value::Null);
    assert!(!dir.path().join("reports/org/teams").exists());
}
