//! Salesforce records → canonical records, as MAPPING.md says (with the
//! `[source.salesforce]` overrides). Pure and unit-tested: probabilities
//! arrive as percents (0–100), datetimes as `…000+0000`, dates bare,
//! opportunities name their stage by label, and a lead's first response is
//! the earliest Task or Event logged on it.

use super::api::{get, text, Record};
use crate::config::{Lookup, SalesforceMapping};
use crate::snapshot::{ActivityKind, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{category, ActivityRec, DealRec, LeadRec, Mapped};
use crate::source::wire::Read;
use anyhow::{anyhow, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::HashMap;

#[derive(Default)]
pub struct Raw {
    pub users: Vec<Record>,
    pub stages: Vec<Record>,
    pub opportunities: Vec<Record>,
    pub tasks: Vec<Record>,
    pub events: Vec<Record>,
    pub leads: Vec<Record>,
}

/// `[source.salesforce]`, resolved.
pub struct Rules {
    pub forecast_field: String,
    pub categories: Lookup<ForecastCategory>,
    pub currency_field: Option<String>,
    pub kinds: Lookup<ActivityKind>,
    pub first_response_field: Option<String>,
    pub score_field: Option<String>,
}

fn some(s: &str) -> Option<String> {
    Some(s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Rules {
    pub fn new(m: &SalesforceMapping) -> Result<Rules> {
        let bad = |e: Vec<String>| anyhow!(e.join("; "));
        Ok(Rules {
            forecast_field: m.forecast_category_field.clone(),
            categories: m.categories().map_err(bad)?,
            currency_field: some(&m.currency_field),
            kinds: m.activity_kinds().map_err(bad)?,
            first_response_field: some(&m.first_response_field),
            score_field: some(&m.score_field),
        })
    }
}

pub fn map(raw: Raw, r: &Rules) -> Mapped {
    let (stages, by_name) = stages(&raw.stages);
    let first = first_touches(raw.tasks.iter().chain(&raw.events));
    let activities = (raw.tasks.iter().map(|t| activity(t, false, r)))
        .chain(raw.events.iter().map(|e| activity(e, true, r)))
        .collect();
    Mapped {
        reps: raw.users.iter().filter_map(rep).collect(),
        stages,
        deals: raw
            .opportunities
            .iter()
            .map(|o| deal(o, &by_name, r))
            .collect(),
        activities,
        leads: raw.leads.iter().map(|l| lead(l, r, &first)).collect(),
    }
}

pub fn rep(u: &Record) -> Option<Rep> {
    let id = text(u, "Id")?;
    let name = text(u, "Name").or_else(|| {
        let parts: Vec<String> = [text(u, "FirstName"), text(u, "LastName")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    Some(Rep {
        name: name.unwrap_or_else(|| id.clone()),
        email: text(u, "Email"),
        start_date: None,
        team: None,
        active: get(u, "IsActive").flag().unwrap_or(true),
        id,
    })
}

/// Stages in `SortOrder`; the id is the API name (or the label), and both
/// name the stage for opportunities, whose `StageName` holds one of them.
pub fn stages(records: &[Record]) -> (Vec<Stage>, HashMap<String, String>) {
    let mut recs: Vec<&Record> = records.iter().collect();
    recs.sort_by_key(|s| get(s, "SortOrder").number().ok().unwrap_or(Decimal::MAX));
    let mut out = Vec::new();
    let mut by_name = HashMap::new();
    for s in recs {
        let label = text(s, "MasterLabel");
        let Some(id) = text(s, "ApiName").or_else(|| label.clone()) else {
            continue;
        };
        if by_name.contains_key(&id) {
            continue;
        }
        for name in [Some(id.clone()), label.clone()].into_iter().flatten() {
            by_name
                .entry(name.to_lowercase())
                .or_insert_with(|| id.clone());
            by_name.insert(name, id.clone());
        }
        out.push(Stage {
            label: label.unwrap_or_else(|| id.clone()),
            probability: get(s, "DefaultProbability")
                .number()
                .ok()
                .unwrap_or_default()
                / Decimal::from(100),
            order: out.len() as i64 + 1,
            closed: get(s, "IsClosed").flag().unwrap_or(false),
            won: get(s, "IsWon").flag().unwrap_or(false),
            id,
        });
    }
    (out, by_name)
}

pub fn deal(o: &Record, stages: &HashMap<String, String>, r: &Rules) -> DealRec {
    let stage_name = text(o, "StageName").unwrap_or_default();
    let stage = stages
        .get(&stage_name)
        .or_else(|| stages.get(&stage_name.to_lowercase()))
        .cloned()
        .unwrap_or(stage_name);
    DealRec {
        id: text(o, "Id").unwrap_or_default(),
        name: text(o, "Name").unwrap_or_default(),
        owner: text(o, "OwnerId"),
        amount: get(o, "Amount").number(),
        stage,
        created_at: get(o, "CreatedDate").when(),
        close_date: get(o, "CloseDate").when(),
        forecast_category: category(text(o, &r.forecast_field), &r.categories),
        currency: r.currency_field.as_ref().and_then(|f| text(o, f)),
    }
}

/// A Task or an Event. Kind: `Type` if it is listed, else the subtype,
/// else a task (an Event: a meeting). When: an event when it starts; a
/// task on its `ActivityDate` (a date: the start of that local day), else
/// when it was created — not `CompletedDateTime`, when it was marked done,
/// which for a logged call is after the call and often the next day.
/// Duration: an event's minutes; a call task's `CallDurationInSeconds`.
pub fn activity(a: &Record, event: bool, r: &Rules) -> ActivityRec {
    let subtype = if event { "EventSubtype" } else { "TaskSubtype" };
    let kind = [text(a, "Type"), text(a, subtype)]
        .into_iter()
        .flatten()
        .find_map(|t| r.kinds.get(&t))
        .unwrap_or(if event {
            ActivityKind::Meeting
        } else {
            ActivityKind::Task
        });
    let times: &[&str] = if event {
        &[
            "ActivityDateTime",
            "StartDateTime",
            "ActivityDate",
            "CreatedDate",
        ]
    } else {
        &["ActivityDate", "CreatedDate"]
    };
    let at = times
        .iter()
        .map(|f| get(a, f).when())
        .find(|w| !w.is_missing())
        .unwrap_or(Read::Missing);
    let duration = if event {
        get(a, "DurationInMinutes").number()
    } else if kind == ActivityKind::Call {
        get(a, "CallDurationInSeconds")
            .number()
            .map(|s| s / Decimal::from(60))
    } else {
        Read::Missing
    };
    ActivityRec {
        id: text(a, "Id").unwrap_or_default(),
        owner: text(a, "OwnerId"),
        kind,
        at,
        duration_minutes: duration,
        outcome: None,
    }
}

/// The earliest `CreatedDate` of the Tasks and Events on each person
/// (`WhoId`): a lead's first touch.
pub fn first_touches<'a>(acts: impl Iterator<Item = &'a Record>) -> HashMap<String, DateTime<Utc>> {
    let mut first: HashMap<String, DateTime<Utc>> = HashMap::new();
    for a in acts {
        let (Some(who), Read::Ok(When::Instant(t))) =
            (text(a, "WhoId"), get(a, "CreatedDate").when())
        else {
            continue;
        };
        first
            .entry(who)
            .and_modify(|f| *f = (*f).min(t))
            .or_insert(t);
    }
    first
}

/// A lead; a queue (id 00G…) is no owner.
pub fn lead(l: &Record, r: &Rules, first: &HashMap<String, DateTime<Utc>>) -> LeadRec {
    let id = text(l, "Id").unwrap_or_default();
    let first_response = match &r.first_response_field {
        Some(f) => get(l, f).when(),
        None => first
            .get(&id)
            .map_or(Read::Missing, |t| Read::Ok(When::Instant(*t))),
    };
    LeadRec {
        owner: text(l, "OwnerId").filter(|o| !o.starts_with("00G")),
        created_at: get(l, "CreatedDate").when(),
        first_response_at: first_response,
        score: r
            .score_field
            .as_ref()
            .map_or(Read::Missing, |f| get(l, f).number()),
        id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};
    use serde_json::json;

    fn rec(v: serde_json::Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn rules() -> Rules {
        Rules::new(&SalesforceMapping::default()).unwrap()
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> Read<When> {
        Read::Ok(When::Instant(
            Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap(),
        ))
    }

    fn stage_records() -> Vec<Record> {
        vec![
            rec(
                json!({"attributes": {"type": "OpportunityStage"}, "ApiName": "Closed Won", "MasterLabel": "Closed Won",
                       "DefaultProbability": 100.0, "IsClosed": true, "IsWon": true, "SortOrder": 9}),
            ),
            rec(
                json!({"attributes": {"type": "OpportunityStage"}, "ApiName": "Negotiation", "MasterLabel": "Negotiation/Review",
                       "DefaultProbability": 90.0, "IsClosed": false, "IsWon": false, "SortOrder": 7}),
            ),
        ]
    }

    #[test]
    fn stage_probability_is_a_percent() {
        let (s, by_name) = stages(&stage_records());
        assert_eq!(s[0].id, "Negotiation");
        assert_eq!(s[0].label, "Negotiation/Review");
        assert_eq!(s[0].probability, Decimal::new(9, 1));
        assert_eq!((s[0].order, s[0].closed, s[0].won), (1, false, false));
        assert_eq!(s[1].probability, Decimal::ONE);
        assert!(s[1].won && s[1].closed);
        assert_eq!(by_name["Negotiation/Review"], "Negotiation");
        assert_eq!(by_name["negotiation/review"], "Negotiation");
    }

    #[test]
    fn opportunity_fields() {
        let (_, by_name) = stages(&stage_records());
        let d = deal(
            &rec(
                json!({"attributes": {"type": "Opportunity", "url": "/services/data/v62.0/sobjects/Opportunity/006XX000004TmiQYAS"},
                "Id": "006XX000004TmiQYAS", "Name": "Acme renewal", "Amount": 15000.0, "StageName": "Negotiation/Review",
                "CloseDate": "2026-07-31", "CreatedDate": "2026-05-02T09:15:22.000+0000", "IsClosed": false, "IsWon": false,
                "Probability": 90.0, "ForecastCategory": "Forecast", "ForecastCategoryName": "Commit", "OwnerId": "005XX000001SvW1YAK"}),
            ),
            &by_name,
            &rules(),
        );
        assert_eq!(d.stage, "Negotiation");
        assert_eq!(d.amount, Read::Ok(Decimal::from(15000)));
        assert_eq!(d.created_at, at(2026, 5, 2, 9, 15, 22));
        assert_eq!(
            d.close_date,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()))
        );
        assert_eq!(d.forecast_category, Read::Ok(ForecastCategory::Commit));
        assert_eq!(d.owner.as_deref(), Some("005XX000001SvW1YAK"));
        assert_eq!(d.currency, None);
        let bare = deal(
            &rec(json!({"Id": "006A", "StageName": "Unknown", "Amount": null,
                                    "ForecastCategoryName": "Best Case"})),
            &by_name,
            &rules(),
        );
        assert_eq!(bare.stage, "Unknown");
        assert_eq!(bare.amount, Read::Missing);
        assert_eq!(bare.forecast_category, Read::Ok(ForecastCategory::BestCase));
        assert_eq!(bare.close_date, Read::Missing);
    }

    #[test]
    fn tasks_and_events_become_activities() {
        let r = rules();
        // Marked done the next day: the call keeps its ActivityDate.
        let call = activity(
            &rec(
                json!({"Id": "00T1", "OwnerId": "005A", "Type": "Call", "TaskSubtype": "Call",
            "ActivityDate": "2026-06-02", "CompletedDateTime": "2026-06-03T00:31:00.000+0000",
            "CreatedDate": "2026-06-03T00:30:00.000+0000", "CallDurationInSeconds": 420}),
            ),
            false,
            &r,
        );
        assert_eq!(call.kind, ActivityKind::Call);
        assert_eq!(
            call.at,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()))
        );
        assert_eq!(call.duration_minutes, Read::Ok(Decimal::from(7)));
        let subtype = activity(
            &rec(
                json!({"Id": "00T2", "Type": null, "TaskSubtype": "Email", "ActivityDate": "2026-06-02"}),
            ),
            false,
            &r,
        );
        assert_eq!(subtype.kind, ActivityKind::Email);
        assert_eq!(
            subtype.at,
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()))
        );
        assert_eq!(subtype.duration_minutes, Read::Missing);
        // No due date: when it was logged. Only calls have a duration.
        let other = activity(
            &rec(
                json!({"Id": "00T3", "Type": "Other", "TaskSubtype": "Task", "ActivityDate": null,
                "CreatedDate": "2026-06-02T08:00:00.000+0000", "CallDurationInSeconds": 600}),
            ),
            false,
            &r,
        );
        assert_eq!(other.kind, ActivityKind::Task);
        assert_eq!(other.at, at(2026, 6, 2, 8, 0, 0));
        assert_eq!(other.duration_minutes, Read::Missing);
        let meeting = activity(
            &rec(
                json!({"Id": "00U1", "OwnerId": "005A", "Type": null, "EventSubtype": "Event",
            "ActivityDateTime": "2026-06-03T15:00:00.000+0000", "DurationInMinutes": 45}),
            ),
            true,
            &r,
        );
        assert_eq!(meeting.kind, ActivityKind::Meeting);
        assert_eq!(meeting.duration_minutes, Read::Ok(Decimal::from(45)));
        assert_eq!(meeting.at, at(2026, 6, 3, 15, 0, 0));
        let event_call = activity(
            &rec(
                json!({"Id": "00U2", "Type": "Call", "ActivityDateTime": "2026-06-03T15:00:00.000+0000"}),
            ),
            true,
            &r,
        );
        assert_eq!(event_call.kind, ActivityKind::Call);
    }

    #[test]
    fn configured_types_add_kinds() {
        let mut m = SalesforceMapping::default();
        m.activity_types.insert("LinkedIn".into(), "social".into());
        let r = Rules::new(&m).unwrap();
        let a = activity(&rec(json!({"Id": "00T4", "Type": "linkedin"})), false, &r);
        assert_eq!(a.kind, ActivityKind::Social);
    }

    #[test]
    fn first_response_is_the_earliest_task_or_event_on_the_lead() {
        let acts = [
            rec(
                json!({"Id": "00T1", "WhoId": "00Q1", "CreatedDate": "2026-07-01T05:00:00.000+0000"}),
            ),
            rec(
                json!({"Id": "00U1", "WhoId": "00Q1", "CreatedDate": "2026-07-01T03:40:00.000+0000"}),
            ),
            rec(
                json!({"Id": "00T2", "WhoId": "003C", "CreatedDate": "2026-07-01T01:00:00.000+0000"}),
            ),
        ];
        let first = first_touches(acts.iter());
        let l = lead(
            &rec(
                json!({"Id": "00Q1", "OwnerId": "005A", "CreatedDate": "2026-07-01T03:00:00.000+0000"}),
            ),
            &rules(),
            &first,
        );
        assert_eq!(l.first_response_at, at(2026, 7, 1, 3, 40, 0));
        assert_eq!(l.created_at, at(2026, 7, 1, 3, 0, 0));
        assert_eq!(l.owner.as_deref(), Some("005A"));
        let queued = lead(
            &rec(
                json!({"Id": "00Q2", "OwnerId": "00G5", "CreatedDate": "2026-07-01T03:00:00.000+0000"}),
            ),
            &rules(),
            &first,
        );
        assert_eq!(
            (queued.owner, queued.first_response_at),
            (None, Read::Missing)
        );
    }

    #[test]
    fn configured_lead_fields() {
        let m = SalesforceMapping {
            first_response_field: "First_Response__c".into(),
            score_field: "Score__c".into(),
            ..Default::default()
        };
        let r = Rules::new(&m).unwrap();
        let l = lead(
            &rec(
                json!({"Id": "00Q1", "CreatedDate": "2026-07-01T03:00:00.000+0000",
            "First_Response__c": "2026-07-01T03:10:00.000+0000", "score__c": 14}),
            ),
            &r,
            &HashMap::new(),
        );
        assert_eq!(l.first_response_at, at(2026, 7, 1, 3, 10, 0));
        assert_eq!(l.score, Read::Ok(Decimal::from(14)));
    }

    #[test]
    fn users_become_reps() {
        let u = rep(&rec(
            json!({"attributes": {"type": "User"}, "Id": "005A", "Name": "Ana Rep",
                                "Email": "ana@example.com", "IsActive": false}),
        ))
        .unwrap();
        assert_eq!(
            (u.id.as_str(), u.name.as_str(), u.active),
            ("005A", "Ana Rep", false)
        );
    }
}
