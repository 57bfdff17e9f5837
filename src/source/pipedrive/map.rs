//! Pipedrive records → canonical records, as MAPPING.md says (with the
//! `[source.pipedrive]` overrides). Pure and unit-tested: ids are integers,
//! probabilities percents, times UTC (also without a zone), durations
//! "HH:MM"; won and lost live on the deal, so closed deals go to two
//! synthetic closed stages; a deal or lead listed twice (archived while the
//! lists were read) counts once; a deal's history comes from its changelog
//! of old → new value pairs.

use super::api::{Activity, Change, Deal, Lead, Stage as ApiStage, User};
use crate::config::{Lookup, PipedriveMapping};
use crate::snapshot::{ActivityKind, DealType, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{
    category, deal_type, history, ActivityRec, DealRec, EntryRec, LeadRec, Mapped, Set,
};
use crate::source::wire::{date_and_time, hh_mm, Field, Read};
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::{HashMap, HashSet};

/// The synthetic stages of closed deals.
pub const WON: &str = "won";
pub const LOST: &str = "lost";

#[derive(Default)]
pub struct Raw {
    pub users: Vec<User>,
    pub stages: Vec<ApiStage>,
    pub deals: Vec<Deal>,
    pub activities: Vec<Activity>,
    pub leads: Vec<Lead>,
    /// Each deal's changelog rows by deal id (with `history` only).
    pub changes: HashMap<String, Vec<Change>>,
}

/// `[source.pipedrive]`, resolved.
pub struct Rules {
    pub pipelines: Option<HashSet<String>>,
    pub kinds: Lookup<ActivityKind>,
    pub forecast_field: Option<String>,
    pub categories: Lookup<ForecastCategory>,
    pub deal_type_field: Option<String>,
    pub deal_types: Lookup<DealType>,
}

impl Rules {
    pub fn new(m: &PipedriveMapping) -> Result<Rules> {
        let bad = |e: Vec<String>| anyhow!(e.join("; "));
        Ok(Rules {
            pipelines: (!m.pipelines.is_empty())
                .then(|| m.pipelines.iter().map(|p| p.to_string()).collect()),
            kinds: m.activity_kinds().map_err(bad)?,
            forecast_field: Some(m.forecast_category_field.trim().to_string())
                .filter(|f| !f.is_empty()),
            categories: m.categories().map_err(bad)?,
            deal_type_field: Some(m.deal_type_field.trim().to_string()).filter(|f| !f.is_empty()),
            deal_types: m.deal_types().map_err(bad)?,
        })
    }

    fn in_pipelines(&self, pipeline: &Field) -> bool {
        self.pipelines
            .as_ref()
            .is_none_or(|set| pipeline.text().is_some_and(|p| set.contains(&p)))
    }
}

/// `tz` is the report's time zone, in which a bare due date starts.
pub fn map(raw: Raw, r: &Rules, tz: Tz) -> Mapped {
    let activities: Vec<ActivityRec> = raw
        .activities
        .iter()
        .filter_map(|a| activity(a, r))
        .collect();
    let first = first_touches(&raw.activities, tz);
    let untimed = raw
        .changes
        .values()
        .flatten()
        .filter(|c| instant(&c.time).is_none())
        .count();
    let mut notes = Vec::new();
    if untimed > 0 {
        notes.push(format!(
            "pipedrive: {untimed} deal changelog row(s) have no readable time and are left out of the deals' history"
        ));
    }
    let deals = once(&raw.deals, |d| &d.id)
        .filter_map(|d| {
            let mut rec = deal(d, r)?;
            if let Some(rows) = raw.changes.get(&rec.id) {
                rec.history = deal_history(d, rows, r);
            }
            Some(rec)
        })
        .collect();
    Mapped {
        reps: raw.users.iter().filter_map(rep).collect(),
        stages: stages(&raw.stages, r),
        deals,
        activities,
        leads: once(&raw.leads, |l| &l.id)
            .map(|l| lead(l, &first))
            .collect(),
        notes,
    }
}

/// The ids of the deals `map` keeps (each once), whose changelogs history
/// needs.
pub fn wanted(deals: &[Deal], r: &Rules) -> Vec<String> {
    once(deals, |d| &d.id)
        .filter(|d| !deleted(d) && r.in_pipelines(&d.pipeline_id))
        .filter_map(|d| d.id.text())
        .collect()
}

fn instant(f: &Field) -> Option<DateTime<Utc>> {
    match f.when() {
        Read::Ok(When::Instant(t)) => Some(t),
        _ => None,
    }
}

/// Each record once by id, the first seen kept: a record archived between
/// the reads of the current and the archived list can be in both.
fn once<T>(list: &[T], id: fn(&T) -> &Field) -> impl Iterator<Item = &T> {
    let mut seen = HashSet::new();
    list.iter()
        .filter(move |t| id(t).text().is_none_or(|i| seen.insert(i)))
}

pub fn rep(u: &User) -> Option<Rep> {
    let id = u.id.text()?;
    Some(Rep {
        name: u.name.text().unwrap_or_else(|| id.clone()),
        email: u.email.text(),
        start_date: None,
        team: None,
        active: u.active_flag.flag().unwrap_or(true),
        id,
    })
}

fn num(f: &Field) -> Decimal {
    f.number().ok().unwrap_or_default()
}

/// The stages of the chosen pipelines in pipeline and `order_nr` order,
/// probability `deal_probability` / 100, then the synthetic won and lost.
pub fn stages(list: &[ApiStage], r: &Rules) -> Vec<Stage> {
    let mut chosen: Vec<&ApiStage> = list
        .iter()
        .filter(|s| r.in_pipelines(&s.pipeline_id))
        .collect();
    chosen.sort_by_key(|s| (num(&s.pipeline_id), num(&s.order_nr), num(&s.id)));
    let mut out: Vec<Stage> = Vec::new();
    for s in chosen {
        let Some(id) = s.id.text() else { continue };
        out.push(Stage {
            label: s.name.text().unwrap_or_else(|| id.clone()),
            probability: num(&s.deal_probability) / Decimal::from(100),
            order: out.len() as i64 + 1,
            closed: false,
            won: false,
            id,
        });
    }
    for (id, label, p, won) in [
        (WON, "Won", Decimal::ONE, true),
        (LOST, "Lost", Decimal::ZERO, false),
    ] {
        out.push(Stage {
            id: id.into(),
            label: label.into(),
            probability: p,
            order: out.len() as i64 + 1,
            closed: true,
            won,
        });
    }
    out
}

fn status_of(f: &Field) -> String {
    f.text().unwrap_or_else(|| "open".into()).to_lowercase()
}

fn deleted(d: &Deal) -> bool {
    status_of(&d.status) == "deleted" || d.is_deleted.flag() == Some(true)
}

/// The canonical stage of a Pipedrive status and stage: won and lost are
/// the synthetic stages; any other status (open) is the stage.
fn stage_of(status: &str, stage_id: Option<String>) -> Option<String> {
    match status {
        "won" => Some(WON.into()),
        "lost" => Some(LOST.into()),
        _ => stage_id,
    }
}

/// When the deal was won or lost (`status`), as the deal says.
fn closed_at(d: &Deal, status: &str) -> Read<When> {
    let t = if status == "won" {
        &d.won_time
    } else {
        &d.lost_time
    };
    t.when().or_else(|| d.close_time.when())
}

/// A deal of a chosen pipeline (deleted ones are left out). Closed deals
/// sit in the won or lost stage and close when they were won or lost;
/// open ones close on their expected date. Without its history
/// (`deal_history`).
pub fn deal(d: &Deal, r: &Rules) -> Option<DealRec> {
    let status = status_of(&d.status);
    if deleted(d) || !r.in_pipelines(&d.pipeline_id) {
        return None;
    }
    let (stage, close_date) = match status.as_str() {
        "won" | "lost" => (stage_of(&status, None).unwrap(), closed_at(d, &status)),
        _ => (
            d.stage_id.text().unwrap_or_default(),
            d.expected_close_date.when(),
        ),
    };
    let forecast = r
        .forecast_field
        .as_ref()
        .and_then(|f| d.custom_fields.get(f))
        .and_then(Field::text);
    Some(DealRec {
        id: d.id.text().unwrap_or_default(),
        name: d.title.text().unwrap_or_default(),
        owner: d.owner_id.text(),
        amount: d.value.number(),
        stage,
        created_at: d.add_time.when(),
        close_date,
        forecast_category: category(forecast, &r.categories),
        currency: d.currency.text(),
        deal_type: r.deal_type_field.as_ref().map_or(Read::Missing, |f| {
            deal_type(d.custom_fields.get(f).and_then(Field::text), &r.deal_types)
        }),
        history: Vec::new(),
    })
}

/// A deal's history from its changelog (MAPPING.md "deal history"): each
/// change of `stage_id`, `value`, `expected_close_date`, `status` and the
/// forecast field is an entry at its `time` with the new value, and the
/// first change of each field also gives its `old_value` at `add_time`
/// (the value the deal was created with); a field never changed has no
/// entry. Won and lost are the synthetic stages, closing then — at the
/// deal's `won_time`/`lost_time` for the change that made it what it is
/// now, so that the last entry says what the deal says — and a reopened
/// deal goes back to its stage and expected close date. A stage move or
/// a new expected date while the deal is closed changes neither until it
/// is reopened.
pub fn deal_history(d: &Deal, rows: &[Change], r: &Rules) -> Vec<EntryRec> {
    let fc = r.forecast_field.as_deref();
    let key = |c: &Change| c.field_key.text().unwrap_or_default();
    let mut rows: Vec<(DateTime<Utc>, String, &Change)> = rows
        .iter()
        .filter_map(|c| {
            let k = key(c);
            let known = matches!(
                k.as_str(),
                "stage_id" | "value" | "expected_close_date" | "status"
            ) || Some(k.as_str()) == fc;
            Some((instant(&c.time)?, k, c)).filter(|_| known)
        })
        .collect();
    rows.sort_by_key(|(t, _, _)| *t);
    let Some(first_time) = rows.first().map(|(t, _, _)| *t) else {
        return Vec::new();
    };
    // Each field as the deal was created: the first change's old value,
    // else (never changed) what it is now.
    let first_old = |k: &str| {
        rows.iter()
            .find(|(_, rk, _)| rk == k)
            .map(|(_, _, c)| &c.old_value)
    };
    let changed = |k: &str| first_old(k).is_some();
    let custom = |f: &str| d.custom_fields.get(f).cloned().unwrap_or_default();
    let mut stage_id = first_old("stage_id").unwrap_or(&d.stage_id).text();
    let mut status = status_of(first_old("status").unwrap_or(&d.status));
    let mut expected = first_old("expected_close_date")
        .unwrap_or(&d.expected_close_date)
        .when();
    let created = instant(&d.add_time).unwrap_or(first_time).min(first_time);
    let mut sets = Vec::new();
    let open = |s: &str| s != "won" && s != "lost";
    if changed("stage_id") || changed("status") {
        sets.extend(stage_of(&status, stage_id.clone()).map(|s| (created, Set::Stage(s))));
    }
    if changed("expected_close_date") || changed("status") {
        let close = if open(&status) {
            expected.clone()
        } else {
            closed_at(d, &status)
        };
        if !close.is_missing() {
            sets.push((created, Set::CloseDate(close)));
        }
    }
    if changed("value") {
        let v = first_old("value").unwrap_or(&d.value);
        sets.push((created, Set::Amount(v.number())));
    }
    if let Some(f) = fc.filter(|f| changed(f)) {
        let old = first_old(f).cloned().unwrap_or_else(|| custom(f));
        sets.push((created, Set::Category(category(old.text(), &r.categories))));
    }
    let last_status = rows.iter().rposition(|(_, k, _)| k == "status");
    let now = status_of(&d.status);
    for (i, (at, k, c)) in rows.iter().enumerate() {
        let at = *at;
        match k.as_str() {
            "stage_id" => {
                stage_id = c.new_value.text();
                if open(&status) {
                    sets.extend(stage_id.clone().map(|s| (at, Set::Stage(s))));
                }
            }
            "status" => {
                status = status_of(&c.new_value);
                if !open(&status) {
                    let close = if Some(i) == last_status && status == now {
                        closed_at(d, &status)
                    } else {
                        Read::Ok(When::Instant(at))
                    };
                    sets.push((at, Set::Stage(stage_of(&status, None).unwrap())));
                    if !close.is_missing() {
                        sets.push((at, Set::CloseDate(close)));
                    }
                } else if status == "open" {
                    sets.extend(stage_id.clone().map(|s| (at, Set::Stage(s))));
                    if !expected.is_missing() {
                        sets.push((at, Set::CloseDate(expected.clone())));
                    }
                }
            }
            "expected_close_date" => {
                expected = c.new_value.when();
                if open(&status) && !expected.is_missing() {
                    sets.push((at, Set::CloseDate(expected.clone())));
                }
            }
            "value" => sets.push((at, Set::Amount(c.new_value.number()))),
            _ => sets.push((
                at,
                Set::Category(category(c.new_value.text(), &r.categories)),
            )),
        }
    }
    history(sets)
}

fn when_of(a: &Activity) -> Read<When> {
    date_and_time(
        &a.due_date.text().unwrap_or_default(),
        &a.due_time.text().unwrap_or_default(),
    )
    .or_else(|| a.marked_as_done_time.when())
    .or_else(|| a.add_time.when())
}

/// A done activity (one not done has not happened): kind from its type,
/// at its due date and time (UTC), lasting its "HH:MM" duration.
pub fn activity(a: &Activity, r: &Rules) -> Option<ActivityRec> {
    if a.done.flag() == Some(false) {
        return None;
    }
    Some(ActivityRec {
        id: a.id.text().unwrap_or_default(),
        owner: a.owner_id.text(),
        kind: a
            .kind
            .text()
            .and_then(|t| r.kinds.get(&t))
            .unwrap_or(ActivityKind::Task),
        at: when_of(a),
        duration_minutes: hh_mm(&a.duration.text().unwrap_or_default()),
        outcome: None,
        deal_id: a.deal_id.text(),
    })
}

/// For each lead, the earliest time (read as every activity's, `when_of`)
/// among its done activities.
pub fn first_touches(acts: &[Activity], tz: Tz) -> HashMap<String, When> {
    let mut first: HashMap<String, (chrono::DateTime<chrono::Utc>, When)> = HashMap::new();
    for a in acts.iter().filter(|a| a.done.flag() != Some(false)) {
        let Some(lead) = a.lead_id.text() else {
            continue;
        };
        let Some(w) = when_of(a).ok() else {
            continue;
        };
        let key = w.instant(tz);
        let e = first.entry(lead).or_insert((key, w));
        if key < e.0 {
            *e = (key, w);
        }
    }
    first.into_iter().map(|(k, (_, w))| (k, w)).collect()
}

pub fn lead(l: &Lead, first: &HashMap<String, When>) -> LeadRec {
    let id = l.id.text().unwrap_or_default();
    LeadRec {
        owner: l.owner_id.text(),
        created_at: l.add_time.when(),
        first_response_at: first.get(&id).map_or(Read::Missing, |w| Read::Ok(*w)),
        score: Read::Missing,
        id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use serde_json::json;

    fn rules() -> Rules {
        Rules::new(&PipedriveMapping::default()).unwrap()
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Read<When> {
        Read::Ok(When::Instant(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap(),
        ))
    }

    fn deal_json() -> serde_json::Value {
        json!({"id": 4211, "title": "Acme renewal", "creator_user_id": 13, "owner_id": 13,
          "value": 15000, "currency": "EUR", "person_id": 77, "org_id": 31,
          "stage_id": 4, "pipeline_id": 1, "status": "won", "is_deleted": false,
          "probability": null, "lost_reason": null, "visible_to": 3,
          "add_time": "2026-05-02T09:15:22Z", "update_time": "2026-06-30T16:00:01Z",
          "stage_change_time": "2026-06-30T16:00:01Z",
          "close_time": "2026-06-30T16:00:01Z", "won_time": "2026-06-30T16:00:01Z", "lost_time": null,
          "expected_close_date": "2026-06-30", "local_won_date": "2026-06-30",
          "local_lost_date": null, "local_close_date": "2026-06-30", "custom_fields": {}})
    }

    #[test]
    fn stages_are_percent_with_synthetic_won_and_lost() {
        let list: Vec<ApiStage> = serde_json::from_value(json!([
            {"id": 2, "order_nr": 2, "name": "Contact made", "pipeline_id": 1, "deal_probability": 40, "is_deleted": false},
            {"id": 1, "order_nr": 1, "name": "Qualified", "pipeline_id": 1, "deal_probability": 10},
            {"id": 9, "order_nr": 1, "name": "Other", "pipeline_id": 2, "deal_probability": null}
        ]))
        .unwrap();
        let s = stages(&list, &rules());
        let got: Vec<(&str, String, i64, bool, bool)> = s
            .iter()
            .map(|s| {
                (
                    s.id.as_str(),
                    s.probability.normalize().to_string(),
                    s.order,
                    s.closed,
                    s.won,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("1", "0.1".into(), 1, false, false),
                ("2", "0.4".into(), 2, false, false),
                ("9", "0".into(), 3, false, false),
                (WON, "1".into(), 4, true, true),
                (LOST, "0".into(), 5, true, false),
            ]
        );
        let only = Rules::new(&PipedriveMapping {
            pipelines: vec![2],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(stages(&list, &only).len(), 3);
    }

    #[test]
    fn a_won_deal_sits_in_won_and_closes_when_won() {
        let d = deal(&serde_json::from_value(deal_json()).unwrap(), &rules()).unwrap();
        assert_eq!(d.id, "4211");
        assert_eq!(d.stage, WON);
        assert_eq!(d.close_date, at(2026, 6, 30, 16, 0, 1));
        assert_eq!(d.amount, Read::Ok(Decimal::from(15000)));
        assert_eq!(d.currency.as_deref(), Some("EUR"));
        assert_eq!(d.owner.as_deref(), Some("13"));
        assert_eq!(d.created_at, at(2026, 5, 2, 9, 15, 22));
        assert_eq!(d.forecast_category, Read::Missing);
    }

    #[test]
    fn open_lost_and_deleted_deals() {
        let mut v = deal_json();
        v["status"] = json!("open");
        v["won_time"] = json!(null);
        let open = deal(&serde_json::from_value(v.clone()).unwrap(), &rules()).unwrap();
        assert_eq!(open.stage, "4");
        assert_eq!(
            open.close_date,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 6, 30).unwrap()))
        );
        v["status"] = json!("lost");
        v["lost_time"] = json!("2026-07-02 08:00:00");
        let lost = deal(&serde_json::from_value(v.clone()).unwrap(), &rules()).unwrap();
        assert_eq!(
            (lost.stage.as_str(), lost.close_date),
            (LOST, at(2026, 7, 2, 8, 0, 0))
        );
        v["status"] = json!("deleted");
        assert!(deal(&serde_json::from_value(v.clone()).unwrap(), &rules()).is_none());
        v["status"] = json!("open");
        v["pipeline_id"] = json!(2);
        let only_one = Rules::new(&PipedriveMapping {
            pipelines: vec![1],
            ..Default::default()
        })
        .unwrap();
        assert!(deal(&serde_json::from_value(v).unwrap(), &only_one).is_none());
    }

    #[test]
    fn forecast_category_from_a_custom_field() {
        let m = PipedriveMapping {
            forecast_category_field: "abc123".into(),
            forecast_categories: [("27".to_string(), "commit".to_string())].into(),
            ..Default::default()
        };
        let r = Rules::new(&m).unwrap();
        let mut v = deal_json();
        v["custom_fields"] = json!({"abc123": 27});
        assert_eq!(
            deal(&serde_json::from_value(v.clone()).unwrap(), &r)
                .unwrap()
                .forecast_category,
            Read::Ok(ForecastCategory::Commit)
        );
        v["custom_fields"] = json!({"abc123": "Best case"});
        assert_eq!(
            deal(&serde_json::from_value(v).unwrap(), &r)
                .unwrap()
                .forecast_category,
            Read::Ok(ForecastCategory::BestCase)
        );
    }

    fn activity_json() -> serde_json::Value {
        json!({ "id": 9051, "subject": "Discovery call", "type": "call", "owner_id": 13, "creator_user_id": 13,
          "is_deleted": false, "add_time": "2026-06-01T08:00:00Z", "update_time": "2026-06-02T10:31:00Z",
          "deal_id": 4211, "lead_id": null, "person_id": 77, "org_id": 31, "project_id": null,
          "due_date": "2026-06-02", "due_time": "10:00", "duration": "00:30", "busy": true, "done": true,
          "marked_as_done_time": "2026-06-02T10:31:00Z", "priority": null, "outcome": null, "note": null })
    }

    #[test]
    fn activities_use_due_date_and_time_in_utc_and_hh_mm() {
        let a = activity(&serde_json::from_value(activity_json()).unwrap(), &rules()).unwrap();
        assert_eq!(a.kind, ActivityKind::Call);
        assert_eq!(a.at, at(2026, 6, 2, 10, 0, 0));
        assert_eq!(a.duration_minutes, Read::Ok(Decimal::from(30)));
        assert_eq!(a.owner.as_deref(), Some("13"));
        let mut v = activity_json();
        v["type"] = json!("lunch");
        v["due_time"] = json!("");
        v["duration"] = json!("");
        let lunch = activity(&serde_json::from_value(v.clone()).unwrap(), &rules()).unwrap();
        assert_eq!(lunch.kind, ActivityKind::Task);
        assert_eq!(
            lunch.at,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()))
        );
        assert_eq!(lunch.duration_minutes, Read::Missing);
        v["done"] = json!(false);
        assert!(activity(&serde_json::from_value(v).unwrap(), &rules()).is_none());
    }

    #[test]
    fn a_leads_first_response_is_its_earliest_done_activity_by_due_time() {
        let lead_id = "adf21080-0e10-11eb-879b-05d71fb426ec";
        let mut a = activity_json();
        a["lead_id"] = json!(lead_id);
        // Marked done first, but due (held) later: the due time counts.
        let mut marked_first = a.clone();
        marked_first["due_date"] = json!("2026-06-04");
        marked_first["marked_as_done_time"] = json!("2026-06-01T09:00:00Z");
        let mut not_done = a.clone();
        not_done["done"] = json!(false);
        not_done["due_date"] = json!("2026-06-01");
        let acts: Vec<Activity> =
            serde_json::from_value(json!([marked_first, a, not_done])).unwrap();
        let first = first_touches(&acts, chrono_tz::UTC);
        let l: Lead = serde_json::from_value(json!({"id": lead_id, "title": "Acme lead",
            "owner_id": 13, "add_time": "2026-06-01T07:00:00.000Z"}))
        .unwrap();
        let got = lead(&l, &first);
        assert_eq!(got.first_response_at, at(2026, 6, 2, 10, 0, 0));
        assert_eq!(got.created_at, at(2026, 6, 1, 7, 0, 0));
        assert_eq!(got.owner.as_deref(), Some("13"));
    }

    #[test]
    fn a_bare_due_date_starts_in_the_report_zone() {
        let mut timed = activity_json();
        timed["lead_id"] = json!("l1");
        timed["due_date"] = json!("2026-06-02");
        timed["due_time"] = json!("20:00");
        let mut bare = timed.clone();
        bare["due_date"] = json!("2026-06-03");
        bare["due_time"] = json!("");
        let acts: Vec<Activity> = serde_json::from_value(json!([timed, bare])).unwrap();
        // 2026-06-03 starts at 2026-06-02T15:00Z in Seoul, after 20:00Z in UTC.
        assert_eq!(
            first_touches(&acts, chrono_tz::Asia::Seoul)["l1"],
            When::Date(NaiveDate::from_ymd_opt(2026, 6, 3).unwrap())
        );
        assert_eq!(
            Read::Ok(first_touches(&acts, chrono_tz::UTC)["l1"]),
            at(2026, 6, 2, 20, 0, 0)
        );
    }

    #[test]
    fn a_deal_or_lead_in_both_lists_counts_once() {
        let mut archived = deal_json();
        archived["is_archived"] = json!(true);
        let raw = Raw {
            deals: serde_json::from_value(json!([deal_json(), archived])).unwrap(),
            leads: serde_json::from_value(json!([
                {"id": "l1", "add_time": "2026-06-01T07:00:00Z"},
                {"id": "l2", "add_time": "2026-06-01T07:00:00Z"},
                {"id": "l1", "add_time": "2026-06-01T07:00:00Z", "is_archived": true}
            ]))
            .unwrap(),
            ..Default::default()
        };
        let m = map(raw, &rules(), chrono_tz::UTC);
        assert_eq!(m.deals.len(), 1);
        let leads: Vec<&str> = m.leads.iter().map(|l| l.id.as_str()).collect();
        assert_eq!(leads, vec!["l1", "l2"]);
    }

    #[test]
    fn deal_type_from_a_custom_field_and_activities_deal() {
        let m = PipedriveMapping {
            deal_type_field: "f00d".into(),
            deal_types: [
                ("41".to_string(), "renewal".to_string()),
                ("New".to_string(), "new_business".to_string()),
            ]
            .into(),
            ..Default::default()
        };
        let r = Rules::new(&m).unwrap();
        let typed = |v: serde_json::Value, r: &Rules| {
            let mut d = deal_json();
            d["custom_fields"] = json!({"f00d": v});
            deal(&serde_json::from_value(d).unwrap(), r)
                .unwrap()
                .deal_type
        };
        assert_eq!(typed(json!(41), &r), Read::Ok(DealType::Renewal));
        assert_eq!(typed(json!("new"), &r), Read::Ok(DealType::NewBusiness));
        assert_eq!(typed(json!(43), &r), Read::Bad("43".into()));
        assert_eq!(typed(json!(null), &r), Read::Missing);
        // No field configured: no deal types.
        assert_eq!(typed(json!(41), &rules()), Read::Missing);
        let a = activity(&serde_json::from_value(activity_json()).unwrap(), &rules()).unwrap();
        assert_eq!(a.deal_id.as_deref(), Some("4211"));
        let mut none = activity_json();
        none["deal_id"] = json!(null);
        let a = activity(&serde_json::from_value(none).unwrap(), &rules()).unwrap();
        assert_eq!(a.deal_id, None);
    }

    fn change(key: &str, old: serde_json::Value, new: serde_json::Value, time: &str) -> Change {
        serde_json::from_value(json!({"field_key": key, "old_value": old, "new_value": new,
            "actor_user_id": 13, "time": time, "change_source": "app", "change_source_user_agent": null,
            "is_bulk_update_flag": false}))
        .unwrap()
    }

    fn won_deal() -> Deal {
        // Won on 2026-06-30 (edited won_time), expected 2026-07-31.
        let mut d = deal_json();
        d["expected_close_date"] = json!("2026-07-31");
        serde_json::from_value(d).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn date(s: &str) -> Option<Read<When>> {
        Some(Read::Ok(When::Date(s.parse().unwrap())))
    }

    #[test]
    fn changelog_pairs_become_history_with_the_created_values_at_add_time() {
        let rows = [
            change(
                "value",
                json!("12000"),
                json!("15000"),
                "2026-06-10 08:00:00",
            ),
            change("stage_id", json!("2"), json!("4"), "2026-05-20 11:00:00"),
            change(
                "title",
                json!("Acme"),
                json!("Acme renewal"),
                "2026-05-21 11:00:00",
            ),
            change(
                "expected_close_date",
                json!("2026-08-31"),
                json!("2026-07-31"),
                "2026-05-20 11:00:00",
            ),
            change("status", json!("open"), json!("won"), "2026-06-30 16:00:01"),
        ];
        let h = deal_history(&won_deal(), &rows, &rules());
        let times: Vec<DateTime<Utc>> = h.iter().map(|e| e.at).collect();
        assert_eq!(
            times,
            vec![
                t("2026-05-02T09:15:22Z"),
                t("2026-05-20T11:00:00Z"),
                t("2026-06-10T08:00:00Z"),
                t("2026-06-30T16:00:01Z")
            ]
        );
        assert_eq!(
            h[0],
            EntryRec {
                at: times[0],
                stage: Some("2".into()),
                amount: Some(Read::Ok(Decimal::from(12000))),
                close_date: date("2026-08-31"),
                forecast_category: None,
            }
        );
        assert_eq!(
            (h[1].stage.as_deref(), h[1].close_date.clone()),
            (Some("4"), date("2026-07-31"))
        );
        assert_eq!(h[2].amount, Some(Read::Ok(Decimal::from(15000))));
        // Won: the synthetic stage, closing when the deal says it was won.
        assert_eq!(
            (h[3].stage.as_deref(), h[3].close_date.clone()),
            (Some(WON), Some(at(2026, 6, 30, 16, 0, 1)))
        );
    }

    #[test]
    fn a_deal_won_without_other_changes_was_open_in_its_stage_before() {
        let rows = [change(
            "status",
            json!("open"),
            json!("won"),
            "2026-06-30 16:00:01",
        )];
        let h = deal_history(&won_deal(), &rows, &rules());
        assert_eq!(h.len(), 2);
        assert_eq!(
            (
                h[0].stage.as_deref(),
                h[0].close_date.clone(),
                h[0].amount.clone()
            ),
            (Some("4"), date("2026-07-31"), None)
        );
        assert_eq!(h[1].stage.as_deref(), Some(WON));
    }

    #[test]
    fn reopened_deals_go_back_to_their_stage_and_expected_date() {
        let mut d = deal_json();
        d["status"] = json!("open");
        d["won_time"] = json!(null);
        d["stage_id"] = json!(5);
        d["expected_close_date"] = json!("2026-09-30");
        let d: Deal = serde_json::from_value(d).unwrap();
        let rows = [
            change(
                "status",
                json!("open"),
                json!("lost"),
                "2026-06-01 10:00:00",
            ),
            // Moved while lost: nothing changes until it is reopened.
            change("stage_id", json!("4"), json!("5"), "2026-06-02 10:00:00"),
            change(
                "expected_close_date",
                json!("2026-06-30"),
                json!("2026-09-30"),
                "2026-06-02 10:00:00",
            ),
            change(
                "status",
                json!("lost"),
                json!("open"),
                "2026-06-03 10:00:00",
            ),
        ];
        let h = deal_history(&d, &rows, &rules());
        assert_eq!(h.len(), 3, "{h:#?}");
        assert_eq!(
            (h[0].stage.as_deref(), h[0].close_date.clone()),
            (Some("4"), date("2026-06-30"))
        );
        // Lost earlier than it is now (open): it closed when it was lost.
        assert_eq!(
            (h[1].stage.as_deref(), h[1].close_date.clone()),
            (Some(LOST), Some(at(2026, 6, 1, 10, 0, 0)))
        );
        assert_eq!(
            (h[2].stage.as_deref(), h[2].close_date.clone()),
            (Some("5"), date("2026-09-30"))
        );
    }

    #[test]
    fn forecast_field_changes_and_deals_without_changes() {
        let m = PipedriveMapping {
            forecast_category_field: "abc123".into(),
            forecast_categories: [("27".to_string(), "commit".to_string())].into(),
            ..Default::default()
        };
        let r = Rules::new(&m).unwrap();
        let rows = [change(
            "abc123",
            json!(null),
            json!("27"),
            "2026-06-01 10:00:00",
        )];
        let h = deal_history(&won_deal(), &rows, &r);
        let cats: Vec<Option<Read<ForecastCategory>>> =
            h.iter().map(|e| e.forecast_category.clone()).collect();
        assert_eq!(
            cats,
            vec![
                Some(Read::Missing),
                Some(Read::Ok(ForecastCategory::Commit))
            ]
        );
        // Without the field configured, its changes are not history.
        assert!(deal_history(&won_deal(), &rows, &rules()).is_empty());
        let title = [change(
            "title",
            json!("A"),
            json!("B"),
            "2026-06-01 10:00:00",
        )];
        assert!(deal_history(&won_deal(), &title, &rules()).is_empty());
        assert!(deal_history(&won_deal(), &[], &rules()).is_empty());
    }

    #[test]
    fn history_joins_its_deal_and_unreadable_times_are_noted() {
        let mut other = deal_json();
        other["id"] = json!(4212);
        other["pipeline_id"] = json!(2);
        let deals: Vec<Deal> =
            serde_json::from_value(json!([deal_json(), deal_json(), other])).unwrap();
        let only_one = Rules::new(&PipedriveMapping {
            pipelines: vec![1],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(wanted(&deals, &only_one), vec!["4211".to_string()]);
        let raw = Raw {
            deals,
            changes: [(
                "4211".to_string(),
                vec![
                    change("value", json!(1), json!(2), "2026-06-01 10:00:00"),
                    change("value", json!(2), json!(3), "yesterday"),
                ],
            )]
            .into(),
            ..Default::default()
        };
        let m = map(raw, &only_one, chrono_tz::UTC);
        assert_eq!(m.deals.len(), 1);
        assert_eq!(m.deals[0].history.len(), 2);
        assert_eq!(m.notes.len(), 1);
        assert!(m.notes[0].starts_with("pipedrive: 1 deal changelog row(s)"));
    }
}
