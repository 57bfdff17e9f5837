//! The books at an instant: each deal's stage, status, amount, close date
//! and forecast category as they were when local day `as_of` began
//! (METRICS.md "The books at as_of"). This is the one place that reads a
//! deal's `history`; every figure reads deals through `Books`.
//!
//! Pure: no I/O. A deal without history is read as it is now, so a
//! snapshot without history gives today's values at every instant.

use super::{Change, DealType, Field, ForecastCategory, Snapshot, Status, When};
use crate::period::day_start;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// One deal as it stood at the instant of its `Books`.
#[derive(Debug, Clone, PartialEq)]
pub struct DealAt {
    /// Index into `Snapshot::deals`.
    pub index: u32,
    /// Index into `Snapshot::reps`.
    pub owner: u32,
    /// Index into `Snapshot::stages`.
    pub stage: u32,
    /// From the stage at the instant.
    pub status: Status,
    /// `None`: no amount at the instant (counts as 0, and is noted).
    pub amount: Option<Decimal>,
    /// The close date at the instant, as a local date of the report's zone.
    pub close: NaiveDate,
    pub created_at: When,
    pub category: Option<ForecastCategory>,
    pub deal_type: Option<DealType>,
}

impl DealAt {
    pub fn amount_or_zero(&self) -> Decimal {
        self.amount.unwrap_or_default()
    }
}

/// The deals that existed at the start of local day `as_of` (created
/// before it), each as it stood then.
#[derive(Debug, Clone)]
pub struct Books {
    pub as_of: NaiveDate,
    /// The instant local day `as_of` begins.
    pub t: DateTime<Utc>,
    pub deals: Vec<DealAt>,
}

impl Books {
    /// The books of the deals `only` (indexes; `None`: every deal) at the
    /// start of local day `as_of` in `tz`.
    pub fn at(snap: &Snapshot, tz: Tz, as_of: NaiveDate, only: Option<&[u32]>) -> Books {
        let t = day_start(as_of, tz);
        let mut deals = Vec::with_capacity(only.map_or(snap.deals.len(), |o| o.len()));
        let mut push = |i: u32| {
            if let Some(d) = deal_at(snap, i, t, as_of, tz) {
                deals.push(d);
            }
        };
        match only {
            Some(list) => list.iter().for_each(|i| push(*i)),
            None => (0..snap.deals.len() as u32).for_each(push),
        }
        Books { as_of, t, deals }
    }
}

/// Deal `i` as it stood at instant `t` (the start of local day `as_of`);
/// `None` when it was created at or after `t`.
pub fn deal_at(
    snap: &Snapshot,
    i: u32,
    t: DateTime<Utc>,
    as_of: NaiveDate,
    tz: Tz,
) -> Option<DealAt> {
    let d = &snap.deals[i as usize];
    let exists = match d.created_at {
        When::Date(c) => c < as_of,
        When::Instant(c) => c < t,
    };
    if !exists {
        return None;
    }
    let mut stage = d.stage as u32;
    let mut amount = d.amount;
    let mut close = d.close_date;
    let mut category = d.forecast_category;
    let history = snap.history_of(d);
    if !history.is_empty() {
        let r = Resolved::of(history, t);
        if let Some(Field::Stage(s)) = r.stage.map(|c| &c.value) {
            stage = *s;
        }
        if let Some(Field::Amount(a)) = r.amount.map(|c| &c.value) {
            amount = *a;
        }
        if let Some(Field::CloseDate(w)) = r.close.map(|c| &c.value) {
            close = *w;
        }
        if let Some(Field::Category(c)) = r.category.map(|c| &c.value) {
            category = *c;
        }
    }
    Some(DealAt {
        index: i,
        owner: d.owner as u32,
        stage,
        status: snap.stages[stage as usize].status(),
        amount,
        close: close.local_date(tz),
        created_at: d.created_at,
        category,
        deal_type: d.deal_type,
    })
}

/// For each field, the history entry that applies at `t`.
#[derive(Default)]
struct Resolved<'a> {
    stage: Option<&'a Change>,
    amount: Option<&'a Change>,
    close: Option<&'a Change>,
    category: Option<&'a Change>,
}

impl<'a> Resolved<'a> {
    /// Per field: the latest entry before `t`, else the earliest entry (the
    /// value the deal was created with); among entries with the same `at`,
    /// the later in the list wins.
    fn of(history: &'a [Change], t: DateTime<Utc>) -> Resolved<'a> {
        let mut before: [Option<&Change>; 4] = [None; 4];
        let mut earliest: [Option<&Change>; 4] = [None; 4];
        for c in history {
            let f = match c.value {
                Field::Stage(_) => 0,
                Field::Amount(_) => 1,
                Field::CloseDate(_) => 2,
                Field::Category(_) => 3,
            };
            if c.at < t && before[f].is_none_or(|b| c.at >= b.at) {
                before[f] = Some(c);
            }
            if earliest[f].is_none_or(|e| c.at <= e.at) {
                earliest[f] = Some(c);
            }
        }
        let pick = |f: usize| before[f].or(earliest[f]);
        Resolved {
            stage: pick(0),
            amount: pick(1),
            close: pick(2),
            category: pick(3),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{parse, LoadOptions};
    use serde_json::json;

    fn snap(history: serde_json::Value) -> Snapshot {
        let v = json!({
            "currency": "USD",
            "reps": [{"id": "r1", "name": "Kim"}],
            "stages": [
                {"id": "demo", "label": "Demo", "probability": 0.3, "order": 1, "closed": false, "won": false},
                {"id": "won", "label": "Won", "probability": 1.0, "order": 2, "closed": true, "won": true}
            ],
            "deals": [{"id": "d1", "name": "A", "owner": "r1", "amount": 500, "stage": "won",
                       "created_at": "2026-04-01T00:00:00Z", "close_date": "2026-06-10",
                       "forecast_category": "closed", "history": history}]
        });
        parse(v.to_string().as_bytes(), LoadOptions::default()).unwrap()
    }

    fn at(s: &Snapshot, day: &str) -> Option<DealAt> {
        let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap();
        Books::at(s, chrono_tz::UTC, d, None).deals.pop()
    }

    #[test]
    fn entry_exactly_at_the_instant_does_not_apply_yet() {
        let s = snap(json!([
            {"at": "2026-04-01T00:00:00Z", "stage": "demo", "amount": null, "close_date": "2026-07-31", "forecast_category": "pipeline"},
            {"at": "2026-05-01T00:00:00Z", "amount": 400, "forecast_category": "commit"},
            {"at": "2026-06-10T00:00:00Z", "stage": "won", "amount": 500, "close_date": "2026-06-10", "forecast_category": "closed"}
        ]));
        let may = at(&s, "2026-05-01").unwrap();
        assert_eq!((may.status, may.amount), (Status::Open, None));
        assert_eq!(may.category, Some(ForecastCategory::Pipeline));
        let may2 = at(&s, "2026-05-02").unwrap();
        assert_eq!(may2.amount, Some(Decimal::from(400)));
        assert_eq!(may2.close, NaiveDate::from_ymd_opt(2026, 7, 31).unwrap());
        let june = at(&s, "2026-06-11").unwrap();
        assert_eq!(
            (june.status, june.amount),
            (Status::Won, Some(Decimal::from(500)))
        );
        // Not created yet: absent.
        assert!(at(&s, "2026-04-01").is_none());
    }

    #[test]
    fn before_any_entry_reads_the_earliest_and_ties_go_to_the_later() {
        let s = snap(json!([
            {"at": "2026-05-01T00:00:00Z", "stage": "demo", "amount": 100},
            {"at": "2026-05-01T00:00:00Z", "amount": 200},
            {"at": "2026-05-20T00:00:00Z", "stage": "won"}
        ]));
        // Created 04-01, first entry 05-01: the deal's creation values are
        // the earliest entry's (the later of the two at the same instant).
        let d = at(&s, "2026-04-15").unwrap();
        assert_eq!(
            (d.status, d.amount),
            (Status::Open, Some(Decimal::from(200)))
        );
        // Fields no entry carries are read as they are now.
        assert_eq!(d.category, Some(ForecastCategory::Closed));
        assert_eq!(at(&s, "2026-05-21").unwrap().status, Status::Won);
    }

    #[test]
    fn without_history_a_deal_is_read_as_it_is_now() {
        let s = snap(json!(null));
        let d = at(&s, "2026-04-02").unwrap();
        assert_eq!(
            (d.status, d.amount),
            (Status::Won, Some(Decimal::from(500)))
        );
        assert!(!s.has_history());
    }
}
