//! What every connector hands over (records mapped from the vendor, with
//! references still by id) and the one way they become a snapshot: sorted
//! by id, deal owners resolved (unknown → the rep "(no owner)"), notes for
//! the data-quality section (unknown owners, currencies, forecast
//! categories and deal types; history values of stages not pulled), then
//! checked by the very rules of the `file` source — the records go through
//! the canonical JSON, deal types, history, activity deal links and rep
//! teams included — so that a pull saved with `pull --save` gives the same
//! report as the pull itself.
//!
//! Pure: no I/O.

use super::wire::{id_order, Read};
use crate::config::Lookup;
use crate::snapshot::{
    self, ActivityKind, DealType, ForecastCategory, LoadOptions, Rep, Snapshot, Stage, When,
};
use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashSet};

/// The rep that owns deals whose owner is missing or not a known user.
pub const NO_OWNER: &str = "(no owner)";

/// Records as a connector maps them.
#[derive(Debug, Default)]
pub struct Mapped {
    pub reps: Vec<Rep>,
    /// In the vendor's order (pipeline, then stage order).
    pub stages: Vec<Stage>,
    pub deals: Vec<DealRec>,
    pub activities: Vec<ActivityRec>,
    pub leads: Vec<LeadRec>,
    /// What the vendor's mapping has to say about the data (e.g. history
    /// values it could not read), for the data-quality section.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DealRec {
    pub id: String,
    pub name: String,
    /// The owner's id as the vendor gave it.
    pub owner: Option<String>,
    pub amount: Read<Decimal>,
    /// A stage id of `Mapped::stages` (or what the vendor said, reported
    /// by the checks when it is not one).
    pub stage: String,
    pub created_at: Read<When>,
    pub close_date: Read<When>,
    /// `Bad` holds a value that is not a known category: the deal counts
    /// as not forecast and a note says so.
    pub forecast_category: Read<ForecastCategory>,
    /// The deal's currency when the vendor says it.
    pub currency: Option<String>,
    /// `Bad` holds a value that the type table does not map: the deal is
    /// untyped and a note lists such values.
    pub deal_type: Read<DealType>,
    /// Oldest first (`history` builds it); empty: no history.
    pub history: Vec<EntryRec>,
}

/// One entry of a deal's history (CANONICAL.md `history`): the values set
/// at `at`; `None` leaves a field out of the entry (unchanged then), while
/// `Some(Read::Missing)` is an amount or category emptied then.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryRec {
    pub at: DateTime<Utc>,
    /// A stage id of `Mapped::stages`; another one is left out with a note.
    pub stage: Option<String>,
    pub amount: Option<Read<Decimal>>,
    pub close_date: Option<Read<When>>,
    pub forecast_category: Option<Read<ForecastCategory>>,
}

/// A value one deal field took at some instant, from which `history`
/// builds entries.
#[derive(Debug, Clone, PartialEq)]
pub enum Set {
    Stage(String),
    Amount(Read<Decimal>),
    CloseDate(Read<When>),
    Category(Read<ForecastCategory>),
}

/// History entries from the values a deal's fields took: oldest first (a
/// stable sort, so values at the same instant keep the vendor's order),
/// and the values set at the same instant in one entry (for a field set
/// twice then, the later wins).
pub fn history(mut sets: Vec<(DateTime<Utc>, Set)>) -> Vec<EntryRec> {
    sets.sort_by_key(|(at, _)| *at);
    let mut out: Vec<EntryRec> = Vec::new();
    for (at, set) in sets {
        if out.last().is_none_or(|e| e.at != at) {
            out.push(EntryRec {
                at,
                stage: None,
                amount: None,
                close_date: None,
                forecast_category: None,
            });
        }
        let e = out.last_mut().unwrap();
        match set {
            Set::Stage(s) => e.stage = Some(s),
            Set::Amount(a) => e.amount = Some(a),
            Set::CloseDate(c) => e.close_date = Some(c),
            Set::Category(c) => e.forecast_category = Some(c),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRec {
    pub id: String,
    pub owner: Option<String>,
    pub kind: ActivityKind,
    pub at: Read<When>,
    pub duration_minutes: Read<Decimal>,
    pub outcome: Option<String>,
    /// The deal it belongs to, as the vendor names it (kept when it names
    /// no pulled deal: CANONICAL.md).
    pub deal_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LeadRec {
    pub id: String,
    pub owner: Option<String>,
    pub created_at: Read<When>,
    pub first_response_at: Read<When>,
    pub score: Read<Decimal>,
}

/// Makes the snapshot: the report currency is `currency` (amounts are taken
/// as they are); `vendor` and `fix` (the config section to change) name
/// things in notes.
pub fn build(vendor: &str, mut m: Mapped, currency: &str, opts: LoadOptions) -> Result<Snapshot> {
    m.reps.sort_by(|a, b| id_order(&a.id, &b.id));
    m.deals.sort_by(|a, b| id_order(&a.id, &b.id));
    m.activities.sort_by(|a, b| id_order(&a.id, &b.id));
    m.leads.sort_by(|a, b| id_order(&a.id, &b.id));

    let mut notes = Vec::new();
    let known: HashSet<&str> = m.reps.iter().map(|r| r.id.as_str()).collect();
    let mut unowned: Vec<&str> = Vec::new();
    let mut owners: Vec<&str> = Vec::with_capacity(m.deals.len());
    let mut other_currency: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut unknown_category: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unknown_type: BTreeMap<&str, usize> = BTreeMap::new();
    let stage_ids: HashSet<&str> = m.stages.iter().map(|s| s.id.as_str()).collect();
    let mut other_stage: Vec<&str> = Vec::new();
    for d in &m.deals {
        match d.owner.as_deref().filter(|o| known.contains(o)) {
            Some(o) => owners.push(o),
            None => {
                unowned.push(&d.id);
                owners.push(NO_OWNER);
            }
        }
        if let Some(c) = d.currency.as_deref() {
            if !c.eq_ignore_ascii_case(currency) {
                other_currency.entry(c).or_default().push(&d.id);
            }
        }
        if let Read::Bad(v) = &d.forecast_category {
            *unknown_category.entry(v.as_str()).or_default() += 1;
        }
        if let Read::Bad(v) = &d.deal_type {
            *unknown_type.entry(v.as_str()).or_default() += 1;
        }
        for e in &d.history {
            if let Some(Read::Bad(v)) = &e.forecast_category {
                *unknown_category.entry(v.as_str()).or_default() += 1;
            }
        }
        if d.history
            .iter()
            .any(|e| e.stage.as_deref().is_some_and(|s| !stage_ids.contains(s)))
        {
            other_stage.push(&d.id);
        }
    }
    if !unowned.is_empty() {
        notes.push(format!(
            "{} deal(s) have no owner, or an owner who is not a {vendor} user that could be read; they are counted under the rep \"{NO_OWNER}\": {}",
            unowned.len(),
            some_ids(&unowned)
        ));
    }
    for (c, ids) in &other_currency {
        notes.push(format!(
            "{} deal(s) are in {c}, not {currency}; their amounts are counted as they are, not converted: {}",
            ids.len(),
            some_ids(ids)
        ));
    }
    if !unknown_category.is_empty() {
        let list: Vec<String> = unknown_category
            .iter()
            .map(|(v, n)| format!("{v:?} ({n})"))
            .collect();
        notes.push(format!(
            "{vendor}: forecast category value(s) {} are not known and count as not forecast; map them in [source.{vendor}] forecast_categories",
            list.join(", ")
        ));
    }

    if !unknown_type.is_empty() {
        let list: Vec<String> = unknown_type
            .iter()
            .map(|(v, n)| format!("{v:?} ({n})"))
            .collect();
        notes.push(format!(
            "{vendor}: deal type value(s) {} are not mapped and count as untyped; map them in [source.{vendor}] deal_types",
            list.join(", ")
        ));
    }
    if !other_stage.is_empty() {
        notes.push(format!(
            "{} deal(s) were in a stage that was not pulled (another pipeline, or a stage since removed) earlier in their history; those steps are left out of their history: {}",
            other_stage.len(),
            some_ids(&other_stage)
        ));
    }
    notes.append(&mut m.notes);

    let mut reps: Vec<JRep> = m.reps.iter().map(JRep::from).collect();
    if !unowned.is_empty() {
        reps.push(JRep {
            id: NO_OWNER,
            name: NO_OWNER,
            email: None,
            active: false,
            team: None,
        });
    }
    let doc = JSnapshot {
        currency,
        reps,
        stages: m.stages.iter().map(JStage::from).collect(),
        deals: m
            .deals
            .iter()
            .zip(owners)
            .map(|(d, owner)| JDeal {
                id: &d.id,
                name: &d.name,
                owner,
                amount: &d.amount,
                stage: &d.stage,
                created_at: &d.created_at,
                close_date: &d.close_date,
                forecast_category: d.forecast_category.clone().ok().map(|c| c.as_str()),
                deal_type: d.deal_type.clone().ok().map(|t| t.as_str()),
                history: d
                    .history
                    .iter()
                    .filter_map(|e| JEntry::of(e, &stage_ids))
                    .collect(),
            })
            .collect(),
        activities: m
            .activities
            .iter()
            .map(|a| JActivity {
                id: &a.id,
                owner: a.owner.as_deref(),
                kind: a.kind.as_str(),
                at: &a.at,
                duration_minutes: &a.duration_minutes,
                outcome: a.outcome.as_deref(),
                deal_id: a.deal_id.as_deref(),
            })
            .collect(),
        leads: m
            .leads
            .iter()
            .map(|l| JLead {
                id: &l.id,
                owner: l.owner.as_deref(),
                created_at: &l.created_at,
                first_response_at: &l.first_response_at,
                score: &l.score,
            })
            .collect(),
    };
    let bytes = serde_json::to_vec(&doc)?;
    let mut snap = snapshot::parse(&bytes, opts)
        .with_context(|| format!("the records pulled from {vendor}"))?;
    notes.append(&mut snap.notes);
    snap.notes = notes;
    Ok(snap)
}

/// A deal-type value through the vendor table (its defaults and the
/// config's `deal_types`); anything else is kept (as `Bad`) for a note.
pub fn deal_type(v: Option<String>, table: &Lookup<DealType>) -> Read<DealType> {
    match v {
        None => Read::Missing,
        Some(v) => table.get(&v).map_or(Read::Bad(v), Read::Ok),
    }
}

/// A forecast-category value: the vendor table first, then the canonical
/// names; anything else is kept (as `Bad`) for a note.
pub fn category(v: Option<String>, table: &Lookup<ForecastCategory>) -> Read<ForecastCategory> {
    match v {
        None => Read::Missing,
        Some(v) => match table.get(&v).or_else(|| ForecastCategory::parse(&v)) {
            Some(c) => Read::Ok(c),
            None => Read::Bad(v),
        },
    }
}

/// The first ten ids, then how many more.
fn some_ids(ids: &[&str]) -> String {
    let mut s = ids.iter().take(10).copied().collect::<Vec<_>>().join(", ");
    if ids.len() > 10 {
        s.push_str(&format!(" and {} more", ids.len() - 10));
    }
    s
}

// The canonical JSON (shared spec CANONICAL.md), written field by field.

#[derive(Serialize)]
struct JSnapshot<'a> {
    currency: &'a str,
    reps: Vec<JRep<'a>>,
    stages: Vec<JStage<'a>>,
    deals: Vec<JDeal<'a>>,
    activities: Vec<JActivity<'a>>,
    leads: Vec<JLead<'a>>,
}

#[derive(Serialize)]
struct JRep<'a> {
    id: &'a str,
    name: &'a str,
    email: Option<&'a str>,
    active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    team: Option<&'a str>,
}

impl<'a> From<&'a Rep> for JRep<'a> {
    fn from(r: &'a Rep) -> Self {
        JRep {
            id: &r.id,
            name: &r.name,
            email: r.email.as_deref(),
            active: r.active,
            team: r.team.as_deref().filter(|t| !t.trim().is_empty()),
        }
    }
}

#[derive(Serialize)]
struct JStage<'a> {
    id: &'a str,
    label: &'a str,
    #[serde(serialize_with = "decimal")]
    probability: &'a Decimal,
    order: i64,
    closed: bool,
    won: bool,
}

impl<'a> From<&'a Stage> for JStage<'a> {
    fn from(s: &'a Stage) -> Self {
        JStage {
            id: &s.id,
            label: &s.label,
            probability: &s.probability,
            order: s.order,
            closed: s.closed,
            won: s.won,
        }
    }
}

#[derive(Serialize)]
struct JDeal<'a> {
    id: &'a str,
    name: &'a str,
    owner: &'a str,
    amount: &'a Read<Decimal>,
    stage: &'a str,
    created_at: &'a Read<When>,
    close_date: &'a Read<When>,
    forecast_category: Option<&'static str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    deal_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    history: Vec<JEntry<'a>>,
}

/// A history entry: an absent field is unchanged then, `null` emptied.
#[derive(Serialize)]
struct JEntry<'a> {
    at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<&'a Read<Decimal>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close_date: Option<&'a Read<When>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    forecast_category: Option<Option<&'static str>>,
}

impl<'a> JEntry<'a> {
    /// The entry without a stage that is not pulled (noted by `build`);
    /// `None` when nothing is left of it.
    fn of(e: &'a EntryRec, stages: &HashSet<&str>) -> Option<JEntry<'a>> {
        let j = JEntry {
            at: When::Instant(e.at).canonical(),
            stage: e.stage.as_deref().filter(|s| stages.contains(s)),
            amount: e.amount.as_ref(),
            close_date: e.close_date.as_ref(),
            forecast_category: e
                .forecast_category
                .as_ref()
                .map(|c| c.clone().ok().map(|c| c.as_str())),
        };
        let empty = j.stage.is_none()
            && j.amount.is_none()
            && j.close_date.is_none()
            && j.forecast_category.is_none();
        (!empty).then_some(j)
    }
}

#[derive(Serialize)]
struct JActivity<'a> {
    id: &'a str,
    owner: Option<&'a str>,
    kind: &'static str,
    at: &'a Read<When>,
    duration_minutes: &'a Read<Decimal>,
    outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deal_id: Option<&'a str>,
}

#[derive(Serialize)]
struct JLead<'a> {
    id: &'a str,
    owner: Option<&'a str>,
    created_at: &'a Read<When>,
    first_response_at: &'a Read<When>,
    score: &'a Read<Decimal>,
}

fn decimal<S: Serializer>(d: &&Decimal, s: S) -> Result<S::Ok, S::Error> {
    // As text: the snapshot reads "0.2" as exactly 0.2.
    s.collect_str(d)
}

/// The canonical text of a value; text that could not be read is written
/// as it came, so the snapshot checks name its record and field.
impl<T: Canonical> Serialize for Read<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Read::Missing => s.serialize_none(),
            Read::Ok(v) => s.serialize_str(&v.canonical()),
            Read::Bad(raw) => s.serialize_str(raw),
        }
    }
}

pub trait Canonical {
    fn canonical(&self) -> String;
}

impl Canonical for Decimal {
    fn canonical(&self) -> String {
        self.normalize().to_string()
    }
}

impl Canonical for When {
    fn canonical(&self) -> String {
        match self {
            When::Date(d) => d.to_string(),
            When::Instant(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn rep(id: &str) -> Rep {
        Rep {
            id: id.into(),
            name: format!("Rep {id}"),
            email: None,
            start_date: None,
            active: true,
            team: None,
        }
    }

    fn stage(id: &str, p: i64, closed: bool, won: bool) -> Stage {
        Stage {
            id: id.into(),
            label: id.into(),
            probability: Decimal::new(p, 1),
            order: 1,
            closed,
            won,
        }
    }

    fn deal(id: &str, owner: Option<&str>) -> DealRec {
        DealRec {
            id: id.into(),
            name: format!("Deal {id}"),
            owner: owner.map(String::from),
            amount: Read::Ok(Decimal::new(150005, 1)),
            stage: "open".into(),
            created_at: Read::Ok(When::Instant(
                Utc.with_ymd_and_hms(2026, 5, 2, 9, 15, 22).unwrap(),
            )),
            close_date: Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 7, 31).unwrap())),
            forecast_category: Read::Missing,
            currency: None,
            deal_type: Read::Missing,
            history: Vec::new(),
        }
    }

    fn mapped() -> Mapped {
        Mapped {
            reps: vec![rep("10"), rep("9")],
            stages: vec![stage("open", 2, false, false), stage("won", 10, true, true)],
            deals: vec![
                deal("2", Some("9")),
                deal("10", Some("404")),
                deal("1", None),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn unknown_and_missing_owners_go_to_no_owner_with_a_note() {
        let s = build("hubspot", mapped(), "USD", LoadOptions::default()).unwrap();
        let ids: Vec<&str> = s.reps.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["9", "10", NO_OWNER]);
        let deals: Vec<(&str, &str)> = s
            .deals
            .iter()
            .map(|d| (d.id.as_str(), s.reps[d.owner].id.as_str()))
            .collect();
        assert_eq!(deals, vec![("1", NO_OWNER), ("2", "9"), ("10", NO_OWNER)]);
        assert_eq!(s.notes.len(), 1);
        assert!(
            s.notes[0].starts_with("2 deal(s) have no owner"),
            "{}",
            s.notes[0]
        );
        assert!(s.notes[0].ends_with(": 1, 10"), "{}", s.notes[0]);
        assert_eq!(s.deals[1].amount, Some(Decimal::new(150005, 1)));
    }

    #[test]
    fn other_currencies_and_unknown_categories_are_noted() {
        let mut m = mapped();
        m.deals[0].currency = Some("EUR".into());
        m.deals[1].currency = Some("usd".into());
        m.deals[2].forecast_category = Read::Bad("MOST_LIKELY".into());
        let s = build("hubspot", m, "USD", LoadOptions::default()).unwrap();
        assert!(s
            .notes
            .iter()
            .any(|n| n.starts_with("1 deal(s) are in EUR, not USD")));
        assert!(s.notes.iter().any(|n| n.contains("\"MOST_LIKELY\" (1)")));
        assert!(s.deals.iter().all(|d| d.forecast_category.is_none()));
    }

    #[test]
    fn unreadable_values_fail_with_record_and_field_unless_skipped() {
        let mut m = mapped();
        m.deals[0].close_date = Read::Bad("31/07/2026".into());
        m.deals[1].stage = "gone".into();
        let err = format!(
            "{:#}",
            build("hubspot", m, "USD", LoadOptions::default()).unwrap_err()
        );
        assert!(
            err.contains(r#"(id "2").close_date: "31/07/2026" is not a"#),
            "{err}"
        );
        assert!(
            err.contains(r#"(id "10").stage: stage "gone" does not exist"#),
            "{err}"
        );

        let mut m = mapped();
        m.deals[0].close_date = Read::Missing;
        let s = build(
            "hubspot",
            m,
            "USD",
            LoadOptions {
                skip_bad_records: true,
            },
        )
        .unwrap();
        assert_eq!(s.deals.len(), 2);
        assert!(s
            .notes
            .iter()
            .any(|n| n.contains(r#"(id "2").close_date: is missing"#)));
    }

    #[test]
    fn types_history_deal_links_and_teams_reach_the_snapshot() {
        let mut m = mapped();
        m.reps[0].team = Some("EMEA Sales".into());
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        m.deals[0].deal_type = Read::Ok(DealType::Renewal);
        m.deals[1].deal_type = Read::Bad("expansion".into());
        m.deals[2].deal_type = Read::Bad("expansion".into());
        m.deals[0].history = history(vec![
            (t("2026-06-20T02:00:00Z"), Set::Stage("won".into())),
            (t("2026-05-02T09:15:22Z"), Set::Stage("open".into())),
            (t("2026-05-02T09:15:22Z"), Set::Amount(Read::Missing)),
            (
                t("2026-06-20T02:00:00Z"),
                Set::Category(Read::Ok(ForecastCategory::Closed)),
            ),
            // A stage of a pipeline not pulled: left out, and its entry
            // with it since nothing else is left.
            (
                t("2026-05-10T00:00:00Z"),
                Set::Stage("other-pipeline".into()),
            ),
        ]);
        m.activities.push(ActivityRec {
            id: "a1".into(),
            owner: Some("9".into()),
            kind: ActivityKind::Call,
            at: Read::Ok(When::Instant(t("2026-06-02T10:00:00Z"))),
            duration_minutes: Read::Missing,
            outcome: None,
            deal_id: Some("2".into()),
        });
        m.activities.push(ActivityRec {
            id: "a2".into(),
            deal_id: Some("not-pulled".into()),
            ..m.activities[0].clone()
        });
        let s = build("hubspot", m, "USD", LoadOptions::default()).unwrap();
        let rep10 = s.reps.iter().find(|r| r.id == "10").unwrap();
        assert_eq!(rep10.team.as_deref(), Some("EMEA Sales"));
        let d = s.deals.iter().find(|d| d.id == "2").unwrap();
        assert_eq!(d.deal_type, Some(DealType::Renewal));
        let changes = s.history_of(d);
        assert_eq!(changes.len(), 4, "{changes:?}");
        assert_eq!(changes[0].at, t("2026-05-02T09:15:22Z"));
        assert_eq!(changes[1].value, snapshot::Field::Amount(None));
        assert!(s
            .deals
            .iter()
            .filter(|d| d.id != "2")
            .all(|d| d.deal_type.is_none()));
        assert_eq!(s.deal_id_of(&s.activities[0]), Some("2"));
        assert_eq!(s.deal_id_of(&s.activities[1]), Some("not-pulled"));
        let note = |start: &str| s.notes.iter().any(|n| n.starts_with(start));
        assert!(
            note("hubspot: deal type value(s) \"expansion\" (2) are not mapped and count as untyped; map them in [source.hubspot] deal_types"),
            "{:?}",
            s.notes
        );
        assert!(
            note("1 deal(s) were in a stage that was not pulled"),
            "{:?}",
            s.notes
        );
        assert_eq!(
            s.notes
                .iter()
                .filter(|n| n.starts_with("1 activity name a deal that is not in the data"))
                .count(),
            1,
            "{:?}",
            s.notes
        );
        // Written back, read again: the same snapshot (pull --save).
        let again = snapshot::parse(
            snapshot::to_json(&s).to_string().as_bytes(),
            LoadOptions::default(),
        )
        .unwrap();
        assert_eq!(again.changes, s.changes);
        assert_eq!(again.reps, s.reps);
        assert_eq!(again.deals, s.deals);
        assert_eq!(again.activities, s.activities);
        // The notes once each: the one the data gives is not repeated.
        assert_eq!(again.notes, s.notes);
    }

    #[test]
    fn vendor_notes_come_with_the_others() {
        let mut m = mapped();
        m.notes
            .push("hubspot: 2 deal property version(s) have no readable timestamp".into());
        let s = build("hubspot", m, "USD", LoadOptions::default()).unwrap();
        assert!(s
            .notes
            .iter()
            .any(|n| n.starts_with("hubspot: 2 deal property")));
    }
}
