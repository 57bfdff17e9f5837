//! The streaming read: a reader thread tokenizes the document and sends
//! records in batches to this thread, which builds the snapshot. No copy of
//! millions of records is ever held, and the two halves of the work run on
//! two cores.

use super::build::Builder;
use super::raw::*;
use super::LoadError;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, SyncSender};

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
    /// One of `REQUIRED_LISTS` is in the document.
    Present(usize),
    Currency(String),
    /// Data-quality notes a saved pull carries (`pull --save`).
    Notes(Vec<String>),
    Reps(usize, Vec<RawRep<'a>>),
    Stages(usize, Vec<RawStage<'a>>),
    Deals(usize, Vec<RawDeal<'a>>),
    Activities(usize, Vec<RawActivity<'a>>),
    Leads(usize, Vec<RawLead<'a>>),
    /// A list is complete.
    End(List),
}

const BATCH: usize = 4096;

/// Input kept behind the reader for the records still in the channel (a
/// page released too early is only read again from the file).
const IN_FLIGHT: usize = if cfg!(test) { 8 << 10 } else { 32 << 20 };

impl Builder {
    fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Currency(c) => self.snap.currency = c,
            Msg::Present(i) => self.present[i] = true,
            Msg::Notes(n) => self.snap.notes.extend(n),
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
                .for_each(|(i, r)| self.deal(first + i, &r)),
            Msg::Activities(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.activity(first + i, &r)),
            Msg::Leads(first, v) => v
                .into_iter()
                .enumerate()
                .for_each(|(i, r)| self.lead(first + i, &r)),
            // A list is complete: now its ids can be checked for repeats.
            Msg::End(List::Deals) => self.check_ids("deals"),
            Msg::End(List::Activities) => self.check_ids("activities"),
            Msg::End(List::Leads) => self.check_ids("leads"),
            Msg::End(_) => {}
        }
    }
}

/// The reader's side: tokenizes the document and sends records on.
struct Reader<'a, 'r> {
    tx: &'r SyncSender<Msg<'a>>,
    /// Told which input the reader no longer needs, so the caller can
    /// release it.
    progress: Option<&'r (dyn Fn(Range<usize>) + Sync)>,
    /// Input up to here was handed to `progress`.
    released: usize,
    /// Address of the input's first byte.
    base: usize,
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
            ($raw:ident, $msg:ident, $prepare:expr) => {{
                let mut batch = Vec::with_capacity(BATCH);
                let mut reached = None;
                loop {
                    r.position = (list.name(), i);
                    match seq.next_element::<$raw<'a>>()? {
                        Some(rec) => {
                            // Records borrow their text from the input: an
                            // id says how far the reader has got.
                            if let Some(Scalar::Str(Cow::Borrowed(s))) = &rec.id {
                                reached = Some(s.as_ptr() as usize - r.base);
                            }
                            batch.push($prepare(rec, i))
                        }
                        None => break,
                    }
                    i += 1;
                    if batch.len() == BATCH {
                        r.send(Msg::$msg(
                            i - BATCH,
                            std::mem::replace(&mut batch, Vec::with_capacity(BATCH)),
                        ));
                        if let (Some(at), Some(progress)) = (reached, r.progress) {
                            // Records in flight still point behind `at`.
                            let upto = at.saturating_sub(IN_FLIGHT);
                            if upto > r.released {
                                progress(r.released..upto);
                                r.released = upto;
                            }
                        }
                    }
                }
                let first = i - batch.len();
                r.send(Msg::$msg(first, batch));
            }};
        }
        match list {
            List::Reps => batches!(RawRep, Reps, |r, _| r),
            List::Stages => batches!(RawStage, Stages, |r, _| r),
            List::Deals => batches!(RawDeal, Deals, |r, _| r),
            List::Activities => batches!(RawActivity, Activities, |r, _| r),
            List::Leads => batches!(RawLead, Leads, |r, _| r),
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
            if let Some(i) = super::REQUIRED_LISTS.iter().position(|k| *k == key) {
                r.send(Msg::Present(i));
            }
            let list = match key.as_ref() {
                "currency" => {
                    // As written: `finish` checks it.
                    let v = map.next_value::<Scalar>()?;
                    r.send(Msg::Currency(match read::string(&Some(v.clone())) {
                        Ok(Some(c)) => c,
                        _ => v.to_string(),
                    }));
                    continue;
                }
                "notes" => {
                    let notes: Vec<Scalar> =
                        map.next_value::<Option<Vec<Scalar>>>()?.unwrap_or_default();
                    let notes = notes.into_iter().filter_map(|n| match n {
                        Scalar::Str(s) => Some(s.into_owned()),
                        _ => None,
                    });
                    r.send(Msg::Notes(notes.collect()));
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
fn read_pass(
    bytes: &[u8],
    b: &mut Builder,
    refs_preloaded: bool,
    progress: Option<&(dyn Fn(Range<usize>) + Sync)>,
) -> Result<bool, LoadError> {
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Msg>(8);
        let reader = std::thread::Builder::new()
            .name("snapshot-reader".into())
            .spawn_scoped(scope, move || {
                let mut r = Reader {
                    tx: &tx,
                    progress,
                    released: 0,
                    base: bytes.as_ptr() as usize,
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
            })
            .expect("cannot start the snapshot reader thread");
        for msg in rx {
            b.apply(msg);
        }
        reader.join().expect("snapshot reader thread panicked")
    })
}

/// The general path: one record at a time, tokenized on a reader thread
/// and built on this one. The usual order (reps and stages before deals)
/// takes one pass; otherwise the references are read first and the records
/// in a second pass. The builder returned is ready for `finish`.
pub(super) fn read(
    bytes: &[u8],
    progress: Option<&(dyn Fn(Range<usize>) + Sync)>,
) -> Result<Builder, LoadError> {
    let mut b = Builder::new();
    if read_pass(bytes, &mut b, false, progress)? {
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
        read_pass(bytes, &mut second, true, progress)?;
        b = second;
    }
    Ok(b)
}
