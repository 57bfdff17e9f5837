//! The canonical snapshot: the one in-memory model every source maps into
//! (shared spec CANONICAL.md) and the only thing metrics read.
//!
//! Records keep what the CRM said, time-zone free: instants stay instants and
//! bare dates stay dates, so the same snapshot serves reports in any zone.
//! References between records (deal → rep, deal → stage) are indexes,
//! resolved once when the snapshot is built, so metrics never look up ids.

mod books;
mod json;
mod records;

pub use books::{deal_at, Books, DealAt};
pub use json::{
    parse, parse_with_progress, to_json, LoadError, LoadOptions, RecordError, MAX_NUMBER,
    REQUIRED_LISTS,
};
pub use records::{Records, Select};

use chrono::{DateTime, NaiveDate, Utc};

/// Text of the records that come by the million (ids, names, outcomes):
/// up to 24 bytes are kept inline, so a snapshot of millions of records is
/// not millions of small allocations to make, touch and free. It reads as
/// a `&str` (`Deref`).
pub type Text = compact_str::CompactString;
use chrono_tz::Tz;
use rust_decimal::Decimal;

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub currency: String,
    pub reps: Vec<Rep>,
    pub stages: Vec<Stage>,
    pub deals: Vec<Deal>,
    /// Activities and leads come by the million: kept in the pieces the
    /// reader filled them in (`Records`), read as one list.
    pub activities: Records<Activity>,
    pub leads: Records<Lead>,
    /// Every deal's history, flat: deal `i` owns `changes[deals[i].history]`
    /// (one allocation for millions of entries, no per-deal `Vec`).
    pub changes: Vec<Change>,
    /// `deal_id`s of activities that name no deal of the snapshot, kept so
    /// that `pull --save` writes them back (`DealLink::Unknown` indexes here).
    pub unknown_deal_ids: Vec<String>,
    /// Notes about the data itself (records skipped on load), shown in the
    /// report's data-quality section.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rep {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub active: bool,
    /// The rep's sales team as the CRM names it (METRICS.md "Teams").
    pub team: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub id: String,
    pub label: String,
    /// In [0, 1].
    pub probability: Decimal,
    pub order: i64,
    pub closed: bool,
    pub won: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Open,
    Won,
    Lost,
}

impl Stage {
    /// A deal's status comes from its stage, as CANONICAL.md words it: open
    /// unless the stage is closed; a closed stage is won when it is won,
    /// else lost. (A stage marked won but not closed is open.)
    pub fn status(&self) -> Status {
        match (self.closed, self.won) {
            (false, _) => Status::Open,
            (true, true) => Status::Won,
            (true, false) => Status::Lost,
        }
    }
}

/// A point in time as the CRM gave it: a bare date is a local date in the
/// report's zone; an instant gets its local date from the zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
}

impl When {
    /// The instant this stands for; a bare date is the start of that local day.
    pub fn instant(&self, tz: Tz) -> DateTime<Utc> {
        match self {
            When::Date(d) => crate::period::day_start(*d, tz),
            When::Instant(t) => *t,
        }
    }

    pub fn local_date(&self, tz: Tz) -> NaiveDate {
        match self {
            When::Date(d) => *d,
            When::Instant(t) => crate::period::local_date(*t, tz),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ForecastCategory {
    Omitted,
    Pipeline,
    BestCase,
    Commit,
    Closed,
}

impl ForecastCategory {
    pub const ALL: [(&'static str, ForecastCategory); 5] = [
        ("omitted", ForecastCategory::Omitted),
        ("pipeline", ForecastCategory::Pipeline),
        ("best_case", ForecastCategory::BestCase),
        ("commit", ForecastCategory::Commit),
        ("closed", ForecastCategory::Closed),
    ];

    pub fn parse(s: &str) -> Option<ForecastCategory> {
        label_value(&Self::ALL, s)
    }

    pub fn as_str(&self) -> &'static str {
        value_label(&Self::ALL, self)
    }
}

/// The value a CRM label names, the way CRMs export labels: letter case,
/// surrounding spaces, and spaces or hyphens for `_` are ignored (`"Best
/// Case"` is `best_case`, `"Cross-sell"` is `cross_sell`).
fn label_value<T: Copy>(all: &[(&'static str, T)], s: &str) -> Option<T> {
    let s = s.trim().to_lowercase().replace([' ', '-'], "_");
    all.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
}

/// The canonical label of a value of `all`.
fn value_label<T: PartialEq>(all: &[(&'static str, T)], v: &T) -> &'static str {
    all.iter().find(|(_, x)| x == v).map(|(n, _)| *n).unwrap()
}

#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    pub id: Text,
    pub name: Text,
    /// Index into `Snapshot::reps`.
    pub owner: usize,
    /// `None` when the CRM had no amount: counts as 0 and is noted.
    pub amount: Option<Decimal>,
    /// Index into `Snapshot::stages`.
    pub stage: usize,
    pub created_at: When,
    /// Expected close date while open, actual close date once closed.
    pub close_date: When,
    pub forecast_category: Option<ForecastCategory>,
    /// The kind of business; `None` is untyped.
    pub deal_type: Option<DealType>,
    /// This deal's entries in `Snapshot::changes`, in the order the CRM
    /// listed them. Empty: the deal is read as it is now at every instant.
    pub history: std::ops::Range<u32>,
}

/// A deal's kind of business (CANONICAL.md `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DealType {
    NewBusiness,
    Upsell,
    CrossSell,
    Renewal,
}

impl DealType {
    pub const ALL: [(&'static str, DealType); 4] = [
        ("new_business", DealType::NewBusiness),
        ("upsell", DealType::Upsell),
        ("cross_sell", DealType::CrossSell),
        ("renewal", DealType::Renewal),
    ];

    /// Read with the tolerance of forecast categories (`Cross-sell`).
    pub fn parse(s: &str) -> Option<DealType> {
        label_value(&Self::ALL, s)
    }

    pub fn as_str(&self) -> &'static str {
        value_label(&Self::ALL, self)
    }

    /// Upsell and cross-sell: revenue from existing customers' expansion.
    pub fn is_expansion(&self) -> bool {
        matches!(self, DealType::Upsell | DealType::CrossSell)
    }

    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One field of one deal history entry: from `at` on, the field had `value`.
/// An entry that sets several fields becomes several changes with the same
/// `at`, in the entry's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub value: Field,
}

/// A deal field that history tracks, with the value it took.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// Index into `Snapshot::stages`.
    Stage(u32),
    /// `None`: the amount was empty from then on.
    Amount(Option<Decimal>),
    CloseDate(When),
    /// `None`: no category from then on.
    Category(Option<ForecastCategory>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    Call,
    Meeting,
    Email,
    Social,
    Task,
    InternalMeeting,
    Admin,
    Training,
    Other,
}

impl ActivityKind {
    pub const ALL: [(&'static str, ActivityKind); 9] = [
        ("call", ActivityKind::Call),
        ("meeting", ActivityKind::Meeting),
        ("email", ActivityKind::Email),
        ("social", ActivityKind::Social),
        ("task", ActivityKind::Task),
        ("internal_meeting", ActivityKind::InternalMeeting),
        ("admin", ActivityKind::Admin),
        ("training", ActivityKind::Training),
        ("other", ActivityKind::Other),
    ];

    pub fn parse(s: &str) -> Option<ActivityKind> {
        let s = s.trim();
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, k)| *k)
    }

    pub fn as_str(&self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, k)| k == self)
            .map(|(n, _)| *n)
            .unwrap()
    }

    pub fn index(&self) -> usize {
        *self as usize
    }

    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    pub id: Text,
    /// Index into `Snapshot::reps`; `None` when the owner is unknown (kept
    /// for team figures).
    pub owner: Option<usize>,
    pub kind: ActivityKind,
    pub at: When,
    pub duration_minutes: Decimal,
    /// Lower-cased outcome; a meeting counts as booked unless `canceled` or
    /// `no_show`.
    pub outcome: Option<Text>,
    /// The deal the activity belongs to (CANONICAL.md `deal_id`).
    pub deal: DealLink,
}

/// An activity's link to a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DealLink {
    #[default]
    None,
    /// Index into `Snapshot::deals`.
    Deal(u32),
    /// A `deal_id` that names no deal: index into `Snapshot::unknown_deal_ids`.
    Unknown(u32),
}

impl Activity {
    pub fn is_booked_meeting(&self) -> bool {
        self.kind == ActivityKind::Meeting && !self.fell_through()
    }

    /// Canceled or a no-show: it did not take place (it books no meeting
    /// and touches no deal).
    pub fn fell_through(&self) -> bool {
        matches!(self.outcome.as_deref(), Some("canceled") | Some("no_show"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScoreEvent {
    /// Shared between events: a million leads name a handful of kinds.
    pub kind: std::sync::Arc<str>,
    pub at: When,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lead {
    pub id: Text,
    /// The owner's id as the CRM gave it (not necessarily a known rep).
    pub owner: Option<Text>,
    pub created_at: When,
    pub first_response_at: Option<When>,
    pub score_events: Option<Vec<ScoreEvent>>,
    pub score: Option<Decimal>,
}

impl Snapshot {
    pub fn stage_of(&self, d: &Deal) -> &Stage {
        &self.stages[d.stage]
    }

    /// The history entries of `d`, in the CRM's order.
    pub fn history_of(&self, d: &Deal) -> &[Change] {
        &self.changes[d.history.start as usize..d.history.end as usize]
    }

    /// True when at least one deal carries history (forecasts of past
    /// periods can then be reconstructed, METRICS.md "Forecast accuracy").
    pub fn has_history(&self) -> bool {
        self.deals.iter().any(|d| !d.history.is_empty())
    }

    /// The deal id an activity names, known or not.
    pub fn deal_id_of(&self, a: &Activity) -> Option<&str> {
        match a.deal {
            DealLink::None => None,
            DealLink::Deal(i) => Some(&self.deals[i as usize].id),
            DealLink::Unknown(i) => Some(&self.unknown_deal_ids[i as usize]),
        }
    }
}
