//! The fast path: the document read in parts on every core. After the
//! references (reps, stages: small, read first), the rest of the input is
//! cut at guessed record boundaries; each part is tokenized (`scan`) and
//! built (`build`, the same checks as the general path) on its own, and the
//! parts are joined in order.
//!
//! A guess is proven only when the part before it stops exactly there, at a
//! record of the same list; a wrong guess (a cut inside a string or a
//! history list) is dropped, and the part before reads on through it. So
//! the split never changes the result. A document the fast path does not
//! read (`Bail`: syntax errors, repeated keys, escaped keys…) is read by
//! the general path instead, which words every error. `join` puts the
//! parts together.

use super::build::Builder;
use super::join::{join, Part};
use super::raw::{read, List, RawActivity, RawChange, RawDeal, RawLead, RawScoreEvent, Scalar};
use super::scan::{Bail, Scan, R};
use super::split::{AtCut, Splits};
use super::threads::on_threads;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How the input is cut: `threads` read parts of about `chunk` bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub threads: usize,
    pub chunk: usize,
    /// A thread with no part left splits a part with at least this many
    /// bytes left to read (`split`).
    pub least: usize,
}

impl Plan {
    /// Four parts per core (a part that ends early leaves no core idle),
    /// none smaller than 8 MB; one part on one core (nothing to join).
    pub fn for_input(len: usize) -> Plan {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(16);
        let chunk = if threads == 1 {
            usize::MAX / 4
        } else {
            (len / (threads * 4)).max(8 << 20)
        };
        Plan {
            threads,
            chunk,
            least: 16 << 20,
        }
    }
}

/// Read pages are handed back in steps of this many bytes.
const RELEASE_STEP: usize = if cfg!(test) { 8 << 10 } else { 4 << 20 };

type Done<'d> = Option<&'d (dyn Fn(Range<usize>) + Sync)>;

/// Reads the document on the fast path; `Err(Bail)` leaves it to the
/// general path. The builder returned is ready for `finish`.
pub(super) fn read(bytes: &[u8], plan: Plan, done: Done) -> R<Builder> {
    read_counted(bytes, plan, done).map(|(b, _)| b)
}

/// `read`, also telling how many parts were joined.
pub(super) fn read_counted(bytes: &[u8], plan: Plan, done: Done) -> R<(Builder, usize)> {
    let (b, from, late) = match head(bytes)? {
        Head::Whole(b) => return Ok((b, 0)),
        Head::Records { refs, from, late } => (refs, from, late),
    };
    let splits = Splits::new(bytes, from, plan.chunk, plan.least);
    let parts = read_parts(&splits, &late, &b, plan.threads, done);
    join(b, parts, &late, plan.threads)
}

/// What the document's head gave.
enum Head {
    /// The whole document: it has no records.
    Whole(Builder),
    /// The references read; the records start at `from`. `late`: where
    /// references after the records were read (the parts skip them).
    Records {
        refs: Builder,
        from: usize,
        late: Vec<usize>,
    },
}

/// Reads the references, before the records or (guessed) after them.
fn head(bytes: &[u8]) -> R<Head> {
    let mut s = Scan::new(bytes, 0);
    let mut b = Builder::new();
    s.expect(b'{')?;
    if s.peek()? == b'}' {
        s.pos += 1;
        return if s.at_end() {
            Ok(Head::Whole(b))
        } else {
            Err(Bail)
        };
    }
    // The references come first (the usual order; any other goes to the
    // general path, which reads them in a first pass).
    let (mut reps, mut stages) = (false, false);
    loop {
        s.peek()?;
        let key_at = s.pos;
        match s.key()? {
            b"reps" if !reps => {
                reps = true;
                b.present[0] = true;
                list_of(&mut s, |s, i| {
                    b.rep(i, s.rep()?);
                    Ok(())
                })?;
            }
            b"stages" if !stages => {
                stages = true;
                b.present[1] = true;
                list_of(&mut s, |s, i| {
                    b.stage(i, s.stage()?);
                    Ok(())
                })?;
            }
            b"reps" | b"stages" => return Err(Bail),
            b"currency" => {
                if let Some(c) = currency(&mut s)? {
                    b.snap.currency = c;
                }
            }
            b"notes" => b.snap.notes.extend(notes(&mut s)?),
            b"deals" | b"activities" | b"leads" => {
                s.pos = key_at;
                break;
            }
            _ => s.skip_value(0)?,
        }
        match s.next()? {
            b',' => {}
            b'}' => {
                return if s.at_end() {
                    Ok(Head::Whole(b))
                } else {
                    Err(Bail)
                }
            }
            _ => return Err(Bail),
        }
    }
    // References after the records (`pull --save` sorts its keys: reps and
    // stages come last) are read first, where they are guessed to be; the
    // parts prove the guess when they meet them there.
    let mut late = Vec::new();
    for (key, seen) in [(&b"reps"[..], reps), (b"stages", stages)] {
        if seen {
            continue;
        }
        // Not found: none (a part that meets one after all gives up).
        let Some(at) = find_late(bytes, s.pos, key) else {
            continue;
        };
        let mut r = Scan::new(bytes, at);
        b.present[if key == b"reps" { 0 } else { 1 }] = true;
        if key == b"reps" {
            list_of(&mut r, |s, i| {
                b.rep(i, s.rep()?);
                Ok(())
            })?;
        } else {
            list_of(&mut r, |s, i| {
                b.stage(i, s.stage()?);
                Ok(())
            })?;
        }
        late.push(at);
    }
    Ok(Head::Records {
        refs: b,
        from: s.pos,
        late,
    })
}

/// Where the value of the top-level `key` seems to start, searched from
/// the end (the last 64 MB): `"key"` between `,` and `:`. A guess.
fn find_late(bytes: &[u8], from: usize, key: &[u8]) -> Option<usize> {
    let from = from.max(bytes.len().saturating_sub(64 << 20));
    let hay = &bytes[from..];
    let n = key.len() + 2;
    (0..hay.len().saturating_sub(n)).rev().find_map(|i| {
        let w = &hay[i..i + n];
        if w[0] != b'"' || w[n - 1] != b'"' || &w[1..n - 1] != key {
            return None;
        }
        if !hay[..i].trim_ascii_end().ends_with(b",") {
            return None;
        }
        let mut s = Scan::new(bytes, from + i + n);
        s.expect(b':').ok()?;
        s.peek().ok()?;
        Some(s.pos)
    })
}

/// A list of records (`null` is an empty list), each handed to `record`
/// with its index.
fn list_of<'a>(s: &mut Scan<'a>, record: impl FnMut(&mut Scan<'a>, usize) -> R<()>) -> R<()> {
    s.each(record).map(|_| ())
}

/// `"currency"` as the general path reads it: as written (`finish` checks it).
fn currency(s: &mut Scan) -> R<Option<String>> {
    let v = s.scalar()?;
    Ok(Some(match read::string(&Some(v.clone())) {
        Ok(Some(c)) => c,
        _ => v.to_string(),
    }))
}

/// `"notes"`: a list whose texts are kept (`null` is none).
fn notes(s: &mut Scan) -> R<Vec<String>> {
    let mut out = Vec::new();
    s.each(|s, _| {
        if let Scalar::Str(t) = s.scalar()? {
            out.push(t.into_owned());
        }
        Ok(())
    })?;
    Ok(out)
}

/// Reads every part, `threads` at a time, in order of their starts; a
/// thread with none left splits the part with the most left (`split`).
/// Part `j`'s result is at `[j]` (None for a part never made).
fn read_parts(
    splits: &Splits,
    late: &[usize],
    refs: &Builder,
    threads: usize,
    done: Done,
) -> Vec<Option<R<Part>>> {
    let results: Vec<Mutex<Option<R<Part>>>> =
        (0..splits.capacity()).map(|_| Mutex::new(None)).collect();
    // The first part is always real: when it fails, the others need not go on.
    let abort = AtomicBool::new(false);
    let planned = splits.planned();
    let mut next = 0;
    let tasks = std::iter::from_fn(|| {
        if next < planned {
            next += 1;
            splits.start(next - 1);
            Some(next - 1)
        } else if threads > 1 {
            splits.split()
        } else {
            None
        }
    });
    on_threads(tasks, threads, |j| {
        let r = read_part(splits, j, late, refs, &abort, done);
        splits.finish(j);
        if j == 0 && r.is_err() {
            abort.store(true, Ordering::Relaxed);
        }
        *results[j].lock().unwrap() = Some(r);
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap())
        .collect()
}

/// Reads part `j` from its cut until a proven cut or the document's end.
fn read_part<'a>(
    splits: &Splits<'a>,
    j: usize,
    late: &[usize],
    refs: &Builder,
    abort: &AtomicBool,
    done: Done,
) -> R<Part> {
    let cut = splits.cut(j);
    let mut w = Worker {
        s: Scan::new(splits.bytes(), cut.pos),
        part: Part {
            b: refs.part(),
            counts: [0; 3],
            lists: Vec::new(),
            currency: None,
            notes: Vec::new(),
            next: None,
            late: Vec::new(),
        },
        splits,
        id: j,
        stop: splits.stop_of(j),
        late,
        done,
        released: cut.pos,
        abort,
        changes: Vec::new(),
        events: Vec::new(),
    };
    w.run(cut.list).map(|_| w.part)
}

struct Worker<'a, 'c> {
    s: Scan<'a>,
    part: Part,
    splits: &'c Splits<'a>,
    /// This part's number.
    id: usize,
    /// Where it checks the cuts next (`Splits::stop_of`).
    stop: &'c AtomicUsize,
    /// Where the late references were read (skipped here).
    late: &'c [usize],
    done: Done<'c>,
    released: usize,
    abort: &'c AtomicBool,
    /// The memory of the last deal's history and lead's score events,
    /// reused for the next one's.
    changes: Vec<RawChange<'a>>,
    events: Vec<RawScoreEvent<'a>>,
}

impl<'a> Worker<'a, '_> {
    /// Drops a built raw record, or only forgets it when none of its text
    /// was decoded (all borrowed: a check per field saved, 1 % of the
    /// parse's instructions). Its lists must be taken out first.
    #[inline(always)]
    fn done_with<T>(&self, r: T) {
        if self.s.owned {
            drop(r);
        } else {
            std::mem::forget(r);
        }
    }

    fn run(&mut self, start: Option<List>) -> R<()> {
        let mut after_value = match start {
            None => false,
            // A list begun in the part before.
            Some(list) => {
                if self.records(list)? {
                    return Ok(());
                }
                true
            }
        };
        loop {
            if after_value {
                match self.s.next()? {
                    b',' => {}
                    b'}' if self.s.at_end() => return Ok(()),
                    _ => return Err(Bail),
                }
            }
            after_value = true;
            let list = match self.s.key()? {
                b"deals" => List::Deals,
                b"activities" => List::Activities,
                b"leads" => List::Leads,
                b"currency" => {
                    if let Some(c) = currency(&mut self.s)? {
                        self.part.currency = Some(c);
                    }
                    continue;
                }
                b"notes" => {
                    let n = notes(&mut self.s)?;
                    self.part.notes.extend(n);
                    continue;
                }
                b"reps" | b"stages" => {
                    self.s.peek()?;
                    if !self.late.contains(&self.s.pos) {
                        return Err(Bail);
                    }
                    self.part.late.push(self.s.pos);
                    self.s.skip_value(0)?;
                    continue;
                }
                _ => {
                    self.s.skip_value(0)?;
                    continue;
                }
            };
            match self.s.next()? {
                b'n' => {
                    self.s.literal(b"ull")?;
                    self.part.lists.push((list, false));
                    continue;
                }
                b'[' => self.part.lists.push((list, true)),
                _ => return Err(Bail),
            }
            if self.s.peek()? == b']' {
                self.s.pos += 1;
                continue;
            }
            if self.records(list)? {
                return Ok(());
            }
        }
    }

    /// Reads records of `list` through its `]`; true when it stopped at
    /// the start of the part after it.
    fn records(&mut self, list: List) -> R<bool> {
        loop {
            self.s.peek()?;
            let at = self.s.pos;
            // Read at every record: a split may move it closer.
            if at >= self.stop.load(Ordering::Relaxed) {
                // A cut passed over, or met in another list, was a wrong
                // guess; one met exactly is proven: the part after it
                // reads on from there.
                if let AtCut::HandOver(next) = self.splits.at_cut(self.id, at, list) {
                    self.part.next = Some(next);
                    return Ok(true);
                }
            }
            let i = self.part.counts[list as usize];
            let b = &mut self.part.b;
            // Each raw record is filled where it lies (returned by value, it
            // was copied twice on the way to its builder). Its lists go back
            // to the spares once built; a record that borrows all its text
            // from the input has nothing left to drop.
            self.s.owned = false;
            match list {
                List::Deals => {
                    let mut r = RawDeal::default();
                    self.s.deal(&mut r, &mut self.changes)?;
                    b.deal(i, &r);
                    if let Some(h) = r.history.take() {
                        self.changes = h;
                    }
                    self.done_with(r);
                }
                List::Activities => {
                    let mut r = RawActivity::default();
                    self.s.activity(&mut r)?;
                    b.activity(i, &r);
                    self.done_with(r);
                }
                List::Leads => {
                    let mut r = RawLead::default();
                    self.s.lead(&mut r, &mut self.events)?;
                    b.lead(i, &r);
                    if let Some(e) = r.score_events.take() {
                        self.events = e;
                    }
                    self.done_with(r);
                }
            }
            self.part.counts[list as usize] += 1;
            if at - self.released >= RELEASE_STEP {
                if let Some(done) = self.done {
                    done(self.released..at);
                }
                self.released = at;
                self.splits.reached(self.id, at);
                if self.abort.load(Ordering::Relaxed) {
                    return Err(Bail);
                }
            }
            match self.s.next()? {
                b',' => {}
                b']' => return Ok(false),
                _ => return Err(Bail),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::same::outcome;
    use super::super::split::cuts;
    use super::*;

    /// A name that looks like a record boundary, and history entries with
    /// ids of their own: cuts guessed there must be dropped.
    const DOC: &str = r#"{"reps": [{"id": "r1"}], "stages": [{"id": "s", "probability": 0.5}],
        "deals": [
          {"id": "d1", "owner": "r1", "stage": "s", "created_at": "2026-01-01", "close_date": "2026-02-01",
           "name": "x},{\"id\":\"fake\",\"kind\":\"call\",\"at\":\"2026-01-01\"}"},
          {"id": "d2", "owner": "r1", "stage": "s", "created_at": "2026-01-01", "close_date": "2026-02-01",
           "history": [{"at": "2026-01-01T00:00:00Z", "stage": "s", "x": {"id": 1}},
                       {"id": "h", "at": "2026-01-02T00:00:00Z", "amount": 5, "kind": "note"}]},
          {"id": "d3", "owner": "r1", "stage": "s", "created_at": "2026-01-01", "close_date": "2026-02-01"}
        ],
        "activities": [{"id": "a1", "kind": "call", "at": "2026-01-03", "deal_id": "d2"},
                       {"id": "a2", "kind": "call", "at": "2026-01-03", "deal_id": "d9"}]}"#;

    #[test]
    fn wrong_guesses_are_dropped_and_the_parts_before_read_on() {
        let bytes = DOC.as_bytes();
        let start = DOC.find("\"deals\"").unwrap();
        let cuts = cuts(bytes, start, 1);
        let fake = DOC.find("{\\\"id\\\":\\\"fake").unwrap();
        let entry = DOC.find("{\"id\": \"h\"").unwrap();
        // A cut was guessed inside the name and inside the history list.
        let at = |p: usize| cuts.iter().find(|c| c.pos == p).map(|c| c.list);
        assert_eq!(at(fake), None, "no key after the brace: no guess");
        assert_eq!(at(entry), Some(Some(List::Activities)));
        let plan = Plan {
            threads: 2,
            chunk: 1,
            least: usize::MAX,
        };
        let (b, joined) = read_counted(bytes, plan, None).ok().unwrap();
        assert!(joined < cuts.len(), "{joined} parts of {} cuts", cuts.len());
        let ids: Vec<&str> = b.snap.deals.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["d1", "d2", "d3"]);
        assert!(b.snap.deals[0].name.contains(r#"{"id":"fake""#));
        assert_eq!(b.snap.changes.len(), 2);
        assert_eq!(b.snap.activities.len(), 2);
        assert_eq!(b.snap.unknown_deal_ids, ["d9"]);
    }

    /// Deals, then activities that link to them, a few broken.
    fn doc(deals: usize, activities: usize) -> String {
        let mut d = String::from(
            r#"{"reps": [{"id": "r1"}], "stages": [{"id": "s", "probability": 0.5}], "deals": ["#,
        );
        for i in 0..deals {
            let sep = if i == 0 { "" } else { ",\n" };
            d += &format!(
                r#"{sep}{{"id": "d{i}", "owner": "r1", "stage": "s", "created_at": "2026-01-01", "close_date": "2026-02-01", "amount": {i}.5}}"#
            );
        }
        d += r#"], "activities": ["#;
        for i in 0..activities {
            let sep = if i == 0 { "" } else { ", " };
            let at = if i % 37 == 5 {
                "2026-13-01"
            } else {
                "2026-01-03T10:00:00Z"
            };
            d += &format!(
                r#"{sep}{{"id": "a{i}", "kind": "call", "at": "{at}", "deal_id": "d{}"}}"#,
                i % (deals + 3)
            );
        }
        d + "]}"
    }

    /// Broken records listed in the notes: the whole snapshot compared.
    const SKIP: super::super::LoadOptions = super::super::LoadOptions {
        skip_bad_records: true,
    };

    /// The parts of `splits` read one after the other, in `order`, and
    /// joined: the snapshot (or error) as text and the parts joined.
    fn read_in(splits: &Splits, order: &[usize], refs: Builder, late: &[usize]) -> (String, usize) {
        let abort = AtomicBool::new(false);
        let mut results: Vec<Option<R<Part>>> = (0..splits.capacity()).map(|_| None).collect();
        for &j in order {
            results[j] = Some(read_part(splits, j, late, &refs, &abort, None));
            splits.finish(j);
        }
        let (b, joined) = join(refs, results, late, 2).ok().unwrap();
        (outcome(&super::super::finish(b, SKIP)), joined)
    }

    fn general(bytes: &[u8]) -> String {
        outcome(&super::super::parse_general(bytes, SKIP))
    }

    fn refs(bytes: &[u8]) -> (Builder, usize, Vec<usize>) {
        match head(bytes).ok().unwrap() {
            Head::Records { refs, from, late } => (refs, from, late),
            Head::Whole(_) => panic!("no records"),
        }
    }

    /// A part split twice while it is read (the later parts read first):
    /// the three parts join into what the general path reads.
    #[test]
    fn a_part_split_while_it_is_read_joins_the_same() {
        let text = doc(40, 300);
        let bytes = text.as_bytes();
        let (b, from, late) = refs(bytes);
        let splits = Splits::new(bytes, from, usize::MAX / 4, 64);
        assert_eq!(splits.planned(), 1);
        splits.start(0);
        let first = splits.split().expect("a split");
        let second = splits.split().expect("another split");
        let mut at = [0, first, second].map(|j| splits.cut(j).pos);
        at.sort();
        assert!(at[0] < at[1] && at[1] < at[2], "{at:?}");
        let (got, joined) = read_in(&splits, &[second, first, 0], b, &late);
        assert_eq!(joined, 3);
        assert_eq!(got, general(bytes));
        assert!(
            got.contains("skipped activities[5] (id \\\"a5\\\")"),
            "{got}"
        );
    }

    /// A split the part had already read past is dropped (nothing joins
    /// the part made there), and the part reads on through it.
    #[test]
    fn a_split_already_read_past_is_dropped() {
        let text = doc(40, 300);
        let bytes = text.as_bytes();
        let (b, from, late) = refs(bytes);
        let splits = Splits::new(bytes, from, usize::MAX / 4, 64);
        splits.start(0);
        let k = splits.split().expect("a split");
        let cut = splits.cut(k);
        // The part is past the cut when it first looks.
        let list = cut.list.unwrap();
        assert!(matches!(splits.at_cut(0, cut.pos + 1, list), AtCut::ReadOn));
        let (got, joined) = read_in(&splits, &[k, 0], b, &late);
        assert_eq!(joined, 1);
        assert_eq!(got, general(bytes));
    }

    /// Parts are split only while one has at least `least` bytes left.
    #[test]
    fn only_parts_with_enough_left_are_split() {
        let text = doc(10, 20);
        let bytes = text.as_bytes();
        let (_, from, _) = refs(bytes);
        let splits = Splits::new(bytes, from, usize::MAX / 4, bytes.len());
        splits.start(0);
        assert!(splits.split().is_none());
        let splits = Splits::new(bytes, from, usize::MAX / 4, 64);
        assert!(splits.split().is_none(), "no part is being read");
        splits.start(0);
        splits.finish(0);
        assert!(splits.split().is_none(), "the part is done");
    }

    /// A deal with an activity's key (`kind`, an unknown field here) is
    /// guessed to start an activity: a part that meets that cut in the
    /// deals does not hand over to a part reading activities there.
    #[test]
    fn a_cut_guessed_for_another_list_is_not_handed_over() {
        let text = doc(30, 10).replace(r#""stage": "s","#, r#""stage": "s", "kind": "call","#);
        let bytes = text.as_bytes();
        let (b, from, late) = refs(bytes);
        let splits = Splits::new(bytes, from, 200, usize::MAX);
        let wrong = (1..splits.planned())
            .filter(|&j| splits.cut(j).pos < text.find("\"activities\"").unwrap())
            .count();
        assert!(wrong > 3, "{wrong} cuts in the deals");
        let order: Vec<usize> = (0..splits.planned()).collect();
        order.iter().for_each(|&j| splits.start(j));
        let (got, joined) = read_in(&splits, &order, b, &late);
        assert_eq!(got, general(bytes));
        assert!(got.contains("d29") && got.contains("skipped activities[5]"));
        assert!(joined < splits.planned());
    }
}
