//! Reading and writing the canonical snapshot JSON (the `file` source's
//! format), with one error per broken record that names its index, id and
//! field.
//!
//! Fields are first read leniently (any JSON value) so that a wrong type in
//! one record becomes that record's error instead of failing the document.

use super::*;
use rust_decimal::prelude::*;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasherDefault;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;

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

/// Any JSON value, kept only as far as a snapshot field needs. Strings are
/// borrowed from the input when they have no escapes.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'de> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'de, str>),
    Other(&'static str),
}

impl fmt::Display for Scalar<'_> {
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

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar<'a>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar<'a>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

type F<'a> = Option<Scalar<'a>>;

#[derive(Deserialize)]
struct RawRep<'a> {
    #[serde(default, borrow)]
    id: F<'a>,
    #[serde(default, borrow)]
    name: F<'a>,
    #[serde(default, borrow)]
    email: F<'a>,
    #[serde(default, borrow)]
    start_date: F<'a>,
    #[serde(default, borrow)]
    active: F<'a>,
}

#[derive(Deserialize)]
struct RawStage<'a> {
    #[serde(default, borrow)]
    id: F<'a>,
    #[serde(default, borrow)]
    label: F<'a>,
    #[serde(default, borrow)]
    probability: F<'a>,
    #[serde(default, borrow)]
    order: F<'a>,
    #[serde(default, borrow)]
    closed: F<'a>,
    #[serde(default, borrow)]
    won: F<'a>,
}

#[derive(Deserialize)]
struct RawDeal<'a> {
    #[serde(default, borrow)]
    id: F<'a>,
    #[serde(default, borrow)]
    name: F<'a>,
    #[serde(default, borrow)]
    owner: F<'a>,
    #[serde(default, borrow)]
    amount: F<'a>,
    #[serde(default, borrow)]
    stage: F<'a>,
    #[serde(default, borrow)]
    created_at: F<'a>,
    #[serde(default, borrow)]
    close_date: F<'a>,
    #[serde(default, borrow)]
    forecast_category: F<'a>,
}

#[derive(Deserialize)]
struct RawActivity<'a> {
    #[serde(default, borrow)]
    id: F<'a>,
    #[serde(default, borrow)]
    owner: F<'a>,
    #[serde(default, borrow)]
    kind: F<'a>,
    #[serde(default, borrow)]
    at: F<'a>,
    #[serde(default, borrow)]
    duration_minutes: F<'a>,
    #[serde(default, borrow)]
    outcome: F<'a>,
}

#[derive(Deserialize)]
struct RawLead<'a> {
    #[serde(default, borrow)]
    id: F<'a>,
    #[serde(default, borrow)]
    owner: F<'a>,
    #[serde(default, borrow)]
    created_at: F<'a>,
    #[serde(default, borrow)]
    first_response_at: F<'a>,
    #[serde(default, borrow)]
    score_events: Option<Vec<RawScoreEvent<'a>>>,
    #[serde(default, borrow)]
    score: F<'a>,
}

#[derive(Deserialize)]
struct RawScoreEvent<'a> {
    #[serde(default, borrow)]
    kind: F<'a>,
    #[serde(default, borrow)]
    at: F<'a>,
}

/// Field readers: each returns the message that follows `field: ` on error.
mod read {
    use super::*;

    pub fn present<'a, 'de>(v: &'a F<'de>) -> Option<&'a Scalar<'de>> {
        match v {
            None | Some(Scalar::Null) => None,
            Some(s) => Some(s),
        }
    }

    /// Text as borrowed from the input (numeric ids are taken as text).
    pub fn text<'a>(v: &'a F<'_>) -> Result<Option<Cow<'a, str>>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(Cow::Borrowed(s.as_ref()))),
            // Ids are often numeric in exports; take them as text.
            Some(Scalar::Num(n)) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Ok(Some(Cow::Owned(format!("{}", *n as i64))))
            }
            Some(other) => Err(format!("expected text, got {other}")),
        }
    }

    pub fn string(v: &F) -> Result<Option<String>, String> {
        Ok(text(v)?.map(Cow::into_owned))
    }

    pub fn required_text<'a>(v: &'a F<'_>) -> Result<Cow<'a, str>, String> {
        match text(v)? {
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
            Some(Scalar::Num(n)) => number(*n).map(Some),
            Some(Scalar::Str(s)) if s.trim().is_empty() => Ok(None),
            Some(Scalar::Str(s)) => Decimal::from_str(s.trim())
                .or_else(|_| Decimal::from_scientific(s.trim()))
                .map(Some)
                .map_err(|_| format!("{s:?} is not a number")),
            Some(other) => Err(format!("expected a number, got {other}")),
        }
    }

    /// The decimal a JSON number was written as: the shortest text that
    /// reads back as the same f64 (ryu) is what the CRM wrote.
    pub fn number(n: f64) -> Result<Decimal, String> {
        if !n.is_finite() {
            return Err(format!("{n} is not a number"));
        }
        if n.fract() == 0.0 && n.abs() < 1e15 {
            return Ok(Decimal::from(n as i64));
        }
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(n);
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| format!("{n} is out of range"))
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
        if let Some(t) = utc_seconds(s.as_bytes()) {
            return Ok(When::Instant(t));
        }
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

    /// Fast path for the most common form, `YYYY-MM-DDTHH:MM:SSZ`; anything
    /// else goes through the full RFC 3339 parser.
    fn utc_seconds(b: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
        if b.len() != 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
            || b[19] != b'Z'
        {
            return None;
        }
        let n = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |acc, c| {
                c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
            })
        };
        let date = NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?)?;
        let time = chrono::NaiveTime::from_hms_opt(n(11..13)?, n(14..16)?, n(17..19)?)?;
        Some(chrono::DateTime::from_naive_utc_and_offset(
            date.and_time(time),
            chrono::Utc,
        ))
    }

    pub fn required<T>(r: Result<Option<T>, String>) -> Result<T, String> {
        r?.ok_or_else(|| "is missing".to_string())
    }
}

fn at<T>(field: &'static str, r: Result<T, String>) -> Result<T, (&'static str, String)> {
    r.map_err(|m| (field, m))
}

fn id_of(v: &F) -> Option<String> {
    read::string(v).ok().flatten()
}

/// Ids seen in one collection. Keyed by a 64-bit hash so millions of ids
/// cost no second copy; a hash hit is confirmed against the stored record's
/// id, and the rare different id with the same hash goes to `spill`.
struct Ids {
    seen: HashMap<u64, usize, BuildHasherDefault<PreHashed>>,
    spill: HashSet<String>,
}

/// The keys of `Ids::seen` are hashes already: pass them through.
#[derive(Default)]
struct PreHashed(u64);

impl std::hash::Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {
        unreachable!("only u64 keys")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Ids {
    fn new() -> Ids {
        Ids {
            seen: HashMap::default(),
            spill: HashSet::new(),
        }
    }

    /// FNV-1a, then a final mix: fast on short ids, and stable.
    fn hash(id: &str) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in id.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        h ^ (h >> 29)
    }

    /// Records `id` for record `index`; false when it was already taken.
    /// `id_at(i)` gives the id of stored record i.
    fn insert<'a>(&mut self, id: &str, index: usize, id_at: impl Fn(usize) -> &'a str) -> bool {
        match self.seen.entry(Self::hash(id)) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(index);
                true
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                if id_at(*o.get()) == id {
                    return false;
                }
                self.spill.insert(id.to_string())
            }
        }
    }
}

/// Builds the snapshot record by record while the JSON streams past, so no
/// intermediate copy of millions of records is ever held.
struct Builder {
    snap: Snapshot,
    errors: Vec<RecordError>,
    rep_index: HashMap<String, usize>,
    stage_index: HashMap<String, usize>,
    deal_ids: Ids,
    act_ids: Ids,
    lead_ids: Ids,
    /// Score event kinds, shared: a million leads name a handful of kinds.
    event_kinds: HashMap<String, Arc<str>>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            snap: Snapshot {
                currency: "USD".into(),
                ..Default::default()
            },
            errors: Vec::new(),
            rep_index: HashMap::new(),
            stage_index: HashMap::new(),
            deal_ids: Ids::new(),
            act_ids: Ids::new(),
            lead_ids: Ids::new(),
            event_kinds: HashMap::new(),
        }
    }

    fn event_kind(&mut self, kind: &str) -> Arc<str> {
        if let Some(k) = self.event_kinds.get(kind) {
            return k.clone();
        }
        let k: Arc<str> = kind.into();
        self.event_kinds.insert(kind.to_string(), k.clone());
        k
    }

    fn fail(
        &mut self,
        collection: &'static str,
        index: usize,
        id: Option<String>,
        e: (&'static str, String),
    ) {
        self.errors.push(RecordError {
            collection,
            index,
            id,
            field: e.0,
            message: e.1,
        });
    }

    fn rep(&mut self, i: usize, r: RawRep) {
        let built = (|| {
            let id = at("id", read::required_text(&r.id))?;
            if self.rep_index.contains_key(id.as_ref()) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            Ok(Rep {
                name: at("name", read::string(&r.name))?.unwrap_or_else(|| id.to_string()),
                email: at("email", read::string(&r.email))?.filter(|e| !e.trim().is_empty()),
                start_date: at("start_date", read::date(&r.start_date))?,
                active: at("active", read::boolean(&r.active, true))?,
                id: id.into_owned(),
            })
        })();
        match built {
            Ok(rep) => {
                self.rep_index.insert(rep.id.clone(), self.snap.reps.len());
                self.snap.reps.push(rep);
            }
            Err(e) => self.fail("reps", i, id_of(&r.id), e),
        }
    }

    fn stage(&mut self, i: usize, s: RawStage) {
        let built = (|| {
            let id = at("id", read::required_text(&s.id))?;
            if self.stage_index.contains_key(id.as_ref()) {
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
                label: at("label", read::string(&s.label))?.unwrap_or_else(|| id.to_string()),
                probability,
                order,
                closed: at("closed", read::boolean(&s.closed, false))?,
                won: at("won", read::boolean(&s.won, false))?,
                id: id.into_owned(),
            })
        })();
        match built {
            Ok(stage) => {
                self.stage_index
                    .insert(stage.id.clone(), self.snap.stages.len());
                self.snap.stages.push(stage);
            }
            Err(e) => self.fail("stages", i, id_of(&s.id), e),
        }
    }

    fn deal(&mut self, i: usize, d: RawDeal) {
        let deals = &self.snap.deals;
        let ids = &mut self.deal_ids;
        let built = (|| {
            let id = at("id", read::required_text(&d.id))?;
            if !ids.insert(&id, deals.len(), |j| deals[j].id.as_str()) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            let owner_id = at("owner", read::required_text(&d.owner))?;
            let owner = *self
                .rep_index
                .get(owner_id.as_ref())
                .ok_or_else(|| ("owner", format!("rep {owner_id:?} does not exist in reps")))?;
            let stage_id = at("stage", read::required_text(&d.stage))?;
            let stage = *self.stage_index.get(stage_id.as_ref()).ok_or_else(|| {
                (
                    "stage",
                    format!("stage {stage_id:?} does not exist in stages"),
                )
            })?;
            let amount = at("amount", read::decimal(&d.amount))?;
            if let Some(a) = amount.filter(|a| *a < Decimal::ZERO) {
                return Err(("amount", format!("{a} is negative")));
            }
            let forecast_category = match at("forecast_category", read::text(&d.forecast_category))?
            {
                None => None,
                Some(s) if s.trim().is_empty() => None,
                Some(s) => Some(ForecastCategory::parse(&s).ok_or_else(|| {
                    (
                        "forecast_category",
                        format!("{s:?} is not one of omitted, pipeline, best_case, commit, closed"),
                    )
                })?),
            };
            Ok(Deal {
                name: at("name", read::string(&d.name))?.unwrap_or_default(),
                owner,
                amount,
                stage,
                created_at: at("created_at", read::required(read::when(&d.created_at)))?,
                close_date: at("close_date", read::required(read::when(&d.close_date)))?,
                forecast_category,
                id: id.into_owned(),
            })
        })();
        match built {
            Ok(deal) => self.snap.deals.push(deal),
            Err(e) => self.fail("deals", i, id_of(&d.id), e),
        }
    }

    fn activity(&mut self, i: usize, a: RawActivity) {
        let acts = &self.snap.activities;
        let ids = &mut self.act_ids;
        let built = (|| {
            let id = at("id", read::required_text(&a.id))?;
            if !ids.insert(&id, acts.len(), |j| acts[j].id.as_str()) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            // An owner that is not a known rep still counts for team figures.
            let owner = at("owner", read::text(&a.owner))?
                .and_then(|o| self.rep_index.get(o.as_ref()).copied());
            let kind_s = at("kind", read::required_text(&a.kind))?;
            let kind = ActivityKind::parse(&kind_s).ok_or_else(|| {
                (
                    "kind",
                    format!("{kind_s:?} is not one of {}", ActivityKind::names()),
                )
            })?;
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
                outcome: at("outcome", read::text(&a.outcome))?.and_then(|o| normalize_outcome(&o)),
                id: id.into_owned(),
            })
        })();
        match built {
            Ok(act) => self.snap.activities.push(act),
            Err(e) => self.fail("activities", i, id_of(&a.id), e),
        }
    }

    fn lead(&mut self, i: usize, l: RawLead) {
        let mut events = Vec::new();
        let mut event_error = None;
        for e in l.score_events.iter().flatten() {
            let kind = match at("score_events.kind", read::required_text(&e.kind)) {
                Ok(k) => self.event_kind(&k),
                Err(err) => {
                    event_error = Some(err);
                    break;
                }
            };
            match at("score_events.at", read::required(read::when(&e.at))) {
                Ok(when) => events.push(ScoreEvent { kind, at: when }),
                Err(err) => {
                    event_error = Some(err);
                    break;
                }
            }
        }
        let leads = &self.snap.leads;
        let ids = &mut self.lead_ids;
        let built = (|| {
            let id = at("id", read::required_text(&l.id))?;
            if !ids.insert(&id, leads.len(), |j| leads[j].id.as_str()) {
                return Err(("id", format!("duplicate id {id:?}")));
            }
            if let Some(err) = event_error {
                return Err(err);
            }
            let score_events = l.score_events.as_ref().map(|_| events);
            Ok(Lead {
                owner: at("owner", read::string(&l.owner))?.filter(|o| !o.trim().is_empty()),
                created_at: at("created_at", read::required(read::when(&l.created_at)))?,
                first_response_at: at("first_response_at", read::when(&l.first_response_at))?,
                score_events,
                score: at("score", read::decimal(&l.score))?,
                id: id.into_owned(),
            })
        })();
        match built {
            Ok(lead) => self.snap.leads.push(lead),
            Err(e) => self.fail("leads", i, id_of(&l.id), e),
        }
    }
}

/// Which list a streaming seed feeds.
#[derive(Clone, Copy, PartialEq, Debug)]
enum List {
    Reps,
    Stages,
    Deals,
    Activities,
    Leads,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Reps => "reps",
            List::Stages => "stages",
            List::Deals => "deals",
            List::Activities => "activities",
            List::Leads => "leads",
        }
    }
}

/// Records travel from the JSON reader to the builder in batches: reading
/// (tokenizing) and building (dates, decimals, ids) run on two threads.
enum Msg<'a> {
    Currency(String),
    Reps(usize, Vec<RawRep<'a>>),
    Stages(usize, Vec<RawStage<'a>>),
    Deals(usize, Vec<RawDeal<'a>>),
    Activities(usize, Vec<RawActivity<'a>>),
    Leads(usize, Vec<RawLead<'a>>),
    /// A list is complete.
    End(List),
}

const BATCH: usize = 4096;

impl Builder {
    fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Currency(c) => self.snap.currency = c,
            Msg::Reps(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.rep(first + i, r)),
            Msg::Stages(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.stage(first + i, r)),
            Msg::Deals(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.deal(first + i, r)),
            Msg::Activities(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.activity(first + i, r)),
            Msg::Leads(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.lead(first + i, r)),
            // Each list appears once: its id index is no longer needed.
            Msg::End(List::Deals) => self.deal_ids = Ids::new(),
            Msg::End(List::Activities) => self.act_ids = Ids::new(),
            Msg::End(List::Leads) => self.lead_ids = Ids::new(),
            Msg::End(_) => {}
        }
    }
}

/// The reader's side: tokenizes the document and sends records on.
struct Reader<'a, 'r> {
    tx: &'r SyncSender<Msg<'a>>,
    /// Reps and stages were read in a first pass: skip them now.
    refs_preloaded: bool,
    seen_reps: bool,
    seen_stages: bool,
    /// A reference list came after the records that use it: read again.
    needs_second_pass: bool,
    /// Where the reader is, for syntax errors: (list, index).
    position: (&'static str, usize),
}

impl<'a> Reader<'a, '_> {
    fn send(&self, msg: Msg<'a>) {
        // The builder only hangs up after a panic, which then propagates.
        let _ = self.tx.send(msg);
    }
}

struct ListSeed<'x, 'a, 'r>(&'x mut Reader<'a, 'r>, List);

impl<'de: 'a, 'a> DeserializeSeed<'de> for ListSeed<'_, 'a, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ListSeed<'_, 'a, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a list of {}", self.1.name())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(()) // `"leads": null` is an empty list
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ListSeed(r, list) = self;
        let mut i = 0;
        macro_rules! batches {
            ($raw:ident, $msg:ident) => {{
                let mut batch: Vec<$raw<'a>> = Vec::with_capacity(BATCH);
                loop {
                    r.position = (list.name(), i);
                    match seq.next_element::<$raw<'a>>()? {
                        Some(rec) => batch.push(rec),
                        None => break,
                    }
                    i += 1;
                    if batch.len() == BATCH {
                        r.send(Msg::$msg(
                            i - BATCH,
                            std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                        ));
                    }
                }
                let first = i - batch.len();
                r.send(Msg::$msg(first, batch));
            }};
        }
        match list {
            List::Reps => batches!(RawRep, Reps),
            List::Stages => batches!(RawStage, Stages),
            List::Deals => batches!(RawDeal, Deals),
            List::Activities => batches!(RawActivity, Activities),
            List::Leads => batches!(RawLead, Leads),
        }
        r.send(Msg::End(list));
        Ok(())
    }
}

struct TopSeed<'x, 'a, 'r>(&'x mut Reader<'a, 'r>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for TopSeed<'_, 'a, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for TopSeed<'_, 'a, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a snapshot object {\"currency\", \"reps\", \"stages\", \"deals\", …}")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let r = self.0;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            r.position = ("the top level", 0);
            let list = match key.as_ref() {
                "currency" => {
                    if let Ok(Some(c)) = read::string(&Some(map.next_value::<Scalar>()?)) {
                        r.send(Msg::Currency(c.trim().to_ascii_uppercase()));
                    }
                    continue;
                }
                "reps" => List::Reps,
                "stages" => List::Stages,
                "deals" => List::Deals,
                "activities" => List::Activities,
                "leads" => List::Leads,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            let refs_missing = match list {
                List::Reps | List::Stages => {
                    if r.refs_preloaded {
                        map.next_value::<IgnoredAny>()?;
                        continue;
                    }
                    if list == List::Reps {
                        r.seen_reps = true
                    } else {
                        r.seen_stages = true
                    }
                    false
                }
                List::Deals => !(r.seen_reps && r.seen_stages),
                List::Activities => !r.seen_reps,
                List::Leads => false,
            };
            if refs_missing && !r.refs_preloaded {
                r.needs_second_pass = true;
            }
            if r.needs_second_pass
                && !r.refs_preloaded
                && list != List::Reps
                && list != List::Stages
            {
                r.position = (list.name(), usize::MAX);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(ListSeed(r, list))?;
        }
        Ok(())
    }
}

/// One read of the document: the reader thread tokenizes, this thread builds.
/// Returns whether a second pass is needed (references came late).
fn read_pass(bytes: &[u8], b: &mut Builder, refs_preloaded: bool) -> Result<bool, LoadError> {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Msg>(8);
        let reader = scope.spawn(move || {
            let mut r = Reader {
                tx: &tx,
                refs_preloaded,
                seen_reps: refs_preloaded,
                seen_stages: refs_preloaded,
                needs_second_pass: false,
                position: ("the top level", 0),
            };
            let mut de = serde_json::Deserializer::from_slice(bytes);
            let result = TopSeed(&mut r).deserialize(&mut de).and_then(|_| de.end());
            result.map(|_| r.needs_second_pass).map_err(|e| {
                let (list, i) = r.position;
                let path = match (list, i) {
                    ("the top level", _) | (_, usize::MAX) => list.to_string(),
                    _ => format!("{list}[{i}]"),
                };
                LoadError::Syntax {
                    path,
                    message: e.to_string(),
                }
            })
        });
        for msg in rx {
            b.apply(msg);
        }
        reader.join().expect("snapshot reader thread panicked")
    })
}

/// Parses canonical snapshot JSON into a validated snapshot, one record at a
/// time. The usual order (reps and stages before deals) takes one pass;
/// otherwise the references are read first and the records in a second pass.
pub fn parse(bytes: &[u8], opts: LoadOptions) -> Result<Snapshot, LoadError> {
    let mut b = Builder::new();
    if read_pass(bytes, &mut b, false)? {
        let mut second = Builder::new();
        second.snap.reps = std::mem::take(&mut b.snap.reps);
        second.snap.stages = std::mem::take(&mut b.snap.stages);
        second.rep_index = std::mem::take(&mut b.rep_index);
        second.stage_index = std::mem::take(&mut b.stage_index);
        second.errors = b
            .errors
            .into_iter()
            .filter(|e| e.collection == "reps" || e.collection == "stages")
            .collect();
        read_pass(bytes, &mut second, true)?;
        b = second;
    }
    let Builder {
        mut snap,
        mut errors,
        ..
    } = b;
    if errors.is_empty() {
        return Ok(snap);
    }
    errors.sort_by_key(|e| order_of(e.collection));
    if opts.skip_bad_records {
        snap.notes
            .extend(errors.iter().map(|e| format!("skipped {e}")));
        return Ok(snap);
    }
    Err(LoadError::Records(errors))
}

fn order_of(collection: &str) -> usize {
    ["reps", "stages", "deals", "activities", "leads"]
        .iter()
        .position(|c| *c == collection)
        .unwrap_or(5)
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
    json!({"currency": s.currency, "reps": reps, "stages": stages, "deals": deals,
           "activities": activities, "leads": leads})
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
    fn records_before_their_references_still_resolve() {
        let v = base();
        let text = format!(
            r#"{{"deals": {}, "stages": {}, "reps": {}}}"#,
            v["deals"], v["stages"], v["reps"]
        );
        let s = parse(text.as_bytes(), LoadOptions::default()).unwrap();
        assert_eq!(s.deals.len(), 1);
        assert_eq!(s.reps[s.deals[0].owner].id, "r1");
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
}
