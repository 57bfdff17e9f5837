//! Where the fast path's parts start. The input is cut about every
//! `chunk` bytes at a guessed record boundary before any part is read;
//! then, when a core has no part left to take, it splits the part with
//! the most left to read at a new guess halfway through what is left, and
//! reads the second half itself. Without that, the last parts to start
//! decided the end: one core idled for up to a part's time (0.03–0.44 s
//! of a 2.6 s parse, measured).
//!
//! A cut is only a guess until the part before it stops exactly there (a
//! record of the same list): a part that reads past a cut drops it and
//! reads on, so whether and where a part is split never changes the result.

use super::raw::List;
use super::scan::Scan;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Where a part starts: the first at a key of the top-level object, the
/// others at a record of `list` (a guess until proven).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Cut {
    pub pos: usize,
    pub list: Option<List>,
}

/// Parts made by splitting, at most (each is a piece of the joined lists).
const MOST_SPLITS: usize = 64;

/// The cuts of one read, shared by the threads reading its parts.
pub(super) struct Splits<'a> {
    bytes: &'a [u8],
    /// Split only a part with at least this many bytes left.
    least: usize,
    /// Each part's next cut ahead (where it checks the list of cuts);
    /// read at every record, so it is an atomic of its own.
    stops: Vec<AtomicUsize>,
    state: Mutex<State>,
}

struct State {
    /// Every cut in input order, with its part.
    cuts: Vec<(Cut, usize)>,
    parts: Vec<PartState>,
}

#[derive(Clone, Copy)]
struct PartState {
    /// Where it was when it last said (a few MB behind at most).
    at: usize,
    /// Until it checks the cuts again, it has checked those up to here.
    checked: usize,
    running: bool,
}

/// What a part does at a cut it has reached.
pub(super) enum AtCut {
    /// Proven: the part there reads on.
    HandOver(usize),
    /// Read on: the cuts passed were wrong guesses (or came too late).
    ReadOn,
}

impl<'a> Splits<'a> {
    /// The first part starts at `from`; the others every `chunk` bytes.
    pub fn new(bytes: &'a [u8], from: usize, chunk: usize, least: usize) -> Splits<'a> {
        let starts = cuts(bytes, from, chunk);
        let n = starts.len() + MOST_SPLITS;
        let state = State {
            cuts: starts.iter().enumerate().map(|(j, &c)| (c, j)).collect(),
            parts: starts
                .iter()
                .map(|c| PartState {
                    at: c.pos,
                    checked: c.pos,
                    running: false,
                })
                .collect(),
        };
        let splits = Splits {
            bytes,
            least,
            stops: (0..n).map(|_| AtomicUsize::new(usize::MAX)).collect(),
            state: Mutex::new(state),
        };
        // The planned cuts are in order: each part's stop is the next one.
        for (stop, next) in splits.stops.iter().zip(&starts[1..]) {
            stop.store(next.pos, Ordering::Relaxed);
        }
        splits
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Parts cut before reading (those made by splitting come after).
    pub fn planned(&self) -> usize {
        self.lock().parts.len()
    }

    /// Room for every part there can be.
    pub fn capacity(&self) -> usize {
        self.stops.len()
    }

    pub fn cut(&self, part: usize) -> Cut {
        let st = self.lock();
        st.cuts
            .iter()
            .find(|(_, p)| *p == part)
            .expect("a part's cut")
            .0
    }

    /// Part `part` is being read.
    pub fn start(&self, part: usize) {
        self.lock().parts[part].running = true;
    }

    /// Part `part` is done (split no more).
    pub fn finish(&self, part: usize) {
        self.lock().parts[part].running = false;
    }

    /// Where part `part` checks the cuts next, read at every record: the
    /// part keeps this reference, so the read is one load.
    pub fn stop_of(&self, part: usize) -> &AtomicUsize {
        &self.stops[part]
    }

    fn stop(&self, part: usize) -> usize {
        self.stops[part].load(Ordering::Relaxed)
    }

    /// Part `part` has read up to `at` (said every few MB: what is left
    /// to split is measured from here).
    pub fn reached(&self, part: usize, at: usize) {
        self.lock().parts[part].at = at;
    }

    /// Part `part` has reached `at` (its stop or past it), at a record of
    /// `list`: hands over at a cut met exactly, else drops the cuts passed
    /// and reads on to the next.
    pub fn at_cut(&self, part: usize, at: usize, list: List) -> AtCut {
        let mut st = self.lock();
        let from = st.parts[part].checked;
        let met = st
            .cuts
            .iter()
            .find(|(c, _)| c.pos > from && c.pos == at && c.list == Some(list));
        if let Some(&(_, next)) = met {
            return AtCut::HandOver(next);
        }
        st.parts[part].checked = at;
        self.stops[part].store(self.next_after(&st, at), Ordering::Relaxed);
        AtCut::ReadOn
    }

    /// A new part halfway through what is left of the part with the most
    /// left, when that is at least `least` bytes; its number, ready to
    /// read. None when no part is worth splitting.
    pub fn split(&self) -> Option<usize> {
        // Another thread may split or end the part while this one guesses.
        for _ in 0..4 {
            let (part, mid, end) = self.most_left()?;
            // Guessed without the lock (it reads a record or more).
            let cut = guess(self.bytes, mid).filter(|c| c.pos < end)?;
            let mut st = self.lock();
            let k = st.parts.len();
            if k >= self.stops.len() {
                return None;
            }
            if !st.parts[part].running || st.cuts.iter().any(|(c, _)| c.pos == cut.pos) {
                continue;
            }
            let i = st.cuts.partition_point(|(c, _)| c.pos < cut.pos);
            st.cuts.insert(i, (cut, k));
            st.parts.push(PartState {
                at: cut.pos,
                checked: cut.pos,
                running: true,
            });
            self.stops[k].store(self.next_after(&st, cut.pos), Ordering::Relaxed);
            // The part split stops there now. If it has read past it
            // already, its next check drops the cut, and the new part is
            // read for nothing (nothing joins it).
            if st.parts[part].checked < cut.pos {
                self.stops[part].fetch_min(cut.pos, Ordering::Relaxed);
            }
            return Some(k);
        }
        None
    }

    /// The running part with the most left to read, if at least `least`:
    /// its number, the middle of what is left, and where it stops.
    fn most_left(&self) -> Option<(usize, usize, usize)> {
        let st = self.lock();
        let (j, at, end) = st
            .parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.running)
            .map(|(j, p)| (j, p.at, self.stop(j).min(self.bytes.len())))
            .max_by_key(|&(_, at, end)| end.saturating_sub(at))?;
        let n = end.saturating_sub(at);
        (n >= self.least).then_some((j, at + n / 2, end))
    }

    /// The first cut after `pos`, or none (`usize::MAX`).
    fn next_after(&self, st: &State, pos: usize) -> usize {
        let i = st.cuts.partition_point(|(c, _)| c.pos <= pos);
        st.cuts.get(i).map_or(usize::MAX, |(c, _)| c.pos)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("cuts")
    }
}

/// The parts' starts: the first where the references ended, then one
/// guess about every `chunk` bytes.
pub(super) fn cuts(bytes: &[u8], from: usize, chunk: usize) -> Vec<Cut> {
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
pub(super) fn guess(bytes: &[u8], from: usize) -> Option<Cut> {
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
