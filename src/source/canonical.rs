//! What every connector hands over (records mapped from the vendor, with
//! references still by id) and the one way they become a snapshot: sorted
//! by id, deal owners resolved (unknown → the rep "(no owner)"), notes for
//! the data-quality section, then checked by the very rules of the `file`
//! source — the records go through the canonical JSON — so that a pull
//! saved with `pull --save` gives the same report as the pull itself.
//!
//! Pure: no I/O.

use super::wire::{id_order, Read};
use crate::config::Lookup;
use crate::snapshot::{
    self, ActivityKind, ForecastCategory, LoadOptions, Rep, Snapshot, Stage, When,
};
use anyhow::{Context, Result};
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityRec {
    pub id: String,
    pub owner: Option<String>,
    pub kind: ActivityKind,
    pub at: Read<When>,
    pub duration_minutes: Read<Decimal>,
    pub outcome: Option<String>,
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

    let mut reps: Vec<JRep> = m.reps.iter().map(JRep::from).collect();
    if !unowned.is_empty() {
        reps.push(JRep {
            id: NO_OWNER,
            name: NO_OWNER,
            email: None,
            active: false,
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
}

impl<'a> From<&'a Rep> for JRep<'a> {
    fn from(r: &'a Rep) -> Self {
        JRep {
            id: &r.id,
            name: &r.name,
            email: r.email.as_deref(),
            active: r.active,
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
}

#[derive(Serialize)]
struct JActivity<'a> {
    id: &'a str,
    owner: Option<&'a str>,
    kind: &'static str,
    at: &'a Read<When>,
    duration_minutes: &'a Read<Decimal>,
    outcome: Option<&'a str>,
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
}
