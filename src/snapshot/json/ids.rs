//! Ids in lists of millions: duplicates found by sorting hashes once a list
//! is complete, and deals found by id (activities' `deal_id`) through an
//! open-addressing table that holds short ids inline, so a lookup costs
//! about one cache miss instead of a binary search over millions.

use crate::snapshot::Deal;
use rustc_hash::FxHashSet as HashSet;

/// FNV-1a, then a final mix: fast on short ids, and stable.
pub(super) fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// Each kept record's id hash and its index in the input list. Duplicate
/// ids are found once a list is complete (`Builder::check_ids`) instead of
/// through a lookup per record in a table of millions.
pub(super) type IdHashes = Vec<(u64, u32)>;

/// The hashes that occur more than once (found by sorting).
pub(super) fn repeated_hashes(hashes: &IdHashes) -> HashSet<u64> {
    let mut sorted: Vec<u64> = hashes.iter().map(|(h, _)| *h).collect();
    sorted.sort_unstable();
    sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect()
}

/// Records that repeat the id of an earlier kept record: of the records
/// whose hash is repeated, only those ids are compared.
pub(super) fn repeated_ids<T>(
    items: &[T],
    hashes: &IdHashes,
    repeated: &HashSet<u64>,
    id: impl Fn(&T) -> &str,
) -> Vec<bool> {
    let mut dup = vec![false; items.len()];
    if repeated.is_empty() {
        return dup;
    }
    let mut first: HashSet<&str> = HashSet::default();
    for (j, (h, _)) in hashes.iter().enumerate() {
        if repeated.contains(h) && !first.insert(id(&items[j])) {
            dup[j] = true;
        }
    }
    dup
}

/// Ids up to this long are kept in the table itself.
const INLINE: usize = 19;

/// One slot: 32 bytes, two to a cache line.
#[derive(Clone, Copy)]
#[repr(C)]
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
    pub fn new(deals: &[Deal]) -> DealIndex {
        // At most half full: probes stay short.
        let size = (deals.len() * 2).next_power_of_two().max(16);
        let mut slots = vec![EMPTY; size];
        let mask = size - 1;
        for (i, d) in deals.iter().enumerate() {
            let hash = id_hash(&d.id);
            let mut at = hash as usize & mask;
            while slots[at].deal != u32::MAX {
                at = (at + 1) & mask;
            }
            let mut slot = Slot {
                hash,
                deal: i as u32,
                len: 0,
                inline: [0; INLINE],
            };
            if d.id.len() <= INLINE {
                slot.len = d.id.len() as u8;
                slot.inline[..d.id.len()].copy_from_slice(d.id.as_bytes());
            } else {
                slot.len = u8::MAX;
            }
            slots[at] = slot;
        }
        DealIndex { slots, mask }
    }

    /// The index of the deal with this id.
    pub fn find(&self, deals: &[Deal], id: &str) -> Option<u32> {
        let hash = id_hash(id);
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

    #[test]
    fn finds_short_and_long_ids_and_nothing_else() {
        let deal = |id: &str| Deal {
            id: id.into(),
            name: String::new(),
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
        let index = DealIndex::new(&deals);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(index.find(&deals, id), Some(i as u32), "{id}");
        }
        for id in ["", "18000000000 ", "006Dn000000000000000XYZ0", "nope"] {
            assert_eq!(index.find(&deals, id), None, "{id:?}");
        }
    }
}
