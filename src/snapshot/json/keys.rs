//! A record's known keys, found without a branch on the key.
//!
//! Exports write a record's keys in varying order and leave optional ones
//! out, so a `match` on the key (a jump on its length, then compares) is
//! mispredicted at nearly every field: a simulated predictor missed 92 %
//! of those jumps on the full benchmark shape. Here a key picks its one
//! candidate from a small table by its length and first and last bytes,
//! and is compared with it in fixed-width words; the answer is an index,
//! which the reader uses to choose where the value goes, not which code
//! runs.

/// Keys longer than this are never known (every record key is shorter).
const WIDTH: usize = 32;

pub(super) struct Keys<const N: usize> {
    /// Each key's bytes, zero-padded to `WIDTH`, as four words.
    names: [[u64; 4]; N],
    lens: [u8; N],
    /// Hash → index of the one key with that hash; `N` for none.
    table: [u8; 64],
}

/// The masks of a key's first `len` bytes, by `len` (0..=WIDTH).
static MASKS: [[u64; 4]; WIDTH + 1] = {
    let mut t = [[0u64; 4]; WIDTH + 1];
    let mut len = 0;
    while len <= WIDTH {
        let mut w = 0;
        while w < 4 {
            let left = len as isize - 8 * w as isize;
            t[len][w] = if left >= 8 {
                u64::MAX
            } else if left <= 0 {
                0
            } else {
                (1u64 << (8 * left)) - 1
            };
            w += 1;
        }
        len += 1;
    }
    t
};

#[inline(always)]
const fn hash(len: usize, first: u8, last: u8) -> usize {
    (len.wrapping_mul(5) ^ (first as usize).wrapping_mul(3) ^ last as usize) & 63
}

impl<const N: usize> Keys<N> {
    /// The table of `keys`; two keys with one hash fail the build (each
    /// table is a `const`).
    pub const fn new(keys: [&str; N]) -> Keys<N> {
        assert!(N < 64);
        let mut k = Keys {
            names: [[0; 4]; N],
            lens: [0; N],
            table: [N as u8; 64],
        };
        let mut i = 0;
        while i < N {
            let b = keys[i].as_bytes();
            assert!(!b.is_empty() && b.len() <= WIDTH);
            let mut j = 0;
            while j < b.len() {
                k.names[i][j / 8] |= (b[j] as u64) << (8 * (j % 8));
                j += 1;
            }
            k.lens[i] = b.len() as u8;
            let h = hash(b.len(), b[0], b[b.len() - 1]);
            assert!(k.table[h] == N as u8, "two keys with one hash");
            k.table[h] = i as u8;
            i += 1;
        }
        k
    }

    /// The index of the key at `input[start..start + len]`, `N` if it is
    /// not one of these.
    #[inline(always)]
    pub fn find(&self, input: &[u8], start: usize, len: usize) -> usize {
        if len == 0 {
            return N;
        }
        let first = input[start];
        let last = input[start + len - 1];
        let at = self.table[hash(len, first, last)] as usize;
        let Some(name) = self.names.get(at) else {
            return N;
        };
        let same = match input.get(start..start + WIDTH) {
            Some(w) => {
                let mask = &MASKS[len.min(WIDTH)];
                let mut diff = (len != self.lens[at] as usize) as u64;
                for i in 0..4 {
                    let word = u64::from_le_bytes(w[8 * i..8 * i + 8].try_into().unwrap());
                    diff |= (word ^ name[i]) & mask[i];
                }
                diff == 0
            }
            // The last few bytes of the input: no word to load past the key.
            None => {
                len == self.lens[at] as usize
                    && (0..len).all(|j| input[start + j] == (name[j / 8] >> (8 * (j % 8))) as u8)
            }
        };
        std::hint::select_unpredictable(same, at, N)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys of one, two and three words, and pairs of one length.
    const NAMES: [&str; 7] = [
        "id",
        "at",
        "owner",
        "deal_id",
        "outcome",
        "forecast_category",
        "first_response_at",
    ];
    const KEYS: Keys<7> = Keys::new(NAMES);

    fn find(text: &str, key: &str) -> usize {
        let start = text.find(key).unwrap();
        KEYS.find(text.as_bytes(), start, key.len())
    }

    #[test]
    fn known_keys_are_found_and_others_are_not() {
        // Padded so the words past the key exist, and at the very end.
        for pad in [
            "\":\"x\", \"a\": 1, \"padding to be read past the key\"",
            "",
        ] {
            for (i, k) in NAMES.iter().enumerate() {
                assert_eq!(find(&format!("{k}{pad}"), k), i, "{k}");
            }
            // The first five share a known key's hash and length.
            for k in [
                "ownxr",
                "deal_xd",
                "fxrecast_category",
                "forecast_cbtegory",
                "first_rfsponse_at",
                "i",
                "ids",
                "Id",
                "owners",
                "ownex",
                "forecast_categor",
                "forecast_category_",
                "forecast_categorz",
                "first_response_au",
                "hs_timestamp",
                "deal_ie",
                "at\u{e9}",
                "a",
                "kind_of_a_very_long_key_beyond_width",
            ] {
                assert_eq!(find(&format!("{k}{pad}"), k), 7, "{k}");
            }
        }
        assert_eq!(KEYS.find(b"\"\":1", 1, 0), 7);
    }
}
