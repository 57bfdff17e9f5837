//! Writing a snapshot back as canonical JSON (`salesops pull --save`).

use crate::snapshot::*;
use rust_decimal::prelude::*;
use serde_json::{json, Map, Value};

fn when_json(w: &When) -> Value {
    match w {
        When::Date(d) => json!(d.to_string()),
        When::Instant(t) => json!(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    }
}

fn dec_json(d: &Decimal) -> Value {
    // The shortest f64 text of a decimal reads back as the same decimal.
    d.to_f64().map(|f| json!(f)).unwrap_or(Value::Null)
}

/// History entries as the CRM listed them: consecutive changes with the
/// same `at` that set different fields form one entry again.
fn history_json(s: &Snapshot, changes: &[Change]) -> Value {
    let mut entries: Vec<Value> = Vec::new();
    let mut current: Option<(chrono::DateTime<chrono::Utc>, Map<String, Value>)> = None;
    for c in changes {
        let (key, value) = match &c.value {
            Field::Stage(i) => ("stage", json!(s.stages[*i as usize].id)),
            Field::Amount(a) => ("amount", a.as_ref().map(dec_json).unwrap_or(Value::Null)),
            Field::CloseDate(w) => ("close_date", when_json(w)),
            Field::Category(c) => ("forecast_category", json!(c.map(|c| c.as_str()))),
        };
        match &mut current {
            Some((at, m)) if *at == c.at && !m.contains_key(key) => {
                m.insert(key.into(), value);
            }
            _ => {
                if let Some((_, m)) = current.take() {
                    entries.push(Value::Object(m));
                }
                let mut m = Map::new();
                m.insert("at".into(), when_json(&When::Instant(c.at)));
                m.insert(key.into(), value);
                current = Some((c.at, m));
            }
        }
    }
    if let Some((_, m)) = current {
        entries.push(Value::Object(m));
    }
    Value::Array(entries)
}

/// Writes a snapshot as canonical JSON (`salesops pull --save`); `parse` of
/// the result gives the same snapshot.
pub fn to_json(s: &Snapshot) -> Value {
    let reps: Vec<Value> = s
        .reps
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("id".into(), json!(r.id));
            m.insert("name".into(), json!(r.name));
            if let Some(e) = &r.email {
                m.insert("email".into(), json!(e));
            }
            if let Some(d) = r.start_date {
                m.insert("start_date".into(), json!(d.to_string()));
            }
            m.insert("active".into(), json!(r.active));
            if let Some(t) = &r.team {
                m.insert("team".into(), json!(t));
            }
            Value::Object(m)
        })
        .collect();
    let stages: Vec<Value> = s
        .stages
        .iter()
        .map(|st| {
            json!({"id": st.id, "label": st.label, "probability": dec_json(&st.probability),
                   "order": st.order, "closed": st.closed, "won": st.won})
        })
        .collect();
    let deals: Vec<Value> = s
        .deals
        .iter()
        .map(|d| {
            let mut m = Map::new();
            m.insert("id".into(), json!(d.id));
            m.insert("name".into(), json!(d.name));
            m.insert("owner".into(), json!(s.reps[d.owner].id));
            m.insert(
                "amount".into(),
                d.amount.as_ref().map(dec_json).unwrap_or(Value::Null),
            );
            m.insert("stage".into(), json!(s.stages[d.stage].id));
            m.insert("created_at".into(), when_json(&d.created_at));
            m.insert("close_date".into(), when_json(&d.close_date));
            if let Some(fc) = d.forecast_category {
                m.insert("forecast_category".into(), json!(fc.as_str()));
            }
            if let Some(t) = d.deal_type {
                m.insert("type".into(), json!(t.as_str()));
            }
            let history = s.history_of(d);
            if !history.is_empty() {
                m.insert("history".into(), history_json(s, history));
            }
            Value::Object(m)
        })
        .collect();
    let activities: Vec<Value> = s
        .activities
        .iter()
        .map(|a| {
            let mut m = Map::new();
            m.insert("id".into(), json!(a.id));
            if let Some(o) = a.owner {
                m.insert("owner".into(), json!(s.reps[o].id));
            }
            m.insert("kind".into(), json!(a.kind.as_str()));
            m.insert("at".into(), when_json(&a.at));
            m.insert("duration_minutes".into(), dec_json(&a.duration_minutes));
            if let Some(o) = &a.outcome {
                m.insert("outcome".into(), json!(o));
            }
            if let Some(d) = s.deal_id_of(a) {
                m.insert("deal_id".into(), json!(d));
            }
            Value::Object(m)
        })
        .collect();
    let leads: Vec<Value> = s
        .leads
        .iter()
        .map(|l| {
            let mut m = Map::new();
            m.insert("id".into(), json!(l.id));
            if let Some(o) = &l.owner {
                m.insert("owner".into(), json!(o));
            }
            m.insert("created_at".into(), when_json(&l.created_at));
            if let Some(f) = &l.first_response_at {
                m.insert("first_response_at".into(), when_json(f));
            }
            if let Some(evs) = &l.score_events {
                let evs: Vec<Value> = evs
                    .iter()
                    .map(|e| json!({"kind": &*e.kind, "at": when_json(&e.at)}))
                    .collect();
                m.insert("score_events".into(), Value::Array(evs));
            }
            if let Some(sc) = &l.score {
                m.insert("score".into(), dec_json(sc));
            }
            Value::Object(m)
        })
        .collect();
    let mut doc = json!({"currency": s.currency, "reps": reps, "stages": stages, "deals": deals,
           "activities": activities, "leads": leads});
    // A saved pull keeps its data-quality notes (e.g. deals without an owner).
    if !s.notes.is_empty() {
        doc["notes"] = json!(s.notes);
    }
    doc
}
