//! Ids in lists of millions: duplicates found among the hashes once a list
//! is complete, and deals found by id (activities' `deal_id`) through an
//! open-addressing table that holds short ids inline, so a lookup costs
//! about one cache miss instead of a binary search over millions.

use crate::snapshot::{Deal, Records};
use rustc_hash::FxHashSet as HashSet;

/// A hash of an id, eight bytes at a time (an id of 11 digits is two
/// words, not eleven dependent multiplications), then a final mix so that
/// both the low bits (the deal table) and the high bits (the duplicate
/// buckets) are spread. Ids are compared wherever hashes match, so a
/// collision costs a comparison, never a wrong result.
pub(super) fn id_hash(id: &str) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let b = id.as_bytes();
    let n = b.len();
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
    let half = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap()) as u64;
    let mut h = K ^ n as u64;
    let mut mix = |w: u64| h = (h.rotate_left(23) ^ w).wrapping_mul(K);
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            mix(word(i));
            i += 8;
        }
        // The last eight bytes (overlapping the word before when the
        // length is not a multiple of eight: the length is in the seed).
        mix(word(n - 8));
    } else if n >= 4 {
        mix(half(0) << 32 | half(n - 4));
    } else if n > 0 {
        mix((b[0] as u64) << 16 | (b[n / 2] as u64) << 8 | b[n - 1] as u64);
    }
    // murmur3's finalizer.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Each kept record's id hash, in order (its input index is told by the
/// records that failed: `input_indexes`). Duplicate ids are found once a
/// list is complete (`Builder::check_ids`) instead of through a lookup per
/// record in a table of millions. Kept in the pieces the reader's parts
/// filled, as the records are (`Records`): joining them would copy a
/// hundred megabytes only to read it once.
pub(super) type IdHashes = Records<u64>;

/// The input indexes of the kept records at positions `kept` (ascending),
/// given the input indexes of the records not kept (`failed`, ascending):
/// each failed record at or before a kept one moves it one place on.
pub(super) fn input_indexes(kept: impl Iterator<Item = usize>, failed: &[u32]) -> Vec<usize> {
    let mut passed = 0;
    kept.map(|k| {
        while failed
            .get(passed)
            .is_some_and(|&f| f as usize <= k + passed)
        {
            passed += 1;
        }
        k + passed
    })
    .collect()
}

/// The hashes that occur more than once. The hashes are spread into
/// buckets of about a thousand by their top bits (one counting pass, one
/// scattering pass), then each bucket's repeats are found through a small
/// table that stays in the cache: about three times faster than sorting
/// each bucket, which was itself three times faster than sorting millions.
pub(super) fn repeated_hashes(hashes: &IdHashes) -> HashSet<u64> {
    let bits = (hashes.len() / 1024).max(1).ilog2().min(16);
    // The bucket of a hash: its top bits after one more mix (the table
    // within a bucket uses the low bits).
    let bucket = |h: u64| (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32 >> (32 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    hashes.iter().for_each(|h| starts[bucket(*h) + 1] += 1);
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut fill = starts.clone();
    let mut spread = vec![0u64; hashes.len()];
    hashes.iter().for_each(|h| {
        let b = bucket(*h);
        spread[fill[b]] = *h;
        fill[b] += 1;
    });
    let mut repeated = HashSet::default();
    let mut table = Vec::new();
    for w in starts.windows(2) {
        repeats_in(&spread[w[0]..w[1]], &mut table, &mut repeated);
    }
    repeated
}

/// Adds to `repeated` the hashes that occur more than once in `bucket`,
/// through `table` (open addressing, at most half full; 0 marks a free
/// slot, so a hash of 0 is counted apart).
fn repeats_in(bucket: &[u64], table: &mut Vec<u64>, repeated: &mut HashSet<u64>) {
    let size = (bucket.len() * 2).next_power_of_two().max(16);
    table.clear();
    table.resize(size, 0);
    let mask = size - 1;
    let mut zeros = 0;
    for &h in bucket {
        if h == 0 {
            zeros += 1;
            continue;
        }
        let mut at = h as usize & mask;
        loop {
            let slot = table[at];
            if slot == 0 {
                table[at] = h;
                break;
            }
            if slot == h {
                repeated.insert(h);
                break;
            }
            at = (at + 1) & mask;
        }
    }
    if zeros > 1 {
        repeated.insert(0);
    }
}

/// Records that repeat the id of an earlier kept record: of the records
/// whose hash is repeated, only those ids are compared.
pub(super) fn repeated_ids<'a>(
    hashes: &IdHashes,
    repeated: &HashSet<u64>,
    id: impl Fn(usize) -> &'a str,
) -> Vec<bool> {
    let mut dup = vec![false; hashes.len()];
    if repeated.is_empty() {
        return dup;
    }
    let mut first: HashSet<&str> = HashSet::default();
    for (j, h) in hashes.iter().enumerate() {
        if repeated.contains(h) && !first.insert(id(j)) {
            dup[j] = true;
        }
    }
    dup
}

/// Ids up to this long are kept in the table itself.
const INLINE: usize = 19;

/// One slot: 32 bytes, two to a cache line (aligned: never across two).
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot {
    hash: u64,
    /// The deal's index; `u32::MAX` for an empty slot.
    deal: u32,
    len: u8,
    inline: [u8; INLINE],
}

const EMPTY: Slot = Slot {
    hash: 0,
    deal: u32::MAX,
    len: 0,
    inline: [0; INLINE],
};

/// The deals by id (built once the deal list is complete and its
/// duplicates are out, so each id is there once). Ids are compared, so a
/// hash collision cannot link the wrong deal.
pub(super) struct DealIndex {
    slots: Vec<Slot>,
    mask: usize,
}

impl DealIndex {
    /// The index of `deals`; `hashes`, when given, are their ids' hashes
    /// (`id_hash`), in order.
    pub fn new(deals: &[Deal], hashes: Option<&IdHashes>) -> DealIndex {
        debug_assert!(hashes.is_none_or(|h| h.len() == deals.len()));
        let mut given = hashes.map(|h| h.iter());
        // At most half full: probes stay short.
        let size = (deals.len() * 2).next_power_of_two().max(16);
        let mut index = DealIndex {
            slots: vec![EMPTY; size],
            mask: size - 1,
        };
        // In groups, each group's slots asked of memory first (as `find_all`).
        const GROUP: usize = 16;
        for (g, group) in deals.chunks(GROUP).enumerate() {
            let mut hashes = [0u64; GROUP];
            for (h, d) in hashes.iter_mut().zip(group) {
                *h = match &mut given {
                    Some(hashes) => *hashes.next().expect("a hash per deal"),
                    None => id_hash(&d.id),
                };
                index.prefetch(*h);
            }
            for (k, (d, &hash)) in group.iter().zip(&hashes).enumerate() {
                index.insert(d, hash, (g * GROUP + k) as u32);
            }
        }
        index
    }

    fn insert(&mut self, d: &Deal, hash: u64, deal: u32) {
        let mut at = hash as usize & self.mask;
        while self.slots[at].deal != u32::MAX {
            at = (at + 1) & self.mask;
        }
        let mut slot = Slot {
            hash,
            deal,
            len: u8::MAX,
            inline: [0; INLINE],
        };
        if d.id.len() <= INLINE {
            slot.len = d.id.len() as u8;
            slot.inline[..d.id.len()].copy_from_slice(d.id.as_bytes());
        }
        self.slots[at] = slot;
    }

    /// The index of the deal with this id.
    pub fn find(&self, deals: &[Deal], id: &str) -> Option<u32> {
        self.find_hashed(deals, id, id_hash(id))
    }

    /// `find` of many ids: each group's slots are asked of memory at once
    /// (a prefetch each), so their cache misses overlap instead of
    /// following one another.
    pub fn find_all<'a>(
        &self,
        deals: &[Deal],
        ids: impl Iterator<Item = &'a str>,
        mut found: impl FnMut(Option<u32>),
    ) {
        const GROUP: usize = 16;
        let mut group: [(&str, u64); GROUP] = [("", 0); GROUP];
        let mut n = 0;
        let mut flush = |group: &[(&str, u64)]| {
            for &(id, hash) in group {
                found(self.find_hashed(deals, id, hash));
            }
        };
        for id in ids {
            let hash = id_hash(id);
            self.prefetch(hash);
            group[n] = (id, hash);
            n += 1;
            if n == GROUP {
                flush(&group);
                n = 0;
            }
        }
        flush(&group[..n]);
    }

    #[inline]
    fn prefetch(&self, hash: u64) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch is only a hint; the address is within `slots`.
        unsafe {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let slot = self.slots.as_ptr().add(hash as usize & self.mask);
            _mm_prefetch::<_MM_HINT_T0>(slot as *const i8);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = hash;
    }

    fn find_hashed(&self, deals: &[Deal], id: &str, hash: u64) -> Option<u32> {
        let mut at = hash as usize & self.mask;
        loop {
            let s = &self.slots[at];
            if s.deal == u32::MAX {
                return None;
            }
            if s.hash == hash {
                let same = if s.len == u8::MAX {
                    deals[s.deal as usize].id == id
                } else {
                    &s.inline[..s.len as usize] == id.as_bytes()
                };
                if same {
                    return Some(s.deal);
                }
            }
            at = (at + 1) & self.mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::When;

    /// Repeats found in buckets are the repeats a plain count finds,
    /// whatever the list's size (one bucket or thousands), a hash of 0
    /// (the table's free mark) included.
    #[test]
    fn repeated_hashes_are_those_a_count_finds() {
        for n in [0usize, 1, 5, 1000, 5000, 300_000] {
            let mut hashes: Vec<u64> = (0..n).map(|i| id_hash(&format!("a{i}"))).collect();
            // Repeats: some ids twice, one three times, and two zeros.
            for k in (0..n).step_by(997) {
                hashes.push(hashes[k]);
            }
            if n > 3 {
                hashes.push(hashes[3]);
                hashes.push(0);
                hashes.push(0);
            }
            let mut counts: std::collections::HashMap<u64, usize> = Default::default();
            for h in &hashes {
                *counts.entry(*h).or_default() += 1;
            }
            let want: HashSet<u64> = counts
                .iter()
                .filter(|(_, c)| **c > 1)
                .map(|(h, _)| *h)
                .collect();
            // In one piece and in three (as the reader's parts leave them).
            let third = hashes.len() / 3;
            let mut pieces = IdHashes::new();
            pieces.append(hashes[..third].to_vec());
            pieces.append(hashes[third..2 * third].to_vec());
            pieces.append(hashes[2 * third..].to_vec());
            assert_eq!(repeated_hashes(&pieces), want, "{n} ids in pieces");
            assert_eq!(repeated_hashes(&hashes.into()), want, "{n} ids");
        }
        assert!(repeated_hashes(&vec![0].into()).is_empty());
    }

    /// A kept record's input index, told by the failed ones: against the
    /// input read in order, for failures at the start, end, in runs and
    /// none.
    #[test]
    fn input_indexes_skip_the_failed_records() {
        let mut seed = 11u64;
        for n in [0usize, 1, 2, 7, 50, 300] {
            for rate in [0u64, 1, 3, 7] {
                let mut failed = Vec::new();
                let mut kept = Vec::new();
                for i in 0..n {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    if rate > 0 && (seed >> 33) % 8 < rate {
                        failed.push(i as u32);
                    } else {
                        kept.push(i);
                    }
                }
                let got = input_indexes(0..kept.len(), &failed);
                assert_eq!(got, kept, "n {n}, failed {failed:?}");
                // Only some kept positions asked for (the duplicates).
                let some: Vec<usize> = (0..kept.len()).step_by(3).collect();
                let want: Vec<usize> = some.iter().map(|&k| kept[k]).collect();
                assert_eq!(input_indexes(some.into_iter(), &failed), want);
            }
        }
        assert_eq!(input_indexes([0, 1].into_iter(), &[0, 1, 3]), [2, 4]);
    }

    #[test]
    fn finds_short_and_long_ids_and_nothing_else() {
        let deal = |id: &str| Deal {
            id: id.into(),
            name: Default::default(),
            owner: 0,
            amount: None,
            stage: 0,
            created_at: When::Date(chrono::NaiveDate::MIN),
            close_date: When::Date(chrono::NaiveDate::MIN),
            forecast_category: None,
            deal_type: None,
            history: 0..0,
        };
        let ids: Vec<String> = (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    format!("006Dn00000{i:010}XYZ")
                } else {
                    format!("{}", 18_000_000_000u64 + i)
                }
            })
            .collect();
        let deals: Vec<Deal> = ids.iter().map(|id| deal(id)).collect();
        // Hashed here, or the hashes the reader kept (in two pieces).
        let mut kept = IdHashes::new();
        kept.append(ids[..400].iter().map(|id| id_hash(id)).collect());
        kept.append(ids[400..].iter().map(|id| id_hash(id)).collect());
        for index in [
            DealIndex::new(&deals, None),
            DealIndex::new(&deals, Some(&kept)),
        ] {
            for (i, id) in ids.iter().enumerate() {
                assert_eq!(index.find(&deals, id), Some(i as u32), "{id}");
            }
            for id in ["", "18000000000 ", "006Dn000000000000000XYZ0", "nope"] {
                assert_eq!(index.find(&deals, id), None, "{id:?}");
            }
        }
    }
}
