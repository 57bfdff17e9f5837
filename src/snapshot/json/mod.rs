//! Reading and writing the canonical snapshot JSON (the `file` source's
//! format), with one error per broken record that names its index, id and
//! field.
//!
//! `raw` reads each field leniently (any JSON value), so a wrong type in one
//! record becomes that record's error instead of failing the document;
//! `build` validates records into the snapshot (`ids`: duplicate ids, deals
//! by id). Two readers feed it: the fast path (`fast`, `scan`, `split`,
//! `join`: the document in parts on every core) reads what it can, and the
//! general path (`stream`: serde_json on a reader thread) reads everything
//! else and words every syntax error. Both fill the same raw records, so
//! they give the same snapshot and the same errors. `write` is the way
//! back (`salesops pull --save`).

mod build;
mod fast;
mod ids;
mod join;
mod keys;
mod pages;
mod raw;
mod scan;
mod split;
mod stream;
mod threads;
mod write;

pub use write::to_json;

/// The largest number (in size) a snapshot may hold: an amount, a
/// duration, a score. 10^15 is beyond any deal in any currency, and at that
/// bound the sums and products the figures take of a billion records stay
/// inside the exact decimal range (about 7.9 × 10^28), so no figure can
/// overflow. A larger value is a broken record.
pub const MAX_NUMBER: i64 = 1_000_000_000_000_000;

/// The keys a snapshot must have (CANONICAL.md); `activities` and `leads`
/// may be left out.
pub const REQUIRED_LISTS: [&str; 3] = ["reps", "stages", "deals"];

use crate::snapshot::Snapshot;
use build::Builder;
use std::fmt;
use std::ops::Range;

/// Parses canonical snapshot JSON into a validated snapshot.
pub fn parse(bytes: &[u8], opts: LoadOptions) -> Result<Snapshot, LoadError> {
    parse_with_progress(bytes, opts, None)
}

/// `parse`, telling `progress` which input has been read and is no longer
/// needed (a file source hands those pages back to the OS). A range may
/// still be read again (the general path after the fast one gave up), so
/// the input must stay valid.
pub fn parse_with_progress(
    bytes: &[u8],
    opts: LoadOptions,
    progress: Option<&(dyn Fn(Range<usize>) + Sync)>,
) -> Result<Snapshot, LoadError> {
    // A UTF-8 byte order mark (some Windows exports write one) is skipped.
    let (bytes, progress) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, None),
        None => (bytes, progress),
    };
    let b = match fast::read(bytes, fast::Plan::for_input(bytes.len()), progress) {
        Ok(b) => b,
        Err(scan::Bail) => stream::read(bytes, progress)?,
    };
    finish(b, opts)
}

/// The document's shape checked (the three lists, the currency), deal
/// links noted, errors in input order; skipped records become notes.
fn finish(mut b: Builder, opts: LoadOptions) -> Result<Snapshot, LoadError> {
    let missing: Vec<String> = REQUIRED_LISTS
        .iter()
        .zip(b.present)
        .filter(|(_, seen)| !seen)
        .map(|(k, _)| format!("{k:?}"))
        .collect();
    if !missing.is_empty() {
        return Err(LoadError::Shape(format!(
            "the snapshot has no {} list: a snapshot must have \"reps\", \"stages\" and \"deals\" (an empty list is fine); see the canonical format (docs/connectors.md)",
            missing.join(", ")
        )));
    }
    // Left empty when the document names none: the source decides it then
    // (`source::pull`).
    let named = std::mem::take(&mut b.snap.currency);
    if !named.is_empty() {
        let code = named.trim().to_ascii_uppercase();
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(LoadError::Shape(format!(
                "currency: {named:?} is not a three-letter ISO 4217 code such as \"USD\" or \"KRW\""
            )));
        }
        b.snap.currency = code;
    }
    b.finish();
    let Builder {
        mut snap,
        mut errors,
        ..
    } = b;
    if errors.is_empty() {
        return Ok(snap);
    }
    errors.sort_by_key(|e| (order_of(e.collection), e.index));
    if opts.skip_bad_records {
        snap.notes
            .extend(errors.iter().map(|e| format!("skipped {e}")));
        return Ok(snap);
    }
    Err(LoadError::Records(errors))
}

/// The general path alone (tests compare the two).
#[cfg(test)]
fn parse_general(bytes: &[u8], opts: LoadOptions) -> Result<Snapshot, LoadError> {
    finish(stream::read(bytes, None)?, opts)
}

/// The fast path alone, cut as `plan` says: None when it leaves the
/// document to the general path; else the result and the parts joined.
#[cfg(test)]
fn parse_fast(
    bytes: &[u8],
    opts: LoadOptions,
    plan: fast::Plan,
) -> Option<(Result<Snapshot, LoadError>, usize)> {
    let (b, parts) = fast::read_counted(bytes, plan, None).ok()?;
    Some((finish(b, opts), parts))
}

fn order_of(collection: &str) -> usize {
    ["reps", "stages", "deals", "activities", "leads"]
        .iter()
        .position(|c| *c == collection)
        .unwrap_or(5)
}

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
    /// `close_date`, or a path into a list such as `history[2].stage`.
    pub field: std::borrow::Cow<'static, str>,
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
    /// The document as a whole breaks a rule (a required list or a valid
    /// currency is missing).
    #[error("{0}")]
    Shape(String),
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

#[cfg(test)]
mod same;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::*;
    use rust_decimal::Decimal;
    use serde_json::{json, Value};
    use std::str::FromStr;

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
                let fields: Vec<_> = errs.iter().map(|e| (e.index, e.field.as_ref())).collect();
                // d2 repeats d1's id but is broken anyway: its own field is named
                // (ids are compared among the records that are kept).
                assert_eq!(fields, vec![(1, "owner"), (2, "amount"), (3, "id")]);
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

    #[test]
    fn activity_duplicates_are_caught_and_broken_records_take_no_id() {
        let mut v = base();
        let act = |id: &str, kind: &str| json!({"id": id, "owner": "r1", "kind": kind, "at": "2026-07-02T01:00:00Z"});
        v["activities"] = json!([
            act("a1", "call"),
            act("a2", "nonsense"), // broken: its id stays free
            act("a2", "email"),    // so this one is kept
            act("a1", "email"),    // duplicate of the first
            act("a2", "call"),     // duplicate of the kept a2
            act("a3", "meeting")
        ]);
        let s = parse(
            v.to_string().as_bytes(),
            LoadOptions {
                skip_bad_records: true,
            },
        )
        .unwrap();
        let ids: Vec<&str> = s.activities.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a1", "a2", "a3"]);
        assert_eq!(s.activities[1].kind, ActivityKind::Email);
        let skipped: Vec<&str> = s.notes.iter().map(|n| n.as_str()).collect();
        assert_eq!(skipped.len(), 3, "{skipped:?}");
        assert!(skipped[0].contains("activities[1]") && skipped[0].contains("kind"));
        assert!(skipped[1].contains("activities[3]") && skipped[1].contains("duplicate id \"a1\""));
        assert!(skipped[2].contains("activities[4]") && skipped[2].contains("duplicate id \"a2\""));
    }
}
