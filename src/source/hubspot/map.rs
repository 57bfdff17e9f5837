//! HubSpot records → canonical records, as MAPPING.md says (with the
//! `[source.hubspot]` overrides). Pure: every conversion is unit-tested
//! here — properties arrive as strings, dates as instants, call durations
//! in milliseconds, meeting durations as start and end, property versions
//! newest first, an engagement's deals as associated ids, an owner's team
//! in its `teams` list.

use super::api::{Object, Owner, Pipeline};
use crate::config::{HubspotMapping, Lookup};
use crate::snapshot::{ActivityKind, DealType, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{
    category, deal_type, history, ActivityRec, DealRec, EntryRec, LeadRec, Mapped, Set,
};
use crate::source::wire::{Field, Read};
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashSet;

/// Everything pulled, as HubSpot sent it.
#[derive(Default)]
pub struct Raw {
    pub owners: Vec<Owner>,
    pub archived_owners: Vec<Owner>,
    pub pipelines: Vec<Pipeline>,
    pub deals: Vec<Object>,
    pub calls: Vec<Object>,
    pub meetings: Vec<Object>,
    pub emails: Vec<Object>,
    pub tasks: Vec<Object>,
    pub contacts: Vec<Object>,
}

/// `[source.hubspot]`, resolved.
pub struct Rules {
    pub pipelines: Option<HashSet<String>>,
    pub forecast_property: String,
    pub categories: Lookup<ForecastCategory>,
    pub currency_property: Option<String>,
    pub first_response: Vec<String>,
    pub score_property: Option<String>,
    pub task_kinds: Lookup<ActivityKind>,
    pub activity_kinds: Lookup<ActivityKind>,
    pub deal_type_property: Option<String>,
    pub deal_types: Lookup<DealType>,
    /// Read `propertiesWithHistory` into deal history.
    pub history: bool,
    pub rep_teams: bool,
}

/// The deal properties asked with their history (`propertiesWithHistory`).
pub fn history_properties(m: &HubspotMapping) -> Vec<&str> {
    let mut props = vec!["dealstage", "amount", "closedate"];
    if !props.contains(&m.forecast_category_property.as_str()) {
        props.push(&m.forecast_category_property);
    }
    props
}

impl Rules {
    pub fn new(m: &HubspotMapping) -> Result<Rules> {
        let bad = |e: Vec<String>| anyhow!(e.join("; "));
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Rules {
            pipelines: (!m.pipelines.is_empty()).then(|| m.pipelines.iter().cloned().collect()),
            forecast_property: m.forecast_category_property.clone(),
            categories: m.categories().map_err(bad)?,
            currency_property: some(&m.currency_property),
            first_response: m.first_response_properties.clone(),
            score_property: some(&m.score_property),
            task_kinds: m.task_kinds().map_err(bad)?,
            activity_kinds: m.activity_kinds().map_err(bad)?,
            deal_type_property: some(&m.deal_type_property),
            deal_types: m.deal_types().map_err(bad)?,
            history: m.history,
            rep_teams: m.rep_teams,
        })
    }
}

pub fn map(raw: Raw, r: &Rules) -> Mapped {
    let mut seen = HashSet::new();
    let reps = (raw.owners.iter().map(|o| (o, true)))
        .chain(raw.archived_owners.iter().map(|o| (o, false)))
        .filter_map(|(o, active)| rep(o, active, r.rep_teams))
        .filter(|rep| seen.insert(rep.id.clone()))
        .collect();
    let activities = (raw.calls.iter().map(|o| Some(call(o, r))))
        .chain(raw.meetings.iter().map(|o| Some(meeting(o, r))))
        .chain(raw.emails.iter().map(email))
        .chain(raw.tasks.iter().map(|o| Some(task(o, r))))
        .flatten()
        .collect();
    let mut notes = Vec::new();
    let untimed = if r.history {
        raw.deals
            .iter()
            .flat_map(|o| o.history.values().flatten())
            .filter(|v| instant(&v.timestamp).is_none())
            .count()
    } else {
        0
    };
    if untimed > 0 {
        notes.push(format!(
            "hubspot: {untimed} deal property version(s) have no readable timestamp and are left out of the deals' history"
        ));
    }
    Mapped {
        reps,
        stages: stages(&raw.pipelines, r),
        deals: raw.deals.iter().filter_map(|o| deal(o, r)).collect(),
        activities,
        leads: raw.contacts.iter().map(|o| lead(o, r)).collect(),
        notes,
    }
}

fn instant(f: &Field) -> Option<DateTime<Utc>> {
    match f.when() {
        Read::Ok(When::Instant(t)) => Some(t),
        _ => None,
    }
}

/// An owner; queues own no deals of their own and are left out. Its team
/// (with `teams`): the primary one of its `teams`, else the first.
pub fn rep(o: &Owner, active: bool, teams: bool) -> Option<Rep> {
    if o.kind
        .text()
        .is_some_and(|k| k.eq_ignore_ascii_case("QUEUE"))
    {
        return None;
    }
    let id = o.id.text()?;
    let full = [o.first_name.text(), o.last_name.text()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let email = o.email.text();
    let team = o
        .teams
        .iter()
        .find(|t| t.primary.flag() == Some(true))
        .or(o.teams.first())
        .and_then(|t| t.name.text())
        .filter(|_| teams);
    Some(Rep {
        name: Some(full)
            .filter(|n| !n.is_empty())
            .or_else(|| email.clone())
            .unwrap_or_else(|| id.clone()),
        email,
        start_date: None,
        team,
        active,
        id,
    })
}

fn order_of(f: &Field) -> i64 {
    f.number()
        .ok()
        .and_then(|d| i64::try_from(d.trunc()).ok())
        .unwrap_or(0)
}

/// Every stage of the chosen pipelines, numbered in pipeline then stage
/// display order; closed = `isClosed` is "true"; won = closed with
/// probability 1.
pub fn stages(pipelines: &[Pipeline], r: &Rules) -> Vec<Stage> {
    let mut ps: Vec<&Pipeline> = pipelines
        .iter()
        .filter(|p| {
            r.pipelines
                .as_ref()
                .is_none_or(|set| p.id.text().is_some_and(|id| set.contains(&id)))
        })
        .collect();
    ps.sort_by_key(|p| order_of(&p.display_order));
    let mut out = Vec::new();
    for p in ps {
        let mut stages: Vec<_> = p.stages.iter().collect();
        stages.sort_by_key(|s| order_of(&s.display_order));
        for s in stages {
            let Some(id) = s.id.text() else { continue };
            let meta = |k: &str| s.metadata.get(k).cloned().unwrap_or_default();
            let probability = meta("probability").number().ok().unwrap_or_default();
            let closed = meta("isClosed").flag().unwrap_or(false);
            out.push(Stage {
                label: s.label.text().unwrap_or_else(|| id.clone()),
                probability,
                order: out.len() as i64 + 1,
                closed,
                won: closed && probability == Decimal::ONE,
                id,
            });
        }
    }
    out
}

/// A deal of a chosen pipeline. `closedate` is read as a local date: HubSpot
/// stores a date picked in its UI as midnight UTC, which is that calendar
/// day wherever the report is; any other time stays an instant, whose local
/// date the report's zone decides.
pub fn deal(o: &Object, r: &Rules) -> Option<DealRec> {
    if let Some(set) = &r.pipelines {
        if !o.text("pipeline").is_some_and(|p| set.contains(&p)) {
            return None;
        }
    }
    let created_at = o.prop("createdate").when().or_else(|| o.created_at.when());
    let created = match &created_at {
        Read::Ok(When::Instant(t)) => Some(*t),
        _ => None,
    };
    Some(DealRec {
        id: o.id.text().unwrap_or_default(),
        name: o.text("dealname").unwrap_or_default(),
        owner: o.text("hubspot_owner_id"),
        amount: o.prop("amount").number(),
        stage: o.text("dealstage").unwrap_or_default(),
        created_at,
        close_date: date_if_utc_midnight(o.prop("closedate").when()),
        forecast_category: category(o.text(&r.forecast_property), &r.categories),
        currency: r.currency_property.as_ref().and_then(|p| o.text(p)),
        deal_type: r
            .deal_type_property
            .as_ref()
            .map_or(Read::Missing, |p| deal_type(o.text(p), &r.deal_types)),
        history: if r.history {
            deal_history(o, r, created)
        } else {
            Vec::new()
        },
    })
}

/// A deal's history from its property versions (MAPPING.md "deal
/// history"): each version is part of the entry at its timestamp (versions
/// at the same millisecond share one), oldest first whatever order HubSpot
/// sends (newest first); the oldest version of a property is the value the
/// deal was created with, at `created`. Values read as the current ones; a
/// version without a readable timestamp is left out (`map` notes them), and
/// so is an emptied close date (a deal always has one).
pub fn deal_history(o: &Object, r: &Rules, created: Option<DateTime<Utc>>) -> Vec<EntryRec> {
    let mut sets = Vec::new();
    let convert = |name: &str, v: &Field| -> Option<Set> {
        match name {
            "dealstage" => v.text().map(Set::Stage),
            "amount" => Some(Set::Amount(v.number())),
            "closedate" => {
                let w = date_if_utc_midnight(v.when());
                (!w.is_missing()).then_some(Set::CloseDate(w))
            }
            _ => Some(Set::Category(category(v.text(), &r.categories))),
        }
    };
    for name in ["dealstage", "amount", "closedate", &r.forecast_property] {
        let Some(versions) = o.history.get(name) else {
            continue;
        };
        let mut timed: Vec<(DateTime<Utc>, &Field)> = versions
            .iter()
            .rev()
            .filter_map(|v| Some((instant(&v.timestamp)?, &v.value)))
            .collect();
        timed.sort_by_key(|(t, _)| *t);
        for (i, (t, value)) in timed.into_iter().enumerate() {
            let at = if i == 0 { created.unwrap_or(t) } else { t };
            if let Some(set) = convert(name, value) {
                sets.push((at, set));
            }
        }
    }
    history(sets)
}

/// Midnight UTC is HubSpot's way of storing a bare date.
fn date_if_utc_midnight(w: Read<When>) -> Read<When> {
    match w {
        Read::Ok(When::Instant(t)) if t.time() == chrono::NaiveTime::MIN => {
            Read::Ok(When::Date(t.date_naive()))
        }
        other => other,
    }
}

/// An engagement; its deal is the first id under `associations.deals`
/// (an id may be listed once per association label).
fn engagement(o: &Object, kind: ActivityKind, at: Read<When>) -> ActivityRec {
    ActivityRec {
        id: o.id.text().unwrap_or_default(),
        owner: o.text("hubspot_owner_id"),
        kind,
        at: at.or_else(|| o.created_at.when()),
        duration_minutes: Read::Missing,
        outcome: None,
        deal_id: o
            .associations
            .get("deals")
            .and_then(|a| a.results.iter().find_map(|d| d.id.text())),
    }
}

fn typed(o: &Object, r: &Rules, default: ActivityKind) -> ActivityKind {
    o.text("hs_activity_type")
        .and_then(|t| r.activity_kinds.get(&t))
        .unwrap_or(default)
}

/// A call: at `hs_timestamp`, `hs_call_duration` in milliseconds.
pub fn call(o: &Object, r: &Rules) -> ActivityRec {
    let mut a = engagement(
        o,
        typed(o, r, ActivityKind::Call),
        o.prop("hs_timestamp").when(),
    );
    a.duration_minutes = o
        .prop("hs_call_duration")
        .number()
        .map(|ms| ms / Decimal::from(60_000));
    a
}

/// A meeting: at its start, lasting end − start, outcome lower-cased
/// (RESCHEDULED counts as scheduled).
pub fn meeting(o: &Object, r: &Rules) -> ActivityRec {
    let start = o.prop("hs_meeting_start_time").when();
    let end = o.prop("hs_meeting_end_time").when();
    let mut a = engagement(
        o,
        typed(o, r, ActivityKind::Meeting),
        start.clone().or_else(|| o.prop("hs_timestamp").when()),
    );
    if let (Read::Ok(When::Instant(s)), Read::Ok(When::Instant(e))) = (start, end) {
        if e > s {
            a.duration_minutes = Read::Ok(Decimal::from((e - s).num_seconds()) / Decimal::from(60));
        }
    }
    a.outcome = o
        .text("hs_meeting_outcome")
        .map(|v| match v.to_ascii_uppercase().as_str() {
            "RESCHEDULED" => "scheduled".to_string(),
            _ => v.to_ascii_lowercase(),
        });
    a
}

/// An outgoing email (`hs_email_direction` EMAIL); replies and forwards
/// logged in the CRM are not the rep's activity.
pub fn email(o: &Object) -> Option<ActivityRec> {
    let direction = o.text("hs_email_direction").unwrap_or_default();
    if matches!(direction.as_str(), "INCOMING_EMAIL" | "FORWARDED_EMAIL") {
        return None;
    }
    Some(engagement(
        o,
        ActivityKind::Email,
        o.prop("hs_timestamp").when(),
    ))
}

/// A task: its kind from `hs_task_type` (CALL, EMAIL, LINKED_IN, else task).
pub fn task(o: &Object, r: &Rules) -> ActivityRec {
    let kind = o
        .text("hs_task_type")
        .and_then(|t| r.task_kinds.get(&t))
        .unwrap_or(ActivityKind::Task);
    engagement(o, kind, o.prop("hs_timestamp").when())
}

/// A contact as a lead: first response from the first of the configured
/// properties that is set; a HubSpot score when there is one.
pub fn lead(o: &Object, r: &Rules) -> LeadRec {
    let first_response = r
        .first_response
        .iter()
        .map(|p| o.prop(p).when())
        .find(|v| !v.is_missing())
        .unwrap_or(Read::Missing);
    LeadRec {
        id: o.id.text().unwrap_or_default(),
        owner: o.text("hubspot_owner_id"),
        created_at: o.prop("createdate").when().or_else(|| o.created_at.when()),
        first_response_at: first_response,
        score: r
            .score_property
            .as_ref()
            .map_or(Read::Missing, |p| o.prop(p).number()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};
    use serde_json::json;

    fn rules() -> Rules {
        Rules::new(&HubspotMapping::default()).unwrap()
    }

    fn object(props: serde_json::Value) -> Object {
        serde_json::from_value(json!({"id": "123", "properties": props,
            "createdAt": "2026-05-01T00:00:00Z", "updatedAt": "2026-05-01T00:00:00Z", "archived": false}))
        .unwrap()
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Read<When> {
        Read::Ok(When::Instant(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap(),
        ))
    }

    #[test]
    fn owners_become_reps() {
        let o: Owner = serde_json::from_value(json!({"id": "512345678", "email": "ana.rep@example.com",
            "type": "PERSON", "firstName": "Ana", "lastName": "Rep", "userId": 9876543, "archived": false}))
        .unwrap();
        let r = rep(&o, false, true).unwrap();
        assert_eq!(
            (r.id.as_str(), r.name.as_str(), r.active),
            ("512345678", "Ana Rep", false)
        );
        assert_eq!(r.email.as_deref(), Some("ana.rep@example.com"));
        let no_name: Owner =
            serde_json::from_value(json!({"id": 7, "email": "x@example.com"})).unwrap();
        assert_eq!(rep(&no_name, true, true).unwrap().name, "x@example.com");
        let queue: Owner = serde_json::from_value(json!({"id": "8", "type": "QUEUE"})).unwrap();
        assert!(rep(&queue, true, true).is_none());
    }

    #[test]
    fn stage_metadata_strings_give_probability_and_flags() {
        let p: Vec<Pipeline> = serde_json::from_value(json!([
            {"id": "second", "displayOrder": 1, "stages": [
                {"id": "s1", "label": "Intro", "displayOrder": 0, "metadata": {"probability": "0.1", "isClosed": "false"}}]},
            {"id": "default", "displayOrder": 0, "stages": [
                {"id": "closedwon", "label": "Closed Won", "displayOrder": 5, "metadata": {"isClosed": "true", "probability": "1.0"}},
                {"id": "closedlost", "label": "Closed Lost", "displayOrder": 6, "metadata": {"isClosed": "true", "probability": "0.0"}},
                {"id": "appointmentscheduled", "label": "Appointment Scheduled", "displayOrder": 0,
                 "metadata": {"isClosed": "false", "probability": "0.2"}}]}
        ]))
        .unwrap();
        let s = stages(&p, &rules());
        let got: Vec<(&str, String, i64, bool, bool)> = s
            .iter()
            .map(|s| {
                (
                    s.id.as_str(),
                    s.probability.to_string(),
                    s.order,
                    s.closed,
                    s.won,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("appointmentscheduled", "0.2".into(), 1, false, false),
                ("closedwon", "1.0".into(), 2, true, true),
                ("closedlost", "0.0".into(), 3, true, false),
                ("s1", "0.1".into(), 4, false, false),
            ]
        );
        let only = Rules {
            pipelines: Some(["second".to_string()].into()),
            ..rules()
        };
        assert_eq!(stages(&p, &only).len(), 1);
    }

    #[test]
    fn deal_properties_are_strings_and_closedate_a_date() {
        let d = deal(
            &object(json!({"amount": "15000.50", "closedate": "2026-07-31T00:00:00Z",
                "createdate": "2026-05-02T09:15:22.123Z", "dealname": "Acme renewal", "dealstage": "contractsent",
                "hubspot_owner_id": "512345678", "pipeline": "default", "hs_manual_forecast_category": "BEST_CASE",
                "deal_currency_code": "EUR"})),
            &rules(),
        )
        .unwrap();
        assert_eq!(d.amount, Read::Ok(Decimal::new(1500050, 2)));
        // A UI-picked date (midnight UTC) is July 31 in every zone.
        assert_eq!(
            d.close_date,
            Read::Ok(When::Date(
                chrono::NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()
            ))
        );
        let late = deal(
            &object(json!({"closedate": "2026-07-31T22:30:00Z"})),
            &rules(),
        )
        .unwrap();
        assert_eq!(late.close_date, at(2026, 7, 31, 22, 30));
        assert_eq!(d.forecast_category, Read::Ok(ForecastCategory::BestCase));
        assert_eq!(d.currency.as_deref(), Some("EUR"));
        assert_eq!(
            (d.stage.as_str(), d.owner.as_deref()),
            ("contractsent", Some("512345678"))
        );
        match d.created_at {
            Read::Ok(When::Instant(t)) => assert_eq!(t.timestamp_millis() % 1000, 123),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_or_empty_deal_properties() {
        let d = deal(
            &object(
                json!({"amount": "", "dealstage": "appointmentscheduled", "closedate": "2026-07-31",
                           "hubspot_owner_id": null, "deal_currency_code": null}),
            ),
            &rules(),
        )
        .unwrap();
        assert_eq!(d.amount, Read::Missing);
        assert_eq!(d.owner, None);
        assert_eq!(d.forecast_category, Read::Missing);
        assert_eq!(d.currency, None);
        assert_eq!(d.name, "");
        // No createdate: the record's createdAt.
        assert_eq!(d.created_at, at(2026, 5, 1, 0, 0));
        assert_eq!(
            d.close_date,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()))
        );
        let unknown = deal(
            &object(json!({"hs_manual_forecast_category": "MOST_LIKELY"})),
            &rules(),
        )
        .unwrap();
        assert_eq!(unknown.forecast_category, Read::Bad("MOST_LIKELY".into()));
    }

    #[test]
    fn deals_of_other_pipelines_are_left_out() {
        let only = Rules {
            pipelines: Some(["default".to_string()].into()),
            ..rules()
        };
        assert!(deal(&object(json!({"pipeline": "default"})), &only).is_some());
        assert!(deal(&object(json!({"pipeline": "1038553758"})), &only).is_none());
        assert!(deal(&object(json!({})), &only).is_none());
    }

    #[test]
    fn call_duration_is_in_milliseconds() {
        let c = call(
            &object(
                json!({"hs_timestamp": "2026-06-02T10:00:00Z", "hs_call_duration": "420000",
                           "hubspot_owner_id": "512345678", "hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7"}),
            ),
            &rules(),
        );
        assert_eq!(c.kind, ActivityKind::Call);
        assert_eq!(c.duration_minutes, Read::Ok(Decimal::from(7)));
        assert_eq!(c.at, at(2026, 6, 2, 10, 0));
        assert_eq!(c.outcome, None);
        let silent = call(
            &object(json!({"hs_timestamp": "2026-06-02T10:00:00Z"})),
            &rules(),
        );
        assert_eq!(silent.duration_minutes, Read::Missing);
    }

    #[test]
    fn meeting_lasts_end_minus_start_and_outcome_is_lower_case() {
        let m = meeting(
            &object(
                json!({"hs_timestamp": "2026-06-03T15:00:00Z", "hs_meeting_start_time": "2026-06-03T15:00:00Z",
                "hs_meeting_end_time": "2026-06-03T15:45:00Z", "hs_meeting_outcome": "NO_SHOW"}),
            ),
            &rules(),
        );
        assert_eq!(m.duration_minutes, Read::Ok(Decimal::from(45)));
        assert_eq!(m.outcome.as_deref(), Some("no_show"));
        let r = meeting(
            &object(
                json!({"hs_timestamp": "2026-06-03T15:00:00Z", "hs_meeting_outcome": "RESCHEDULED"}),
            ),
            &rules(),
        );
        assert_eq!(r.at, at(2026, 6, 3, 15, 0));
        assert_eq!(r.outcome.as_deref(), Some("scheduled"));
        assert_eq!(r.duration_minutes, Read::Missing);
    }

    #[test]
    fn portal_activity_types_pick_the_kind() {
        let mut m = HubspotMapping::default();
        m.activity_types
            .insert("Training".into(), "training".into());
        let r = Rules::new(&m).unwrap();
        let t = meeting(
            &object(
                json!({"hs_timestamp": "2026-06-03T15:00:00Z", "hs_activity_type": "Training"}),
            ),
            &r,
        );
        assert_eq!(t.kind, ActivityKind::Training);
    }

    #[test]
    fn only_outgoing_emails_count() {
        let out = email(&object(
            json!({"hs_timestamp": "2026-06-02T10:00:00Z", "hs_email_direction": "EMAIL"}),
        ))
        .unwrap();
        assert_eq!(
            (out.kind, out.duration_minutes.clone()),
            (ActivityKind::Email, Read::Missing)
        );
        assert!(email(&object(json!({"hs_email_direction": "INCOMING_EMAIL"}))).is_none());
        assert!(email(&object(json!({"hs_email_direction": "FORWARDED_EMAIL"}))).is_none());
    }

    #[test]
    fn task_types_map_to_kinds() {
        let kind = |t: &str| {
            task(
                &object(json!({"hs_task_type": t, "hs_timestamp": "2026-06-02T10:00:00Z"})),
                &rules(),
            )
            .kind
        };
        assert_eq!(kind("CALL"), ActivityKind::Call);
        assert_eq!(kind("EMAIL"), ActivityKind::Email);
        assert_eq!(kind("LINKED_IN"), ActivityKind::Social);
        assert_eq!(kind("TODO"), ActivityKind::Task);
        assert_eq!(kind("SOMETHING_NEW"), ActivityKind::Task);
    }

    #[test]
    fn contacts_become_leads() {
        let l = lead(
            &object(
                json!({"createdate": "2026-07-01T03:00:00Z", "hubspot_owner_id": "512345678",
                "hs_first_outreach_date": null, "hs_sa_first_engagement_date": "2026-07-01T03:40:00Z",
                "hubspotscore": "14"}),
            ),
            &rules(),
        );
        assert_eq!(l.first_response_at, at(2026, 7, 1, 3, 40));
        assert_eq!(l.score, Read::Ok(Decimal::from(14)));
        assert_eq!(l.owner.as_deref(), Some("512345678"));
        let both = lead(
            &object(
                json!({"createdate": "2026-07-01T03:00:00Z", "hs_first_outreach_date": "2026-07-01T03:10:00Z",
                "hs_sa_first_engagement_date": "2026-07-01T03:40:00Z"}),
            ),
            &rules(),
        );
        assert_eq!(both.first_response_at, at(2026, 7, 1, 3, 10));
        assert_eq!(both.score, Read::Missing);
        assert_eq!(both.owner, None);
    }

    #[test]
    fn an_owners_team_is_its_primary_one_else_the_first() {
        let owner = |teams: serde_json::Value| -> Owner {
            serde_json::from_value(
                json!({"id": "1", "firstName": "Ana", "type": "PERSON", "teams": teams}),
            )
            .unwrap()
        };
        let team = |o: &Owner, on: bool| rep(o, true, on).unwrap().team;
        let two = owner(json!([{"id": "7", "name": "APAC Sales", "primary": false},
                               {"id": "4321", "name": "EMEA Sales", "primary": true}]));
        assert_eq!(team(&two, true).as_deref(), Some("EMEA Sales"));
        let none_primary = owner(json!([{"id": "7", "name": "APAC Sales", "primary": false},
                                        {"id": "8", "name": "Inside", "primary": false}]));
        assert_eq!(team(&none_primary, true).as_deref(), Some("APAC Sales"));
        assert_eq!(team(&owner(json!([])), true), None);
        let no_list: Owner = serde_json::from_value(json!({"id": "2", "type": "PERSON"})).unwrap();
        assert_eq!(team(&no_list, true), None);
        // rep_teams = false: CRM teams are ignored.
        assert_eq!(team(&two, false), None);
    }

    #[test]
    fn deal_types_from_dealtype_and_the_config() {
        let t = |v: serde_json::Value, r: &Rules| {
            deal(&object(json!({"dealtype": v})), r).unwrap().deal_type
        };
        assert_eq!(
            t(json!("newbusiness"), &rules()),
            Read::Ok(DealType::NewBusiness)
        );
        assert_eq!(
            t(json!("existingbusiness"), &rules()),
            Read::Ok(DealType::Upsell)
        );
        assert_eq!(t(json!(null), &rules()), Read::Missing);
        assert_eq!(t(json!(""), &rules()), Read::Missing);
        // A portal's own option, not mapped: untyped, kept for the note.
        assert_eq!(t(json!("renewal"), &rules()), Read::Bad("renewal".into()));
        let mut m = HubspotMapping::default();
        m.deal_types.insert("crosssell".into(), "cross_sell".into());
        m.deal_types.insert("Renewal".into(), "renewal".into());
        let r = Rules::new(&m).unwrap();
        assert_eq!(t(json!("crosssell"), &r), Read::Ok(DealType::CrossSell));
        assert_eq!(t(json!("renewal"), &r), Read::Ok(DealType::Renewal));
        m.deal_type_property = String::new();
        let off = Rules::new(&m).unwrap();
        assert_eq!(t(json!("newbusiness"), &off), Read::Missing);
    }

    fn with_history(history: serde_json::Value) -> Object {
        serde_json::from_value(json!({"id": "9", "properties": {"dealstage": "closedwon", "amount": "15000",
            "closedate": "2026-06-20T00:00:00Z", "createdate": "2026-05-02T09:15:22.123Z",
            "hs_manual_forecast_category": "CLOSED"},
            "propertiesWithHistory": history,
            "createdAt": "2026-05-02T09:15:22.123Z", "updatedAt": "2026-06-20T02:00:00.000Z", "archived": false}))
        .unwrap()
    }

    fn v(value: serde_json::Value, at: &str) -> serde_json::Value {
        json!({"value": value, "timestamp": at, "sourceType": "CRM_UI", "sourceId": "userId:9876543",
               "updatedByUserId": 9876543})
    }

    #[test]
    fn versions_newest_first_become_history_oldest_first() {
        let o = with_history(json!({
            "dealstage": [v(json!("closedwon"), "2026-06-20T02:00:00.000Z"),
                          v(json!("contractsent"), "2026-05-20T11:00:00.000Z"),
                          v(json!("appointmentscheduled"), "2026-05-02T09:15:22.120Z")],
            // First set after creation: read as the value it was created with.
            "amount": [v(json!("15000"), "2026-06-20T02:00:00.000Z"),
                       v(json!(""), "2026-05-20T11:00:00.000Z"),
                       v(json!("12000"), "2026-05-03T08:00:00.000Z")],
            "closedate": [v(json!("2026-06-20T00:00:00Z"), "2026-06-20T02:00:00.000Z"),
                          v(json!("2026-07-31T00:00:00Z"), "2026-05-02T09:15:22.123Z")],
            "hs_manual_forecast_category": []
        }));
        let h = deal(&o, &rules()).unwrap().history;
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let date = |s: &str| Read::Ok(When::Date(s.parse().unwrap()));
        let at: Vec<DateTime<Utc>> = h.iter().map(|e| e.at).collect();
        assert_eq!(
            at,
            vec![
                t("2026-05-02T09:15:22.123Z"),
                t("2026-05-20T11:00:00Z"),
                t("2026-06-20T02:00:00Z")
            ]
        );
        // Oldest versions at createdate (one a few ms before it), together.
        assert_eq!(
            h[0],
            EntryRec {
                at: at[0],
                stage: Some("appointmentscheduled".into()),
                amount: Some(Read::Ok(Decimal::from(12000))),
                close_date: Some(date("2026-07-31")),
                forecast_category: None,
            }
        );
        // "" empties the amount; versions of the same millisecond share an entry.
        assert_eq!(h[1].amount, Some(Read::Missing));
        assert_eq!(h[1].stage.as_deref(), Some("contractsent"));
        assert_eq!(
            (h[2].stage.as_deref(), h[2].close_date.clone()),
            (Some("closedwon"), Some(date("2026-06-20")))
        );
        assert_eq!(h[2].amount, Some(Read::Ok(Decimal::from(15000))));
    }

    #[test]
    fn forecast_category_versions_and_deals_without_versions() {
        let o = with_history(json!({
            "hs_manual_forecast_category": [v(json!("CLOSED"), "2026-06-20T02:00:00.000Z"),
                                            v(json!(""), "2026-06-01T00:00:00.000Z"),
                                            v(json!("BEST_CASE"), "2026-05-02T09:15:22.123Z")],
            "dealstage": [v(json!("closedwon"), "no time")]
        }));
        let h = deal(&o, &rules()).unwrap().history;
        let cats: Vec<Option<Read<ForecastCategory>>> =
            h.iter().map(|e| e.forecast_category.clone()).collect();
        assert_eq!(
            cats,
            vec![
                Some(Read::Ok(ForecastCategory::BestCase)),
                Some(Read::Missing),
                Some(Read::Ok(ForecastCategory::Closed))
            ]
        );
        assert!(h.iter().all(|e| e.stage.is_none()));
        // history = false: versions are not read.
        let off = Rules {
            history: false,
            ..rules()
        };
        assert!(deal(&o, &off).unwrap().history.is_empty());
        let m = map(
            Raw {
                deals: vec![o],
                ..Default::default()
            },
            &rules(),
        );
        assert_eq!(
            m.notes,
            vec!["hubspot: 1 deal property version(s) have no readable timestamp and are left out of the deals' history"]
        );
        assert!(deal(
            &with_history(json!({"dealstage": [], "amount": []})),
            &rules()
        )
        .unwrap()
        .history
        .is_empty());
    }

    #[test]
    fn an_engagement_belongs_to_its_first_associated_deal() {
        let assoc = |a: serde_json::Value| -> Object {
            serde_json::from_value(
                json!({"id": "5", "properties": {"hs_timestamp": "2026-06-02T10:00:00Z",
                "hs_task_type": "CALL"}, "associations": a}),
            )
            .unwrap()
        };
        // The same deal once per association label.
        let t = task(
            &assoc(
                json!({"deals": {"results": [{"id": "1234567890", "type": "task_to_deal"},
                                                {"id": "1234567890", "type": "task_to_deal_unlabeled"},
                                                {"id": "1234567891", "type": "task_to_deal"}]}}),
            ),
            &rules(),
        );
        assert_eq!(t.deal_id.as_deref(), Some("1234567890"));
        assert_eq!(
            task(&assoc(json!({"deals": {"results": []}})), &rules()).deal_id,
            None
        );
        assert_eq!(
            task(
                &assoc(
                    json!({"companies": {"results": [{"id": "77", "type": "task_to_company"}]}})
                ),
                &rules()
            )
            .deal_id,
            None
        );
        assert_eq!(call(&object(json!({})), &rules()).deal_id, None);
    }
}
