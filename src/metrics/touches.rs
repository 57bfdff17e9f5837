//! Follow-up touches (METRICS.md "Follow-up discipline"): the activities
//! that count as a touch of a deal, indexed by deal once per run, so that
//! a deal's touches at any `as_of` are a count over its own few entries.

use super::scope::Scope;
use super::Settings;
use crate::period::day_start;
use crate::snapshot::{DealLink, Snapshot, When};
use chrono::{DateTime, Duration, NaiveDate, Utc};

/// Per deal, its touch-eligible activities (selling kind, not a canceled
/// or no-show meeting): when, and who owned them.
pub struct TouchIndex {
    /// Deal `d`'s entries are `at[start[d]..start[d + 1]]`, sorted by time.
    start: Vec<u32>,
    at: Vec<DateTime<Utc>>,
    owner: Vec<Option<u32>>,
}

impl TouchIndex {
    pub fn new(snap: &Snapshot, s: &Settings) -> TouchIndex {
        let eligible = |a: &crate::snapshot::Activity| {
            s.selling_kinds[a.kind.index()]
                && !matches!(a.outcome.as_deref(), Some("canceled") | Some("no_show"))
        };
        let mut count = vec![0u32; snap.deals.len() + 1];
        // Internal iteration (`for_each`): a plain loop over each piece.
        snap.activities.iter().for_each(|a| {
            if let DealLink::Deal(d) = a.deal {
                if eligible(a) {
                    count[d as usize + 1] += 1;
                }
            }
        });
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let total = *count.last().unwrap_or(&0) as usize;
        let mut entries: Vec<(DateTime<Utc>, Option<u32>)> =
            vec![(DateTime::<Utc>::MIN_UTC, None); total];
        let mut fill = count.clone();
        snap.activities.iter().for_each(|a| {
            if let DealLink::Deal(d) = a.deal {
                if eligible(a) {
                    let slot = &mut fill[d as usize];
                    // A bare date is the start of that local day.
                    let at = match a.at {
                        When::Instant(t) => t,
                        When::Date(day) => day_start(day, s.tz),
                    };
                    entries[*slot as usize] = (at, a.owner.map(|o| o as u32));
                    *slot += 1;
                }
            }
        });
        for d in 0..snap.deals.len() {
            entries[count[d] as usize..count[d + 1] as usize].sort_unstable_by_key(|e| e.0);
        }
        let (at, owner) = entries.into_iter().unzip();
        TouchIndex {
            start: count,
            at,
            owner,
        }
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
