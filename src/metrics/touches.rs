//! Follow-up touches (METRICS.md "Follow-up discipline"): the activities
//! that count as a touch of a deal, indexed by deal once per run, so that
//! a deal's touches at any `as_of` are a count over its own few entries.

use super::scope::Scope;
use super::Settings;
use crate::period::day_start;
use crate::snapshot::{Activity, DealLink, Records, Snapshot, When};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Per deal, its touch-eligible activities (selling kind, not a canceled
/// or no-show meeting): when, and who owned them.
pub struct TouchIndex {
    /// Deal `d`'s entries are `at[start[d]..start[d + 1]]`, sorted by time.
    start: Vec<u32>,
    at: Vec<DateTime<Utc>>,
    owner: Vec<Option<u32>>,
}

/// A touch found in the activities: its deal, when, and who owned it.
type Touch = (u32, DateTime<Utc>, Option<u32>);

impl TouchIndex {
    pub fn new(snap: &Snapshot, s: &Settings) -> TouchIndex {
        // The activities are read once, half on each core (the list is
        // millions long; the touches a fraction of it), then the touches
        // are placed by deal and each deal's sorted by time.
        let (first, second) = halves(&snap.activities);
        let (a, b) = std::thread::scope(|sc| {
            let other = sc.spawn(|| touches(&second, s));
            let mine = touches(&first, s);
            (
                mine,
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            )
        });
        let mut start = vec![0u32; snap.deals.len() + 1];
        for (d, _, _) in a.iter().chain(&b) {
            start[*d as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut entries: Vec<(DateTime<Utc>, Option<u32>)> =
            vec![(DateTime::<Utc>::MIN_UTC, None); a.len() + b.len()];
        let mut fill = start.clone();
        for (d, at, owner) in a.into_iter().chain(b) {
            let slot = &mut fill[d as usize];
            entries[*slot as usize] = (at, owner);
            *slot += 1;
        }
        // Ties keep no order: a count takes all of a time or none of it.
        for d in 0..snap.deals.len() {
            entries[start[d] as usize..start[d + 1] as usize].sort_unstable_by_key(|e| e.0);
        }
        let (at, owner) = entries.into_iter().unzip();
        TouchIndex { start, at, owner }
    }

    /// Touches of deal `d` by activities in `scope`, dated before `as_of`
    /// (instant `t`) and on or before the deal's local close date `close`.
    pub fn count(
        &self,
        d: u32,
        t: DateTime<Utc>,
        close: NaiveDate,
        s: &Settings,
        scope: &Scope,
    ) -> u32 {
        let (a, b) = (
            self.start[d as usize] as usize,
            self.start[d as usize + 1] as usize,
        );
        if a == b {
            return 0;
        }
        let day_after_close = close
            .checked_add_signed(Duration::days(1))
            .map(|n| day_start(n, s.tz))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let until = t.min(day_after_close);
        let n = self.at[a..b].partition_point(|x| *x < until);
        if scope.is_all() {
            return n as u32;
        }
        self.owner[a..a + n]
            .iter()
            .filter(|o| o.is_some_and(|o| scope.has_rep(o)))
            .count() as u32
    }
}

/// The touch-eligible activities among `runs` (selling kind, not a
/// canceled or no-show meeting, linked to a deal), in order.
fn touches(runs: &[&[Activity]], s: &Settings) -> Vec<Touch> {
    let mut out = Vec::new();
    for run in runs {
        for a in *run {
            let DealLink::Deal(d) = a.deal else {
                continue;
            };
            if !s.selling_kinds[a.kind.index()] || a.fell_through() {
                continue;
            }
            // A bare date is the start of that local day.
            let at = match a.at {
                When::Instant(t) => t,
                When::Date(day) => day_start(day, s.tz),
            };
            out.push((d, at, a.owner.map(|o| o as u32)));
        }
    }
    out
}

/// The records in two runs of consecutive slices, of about equal length
/// (a piece cut in two where needed).
fn halves<T>(all: &Records<T>) -> (Vec<&[T]>, Vec<&[T]>) {
    let mut left = all.len().div_ceil(2);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for piece in all.chunks() {
        let (a, b) = piece.split_at(left.min(piece.len()));
        left -= a.len();
        if !a.is_empty() {
            first.push(a);
        }
        if !b.is_empty() {
            second.push(b);
        }
    }
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_cut_the_list_in_two_in_order() {
        for lens in [&[][..], &[1], &[5], &[0, 3, 0, 4, 1, 0], &[7, 0, 0, 2]] {
            let mut r = Records::new();
            let mut n = 0;
            for &l in lens {
                r.append((n..n + l).collect::<Vec<usize>>());
                n += l;
            }
            let (a, b) = halves(&r);
            let flat = |v: &[&[usize]]| v.iter().flat_map(|s| s.iter().copied()).collect();
            let (a, b): (Vec<usize>, Vec<usize>) = (flat(&a), flat(&b));
            assert_eq!(a, (0..n.div_ceil(2)).collect::<Vec<_>>(), "{lens:?}");
            assert_eq!(b, (n.div_ceil(2)..n).collect::<Vec<_>>(), "{lens:?}");
        }
    }

    /// The index is the same whether the activities come in one piece (a
    /// small file, a CRM pull) or in the reader's many.
    #[test]
    fn the_index_does_not_depend_on_the_pieces() {
        let today = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let one = crate::source::demo::generate(today);
        let s = crate::config::Settings::from_toml("").unwrap().metrics;
        let mut many = one.clone();
        let all: Vec<Activity> = many.activities.iter().cloned().collect();
        assert!(all.len() > 100);
        many.activities = Records::new();
        for piece in all.chunks(all.len() / 7) {
            many.activities.append(piece.to_vec());
            many.activities.append(Vec::new());
        }
        let (x, y) = (TouchIndex::new(&one, &s), TouchIndex::new(&many, &s));
        assert!(x.at.len() > 10);
        assert_eq!((&x.start, &x.at), (&y.start, &y.at));
        // Touches at the same time may come in either order.
        for d in 0..one.deals.len() {
            let (a, b) = (x.start[d] as usize, x.start[d + 1] as usize);
            let mut p: Vec<_> = x.at[a..b].iter().zip(&x.owner[a..b]).collect();
            let mut q: Vec<_> = y.at[a..b].iter().zip(&y.owner[a..b]).collect();
            p.sort();
            q.sort();
            assert_eq!(p, q, "deal {d}");
        }
    }
}
