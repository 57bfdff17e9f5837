//! Joining the fast path's parts: along the chain of proven cuts, each
//! part's records are moved into place (its indexes shifted as they are
//! copied), then ids are checked and deal links resolved exactly as the
//! general path does at each list's end. Every step over millions of
//! records runs on all cores.

use super::build::{Builder, PendingLinks};
use super::ids::{repeated_hashes, IdHashes};
use super::pages::populate;
use super::raw::List;
use super::scan::{Bail, R};
use super::threads::on_threads;
use crate::snapshot::{Deal, DealLink};

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

/// Joins the parts along the chain of proven cuts, then checks ids and
/// resolves deal links as the general path would have at each list's end.
/// Every step over millions of records runs on all cores.
pub(super) fn join(
    mut b: Builder,
    mut results: Vec<Option<R<Part>>>,
    late: &[usize],
    threads: usize,
) -> R<(Builder, usize)> {
    let mut parts = Vec::new();
    let mut k = 0;
    loop {
        let part = results[k].take().ok_or(Bail)??;
        let next = part.next;
        parts.push(part);
        match next {
            Some(n) => k = n,
            None => break,
        }
    }
    drop(results);
    let met: Vec<usize> = parts.iter().flat_map(|p| p.late.clone()).collect();
    if met.len() != late.len() || late.iter().any(|at| !met.contains(at)) {
        return Err(Bail);
    }
    let lists: Vec<(List, bool)> = parts.iter().flat_map(|p| p.lists.clone()).collect();
    // A list given twice is read by the general path (in its own way).
    for (j, (l, _)) in lists.iter().enumerate() {
        if lists[..j].iter().any(|(m, _)| m == l) {
            return Err(Bail);
        }
    }
    if lists.iter().any(|(l, _)| *l == List::Deals) {
        b.present[2] = true;
    }
    let joined = parts.len();
    let pending = join_parts(&mut b, parts, threads);
    // The general path resolves a deal_id as it reads it once the deal list
    // is complete (every built activity, even one dropped later as a
    // duplicate, notes its unknown link), else at the very end.
    let position = |l| lists.iter().position(|&x| x == (l, true));
    let streaming = match (position(List::Deals), position(List::Activities)) {
        (Some(d), Some(a)) => d < a,
        _ => false,
    };
    // Repeated activity and lead hashes are found while the deals are
    // checked, indexed and (when streaming) linked.
    let act_ids = std::mem::take(&mut b.act_ids);
    let lead_ids = std::mem::take(&mut b.lead_ids);
    let (activities, leads) = std::thread::scope(|scope| {
        let activities = scope.spawn(|| repeated_hashes(&act_ids));
        let leads = scope.spawn(|| repeated_hashes(&lead_ids));
        let deals = repeated_hashes(&b.deal_ids);
        b.check_ids_knowing("deals", &deals);
        if streaming {
            resolve(&mut b, &pending, threads, true);
        }
        let done = |h: std::thread::ScopedJoinHandle<_>| h.join().expect("id check panicked");
        (done(activities), done(leads))
    });
    b.act_ids = act_ids;
    b.lead_ids = lead_ids;
    b.check_ids_knowing("activities", &activities);
    b.check_ids_knowing("leads", &leads);
    if !streaming {
        resolve(&mut b, &pending, threads, false);
    }
    Ok((b, joined))
}

/// Appends the parts' records, in order, after the builder's own. Deals
/// and their history are copied into place (indexes shifted as they are);
/// activities and leads, the bulk, and the id lists keep the parts' pieces
/// (`Records`), so they are written once. Returns each activity piece's
/// pending deal links (`DealLink::Unknown(k)` names the piece's k-th).
fn join_parts(b: &mut Builder, mut parts: Vec<Part>, threads: usize) -> Vec<PendingLinks> {
    // Where each part's records start in the joined lists.
    let mut at = Offsets {
        lists: [0; 3],
        changes: b.snap.changes.len(),
    };
    let mut offsets = Vec::new();
    for p in &mut parts {
        offsets.push(at);
        for (o, n) in at.lists.iter_mut().zip(p.counts) {
            *o += n;
        }
        at.changes += p.b.snap.changes.len();
        for e in std::mem::take(&mut p.b.errors) {
            let mut e = e;
            if let Some(l) = List::of(e.collection) {
                e.index += offsets.last().unwrap().lists[l as usize];
            }
            b.errors.push(e);
        }
        if let Some(c) = p.currency.take() {
            b.snap.currency = c;
        }
        b.snap.notes.append(&mut p.notes);
    }
    // Each part's indexes are shifted as its records are copied into
    // place (while they are in the cache), not in a pass of their own.
    macro_rules! gather {
        ($($f:ident).+, $by:expr, $fix:expr) => {{
            let v: Vec<_> = parts
                .iter_mut()
                .zip(&offsets)
                .map(|(p, o)| (std::mem::take(&mut p.b.$($f).+), $by(o)))
                .collect();
            concat(std::mem::take(&mut b.$($f).+), v, threads, $fix)
        }};
    }
    let none = |_: &Offsets| 0;
    b.snap.changes = gather!(snap.changes, none, |_, _| {});
    b.snap.deals = gather!(snap.deals, |o: &Offsets| o.changes, |d: &mut Deal, by| {
        let by = by as u32;
        d.history = d.history.start + by..d.history.end + by;
    });
    // The id lists keep the parts' pieces (the errors, shifted above,
    // tell the kept records' input indexes).
    for l in [List::Deals, List::Activities, List::Leads] {
        for p in &mut parts {
            for piece in std::mem::take(ids_of(&mut p.b, l)).into_chunks() {
                ids_of(b, l).append(piece);
            }
        }
    }
    // The builder's own list (read before the parts) has no pending links.
    let mut pending: Vec<PendingLinks> = b
        .snap
        .activities
        .chunks()
        .iter()
        .map(|_| PendingLinks::default())
        .collect();
    for p in &mut parts {
        let acts = std::mem::take(&mut p.b.snap.activities).into_vec();
        b.snap.activities.append(acts);
        pending.push(p.b.pending.take().unwrap_or_default());
        let leads = std::mem::take(&mut p.b.snap.leads).into_vec();
        b.snap.leads.append(leads);
    }
    pending
}

/// The id hashes of list `l`.
fn ids_of(b: &mut Builder, l: List) -> &mut IdHashes {
    match l {
        List::Deals => &mut b.deal_ids,
        List::Activities => &mut b.act_ids,
        List::Leads => &mut b.lead_ids,
    }
}

/// Where one part's records go in the joined lists.
#[derive(Clone, Copy)]
struct Offsets {
    /// Input indexes of deals, activities, leads.
    lists: [usize; 3],
    changes: usize,
}

/// `head` followed by `tails`, in order, each tail's elements given
/// `fix(element, by)` with its own `by` (none when it is 0). Each tail is
/// moved into place by `threads` threads at once, in pieces (this was the
/// largest serial copy), then freed before the next: one tail at a time is
/// held twice.
fn concat<T: Send>(
    mut head: Vec<T>,
    tails: Vec<(Vec<T>, usize)>,
    threads: usize,
    fix: impl Fn(&mut T, usize) + Sync,
) -> Vec<T> {
    let mut tails = tails.into_iter().filter(|(t, _)| !t.is_empty());
    if head.is_empty() {
        match tails.next() {
            Some((mut first, by)) => {
                if by != 0 {
                    first.iter_mut().for_each(|x| fix(x, by));
                }
                head = first
            }
            None => return head,
        }
    }
    let tails: Vec<(Vec<T>, usize)> = tails.collect();
    head.reserve_exact(tails.iter().map(|(t, _)| t.len()).sum());
    for (mut tail, by) in tails {
        let len = head.len();
        let n = tail.len();
        let from = Raw(tail.as_ptr() as *mut T);
        // SAFETY: within the capacity reserved above.
        let to = Raw(unsafe { head.as_mut_ptr().add(len) });
        const PIECE: usize = 1 << 16;
        let pieces = threads.min(n.div_ceil(PIECE));
        on_threads((0..n).step_by(PIECE), pieces, |at| {
            let len = PIECE.min(n - at);
            // SAFETY: each piece goes to one thread, so the copies are
            // disjoint, within `tail` and the reserved space; the copied
            // elements are valid values of `T`.
            unsafe {
                populate(to.at(at) as *mut u8, len * std::mem::size_of::<T>());
                std::ptr::copy_nonoverlapping(from.at(at), to.at(at), len);
                if by != 0 {
                    std::slice::from_raw_parts_mut(to.at(at), len)
                        .iter_mut()
                        .for_each(|x| fix(x, by));
                }
            };
        });
        // SAFETY: the elements were moved into `head`; `tail` only frees
        // its buffer.
        unsafe {
            head.set_len(len + n);
            tail.set_len(0);
        }
    }
    head
}

/// A buffer shared by the threads of one `concat` copy.
#[derive(Clone, Copy)]
struct Raw<T>(*mut T);
// SAFETY: the threads copy disjoint pieces (see `concat`).
unsafe impl<T> Sync for Raw<T> {}
unsafe impl<T> Send for Raw<T> {}

impl<T> Raw<T> {
    /// SAFETY: `i` within the buffer.
    unsafe fn at(&self, i: usize) -> *mut T {
        self.0.add(i)
    }
}

/// Each pending `deal_id` is looked up (on every core) and becomes its
/// activity's deal, in one pass over each piece. Those that name no deal
/// are listed as the general path lists them: while streaming, every one
/// read (even of an activity that turned out broken or a duplicate), in
/// input order; at the end, those of the activities kept. `pending[c]`
/// holds the links of the activities' piece `c`.
fn resolve(b: &mut Builder, pending: &[PendingLinks], threads: usize, streaming: bool) {
    if pending.iter().all(|p| p.ends.is_empty()) {
        return;
    }
    if b.deal_lookup.is_none() {
        b.build_deal_lookup();
    }
    let Some(lookup) = b.deal_lookup.as_ref() else {
        return;
    };
    let deals = &b.snap.deals;
    let pieces = b.snap.activities.chunks_mut();
    debug_assert_eq!(pieces.len(), pending.len());
    // Per piece, the links found nowhere: (k, the activity's place in the
    // piece, None when it was not kept).
    let mut missing: Vec<Vec<(usize, Option<usize>)>> = vec![Vec::new(); pending.len()];
    let work = pieces.iter_mut().zip(pending).zip(missing.iter_mut());
    on_threads(work, threads, |((piece, p), missing)| {
        // The kept activities' pending links come in the order of k.
        let mut next = 0;
        let mut k = 0;
        let ids = (0..p.ends.len()).map(|k| p.get(k));
        lookup.find_all(deals, ids, |found| {
            while next < piece.len() && !matches!(piece[next].deal, DealLink::Unknown(_)) {
                next += 1;
            }
            let at = match piece.get(next).map(|a| a.deal) {
                Some(DealLink::Unknown(j)) if j as usize == k => {
                    next += 1;
                    Some(next - 1)
                }
                _ => None,
            };
            match (found, at) {
                (Some(i), Some(at)) => piece[at].deal = DealLink::Deal(i),
                (Some(_), None) => {}
                (None, at) => missing.push((k, at)),
            }
            k += 1;
        });
    });
    let unknown = &mut b.snap.unknown_deal_ids;
    for ((piece, p), missing) in pieces.iter_mut().zip(pending).zip(&missing) {
        for &(k, at) in missing {
            if !streaming && at.is_none() {
                continue;
            }
            unknown.push(p.get(k).to_string());
            if let Some(at) = at {
                piece[at].deal = DealLink::Unknown(unknown.len() as u32 - 1);
            }
        }
    }
}
