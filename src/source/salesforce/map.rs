//! Salesforce records → canonical records, as MAPPING.md says (with the
//! `[source.salesforce]` overrides). Pure and unit-tested: probabilities
//! arrive as percents (0–100), datetimes as `…000+0000`, dates bare,
//! opportunities name their stage by label, a lead's first response is
//! the earliest Task or Event logged on it, an activity's opportunity is
//! its `WhatId` when that is an Opportunity id, and a deal's history is its
//! OpportunityHistory rows, each with the full values of its time.

use super::api::{get, text, Record};
use crate::config::{Lookup, SalesforceMapping};
use crate::snapshot::{ActivityKind, DealType, ForecastCategory, Rep, Stage, When};
use crate::source::canonical::{
    category, deal_type, history, ActivityRec, DealRec, EntryRec, LeadRec, Mapped, Set,
};
use crate::source::wire::{Field, Read};
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
    /// OpportunityHistory rows (none without `history`).
    pub history: Vec<Record>,
}

/// The key prefix of Opportunity ids.
const OPPORTUNITY: &str = "006";

/// `[source.salesforce]`, resolved.
pub struct Rules {
    pub forecast_field: String,
    pub categories: Lookup<ForecastCategory>,
    pub currency_field: Option<String>,
    pub kinds: Lookup<ActivityKind>,
    pub first_response_field: Option<String>,
    pub score_field: Option<String>,
    pub deal_type_field: Option<String>,
    pub deal_types: Lookup<DealType>,
    pub team_field: Option<String>,
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
            deal_type_field: some(&m.deal_type_field),
            deal_types: m.deal_types().map_err(bad)?,
            team_field: some(&m.team_field),
        })
    }
}

pub fn map(raw: Raw, r: &Rules) -> Mapped {
    let (stages, by_name) = stages(&raw.stages);
    let first = first_touches(raw.tasks.iter().chain(&raw.events));
    let activities = (raw.tasks.iter().map(|t| activity(t, false, r)))
        .chain(raw.events.iter().map(|e| activity(e, true, r)))
        .collect();
    let mut rows: HashMap<String, Vec<&Record>> = HashMap::new();
    let mut untimed = 0;
    for h in &raw.history {
        match (text(h, "OpportunityId"), instant(h)) {
            (Some(id), Some(_)) => rows.entry(id).or_default().push(h),
            _ => untimed += 1,
        }
    }
    let mut notes = Vec::new();
    if untimed > 0 {
        notes.push(format!(
            "salesforce: {untimed} OpportunityHistory row(s) have no opportunity or no readable CreatedDate and are left out of the deals' history"
        ));
    }
    let deals = raw
        .opportunities
        .iter()
        .map(|o| {
            let mut d = deal(o, &by_name, r);
            if let Some(rows) = rows.get(&d.id) {
                d.history = deal_history(rows, &by_name, r);
            }
            d
        })
        .collect();
    Mapped {
        reps: raw.users.iter().filter_map(|u| rep(u, r)).collect(),
        stages,
        deals,
        activities,
        leads: raw.leads.iter().map(|l| lead(l, r, &first)).collect(),
        notes,
    }
}

fn instant(row: &Record) -> Option<DateTime<Utc>> {
    match get(row, "CreatedDate").when() {
        Read::Ok(When::Instant(t)) => Some(t),
        _ => None,
    }
}

/// The stage an opportunity's `StageName` (a label or an API name) names.
fn stage_of(name: String, stages: &HashMap<String, String>) -> String {
    stages
        .get(&name)
        .or_else(|| stages.get(&name.to_lowercase()))
        .cloned()
        .unwrap_or(name)
}

/// A deal's history from its OpportunityHistory rows (each with readable
/// CreatedDate), oldest first: each row is an entry at its CreatedDate with
/// the fields that differ from the previous row; the first row carries all
/// four, the values the opportunity was created with. ForecastCategory
/// holds API values (BestCase, Forecast…).
pub fn deal_history(
    rows: &[&Record],
    stages: &HashMap<String, String>,
    r: &Rules,
) -> Vec<EntryRec> {
    const FIELDS: [&str; 4] = ["StageName", "Amount", "CloseDate", "ForecastCategory"];
    let mut rows: Vec<(DateTime<Utc>, &Record)> = rows
        .iter()
        .filter_map(|h| Some((instant(h)?, *h)))
        .collect();
    rows.sort_by_key(|(t, _)| *t);
    let mut sets = Vec::new();
    let mut prev: Option<[&Field; 4]> = None;
    for (at, row) in rows {
        let now = FIELDS.map(|f| get(row, f));
        for (i, v) in now.iter().enumerate() {
            if prev.is_some_and(|p| p[i] == *v) {
                continue;
            }
            let set = match i {
                0 => v.text().map(|s| Set::Stage(stage_of(s, stages))),
                1 => Some(Set::Amount(v.number())),
                2 => Some(v.when())
                    .filter(|w| !w.is_missing())
                    .map(Set::CloseDate),
                _ => Some(Set::Category(category(v.text(), &r.categories))),
            };
            sets.extend(set.map(|s| (at, s)));
        }
        prev = Some(now);
    }
    history(sets)
}

/// A user; its team from `team_field` (default `UserRole.Name`).
pub fn rep(u: &Record, r: &Rules) -> Option<Rep> {
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
        team: r.team_field.as_ref().and_then(|f| text(u, f)),
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

/// An opportunity, without its history (`deal_history`).
pub fn deal(o: &Record, stages: &HashMap<String, String>, r: &Rules) -> DealRec {
    let stage = stage_of(text(o, "StageName").unwrap_or_default(), stages);
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
        deal_type: r
            .deal_type_field
            .as_ref()
            .map_or(Read::Missing, |f| deal_type(text(o, f), &r.deal_types)),
        history: Vec::new(),
    }
}

/// A Task or an Event. Kind: `Type` if it is listed, else the subtype,
/// else a task (an Event: a meeting). When: an event when it starts; a
/// task on its `ActivityDate` (a date: the start of that local day), else
/// when it was created — not `CompletedDateTime`, when it was marked done,
/// which for a logged call is after the call and often the next day.
/// Duration: an event's minutes; a call task's `CallDurationInSeconds`.
/// Deal: `WhatId` when it is an Opportunity (an account, a campaign… is
/// none).
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
        deal_id: text(a, "WhatId").filter(|w| w.starts_with(OPPORTUNITY)),
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
    fn users_become_reps_with_their_role_as_team() {
        let user = json!({"attributes": {"type": "User"}, "Id": "005A", "Name": "Ana Rep",
            "Email": "ana@example.com", "IsActive": false,
            "UserRole": {"attributes": {"type": "UserRole", "url": "/services/data/v62.0/sobjects/UserRole/00EA"},
                         "Name": "EMEA Sales"}});
        let u = rep(&rec(user.clone()), &rules()).unwrap();
        assert_eq!(
            (u.id.as_str(), u.name.as_str(), u.active),
            ("005A", "Ana Rep", false)
        );
        assert_eq!(u.team.as_deref(), Some("EMEA Sales"));
        let mut no_role = user.clone();
        no_role["UserRole"] = json!(null);
        assert_eq!(rep(&rec(no_role), &rules()).unwrap().team, None);
        let custom = Rules::new(&SalesforceMapping {
            team_field: "Sales_Team__c".into(),
            ..Default::default()
        })
        .unwrap();
        let mut own = user.clone();
        own["Sales_Team__c"] = json!("Seoul");
        assert_eq!(
            rep(&rec(own), &custom).unwrap().team.as_deref(),
            Some("Seoul")
        );
        let off = Rules::new(&SalesforceMapping {
            team_field: String::new(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(rep(&rec(user), &off).unwrap().team, None);
    }

    fn opportunity(kind: serde_json::Value) -> DealRec {
        let (_, by_name) = stages(&stage_records());
        deal(
            &rec(
                json!({"Id": "006A", "Name": "A", "StageName": "Negotiation", "CloseDate": "2026-07-31",
                        "CreatedDate": "2026-05-02T09:15:22.000+0000", "Type": kind}),
            ),
            &by_name,
            &rules(),
        )
    }

    #[test]
    fn opportunity_types_map_with_the_org_defaults_and_the_config() {
        let t = |v: &str| opportunity(json!(v)).deal_type;
        assert_eq!(t("New Customer"), Read::Ok(DealType::NewBusiness));
        assert_eq!(t("Existing Customer - Upgrade"), Read::Ok(DealType::Upsell));
        assert_eq!(
            t("Existing Customer - Replacement"),
            Read::Ok(DealType::Renewal)
        );
        assert_eq!(
            t("existing customer - downgrade"),
            Read::Ok(DealType::Renewal)
        );
        // Not mapped: kept for the note, the deal is untyped.
        assert_eq!(t("Cross-sell"), Read::Bad("Cross-sell".into()));
        assert_eq!(opportunity(json!(null)).deal_type, Read::Missing);
        let m = SalesforceMapping {
            deal_types: [("Cross-sell".to_string(), "cross_sell".to_string())].into(),
            ..Default::default()
        };
        let (_, by_name) = stages(&stage_records());
        let d = deal(
            &rec(json!({"Id": "006B", "Type": "Cross-sell"})),
            &by_name,
            &Rules::new(&m).unwrap(),
        );
        assert_eq!(d.deal_type, Read::Ok(DealType::CrossSell));
    }

    #[test]
    fn an_activity_belongs_to_its_opportunity_only() {
        let task = |what: serde_json::Value| {
            activity(
                &rec(json!({"Id": "00T1", "OwnerId": "005A", "Type": "Call", "ActivityDate": "2026-06-02",
                            "WhatId": what})),
                false,
                &rules(),
            )
            .deal_id
        };
        assert_eq!(
            task(json!("006XX000004TmiQYAS")).as_deref(),
            Some("006XX000004TmiQYAS")
        );
        // On the account, a campaign, or nothing: no deal.
        assert_eq!(task(json!("001XX000003DHPhYAO")), None);
        assert_eq!(task(json!("701XX000000abcdYAA")), None);
        assert_eq!(task(json!(null)), None);
        let event = activity(
            &rec(
                json!({"Id": "00U1", "ActivityDateTime": "2026-06-03T15:00:00.000+0000",
                        "WhatId": "006XX000004TmiTYAS"}),
            ),
            true,
            &rules(),
        );
        assert_eq!(event.deal_id.as_deref(), Some("006XX000004TmiTYAS"));
    }

    fn row(at: &str, stage: &str, amount: serde_json::Value, close: &str, fc: &str) -> Record {
        rec(
            json!({"attributes": {"type": "OpportunityHistory"}, "OpportunityId": "006A",
            "CreatedDate": at, "StageName": stage, "Amount": amount, "CloseDate": close, "ForecastCategory": fc}),
        )
    }

    #[test]
    fn opportunity_history_rows_become_entries_of_what_changed() {
        let (_, by_name) = stages(&stage_records());
        let rows = [
            // Out of order: sorted by CreatedDate.
            row(
                "2026-06-20T02:00:00.000+0000",
                "Closed Won",
                json!(15000),
                "2026-06-20",
                "Closed",
            ),
            row(
                "2026-05-02T09:15:22.000+0000",
                "Negotiation/Review",
                json!(null),
                "2026-07-31",
                "Pipeline",
            ),
            row(
                "2026-05-10T08:00:00.000+0000",
                "Negotiation/Review",
                json!(12000),
                "2026-07-31",
                "BestCase",
            ),
            // Nothing changed (a Probability edit): no entry.
            row(
                "2026-05-11T08:00:00.000+0000",
                "Negotiation/Review",
                json!(12000),
                "2026-07-31",
                "BestCase",
            ),
            row(
                "2026-06-01T08:00:00.000+0000",
                "Negotiation/Review",
                json!(12000),
                "2026-06-30",
                "Forecast",
            ),
        ];
        let refs: Vec<&Record> = rows.iter().collect();
        let h = deal_history(&refs, &by_name, &rules());
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let date = |s: &str| Read::Ok(When::Date(s.parse().unwrap()));
        assert_eq!(h.len(), 4, "{h:#?}");
        // The first row: all four, the values the opportunity was created with.
        assert_eq!(
            h[0],
            EntryRec {
                at: t("2026-05-02T09:15:22Z"),
                stage: Some("Negotiation".into()),
                amount: Some(Read::Missing),
                close_date: Some(date("2026-07-31")),
                forecast_category: Some(Read::Ok(ForecastCategory::Pipeline)),
            }
        );
        assert_eq!(
            h[1],
            EntryRec {
                at: t("2026-05-10T08:00:00Z"),
                stage: None,
                amount: Some(Read::Ok(Decimal::from(12000))),
                close_date: None,
                forecast_category: Some(Read::Ok(ForecastCategory::BestCase)),
            }
        );
        // Forecast is Commit's API value.
        assert_eq!(
            (h[2].close_date.clone(), h[2].forecast_category.clone()),
            (
                Some(date("2026-06-30")),
                Some(Read::Ok(ForecastCategory::Commit))
            )
        );
        assert_eq!(h[3].stage.as_deref(), Some("Closed Won"));
        assert_eq!(
            h[3].forecast_category,
            Some(Read::Ok(ForecastCategory::Closed))
        );
    }

    #[test]
    fn history_rows_join_their_opportunities() {
        let opp = |id: &str| {
            rec(
                json!({"Id": id, "Name": "A", "StageName": "Negotiation", "CloseDate": "2026-07-31",
                        "CreatedDate": "2026-05-02T09:15:22.000+0000"}),
            )
        };
        let mut history = vec![
            row(
                "2026-05-02T09:15:22.000+0000",
                "Negotiation",
                json!(1),
                "2026-07-31",
                "Pipeline",
            ),
            row(
                "not a time",
                "Negotiation",
                json!(2),
                "2026-07-31",
                "Pipeline",
            ),
        ];
        let mut other = history[0].clone();
        other
            .0
            .insert("OpportunityId".into(), Field::Str("006Z".into()));
        history.push(other);
        let raw = Raw {
            stages: stage_records(),
            opportunities: vec![opp("006A"), opp("006B")],
            history,
            ..Default::default()
        };
        let m = map(raw, &rules());
        assert_eq!(m.deals[0].history.len(), 1);
        assert!(m.deals[1].history.is_empty());
        assert_eq!(m.notes.len(), 1, "{:?}", m.notes);
        assert!(m.notes[0].starts_with("salesforce: 1 OpportunityHistory row(s)"));
    }
}
