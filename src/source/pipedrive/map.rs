//! Pipedrive records → canonical records, as MAPPING.md says (with the
//! `[source.pipedrive]` overrides). Pure and unit-tested: ids are integers,
//! probabilities percents, times UTC (also without a zone), durations
//! "HH:MM"; won and lost live on the deal, so closed deals go to two
//! synthetic closed stages; a deal or lead listed twice (archived while the
//! lists were read) counts once.

use super::api::{Activity, Deal, Lead, Stage as ApiStage, User};
use crate::config::{Lookup, PipedriveMapping};
use crate::snapshot::{ActivityKind, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{category, ActivityRec, DealRec, LeadRec, Mapped};
use crate::source::wire::{date_and_time, hh_mm, Field, Read};
use anyhow::{anyhow, Result};
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
}

/// `[source.pipedrive]`, resolved.
pub struct Rules {
    pub pipelines: Option<HashSet<String>>,
    pub kinds: Lookup<ActivityKind>,
    pub forecast_field: Option<String>,
    pub categories: Lookup<ForecastCategory>,
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
    Mapped {
        reps: raw.users.iter().filter_map(rep).collect(),
        stages: stages(&raw.stages, r),
        deals: once(&raw.deals, |d| &d.id)
            .filter_map(|d| deal(d, r))
            .collect(),
        activities,
        leads: once(&raw.leads, |l| &l.id)
            .map(|l| lead(l, &first))
            .collect(),
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

/// A deal of a chosen pipeline (deleted ones are left out). Closed deals
/// sit in the won or lost stage and close when they were won or lost;
/// open ones close on their expected date.
pub fn deal(d: &Deal, r: &Rules) -> Option<DealRec> {
    let status = d
        .status
        .text()
        .unwrap_or_else(|| "open".into())
        .to_lowercase();
    if status == "deleted" || d.is_deleted.flag() == Some(true) || !r.in_pipelines(&d.pipeline_id) {
        return None;
    }
    let (stage, close_date) = match status.as_str() {
        "won" => (
            WON.to_string(),
            d.won_time.when().or_else(|| d.close_time.when()),
        ),
        "lost" => (
            LOST.to_string(),
            d.lost_time.when().or_else(|| d.close_time.when()),
        ),
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
    })
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
}
