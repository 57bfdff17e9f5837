//! Validation: turns lenient raw records into snapshot records, resolving
//! references to indexes, catching duplicate ids, and collecting one error
//! per broken record.

use super::ids::{id_hash, input_indexes, repeated_hashes, repeated_ids, DealIndex, IdHashes};
use super::raw::*;
use super::RecordError;
use crate::snapshot::*;
use rust_decimal::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

/// Builds the snapshot record by record while the JSON streams past, so no
/// intermediate copy of millions of records is ever held.
pub(super) struct Builder {
    pub(super) snap: Snapshot,
    pub(super) errors: Vec<RecordError>,
    pub(super) rep_index: HashMap<String, usize>,
    pub(super) stage_index: HashMap<String, usize>,
    pub(super) deal_ids: IdHashes,
    pub(super) act_ids: IdHashes,
    pub(super) lead_ids: IdHashes,
    /// Per list (deals, activities, leads), where its errors start in
    /// `errors`: the broken records from there, with the kept records' id
    /// hashes, tell a kept record's input index, so the hashes need not
    /// carry it (7 million indexes fewer to write and read). A list named
    /// again after its first was checked starts afresh.
    errors_from: [usize; 3],
    /// Score event kinds, shared: a million leads name a handful of kinds.
    pub(super) event_kinds: HashMap<String, Arc<str>>,
    /// Deal id hashes, sorted, with each deal's index: built once the deal
    /// list is complete, so activities' `deal_id`s resolve as they stream.
    pub(super) deal_lookup: Option<DealIndex>,
    /// `deal_id`s read before the deal list was complete wait in
    /// `unknown_deal_ids` and are resolved in `finish`.
    links_deferred: bool,
    /// The fast path's parts of the document each keep their `deal_id`s
    /// here (one text, no String each), resolved once all are joined.
    pub(super) pending: Option<PendingLinks>,
    /// Which of `REQUIRED_LISTS` the document has (the readers set it).
    pub(super) present: [bool; 3],
}

/// `deal_id`s waiting for the deal list: `DealLink::Unknown(k)` names the
/// k-th while pending.
#[derive(Default)]
pub(super) struct PendingLinks {
    pub text: String,
    pub ends: Vec<usize>,
}

impl PendingLinks {
    pub fn get(&self, k: usize) -> &str {
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.text[start..self.ends[k]]
    }

    pub fn push(&mut self, id: &str) -> u32 {
        self.text.push_str(id);
        self.ends.push(self.text.len());
        self.ends.len() as u32 - 1
    }
}

impl Builder {
    pub(super) fn new() -> Builder {
        Builder {
            snap: Snapshot::default(),
            errors: Vec::new(),
            rep_index: HashMap::default(),
            stage_index: HashMap::default(),
            deal_ids: IdHashes::new(),
            act_ids: IdHashes::new(),
            lead_ids: IdHashes::new(),
            errors_from: [0; 3],
            event_kinds: HashMap::default(),
            deal_lookup: None,
            links_deferred: false,
            pending: None,
            present: [false; 3],
        }
    }

    /// A builder for one part of the document (fast path), sharing this
    /// one's reps and stages; its `deal_id`s wait in `pending`.
    pub(super) fn part(&self) -> Builder {
        let mut b = Builder::new();
        b.rep_index = self.rep_index.clone();
        b.stage_index = self.stage_index.clone();
        b.pending = Some(PendingLinks::default());
        b
    }

    fn stage_id(&self, id: &str) -> Result<usize, String> {
        self.stage_index
            .get(id)
            .copied()
            .ok_or_else(|| format!("stage {id:?} does not exist in stages"))
    }

    /// A deal's history entries, each checked: `at` a timestamp, at least
    /// one field, a known stage, an amount that is a non-negative number.
    /// They go straight onto `snap.changes`; on error the caller truncates.
    fn history(&mut self, entries: &[RawChange]) -> Result<(), FieldError> {
        for (j, e) in entries.iter().enumerate() {
            let err = |f: &str, m: String| (format!("history[{j}].{f}").into(), m);
            let when = read::when(&e.at).map_err(|m| err("at", m))?;
            let at = match when {
                Some(When::Instant(t)) => t,
                Some(When::Date(_)) | None if read::present(&e.at).is_none() => {
                    return Err(err("at", "is missing".into()))
                }
                _ => {
                    return Err(err(
                        "at",
                        format!(
                            "{} is not a timestamp (RFC 3339 with an offset, e.g. 2026-07-01T09:00:00Z)",
                            e.at.as_ref().map(|s| s.to_string()).unwrap_or_default()
                        ),
                    ))
                }
            };
            let before = self.snap.changes.len();
            if e.stage.is_some() {
                let id = read::required_text(&e.stage).map_err(|m| err("stage", m))?;
                let i = self.stage_id(&id).map_err(|m| err("stage", m))?;
                self.snap.changes.push(Change {
                    at,
                    value: Field::Stage(i as u32),
                });
            }
            if e.amount.is_some() {
                let a = read::decimal(&e.amount).map_err(|m| err("amount", m))?;
                if let Some(a) = a.filter(|a| *a < Decimal::ZERO) {
                    return Err(err("amount", format!("{a} is negative")));
                }
                self.snap.changes.push(Change {
                    at,
                    value: Field::Amount(a),
                });
            }
            if e.close_date.is_some() {
                let w =
                    read::required(read::when(&e.close_date)).map_err(|m| err("close_date", m))?;
                self.snap.changes.push(Change {
                    at,
                    value: Field::CloseDate(w),
                });
            }
            if e.forecast_category.is_some() {
                let c = category(&e.forecast_category).map_err(|m| err("forecast_category", m))?;
                self.snap.changes.push(Change {
                    at,
                    value: Field::Category(c),
                });
            }
            if self.snap.changes.len() == before {
                return Err((
                    format!("history[{j}]").into(),
                    "carries no field (stage, amount, close_date or forecast_category)".into(),
                ));
            }
        }
        Ok(())
    }

    /// The link an activity's `deal_id` makes: a deal once the deal list is
    /// complete, else kept as text until `finish` resolves it.
    fn deal_link(&mut self, id: &str) -> DealLink {
        if let Some(p) = &mut self.pending {
            return DealLink::Unknown(p.push(id));
        }
        match &self.deal_lookup {
            Some(lookup) => match lookup.find(&self.snap.deals, id) {
                Some(i) => DealLink::Deal(i),
                None => self.unknown_deal(id),
            },
            None => {
                self.links_deferred = true;
                self.unknown_deal(id)
            }
        }
    }

    fn unknown_deal(&mut self, id: &str) -> DealLink {
        self.snap.unknown_deal_ids.push(id.to_string());
        DealLink::Unknown(self.snap.unknown_deal_ids.len() as u32 - 1)
    }

    pub(super) fn build_deal_lookup(&mut self) {
        self.deal_lookup = Some(DealIndex::new(&self.snap.deals, None));
    }

    /// Once everything is read: resolves `deal_id`s that came before their
    /// deals, and notes (once) the activities whose deal is not in the
    /// snapshot (they still count for every other figure).
    pub(super) fn finish(&mut self) {
        if self.links_deferred {
            if self.deal_lookup.is_none() {
                self.build_deal_lookup();
            }
            let lookup = self.deal_lookup.as_ref().unwrap();
            let old = std::mem::take(&mut self.snap.unknown_deal_ids);
            for a in &mut self.snap.activities {
                if let DealLink::Unknown(u) = a.deal {
                    let id = &old[u as usize];
                    a.deal = match lookup.find(&self.snap.deals, id) {
                        Some(i) => DealLink::Deal(i),
                        None => {
                            self.snap.unknown_deal_ids.push(id.clone());
                            DealLink::Unknown(self.snap.unknown_deal_ids.len() as u32 - 1)
                        }
                    };
                }
            }
        }
        // Without unknown ids no activity can name one (the usual case: a
        // pass over millions of activities saved).
        let unknown = if self.snap.unknown_deal_ids.is_empty() {
            0
        } else {
            self.snap
                .activities
                .iter()
                .filter(|a| matches!(a.deal, DealLink::Unknown(_)))
                .count()
        };
        if unknown > 0 {
            let mut ids: Vec<&str> = self
                .snap
                .unknown_deal_ids
                .iter()
                .map(|s| s.as_str())
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let shown: Vec<String> = ids.iter().take(10).map(|s| format!("{s:?}")).collect();
            let more = ids.len().saturating_sub(shown.len());
            let note = format!(
                "{unknown} activit{} name a deal that is not in the data (deal_id {}{}); they count for every figure except follow-up touches",
                if unknown == 1 { "y" } else { "ies" },
                shown.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            );
            // A saved pull (`pull --save`) already carries it in its notes.
            if !self.snap.notes.contains(&note) {
                self.snap.notes.push(note);
            }
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

    fn fail(&mut self, collection: &'static str, index: usize, id: Option<String>, e: FieldError) {
        self.errors.push(RecordError {
            collection,
            index,
            id,
            field: e.0,
            message: e.1,
        });
    }

    pub(super) fn rep(&mut self, i: usize, r: RawRep) {
        let built = (|| {
            let id = at("id", read::required_text(&r.id))?;
            if self.rep_index.contains_key(id.as_ref()) {
                return Err(("id".into(), format!("duplicate id {id:?}")));
            }
            Ok(Rep {
                name: at("name", read::string(&r.name))?.unwrap_or_else(|| id.to_string()),
                email: at("email", read::string(&r.email))?.filter(|e| !read::blank(e)),
                start_date: at("start_date", read::date(&r.start_date))?,
                active: at("active", read::boolean(&r.active, true))?,
                team: at("team", read::string(&r.team))?.filter(|t| !read::blank(t)),
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

    pub(super) fn stage(&mut self, i: usize, s: RawStage) {
        let built = (|| {
            let id = at("id", read::required_text(&s.id))?;
            if self.stage_index.contains_key(id.as_ref()) {
                return Err(("id".into(), format!("duplicate id {id:?}")));
            }
            let probability = at("probability", read::required(read::decimal(&s.probability)))?;
            if probability < Decimal::ZERO || probability > Decimal::ONE {
                return Err((
                    "probability".into(),
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

    pub(super) fn deal(&mut self, i: usize, d: &RawDeal) {
        let start = self.snap.changes.len() as u32;
        let built = (|| {
            let id = at("id", read::required_text(&d.id))?;
            let owner_id = at("owner", read::required_text(&d.owner))?;
            let owner = *self.rep_index.get(owner_id.as_ref()).ok_or_else(|| {
                (
                    "owner".into(),
                    format!("rep {owner_id:?} does not exist in reps"),
                )
            })?;
            let stage_id = at("stage", read::required_text(&d.stage))?;
            let stage = self.stage_id(&stage_id).map_err(|m| ("stage".into(), m))?;
            let amount = at("amount", read::decimal(&d.amount))?;
            if let Some(a) = amount.filter(|a| *a < Decimal::ZERO) {
                return Err(("amount".into(), format!("{a} is negative")));
            }
            let forecast_category = at("forecast_category", category(&d.forecast_category))?;
            let deal_type = at("type", deal_type(&d.deal_type))?;
            self.history(d.history.as_deref().unwrap_or_default())?;
            Ok(Deal {
                name: at("name", read::text(&d.name))?
                    .map(|n| Text::from(n.as_ref()))
                    .unwrap_or_default(),
                owner,
                amount,
                stage,
                created_at: at("created_at", read::required(read::when(&d.created_at)))?,
                close_date: at("close_date", read::required(read::when(&d.close_date)))?,
                forecast_category,
                deal_type,
                history: start..0,
                id: Text::from(id.as_ref()),
            })
        })();
        match built {
            Ok(mut deal) => {
                deal.history.end = self.snap.changes.len() as u32;
                self.deal_ids.push(id_hash(&deal.id));
                self.snap.deals.push(deal);
            }
            Err(e) => {
                self.snap.changes.truncate(start as usize);
                self.fail("deals", i, id_of(&d.id), e)
            }
        }
    }

    pub(super) fn activity(&mut self, i: usize, a: &RawActivity) {
        let built = (|| {
            let id = at("id", read::required_text(&a.id))?;
            // An owner that is not a known rep still counts for team figures.
            let owner = at("owner", read::text(&a.owner))?
                .and_then(|o| self.rep_index.get(o.as_ref()).copied());
            let kind_s = at("kind", read::required_text(&a.kind))?;
            let kind = exact(&ActivityKind::ALL, &kind_s)
                .or_else(|| ActivityKind::parse(&kind_s))
                .ok_or_else(|| {
                    (
                        "kind".into(),
                        format!("{kind_s:?} is not one of {}", ActivityKind::names()),
                    )
                })?;
            let duration =
                at("duration_minutes", read::decimal(&a.duration_minutes))?.unwrap_or_default();
            if duration < Decimal::ZERO {
                return Err(("duration_minutes".into(), format!("{duration} is negative")));
            }
            let deal = match at("deal_id", read::text(&a.deal_id))? {
                Some(d) if !read::blank(&d) => self.deal_link(&d),
                _ => DealLink::None,
            };
            Ok(Activity {
                owner,
                kind,
                at: at("at", read::required(read::when(&a.at)))?,
                duration_minutes: duration,
                outcome: at("outcome", read::text(&a.outcome))?.and_then(|o| normalize_outcome(&o)),
                deal,
                id: Text::from(id.as_ref()),
            })
        })();
        match built {
            Ok(act) => {
                self.act_ids.push(id_hash(&act.id));
                self.snap.activities.push(act);
            }
            Err(e) => self.fail("activities", i, id_of(&a.id), e),
        }
    }

    /// Once a list is complete: a record with the id of an earlier kept one
    /// is a duplicate, taken out as a broken record.
    pub(super) fn check_ids(&mut self, list: &'static str) {
        let hashes = match list {
            "deals" => &self.deal_ids,
            "activities" => &self.act_ids,
            _ => &self.lead_ids,
        };
        let repeated = repeated_hashes(hashes);
        self.check_ids_knowing(list, &repeated);
    }

    /// `check_ids`, the repeated hashes already found (the fast path finds
    /// the three lists' at once).
    pub(super) fn check_ids_knowing(&mut self, list: &'static str, repeated: &HashSet<u64>) {
        // The records whose id an earlier kept record has, taken out, with
        // their input index and id.
        fn take<T>(
            items: &mut Records<T>,
            hashes: &IdHashes,
            failed: &[u32],
            repeated: &HashSet<u64>,
            id: impl Fn(&T) -> &Text,
        ) -> Vec<(usize, Text)> {
            let dup = repeated_ids(hashes, repeated, |j| id(&items[j]).as_str());
            if !dup.contains(&true) {
                return Vec::new();
            }
            let out = items.take_where(|j| dup[j]);
            let at = input_indexes(out.iter().map(|(j, _)| *j), failed);
            out.iter()
                .zip(at)
                .map(|((_, t), i)| (i, id(t).clone()))
                .collect()
        }
        let Some(l) = List::of(list) else {
            return;
        };
        // The list's broken records, in input order.
        let failed: Vec<u32> = self.errors[self.errors_from[l as usize]..]
            .iter()
            .filter(|e| e.collection == list)
            .map(|e| e.index as u32)
            .collect();
        let removed = match l {
            List::Deals => {
                let h = std::mem::take(&mut self.deal_ids);
                let mut deals = Records::from(std::mem::take(&mut self.snap.deals));
                let out = take(&mut deals, &h, &failed, repeated, |d| &d.id);
                self.snap.deals = deals.into_vec();
                // With none taken out (the usual case) the hashes are the
                // kept deals', in order: the index need not hash them again.
                let hashes = out.is_empty().then_some(&h);
                self.deal_lookup = Some(DealIndex::new(&self.snap.deals, hashes));
                out
            }
            List::Activities => {
                let h = std::mem::take(&mut self.act_ids);
                take(&mut self.snap.activities, &h, &failed, repeated, |a| &a.id)
            }
            List::Leads => {
                let h = std::mem::take(&mut self.lead_ids);
                take(&mut self.snap.leads, &h, &failed, repeated, |l| &l.id)
            }
        };
        for (i, id) in removed {
            let e = ("id".into(), format!("duplicate id {id:?}"));
            self.fail(list, i, Some(id.into()), e);
        }
        self.errors_from[l as usize] = self.errors.len();
    }

    pub(super) fn lead(&mut self, i: usize, l: &RawLead) {
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
        let built = (|| {
            let id = at("id", read::required_text(&l.id))?;
            if let Some(err) = event_error {
                return Err(err);
            }
            let score_events = l.score_events.as_ref().map(|_| events);
            Ok(Lead {
                owner: at("owner", read::text(&l.owner))?
                    .filter(|o| !read::blank(o))
                    .map(|o| Text::from(o.as_ref())),
                created_at: at("created_at", read::required(read::when(&l.created_at)))?,
                first_response_at: at("first_response_at", read::when(&l.first_response_at))?,
                score_events,
                score: at("score", read::decimal(&l.score))?,
                id: Text::from(id.as_ref()),
            })
        })();
        match built {
            Ok(lead) => {
                self.lead_ids.push(id_hash(&lead.id));
                self.snap.leads.push(lead);
            }
            Err(e) => self.fail("leads", i, id_of(&l.id), e),
        }
    }
}

/// A forecast category, tolerant of case and spacing; empty is none.
fn category(v: &F) -> Result<Option<ForecastCategory>, String> {
    match read::text(v)? {
        None => Ok(None),
        Some(s) if read::blank(&s) => Ok(None),
        Some(s) => exact(&ForecastCategory::ALL, &s)
            .or_else(|| ForecastCategory::parse(&s))
            .map(Some)
            .ok_or_else(|| {
                format!("{s:?} is not one of omitted, pipeline, best_case, commit, closed")
            }),
    }
}

/// A deal type, tolerant like categories; missing or empty is untyped.
fn deal_type(v: &F) -> Result<Option<DealType>, String> {
    match read::text(v)? {
        None => Ok(None),
        Some(s) if read::blank(&s) => Ok(None),
        Some(s) => exact(&DealType::ALL, &s)
            .or_else(|| DealType::parse(&s))
            .map(Some)
            .ok_or_else(|| format!("{s:?} is not one of {}", DealType::names())),
    }
}

/// The common case first: text already in its canonical form (what the
/// tolerant parser would make of it anyway), found without allocating.
fn exact<T: Copy>(all: &[(&str, T)], s: &str) -> Option<T> {
    all.iter().find(|(n, _)| same(n, s)).map(|(_, t)| *t)
}

/// `a == b` for short names, byte by byte (a call to `memcmp` for each
/// candidate cost more than the comparison).
#[inline]
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

fn normalize_outcome(o: &str) -> Option<Text> {
    let o = o.trim();
    let map = |c: char| match c {
        '-' | ' ' => '_',
        c => c.to_ascii_lowercase(),
    };
    // Short ASCII (every outcome CRMs write): mapped on the stack.
    let mut buf = [0u8; 32];
    let o: Text = if o.len() <= buf.len() && o.is_ascii() {
        for (d, c) in buf.iter_mut().zip(o.bytes()) {
            *d = map(c as char) as u8;
        }
        // SAFETY: ASCII bytes mapped to ASCII bytes.
        unsafe { std::str::from_utf8_unchecked(&buf[..o.len()]) }.into()
    } else {
        o.chars().map(map).collect()
    };
    match o.as_str() {
        "" => None,
        "cancelled" => Some("canceled".into()),
        "noshow" => Some("no_show".into()),
        _ => Some(o),
    }
}
