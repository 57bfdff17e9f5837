//! HubSpot records → canonical records, as MAPPING.md says (with the
//! `[source.hubspot]` overrides). Pure: every conversion is unit-tested
//! here — properties arrive as strings, dates as instants, call durations
//! in milliseconds, meeting durations as start and end.

use super::api::{Object, Owner, Pipeline};
use crate::config::{HubspotMapping, Lookup};
use crate::snapshot::{ActivityKind, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{category, ActivityRec, DealRec, LeadRec, Mapped};
use crate::source::wire::{Field, Read};
use anyhow::{anyhow, Result};
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
        })
    }
}

pub fn map(raw: Raw, r: &Rules) -> Mapped {
    let mut seen = HashSet::new();
    let reps = (raw.owners.iter().map(|o| (o, true)))
        .chain(raw.archived_owners.iter().map(|o| (o, false)))
        .filter_map(|(o, active)| rep(o, active))
        .filter(|rep| seen.insert(rep.id.clone()))
        .collect();
    let activities = (raw.calls.iter().map(|o| Some(call(o, r))))
        .chain(raw.meetings.iter().map(|o| Some(meeting(o, r))))
        .chain(raw.emails.iter().map(email))
        .chain(raw.tasks.iter().map(|o| Some(task(o, r))))
        .flatten()
        .collect();
    Mapped {
        reps,
        stages: stages(&raw.pipelines, r),
        deals: raw.deals.iter().filter_map(|o| deal(o, r)).collect(),
        activities,
        leads: raw.contacts.iter().map(|o| lead(o, r)).collect(),
    }
}

/// An owner; queues own no deals of their own and are left out.
pub fn rep(o: &Owner, active: bool) -> Option<Rep> {
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
    Some(Rep {
        name: Some(full)
            .filter(|n| !n.is_empty())
            .or_else(|| email.clone())
            .unwrap_or_else(|| id.clone()),
        email,
        start_date: None,
        team: None,
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
    Some(DealRec {
        id: o.id.text().unwrap_or_default(),
        name: o.text("dealname").unwrap_or_default(),
        owner: o.text("hubspot_owner_id"),
        amount: o.prop("amount").number(),
        stage: o.text("dealstage").unwrap_or_default(),
        created_at: o.prop("createdate").when().or_else(|| o.created_at.when()),
        close_date: date_if_utc_midnight(o.prop("closedate").when()),
        forecast_category: category(o.text(&r.forecast_property), &r.categories),
        currency: r.currency_property.as_ref().and_then(|p| o.text(p)),
    })
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

fn engagement(o: &Object, kind: ActivityKind, at: Read<When>) -> ActivityRec {
    ActivityRec {
        id: o.id.text().unwrap_or_default(),
        owner: o.text("hubspot_owner_id"),
        kind,
        at: at.or_else(|| o.created_at.when()),
        duration_minutes: Read::Missing,
        outcome: None,
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
        let r = rep(&o, false).unwrap();
        assert_eq!(
            (r.id.as_str(), r.name.as_str(), r.active),
            ("512345678", "Ana Rep", false)
        );
        assert_eq!(r.email.as_deref(), Some("ana.rep@example.com"));
        let no_name: Owner =
            serde_json::from_value(json!({"id": 7, "email": "x@example.com"})).unwrap();
        assert_eq!(rep(&no_name, true).unwrap().name, "x@example.com");
        let queue: Owner = serde_json::from_value(json!({"id": "8", "type": "QUEUE"})).unwrap();
        assert!(rep(&queue, true).is_none());
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
}
