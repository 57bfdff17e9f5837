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
use super::join::join;
use super::raw::{read, RawActivity, RawChange, RawDeal, RawLead, RawScoreEvent, Scalar};
use super::scan::{Bail, Scan, R};
use super::threads::on_threads;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The lists that are cut into parts (records of millions).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum List {
    Deals = 0,
    Activities = 1,
    Leads = 2,
}

impl List {
    pub(super) fn of(collection: &str) -> Option<List> {
        match collection {
            "deals" => Some(List::Deals),
            "activities" => Some(List::Activities),
            "leads" => Some(List::Leads),
            _ => None,
        }
    }
}

/// How the input is cut: `threads` read parts of about `chunk` bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    pub threads: usize,
    pub chunk: usize,
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
        Plan { threads, chunk }
    }
}

/// Read pages are handed back in steps of this many bytes.
const RELEASE_STEP: usize = if cfg!(test) { 8 << 10 } else { 4 << 20 };

/// Where a part starts: the first at a key of the top-level object, the
/// others at a record of `list` (a guess until proven).
#[derive(Clone, Copy, Debug)]
struct Cut {
    pos: usize,
    list: Option<List>,
}

type Done<'d> = Option<&'d (dyn Fn(Range<usize>) + Sync)>;

/// What one part of the document gave.
pub(super) struct Part {
    pub b: Builder,
    /// Records read per list (input indexes, kept or not).
    pub counts: [usize; 3],
    /// Lists begun in this part, in order; true for a list, false for null.
    pub lists: Vec<(List, bool)>,
    pub currency: Option<String>,
    pub notes: Vec<String>,
    /// The part this one handed over to, None at the end of the document.
    pub next: Option<usize>,
    /// Late references met where they were guessed to be.
    pub late: Vec<usize>,
}

/// Reads the document on the fast path; `Err(Bail)` leaves it to the
/// general path. The builder returned is ready for `finish`.
pub(super) fn read(bytes: &[u8], plan: Plan, done: Done) -> R<Builder> {
    read_counted(bytes, plan, done).map(|(b, _)| b)
}

/// `read`, also telling how many parts were joined.
pub(super) fn read_counted(bytes: &[u8], plan: Plan, done: Done) -> R<(Builder, usize)> {
    let mut s = Scan::new(bytes, 0);
    let mut b = Builder::new();
    s.expect(b'{')?;
    if s.peek()? == b'}' {
        s.pos += 1;
        return if s.at_end() { Ok((b, 0)) } else { Err(Bail) };
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
            b'}' => return if s.at_end() { Ok((b, 0)) } else { Err(Bail) },
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
    let cuts = cuts(bytes, s.pos, plan.chunk);
    let parts = read_parts(bytes, &cuts, &late, &b, plan.threads, done);
    join(b, parts, &late, plan.threads)
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

/// The parts' starts: the first where the references ended, then one
/// guess about every `chunk` bytes.
fn cuts(bytes: &[u8], from: usize, chunk: usize) -> Vec<Cut> {
    let mut cuts = vec![Cut {
        pos: from,
        list: None,
    }];
    let mut at = from + chunk;
    while at + chunk / 2 < bytes.len() {
        match guess(bytes, at) {
            Some(c) => {
                at = c.pos + chunk;
                cuts.push(c);
            }
            None => break,
        }
    }
    cuts
}

/// The first plausible record start at or after `from`: a `{` after
/// `},` whose object parses, has an id and is followed by `,` or `]`, and
/// whose keys say which list it belongs to. Only a guess (a string may
/// hold the same bytes): the part before proves or drops it.
fn guess(bytes: &[u8], from: usize) -> Option<Cut> {
    let end = bytes.len().min(from + (4 << 20));
    let mut at = from;
    while at < end {
        let open = at + bytes[at..end].iter().position(|&c| c == b'{')?;
        at = open + 1;
        let before = bytes[..open].trim_ascii_end();
        if !before.ends_with(b",") || !before[..before.len() - 1].trim_ascii_end().ends_with(b"}") {
            continue;
        }
        let mut s = Scan::new(bytes, open);
        let mut keys = 0u32;
        let parsed = s.object(|s, key| {
            keys |= key_bit(key);
            s.skip_value(0)?;
            Ok(Some(0))
        });
        if parsed.is_err() || !matches!(s.peek(), Ok(b',' | b']')) {
            continue;
        }
        if let Some(list) = list_of_keys(keys) {
            return Some(Cut {
                pos: open,
                list: Some(list),
            });
        }
    }
    None
}

const ID: u32 = 1;
const ACTIVITY: u32 = 2;
const DEAL: u32 = 4;
const LEAD: u32 = 8;

fn key_bit(key: &[u8]) -> u32 {
    match key {
        b"id" => ID,
        b"kind" | b"at" | b"duration_minutes" | b"outcome" | b"deal_id" => ACTIVITY,
        b"stage" | b"close_date" | b"amount" | b"history" | b"type" | b"forecast_category"
        | b"name" => DEAL,
        b"first_response_at" | b"score_events" | b"score" | b"created_at" => LEAD,
        _ => 0,
    }
}

fn list_of_keys(keys: u32) -> Option<List> {
    if keys & ID == 0 {
        None
    } else if keys & ACTIVITY != 0 {
        Some(List::Activities)
    } else if keys & DEAL != 0 {
        Some(List::Deals)
    } else if keys & LEAD != 0 {
        Some(List::Leads)
    } else {
        None
    }
}

/// Reads every part, `threads` at a time, in order of their starts.
fn read_parts(
    bytes: &[u8],
    cuts: &[Cut],
    late: &[usize],
    refs: &Builder,
    threads: usize,
    done: Done,
) -> Vec<Option<R<Part>>> {
    let results: Vec<Mutex<Option<R<Part>>>> = cuts.iter().map(|_| Mutex::new(None)).collect();
    // The first part is always real: when it fails, the others need not go on.
    let abort = AtomicBool::new(false);
    on_threads(0..cuts.len(), threads.min(cuts.len()), |j| {
        let mut w = Worker {
            s: Scan::new(bytes, cuts[j].pos),
            part: Part {
                b: refs.part(),
                counts: [0; 3],
                lists: Vec::new(),
                currency: None,
                notes: Vec::new(),
                next: None,
                late: Vec::new(),
            },
            cuts,
            late,
            next: j + 1,
            done,
            released: cuts[j].pos,
            abort: &abort,
            changes: Vec::new(),
            events: Vec::new(),
        };
        let r = w.run(cuts[j].list).map(|_| w.part);
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

struct Worker<'a, 'c> {
    s: Scan<'a>,
    part: Part,
    cuts: &'c [Cut],
    /// Where the late references were read (skipped here).
    late: &'c [usize],
    /// The next part's cut, where this one stops if it is real.
    next: usize,
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
        let cuts = self.cuts;
        let mut stop = cuts.get(self.next).map_or(usize::MAX, |c| c.pos);
        loop {
            self.s.peek()?;
            let at = self.s.pos;
            if at >= stop {
                // A cut passed over, or met in another list, was a wrong
                // guess; one met exactly is proven: the part after it
                // reads on from there.
                while let Some(c) = cuts.get(self.next).filter(|c| c.pos <= at) {
                    if c.pos == at && c.list == Some(list) {
                        self.part.next = Some(self.next);
                        return Ok(true);
                    }
                    self.next += 1;
                }
                stop = cuts.get(self.next).map_or(usize::MAX, |c| c.pos);
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
}
