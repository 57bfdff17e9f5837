//! Reading and writing the canonical snapshot JSON (the `file` source's
//! format), with one error per broken record that names its index, id and
//! field.
//!
//! Fields are first read leniently (any JSON value) so that a wrong type in
//! one record becomes that record's error instead of failing the document.

use super::*;
use rust_decimal::prelude::*;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt;

/// How strict loading is.
#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Skip broken records (listing each in `Snapshot::notes`) instead of
    /// failing the load.
    pub skip_bad_records: bool,
}

/// One broken record: `deals[17] (id "d-88").close_date: "2026-13-01" is not a date`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    pub collection: &'static str,
    pub index: usize,
    pub id: Option<String>,
    pub field: &'static str,
    pub message: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.collection, self.index)?;
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        write!(f, ".{}: {}", self.field, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("not valid snapshot JSON at {path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{} broken record(s); fix them in the source, or set [source] skip_bad_records = true to skip them:\n  {}", .0.len(), list_errors(.0))]
    Records(Vec<RecordError>),
}

fn list_errors(errs: &[RecordError]) -> String {
    const SHOWN: usize = 50;
    let mut lines: Vec<String> = errs.iter().take(SHOWN).map(|e| e.to_string()).collect();
    if errs.len() > SHOWN {
        lines.push(format!("… and {} more", errs.len() - SHOWN));
    }
    lines.join("\n  ")
}

/// Any JSON value, kept only as far as a snapshot field needs.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Other(&'static str),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => write!(f, "null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Num(n) => write!(f, "{n}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Other(what) => write!(f, "{what}"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Scalar, E> {
                Ok(Scalar::Num(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar, E> {
                Ok(Scalar::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar, E> {
                Ok(Scalar::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
        }
        d.deserialize_any(V)
    }
}

type F = Option<Scalar>;

#[derive(Deserialize)]
struct RawSnapshot {
    #[serde(default)]
    currency: F,
    #[serde(default)]
    reps: Option<Vec<RawRep>>,
    #[serde(default)]
    stages: Option<Vec<RawStage>>,
    #[serde(default)]
    deals: Option<Vec<RawDeal>>,
    #[serde(default)]
    activities: Option<Vec<RawActivity>>,
    #[serde(default)]
    leads: Option<Vec<RawLead>>,
    /// Data-quality notes written by `pull --save` (e.g. deals without an
    /// owner), so that a saved pull reproduces the report's notes.
    #[serde(default)]
    notes: Option<Vec<Scalar>>,
}

#[derive(Deserialize)]
struct RawRep {
    #[serde(default)]
    id: F,
    #[serde(default)]
    name: F,
    #[serde(default)]
    email: F,
    #[serde(default)]
    start_date: F,
    #[serde(default)]
    active: F,
}

#[derive(Deserialize)]
struct RawStage {
    #[serde(default)]
    id: F,
    #[serde(default)]
    label: F,
    #[serde(default)]
    probability: F,
    #[serde(default)]
    order: F,
    #[serde(default)]
    closed: F,
    #[serde(default)]
    won: F,
}

#[derive(Deserialize)]
struct RawDeal {
    #[serde(default)]
    id: F,
    #[serde(default)]
    name: F,
    #[serde(default)]
    owner: F,
    #[serde(default)]
    amount: F,
    #[serde(default)]
    stage: F,
    #[serde(default)]
    created_at: F,
    #[serde(default)]
    close_date: F,
    #[serde(default)]
    forecast_category: F,
}

#[derive(Deserialize)]
struct RawActivity {
    #[serde(default)]
    id: F,
    #[serde(default)]
    owner: F,
    #[serde(default)]
    kind: F,
    #[serde(default)]
    at: F,
    #[serde(default)]
    duration_minutes: F,
    #[serde(default)]
    outcome: F,
}

#[derive(Deserialize)]
struct RawLead {
    #[serde(default)]
    id: F,
    #[serde(default)]
    owner: F,
    #[serde(default)]
    created_at: F,
    #[serde(default)]
    first_response_at: F,
    #[serde(default)]
    score_events: Option<Vec<RawScoreEvent>>,
    #[serde(default)]
    score: F,
}

#[derive(Deserialize)]
struct RawScoreEvent {
    #[serde(default)]
    kind: F,
    #[serde(default)]
    at: F,
}

/// Field readers: each returns the message that follows `field: ` on error.
mod read {
    use super::*;

    pub fn present(v: &F) -> Option<&Scalar> {
        match v {
            None | Some(Scalar::Null) => None,
            Some(s) => Some(s),
        }
    }

    pub fn string(v: &F) -> Result<Option<String>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(s.clone())),
            // Ids are often numeric in exports; take them as text.
            Some(Scalar::Num(n)) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Ok(Some(format!("{}", *n as i64)))
            }
            Some(other) => Err(format!("expected text, got {other}")),
        }
    }

    pub fn required_string(v: &F) -> Result<String, String> {
        match string(v)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err("is missing".into()),
        }
    }

    pub fn boolean(v: &F, default: bool) -> Result<bool, String> {
        match present(v) {
            None => Ok(default),
            Some(Scalar::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("expected true or false, got {other}")),
        }
    }

    /// A number, or a string holding one ("12000.50").
    pub fn decimal(v: &F) -> Result<Option<Decimal>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Num(n)) => {
                if !n.is_finite() {
                    return Err(format!("{n} is not a number"));
                }
                // Rust prints the shortest text that reads back as the same
                // f64: the decimal the CRM wrote.
                Decimal::from_str(&format!("{n}"))
                    .map(Some)
                    .map_err(|_| format!("{n} is out of range"))
            }
            Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(Scalar::Str(s)) => Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map(Some)
                .map_err(|_| format!("{s:?} is not a number")),
            Some(other) => Err(format!("expected a number, got {other}")),
        }
    }

    pub fn date(v: &F) -> Result<Option<NaiveDate>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => crate::period::parse_date(s)
                .map(Some)
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)")),
            Some(other) => Err(format!("expected a date (YYYY-MM-DD), got {other}")),
        }
    }

    /// An RFC 3339 instant with an offset, or a bare date (a local date).
    pub fn when(v: &F) -> Result<Option<When>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => parse_when(s).map(Some),
            Some(other) => Err(format!(
                "expected a timestamp (RFC 3339) or a date, got {other}"
            )),
        }
    }

    pub fn parse_when(s: &str) -> Result<When, String> {
        let t = s.trim();
        if t.len() == 10 {
            return crate::period::parse_date(t)
                .map(When::Date)
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"));
        }
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| When::Instant(d.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                format!(
                    "{s:?} is not a timestamp (RFC 3339 with an offset, e.g. 2026-07-01T09:00:00Z)"
                )
            })
    }

    pub fn required<T>(r: Result<Option<T>, String>) -> Result<T, String> {
        r?.ok_or_else(|| "is missing".to_string())
    }
}

/// Collects record errors; in skip mode they become notes instead.
struct Checker {
    opts: LoadOptions,
    errors: Vec<RecordError>,
}

impl Checker {
    /// Runs `build` for one record; on error records it and returns `None`.
    fn record<T>(
        &mut self,
        collection: &'static str,
        index: usize,
        id: Option<String>,
        build: impl FnOnce() -> Result<T, (&'static str, String)>,
    ) -> Option<T> {
        match build() {
            Ok(v) => Some(v),
            Err((field, message)) => {
                self.errors.push(RecordError {
                    collection,
                    index,
                    id,
                    field,
                    message,
                });
                None
            }
        }
    }
}

fn at<T>(field: &'static str, r: Result<T, String>) -> Result<T, (&'static str, String)> {
    r.map_err(|m| (field, m))
}

fn id_of(v: &F) -> Option<String> {
    read::string(v).ok().flatten()
}

/// Parses canonical snapshot JSON into a validated snapshot.
pub fn parse(bytes: &[u8], opts: LoadOptions) -> Result<Snapshot, LoadError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let raw: RawSnapshot =
        serde_path_to_error::deserialize(&mut de).map_err(|e| LoadError::Syntax {
            path: if e.path().to_string() == "." {
                "the top level".into()
            } else {
                e.path().to_string()
            },
            message: e.inner().to_string(),
        })?;
    de.end().map_err(|e| LoadError::Syntax {
        path: "the end of the document".into(),
        message: e.to_string(),
    })?;
    build(raw, opts)
}

fn build(raw: RawSnapshot, opts: LoadOptions) -> Result<Snapshot, LoadError> {
    let mut ck = Checker {
        opts,
        errors: Vec::new(),
    };
    let mut snap = Snapshot {
        currency: match read::string(&raw.currency) {
            Ok(Some(c)) => c.trim().to_ascii_uppercase(),
            _ => "USD".into(),
        },
        notes: (raw.notes.unwrap_or_default().into_iter())
            .filter_map(|n| match n {
                Scalar::Str(s) => Some(s),
                _ => None,
            })
            .collect(),
        ..Default::default()
    };

    let mut rep_index: HashMap<String, usize> = HashMap::new();
    for (i, r) in raw.reps.unwrap_or_default().into_iter().enumerate() {
        let id = id_of(&r.id);
        let rep = ck.record("reps", i, id.clone(), || {
            let id = at("id", read::required_string(&r.id))?;
            if rep_index.contains_key(&id) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            let name = at("name", read::string(&r.name))?.unwrap_or_else(|| id.clone());
            Ok(Rep {
                name,
                email: at("email", read::string(&r.email))?.filter(|e| !e.trim().is_empty()),
                start_date: at("start_date", read::date(&r.start_date))?,
                active: at("active", read::boolean(&r.active, true))?,
                id,
            })
        });
        if let Some(rep) = rep {
            rep_index.insert(rep.id.clone(), snap.reps.len());
            snap.reps.push(rep);
        }
    }

    let mut stage_index: HashMap<String, usize> = HashMap::new();
    for (i, s) in raw.stages.unwrap_or_default().into_iter().enumerate() {
        let stage = ck.record("stages", i, id_of(&s.id), || {
            let id = at("id", read::required_string(&s.id))?;
            if stage_index.contains_key(&id) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            let probability = at("probability", read::required(read::decimal(&s.probability)))?;
            if probability < Decimal::ZERO || probability > Decimal::ONE {
                return Err((
                    "probability",
                    format!("{probability} is outside 0..1 (write 0.4, not 40)"),
                ));
            }
            let order = at("order", read::decimal(&s.order))?
                .and_then(|d| d.to_i64())
                .unwrap_or(i as i64 + 1);
            Ok(Stage {
                label: at("label", read::string(&s.label))?.unwrap_or_else(|| id.clone()),
                probability,
                order,
                closed: at("closed", read::boolean(&s.closed, false))?,
                won: at("won", read::boolean(&s.won, false))?,
                id,
            })
        });
        if let Some(stage) = stage {
            stage_index.insert(stage.id.clone(), snap.stages.len());
            snap.stages.push(stage);
        }
    }

    let raw_deals = raw.deals.unwrap_or_default();
    let mut deal_ids: HashMap<String, ()> = HashMap::with_capacity(raw_deals.len());
    snap.deals.reserve(raw_deals.len());
    for (i, d) in raw_deals.into_iter().enumerate() {
        let deal = ck.record("deals", i, id_of(&d.id), || {
            let id = at("id", read::required_string(&d.id))?;
            if deal_ids.contains_key(&id) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            let owner_id = at("owner", read::required_string(&d.owner))?;
            let owner = *rep_index
                .get(&owner_id)
                .ok_or(("owner", format!("rep {owner_id:?} does not exist in reps")))?;
            let stage_id = at("stage", read::required_string(&d.stage))?;
            let stage = *stage_index.get(&stage_id).ok_or((
                "stage",
                format!("stage {stage_id:?} does not exist in stages"),
            ))?;
            let amount = at("amount", read::decimal(&d.amount))?;
            if amount.is_some_and(|a| a < Decimal::ZERO) {
                return Err(("amount", format!("{} is negative", amount.unwrap())));
            }
            let forecast_category =
                match at("forecast_category", read::string(&d.forecast_category))? {
                    None => None,
                    Some(s) if s.trim().is_empty() => None,
                    Some(s) => Some(ForecastCategory::parse(&s).ok_or((
                        "forecast_category",
                        format!("{s:?} is not one of omitted, pipeline, best_case, commit, closed"),
                    ))?),
                };
            Ok(Deal {
                name: at("name", read::string(&d.name))?.unwrap_or_default(),
                owner,
                amount,
                stage,
                created_at: at("created_at", read::required(read::when(&d.created_at)))?,
                close_date: at("close_date", read::required(read::when(&d.close_date)))?,
                forecast_category,
                id,
            })
        });
        if let Some(deal) = deal {
            deal_ids.insert(deal.id.clone(), ());
            snap.deals.push(deal);
        }
    }
    drop(deal_ids);

    let raw_acts = raw.activities.unwrap_or_default();
    let mut act_ids: HashMap<String, ()> = HashMap::with_capacity(raw_acts.len());
    snap.activities.reserve(raw_acts.len());
    for (i, a) in raw_acts.into_iter().enumerate() {
        let act = ck.record("activities", i, id_of(&a.id), || {
            let id = at("id", read::required_string(&a.id))?;
            if act_ids.contains_key(&id) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            // An owner that is not a known rep still counts for team figures.
            let owner =
                at("owner", read::string(&a.owner))?.and_then(|o| rep_index.get(&o).copied());
            let kind_s = at("kind", read::required_string(&a.kind))?;
            let kind = ActivityKind::parse(&kind_s).ok_or((
                "kind",
                format!("{kind_s:?} is not one of {}", ActivityKind::names()),
            ))?;
            let duration =
                at("duration_minutes", read::decimal(&a.duration_minutes))?.unwrap_or_default();
            if duration < Decimal::ZERO {
                return Err(("duration_minutes", format!("{duration} is negative")));
            }
            Ok(Activity {
                owner,
                kind,
                at: at("at", read::required(read::when(&a.at)))?,
                duration_minutes: duration,
                outcome: at("outcome", read::string(&a.outcome))?
                    .and_then(|o| normalize_outcome(&o)),
                id,
            })
        });
        if let Some(act) = act {
            act_ids.insert(act.id.clone(), ());
            snap.activities.push(act);
        }
    }
    drop(act_ids);

    let raw_leads = raw.leads.unwrap_or_default();
    let mut lead_ids: HashMap<String, ()> = HashMap::with_capacity(raw_leads.len());
    snap.leads.reserve(raw_leads.len());
    for (i, l) in raw_leads.into_iter().enumerate() {
        let lead = ck.record("leads", i, id_of(&l.id), || {
            let id = at("id", read::required_string(&l.id))?;
            if lead_ids.contains_key(&id) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            let score_events = match l.score_events {
                None => None,
                Some(evs) => {
                    let mut out = Vec::with_capacity(evs.len());
                    for e in evs {
                        out.push(ScoreEvent {
                            kind: at("score_events.kind", read::required_string(&e.kind))?,
                            at: at("score_events.at", read::required(read::when(&e.at)))?,
                        });
                    }
                    Some(out)
                }
            };
            Ok(Lead {
                owner: at("owner", read::string(&l.owner))?.filter(|o| !o.trim().is_empty()),
                created_at: at("created_at", read::required(read::when(&l.created_at)))?,
                first_response_at: at("first_response_at", read::when(&l.first_response_at))?,
                score_events,
                score: at("score", read::decimal(&l.score))?,
                id,
            })
        });
        if let Some(lead) = lead {
            lead_ids.insert(lead.id.clone(), ());
            snap.leads.push(lead);
        }
    }

    if ck.errors.is_empty() {
        return Ok(snap);
    }
    if ck.opts.skip_bad_records {
        snap.notes
            .extend(ck.errors.iter().map(|e| format!("skipped {e}")));
        return Ok(snap);
    }
    Err(LoadError::Records(ck.errors))
}

fn normalize_outcome(o: &str) -> Option<String> {
    let o = o.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    match o.as_str() {
        "" => None,
        "cancelled" => Some("canceled".into()),
        "noshow" => Some("no_show".into()),
        _ => Some(o),
    }
}

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
                    .map(|e| json!({"kind": e.kind, "at": when_json(&e.at)}))
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
    if !s.notes.is_empty() {
        doc["notes"] = json!(s.notes);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(v: Value) -> Result<Snapshot, LoadError> {
        parse(v.to_string().as_bytes(), LoadOptions::default())
    }

    fn base() -> Value {
        json!({
            "currency": "USD",
            "reps": [{"id": "r1", "name": "Kim", "email": "k@example.com"}],
            "stages": [
                {"id": "open", "label": "Open", "probability": 0.5, "order": 1, "closed": false, "won": false},
                {"id": "won", "label": "Won", "probability": 1.0, "order": 2, "closed": true, "won": true}
            ],
            "deals": [{"id": "d1", "name": "A", "owner": "r1", "amount": 12000.5, "stage": "open",
                       "created_at": "2026-05-03T09:12:00Z", "close_date": "2026-07-15"}]
        })
    }

    #[test]
    fn reads_a_valid_snapshot() {
        let s = load(base()).unwrap();
        assert_eq!(
            s.deals[0].amount,
            Some(Decimal::from_str("12000.5").unwrap())
        );
        assert_eq!(
            s.deals[0].close_date,
            When::Date(NaiveDate::from_ymd_opt(2026, 7, 15).unwrap())
        );
        assert!(s.reps[0].active);
    }

    #[test]
    fn names_index_id_and_field() {
        let mut v = base();
        v["deals"][0]["close_date"] = json!("2026-13-01");
        let err = load(v).unwrap_err().to_string();
        assert!(
            err.contains(r#"deals[0] (id "d1").close_date: "2026-13-01" is not a date"#),
            "{err}"
        );
    }

    #[test]
    fn rejects_unknown_owner_negative_amount_and_duplicates() {
        let mut v = base();
        let mut d2 = v["deals"][0].clone();
        d2["owner"] = json!("nobody");
        let mut d3 = v["deals"][0].clone();
        d3["id"] = json!("d3");
        d3["amount"] = json!(-5);
        let d4 = v["deals"][0].clone();
        v["deals"].as_array_mut().unwrap().extend([d2, d3, d4]);
        match load(v).unwrap_err() {
            LoadError::Records(errs) => {
                let fields: Vec<_> = errs.iter().map(|e| (e.index, e.field)).collect();
                assert_eq!(fields, vec![(1, "id"), (2, "amount"), (3, "id")]);
            }
            e => panic!("{e}"),
        }
    }

    #[test]
    fn skip_mode_lists_skipped_records() {
        let mut v = base();
        v["deals"][0]["stage"] = json!("nope");
        let s = parse(
            v.to_string().as_bytes(),
            LoadOptions {
                skip_bad_records: true,
            },
        )
        .unwrap();
        assert!(s.deals.is_empty());
        assert_eq!(s.notes.len(), 1);
        assert!(s.notes[0].contains(r#"deals[0] (id "d1").stage"#));
    }

    #[test]
    fn malformed_json_names_the_place() {
        let err = parse(br#"{"deals": [ {"id": "d1",, } ]}"#, LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("deals"), "{err}");
    }

    #[test]
    fn missing_amount_is_none_and_string_amount_is_read() {
        let mut v = base();
        v["deals"][0]["amount"] = Value::Null;
        assert_eq!(load(v.clone()).unwrap().deals[0].amount, None);
        v["deals"][0]["amount"] = json!("1234.56");
        assert_eq!(
            load(v).unwrap().deals[0].amount,
            Some(Decimal::from_str("1234.56").unwrap())
        );
    }

    #[test]
    fn round_trips_through_to_json() {
        let mut v = base();
        v["activities"] = json!([{"id": "a1", "owner": "r1", "kind": "meeting", "at": "2026-07-02T01:00:00Z",
                                  "duration_minutes": 30, "outcome": "Completed"}]);
        v["leads"] = json!([{"id": "l1", "created_at": "2026-07-01T03:00:00+09:00", "score": 14,
                             "score_events": [{"kind": "email_open", "at": "2026-07-01T02:55:00Z"}]}]);
        let s = load(v).unwrap();
        let again = parse(to_json(&s).to_string().as_bytes(), LoadOptions::default()).unwrap();
        assert_eq!(s.deals, again.deals);
        assert_eq!(s.activities, again.activities);
        assert_eq!(s.leads, again.leads);
        assert_eq!(s.reps, again.reps);
        assert_eq!(s.stages, again.stages);
    }

    #[test]
    fn notes_round_trip_before_skipped_records() {
        let mut v = base();
        v["notes"] = json!(["1 deal(s) have no owner"]);
        v["deals"][0]["stage"] = json!("nope");
        let s = parse(
            v.to_string().as_bytes(),
            LoadOptions {
                skip_bad_records: true,
            },
        )
        .unwrap();
        assert_eq!(s.notes.len(), 2);
        assert_eq!(s.notes[0], "1 deal(s) have no owner");
        let again = parse(to_json(&s).to_string().as_bytes(), LoadOptions::default()).unwrap();
        assert_eq!(again.notes, s.notes);
    }
}
