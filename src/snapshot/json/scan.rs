//! The fast path's tokenizer: strict JSON read straight from the input into
//! the same raw records serde fills (`raw`), with no visitor in between.
//!
//! It accepts less than serde_json, never more: anything unusual (an
//! escaped key, a repeated field, bad UTF-8, deep nesting, a record that is
//! not an object) stops it with `Bail`, and the general path (`stream`)
//! then reads the whole document and words any error. So a document the
//! fast path reads gives exactly the raw records the general path would.

use super::keys::Keys;
use super::raw::*;
use std::borrow::Cow;

/// The fast path cannot read this document; the general path will.
#[derive(Debug)]
pub(super) struct Bail;

pub(super) type R<T> = Result<T, Bail>;

/// Nesting the fast path follows inside a skipped value (serde_json stops
/// at 128; deeper documents go to the general path).
const MAX_DEPTH: u32 = 64;

/// Bytes that end the quick run through a string: `"`, `\` and controls.
static STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// A record's fields read by `Scan::fields`: each key beside the field it
/// fills (so the two cannot fall out of step), then the one list key, if
/// any, with what reads it.
macro_rules! fields {
    ($s:expr, $r:ident, $nulls:expr, { $($key:literal => $field:ident),* $(,)? }
     $(, $list:literal => |$ls:ident| $read:expr)?) => {
        $s.fields(
            &const { Keys::new([$($key,)* $($list)?]) },
            [$(&mut $r.$field),*],
            $nulls,
            |_s| {
                $(let $ls = _s; $read;)?
                Ok(())
            },
        )
    };
}

pub(super) struct Scan<'a> {
    pub b: &'a [u8],
    pub pos: usize,
    /// Set when a string was decoded into text of its own (escapes): a raw
    /// record read since the flag was cleared then owns memory.
    pub owned: bool,
}

impl<'a> Scan<'a> {
    pub fn new(b: &'a [u8], pos: usize) -> Scan<'a> {
        Scan {
            b,
            pos,
            owned: false,
        }
    }

    /// Skips JSON whitespace and returns the next byte (not consumed).
    /// One comparison for the usual case, a token right here (exports are
    /// compact): no byte above the space is white space.
    #[inline]
    pub fn peek(&mut self) -> R<u8> {
        match self.b.get(self.pos) {
            Some(&c) if c > b' ' => Ok(c),
            _ => self.peek_past_space(),
        }
    }

    #[inline]
    fn peek_past_space(&mut self) -> R<u8> {
        while let Some(&c) = self.b.get(self.pos) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Ok(c);
            }
            self.pos += 1;
        }
        Err(Bail)
    }

    /// The next byte after whitespace, consumed.
    #[inline]
    pub fn next(&mut self) -> R<u8> {
        let c = self.peek()?;
        self.pos += 1;
        Ok(c)
    }

    #[inline]
    pub fn expect(&mut self, c: u8) -> R<()> {
        if self.next()? == c {
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// True at the end of the input (after whitespace).
    pub fn at_end(&mut self) -> bool {
        self.peek().is_err()
    }

    /// A string's raw bytes, the opening quote just consumed, and whether
    /// it is plain ASCII without escapes. Controls and bad escapes bail.
    #[inline(always)]
    fn raw_string(&mut self) -> R<(&'a [u8], bool)> {
        let start = self.pos;
        let mut plain = true;
        loop {
            let (at, ascii) = run(self.b, self.pos, false);
            plain &= ascii;
            self.pos = at;
            match *self.b.get(self.pos).ok_or(Bail)? {
                b'"' => {
                    self.pos += 1;
                    return Ok((&self.b[start..self.pos - 1], plain));
                }
                b'\\' => {
                    plain = false;
                    self.escape()?;
                }
                _ => return Err(Bail),
            }
        }
    }

    /// One escape, at its backslash: checked as serde_json checks it.
    fn escape(&mut self) -> R<()> {
        let c = *self.b.get(self.pos + 1).ok_or(Bail)?;
        self.pos += 2;
        match c {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                let hex = self.b.get(self.pos..self.pos + 4).ok_or(Bail)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return Err(Bail);
                }
                self.pos += 4;
                Ok(())
            }
            _ => Err(Bail),
        }
    }

    /// A string value, borrowed when it has no escapes. Inlined with the
    /// run through it: a call per string cost as much as the run itself.
    #[inline(always)]
    pub fn string(&mut self) -> R<Cow<'a, str>> {
        let (raw, plain) = self.raw_string()?;
        if plain {
            // SAFETY: ASCII only, checked word by word above.
            return Ok(Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) }));
        }
        self.unusual_string(raw)
    }

    /// A string's `raw` text with non-ASCII bytes or escapes (names in
    /// many scripts: not cold, but out of the hot loop).
    #[inline(never)]
    fn unusual_string(&mut self, raw: &'a [u8]) -> R<Cow<'a, str>> {
        if !raw.contains(&b'\\') {
            return std::str::from_utf8(raw)
                .map(Cow::Borrowed)
                .map_err(|_| Bail);
        }
        self.owned = true;
        unescape(raw).map(Cow::Owned)
    }

    /// An object key and its colon. Escaped and non-ASCII keys go to the
    /// general path.
    /// Inlined: called once per field, a call cost a third of its work.
    #[inline(always)]
    pub fn key(&mut self) -> R<&'a [u8]> {
        self.expect(b'"')?;
        let start = self.pos;
        let (end, _) = run(self.b, start, true);
        if self.b.get(end) != Some(&b'"') {
            return Err(Bail);
        }
        // Compact JSON: the colon right after the quote.
        if self.b.get(end + 1) == Some(&b':') {
            self.pos = end + 2;
        } else {
            self.pos = end + 1;
            self.expect(b':')?;
        }
        Ok(&self.b[start..end])
    }

    /// A number as serde_json reads it into an f64 (correctly rounded;
    /// an integer that fits u64/i64 converted from that).
    fn number(&mut self) -> R<f64> {
        let b = self.b;
        let start = self.pos;
        let mut i = start;
        let neg = b.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let int_start = i;
        let mut mantissa: u64 = 0;
        let mut digits = 0u32;
        while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
            mantissa = mantissa.wrapping_mul(10).wrapping_add((c - b'0') as u64);
            digits += 1;
            i += 1;
        }
        let int_digits = i - int_start;
        if int_digits == 0 || (int_digits > 1 && b[int_start] == b'0') {
            return Err(Bail);
        }
        let mut scale = 0u32;
        let mut simple = true;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            while let Some(c @ b'0'..=b'9') = b.get(i).copied() {
                mantissa = mantissa.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                digits += 1;
                i += 1;
            }
            scale = (i - frac_start) as u32;
            if scale == 0 {
                return Err(Bail);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            simple = false;
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let exp_start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == exp_start {
                return Err(Bail);
            }
        }
        self.pos = i;
        // Exact: both operands are exactly representable, so one division
        // rounds correctly (Clinger's fast path).
        if simple && digits <= 15 && scale <= 22 {
            let v = mantissa as f64 / POW10[scale as usize];
            return Ok(if neg { -v } else { v });
        }
        let text = std::str::from_utf8(&b[start..i]).map_err(|_| Bail)?;
        // serde_json refuses what overflows to infinity.
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or(Bail)
    }

    /// Any value as a `Scalar` (lists and objects skipped). `null` is
    /// `Scalar::Null`.
    #[inline(always)]
    pub fn scalar(&mut self) -> R<Scalar<'a>> {
        match self.peek()? {
            b'"' => {
                self.pos += 1;
                self.string().map(Scalar::Str)
            }
            b'-' | b'0'..=b'9' => self.number().map(Scalar::Num),
            b't' => self.literal(b"true").map(|_| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|_| Scalar::Bool(false)),
            b'n' => self.literal(b"null").map(|_| Scalar::Null),
            b'[' => self.skip_value(0).map(|_| Scalar::Other("a list")),
            b'{' => self.skip_value(0).map(|_| Scalar::Other("an object")),
            _ => Err(Bail),
        }
    }

    /// A record field as serde fills `Option<Scalar>`: `null` is `None`.
    #[inline(always)]
    pub fn field(&mut self) -> R<F<'a>> {
        match self.scalar()? {
            Scalar::Null => Ok(None),
            s => Ok(Some(s)),
        }
    }

    /// The rest of a literal (`ull` after `n`), consumed.
    pub fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Skips any value, checking it as strictly as serde_json does.
    pub fn skip_value(&mut self, depth: u32) -> R<()> {
        match self.next()? {
            b'"' => self.raw_string().map(|_| ()),
            b'-' | b'0'..=b'9' => {
                self.pos -= 1;
                self.number().map(|_| ())
            }
            b't' => self.literal(b"rue"),
            b'f' => self.literal(b"alse"),
            b'n' => self.literal(b"ull"),
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(Bail);
                }
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    match self.next()? {
                        b',' => {}
                        b']' => return Ok(()),
                        _ => return Err(Bail),
                    }
                }
            }
            b'{' => {
                if depth >= MAX_DEPTH {
                    return Err(Bail);
                }
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.expect(b'"')?;
                    // Keys are read as text: non-ASCII or escaped ones go
                    // to the general path.
                    if !self.raw_string()?.1 {
                        return Err(Bail);
                    }
                    self.expect(b':')?;
                    self.skip_value(depth + 1)?;
                    match self.next()? {
                        b',' => {}
                        b'}' => return Ok(()),
                        _ => return Err(Bail),
                    }
                }
            }
            _ => Err(Bail),
        }
    }

    /// Reads an object's fields: `field(key)` reads the value of a known
    /// key and returns false for an unknown one (then skipped). A key seen
    /// twice bails, as serde's derived readers reject it.
    #[inline(always)]
    pub fn object(&mut self, mut field: impl FnMut(&mut Self, &[u8]) -> R<Option<u32>>) -> R<()> {
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        let mut seen = 0u32;
        loop {
            let key = self.key()?;
            match field(self, key)? {
                Some(bit) => {
                    if seen & bit != 0 {
                        return Err(Bail);
                    }
                    seen |= bit;
                }
                None => self.skip_value(0)?,
            }
            match self.next()? {
                b',' => {}
                b'}' => return Ok(()),
                _ => return Err(Bail),
            }
        }
    }

    /// A list, each item handed to `item` with its index; false for
    /// `null` (no list).
    pub fn each(&mut self, mut item: impl FnMut(&mut Self, usize) -> R<()>) -> R<bool> {
        match self.next()? {
            b'n' => return self.literal(b"ull").map(|_| false),
            b'[' => {}
            _ => return Err(Bail),
        }
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(true);
        }
        let mut i = 0;
        loop {
            item(self, i)?;
            i += 1;
            match self.next()? {
                b',' => {}
                b']' => return Ok(true),
                _ => return Err(Bail),
            }
        }
    }

    /// A list of objects as serde fills `Option<Vec<T>>` (`null` is None),
    /// into `spare`'s memory: the caller hands the list back once read, so
    /// a million deals' histories are not a million allocations.
    fn list<T>(
        &mut self,
        spare: &mut Vec<T>,
        mut item: impl FnMut(&mut Self) -> R<T>,
    ) -> R<Option<Vec<T>>> {
        let mut out = std::mem::take(spare);
        out.clear();
        let listed = self.each(|s, _| {
            out.push(item(s)?);
            Ok(())
        })?;
        if listed {
            Ok(Some(out))
        } else {
            *spare = out;
            Ok(None)
        }
    }

    pub fn rep(&mut self) -> R<RawRep<'a>> {
        let mut r = RawRep::default();
        self.object(|s, key| {
            Ok(Some(match key {
                b"id" => s.put(&mut r.id, 1)?,
                b"name" => s.put(&mut r.name, 2)?,
                b"email" => s.put(&mut r.email, 4)?,
                b"start_date" => s.put(&mut r.start_date, 8)?,
                b"active" => s.put(&mut r.active, 16)?,
                b"team" => s.put(&mut r.team, 32)?,
                _ => return Ok(None),
            }))
        })?;
        Ok(r)
    }

    pub fn stage(&mut self) -> R<RawStage<'a>> {
        let mut r = RawStage::default();
        self.object(|s, key| {
            Ok(Some(match key {
                b"id" => s.put(&mut r.id, 1)?,
                b"label" => s.put(&mut r.label, 2)?,
                b"probability" => s.put(&mut r.probability, 4)?,
                b"order" => s.put(&mut r.order, 8)?,
                b"closed" => s.put(&mut r.closed, 16)?,
                b"won" => s.put(&mut r.won, 32)?,
                _ => return Ok(None),
            }))
        })?;
        Ok(r)
    }

    #[inline(always)]
    pub fn deal(&mut self, r: &mut RawDeal<'a>, spare: &mut Vec<RawChange<'a>>) -> R<()> {
        fields!(self, r, 0, {
            "id" => id,
            "name" => name,
            "owner" => owner,
            "amount" => amount,
            "stage" => stage,
            "created_at" => created_at,
            "close_date" => close_date,
            "forecast_category" => forecast_category,
            "type" => deal_type,
        }, "history" => |s| r.history = s.list(spare, Self::change)?)
    }

    /// A history entry: a field written `null` is kept as `Scalar::Null`
    /// (emptied then), unlike an absent one; `at` reads as other fields.
    fn change(&mut self) -> R<RawChange<'a>> {
        let mut r = RawChange::default();
        fields!(self, r, 0b11110, {
            "at" => at,
            "stage" => stage,
            "amount" => amount,
            "close_date" => close_date,
            "forecast_category" => forecast_category,
        })?;
        Ok(r)
    }

    #[inline(always)]
    pub fn activity(&mut self, r: &mut RawActivity<'a>) -> R<()> {
        fields!(self, r, 0, {
            "id" => id,
            "owner" => owner,
            "kind" => kind,
            "at" => at,
            "duration_minutes" => duration_minutes,
            "outcome" => outcome,
            "deal_id" => deal_id,
        })
    }

    #[inline(always)]
    pub fn lead(&mut self, r: &mut RawLead<'a>, spare: &mut Vec<RawScoreEvent<'a>>) -> R<()> {
        fields!(self, r, 0, {
            "id" => id,
            "owner" => owner,
            "created_at" => created_at,
            "first_response_at" => first_response_at,
            "score" => score,
        }, "score_events" => |s| r.score_events = s.list(spare, Self::score_event)?)
    }

    /// An object of scalar fields and at most one list: the value of key
    /// `keys[i]` read into `slots[i]` (`null` as `None`, unless bit `i` of
    /// `nulls` keeps it), the key after the slots' read by `list`, unknown
    /// keys skipped, a key seen twice bails. The key chooses where the
    /// value goes, not which code reads it (`keys`).
    #[inline(always)]
    fn fields<const K: usize, const N: usize>(
        &mut self,
        keys: &Keys<K>,
        slots: [&mut F<'a>; N],
        nulls: u32,
        mut list: impl FnMut(&mut Self) -> R<()>,
    ) -> R<()> {
        // One bit of `object`'s u32 per key.
        const { assert!((K == N || K == N + 1) && K <= 32) };
        self.object(|s, key| {
            // `key` lies in the input: where, for `find`'s wide loads.
            let start = key.as_ptr() as usize - s.b.as_ptr() as usize;
            let i = keys.find(s.b, start, key.len());
            if i < N {
                let v = s.scalar()?;
                let keep = nulls & (1 << i) != 0 || !matches!(v, Scalar::Null);
                *slots[i] = if keep { Some(v) } else { None };
            } else if i < K {
                list(s)?;
            } else {
                return Ok(None);
            }
            Ok(Some(1 << i))
        })
    }

    fn score_event(&mut self) -> R<RawScoreEvent<'a>> {
        let mut r = RawScoreEvent::default();
        self.object(|s, key| {
            Ok(Some(match key {
                b"kind" => s.put(&mut r.kind, 1)?,
                b"at" => s.put(&mut r.at, 2)?,
                _ => return Ok(None),
            }))
        })?;
        Ok(r)
    }

    /// Reads a field into `slot`, returning its bit for the repeat check.
    #[inline(always)]
    fn put(&mut self, slot: &mut F<'a>, bit: u32) -> R<u32> {
        *slot = self.field()?;
        Ok(bit)
    }
}

/// A string's text with its escapes decoded, as serde_json decodes them
/// (a `\u` surrogate pair is one character; a lone surrogate, an
/// unknown escape or invalid UTF-8 bail, and the general path words the
/// error). A tenth of the names in some exports are escaped: serde_json's
/// own reader, set up for each, cost ten times the decoding.
fn unescape(raw: &[u8]) -> R<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(k) = raw[i..].iter().position(|&c| c == b'\\') {
        out.extend_from_slice(&raw[i..i + k]);
        i += k;
        let c = *raw.get(i + 1).ok_or(Bail)?;
        i += 2;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i)?;
                i += 4;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if raw.get(i..i + 2) != Some(b"\\u") {
                            return Err(Bail);
                        }
                        let lo = hex4(raw, i + 2)?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(Bail);
                        }
                        i += 6;
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(Bail),
                    _ => hi,
                };
                char::from_u32(code).ok_or(Bail)?
            }
            _ => return Err(Bail),
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    out.extend_from_slice(&raw[i..]);
    String::from_utf8(out).map_err(|_| Bail)
}

/// Four hex digits at `at`, as a number.
fn hex4(raw: &[u8], at: usize) -> R<u32> {
    let digits = raw.get(at..at + 4).ok_or(Bail)?;
    digits.iter().try_fold(0u32, |n, &c| {
        let d = (c as char).to_digit(16).ok_or(Bail)?;
        Ok(n * 16 + d)
    })
}

/// The plain run of string bytes from `pos`: where the first `"`, `\\`
/// or control byte is (the end of the input if none; with `stop_high`,
/// also the first non-ASCII byte), and whether the bytes before it are
/// all ASCII. Sixteen bytes at a time (SSE2, on every x86-64), then eight.
#[inline(always)]
fn run(b: &[u8], mut pos: usize, stop_high: bool) -> (usize, bool) {
    let mut plain = true;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while pos + 16 <= b.len() {
            // SAFETY: SSE2 is part of x86-64; the 16 bytes are within `b`.
            let (stop, high) = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(pos) as *const __m128i);
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let slash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                let low = _mm_set1_epi8(0x1f);
                let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
                let stop = _mm_or_si128(_mm_or_si128(quote, slash), control);
                (_mm_movemask_epi8(stop) as u32, _mm_movemask_epi8(v) as u32)
            };
            let stop = if stop_high { stop | high } else { stop };
            if stop != 0 {
                let n = stop.trailing_zeros();
                plain &= high & ((1u32 << n) - 1) == 0;
                return (pos + n as usize, plain);
            }
            plain &= high == 0;
            pos += 16;
        }
    }
    while let Some(word) = b.get(pos..pos + 8) {
        let x = u64::from_le_bytes(word.try_into().unwrap());
        let high = x & 0x8080_8080_8080_8080;
        let stop = if stop_high { stops(x) | high } else { stops(x) };
        if stop != 0 {
            let n = stop.trailing_zeros() as usize / 8;
            plain &= x & high_bits(n) == 0;
            return (pos + n, plain);
        }
        plain &= high == 0;
        pos += 8;
    }
    let rest = &b[pos..];
    let n = rest
        .iter()
        .position(|&c| STRING_STOP[c as usize] || (stop_high && c >= 0x80))
        .unwrap_or(rest.len());
    (pos + n, plain && rest[..n].is_ascii())
}

/// Bytes of `x` (little-endian) that are `"`, `\\` or below 0x20, each
/// flagged by its high bit; only the lowest flag is exact (enough to find
/// the first).
#[inline]
fn stops(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    zero(x ^ (ONES * b'"' as u64))
        | zero(x ^ (ONES * b'\\' as u64))
        | (x.wrapping_sub(ONES * 0x20) & !x & HIGH)
}

/// The high bits of the lowest `n` bytes.
#[inline]
fn high_bits(n: usize) -> u64 {
    if n == 0 {
        0
    } else {
        0x8080_8080_8080_8080 >> (64 - 8 * n)
    }
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn num(text: &str) -> Option<f64> {
        let mut s = Scan::new(text.as_bytes(), 0);
        let v = s.number().ok()?;
        (s.pos == text.len()).then_some(v)
    }

    #[test]
    fn numbers_read_as_serde_json_reads_them() {
        for text in [
            "0",
            "-0",
            "12000.5",
            "12000.50",
            "0.1",
            "-3.25",
            "1e3",
            "2.5E-3",
            "123456789012345",
            "1234567890123456789",
            "18446744073709551616",
            "9007199254740993",
            "0.30000000000000004",
            "-9223372036854775808",
            "4.9e-324",
            "1.7976931348623157e308",
        ] {
            let want = match serde_json::from_str::<serde_json::Value>(text).unwrap() {
                serde_json::Value::Number(n) => n.as_f64().unwrap(),
                v => panic!("{v}"),
            };
            let got = num(text).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{text}");
        }
        for bad in ["01", "-", "1.", ".5", "1e", "-01", "1.e3"] {
            assert!(num(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn strings_borrow_unescape_and_refuse_controls() {
        let mut s = Scan::new(br#""plain" "caf\u00e9 \"q\"" "tab	in""#, 0);
        assert_eq!(s.scalar().unwrap(), Scalar::Str(Cow::Borrowed("plain")));
        assert_eq!(
            s.scalar().unwrap(),
            Scalar::Str(Cow::Owned("café \"q\"".into()))
        );
        assert!(s.scalar().is_err());
    }

    /// Escaped strings decode as serde_json decodes them, and what it
    /// refuses is left to the general path: every escape, surrogate pairs,
    /// lone and reversed surrogates, bad hex, raw non-ASCII around escapes
    /// and invalid UTF-8, alone and in random mixtures.
    #[test]
    fn escapes_decode_as_serde_json_decodes_them() {
        let mut cases: Vec<Vec<u8>> = [
            r#"caf\u00e9 \"q\""#,
            r#"\\ \/ \b \f \n \r \t"#,
            r#"\ud83d\ude00 and \uD83D\uDE00"#,
            r#"lone \ud83d end"#,
            r#"lone \ude00"#,
            r#"reversed \ude00\ud83d"#,
            r#"high then plain \ud83d\u0041"#,
            r#"bad \u12g4"#,
            r#"short \u12"#,
            r#"unknown \x"#,
            r#"Müller \u2014 삼성 \"x\""#,
            r#"\u0000 nul"#,
            r#"\u00"#,
        ]
        .iter()
        .map(|c| c.as_bytes().to_vec())
        .collect();
        cases.push(b"bad utf8 \\n \xff".to_vec());
        cases.push(b"\\u00e9\xc3\xa9".to_vec());
        let pieces: [&[u8]; 12] = [
            b"a",
            br"\n",
            br"\u00e9",
            br"\ud83d",
            br"\ude00",
            br"\\",
            br#"\""#,
            "é".as_bytes(),
            "가".as_bytes(),
            b"\xe2",
            br"\u004",
            br"\/",
        ];
        let mut seed = 7u64;
        for _ in 0..3000 {
            let mut doc = Vec::new();
            for _ in 0..(seed % 6 + 1) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                doc.extend_from_slice(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            cases.push(doc);
        }
        for raw in &cases {
            let mut quoted = vec![b'"'];
            quoted.extend_from_slice(raw);
            quoted.push(b'"');
            let want = serde_json::from_slice::<String>(&quoted).ok();
            let mut s = Scan::new(&quoted, 0);
            let got = match s.scalar() {
                Ok(Scalar::Str(t)) if s.pos == quoted.len() => Some(t.into_owned()),
                _ => None,
            };
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(raw));
        }
    }

    /// `owned` tells whether a raw record holds decoded text (which must
    /// be dropped); plain and non-ASCII text is borrowed.
    #[test]
    fn decoded_text_is_noted_as_owned() {
        for (doc, owned) in [
            (r#"{"id": "a1", "outcome": "done"}"#, false),
            (r#"{"id": "a1", "outcome": "fertig ä"}"#, false),
            (r#"{"id": "a1", "outcome": "a\"b"}"#, true),
        ] {
            let mut s = Scan::new(doc.as_bytes(), 0);
            let mut r = RawActivity::default();
            s.activity(&mut r).unwrap();
            assert_eq!(s.owned, owned, "{doc}");
        }
    }

    /// A list read into a spare's memory: the spare's old entries are
    /// gone, `null` gives the memory back and is no list.
    #[test]
    fn lists_reuse_the_spare_and_null_is_none() {
        let mut spare = Vec::new();
        let mut d = RawDeal::default();
        let doc = br#"{"history": [{"at": "x", "stage": "s"}, {"at": "y", "amount": 1}]}"#;
        Scan::new(doc, 0).deal(&mut d, &mut spare).unwrap();
        let first = d.history.take().unwrap();
        assert_eq!(first.len(), 2);
        spare = first;
        let doc = br#"{"history": [{"at": "z", "stage": "t"}]}"#;
        Scan::new(doc, 0).deal(&mut d, &mut spare).unwrap();
        let second = d.history.take().unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].at, Some(Scalar::Str(Cow::Borrowed("z"))));
        assert!(second.capacity() >= 2, "the spare's memory was reused");
        spare = second;
        let mut d = RawDeal::default();
        let null = br#"{"history": null}"#;
        Scan::new(null, 0).deal(&mut d, &mut spare).unwrap();
        assert!(d.history.is_none());
        assert!(spare.capacity() >= 2, "null hands the memory back");
        let mut l = RawLead::default();
        let empty = br#"{"score_events": []}"#;
        Scan::new(empty, 0).lead(&mut l, &mut Vec::new()).unwrap();
        assert_eq!(
            l.score_events.map(|e| e.len()),
            Some(0),
            "an empty list is a list"
        );
    }

    #[test]
    fn repeated_fields_and_escaped_keys_bail() {
        let bails = |doc: &[u8]| {
            Scan::new(doc, 0)
                .deal(&mut RawDeal::default(), &mut Vec::new())
                .is_err()
        };
        assert!(bails(br#"{"id": "a", "id": "b"}"#));
        assert!(bails(br#"{"\u0069d": "a"}"#));
        let mut d = RawDeal::default();
        Scan::new(
            br#"{"id": "a", "x": {"id": [1, {"y": null}]}, "amount": null}"#,
            0,
        )
        .deal(&mut d, &mut Vec::new())
        .unwrap();
        assert_eq!(d.id, Some(Scalar::Str(Cow::Borrowed("a"))));
        assert_eq!(d.amount, None);
    }

    /// Each record reader fills what serde's derived reader fills, for
    /// every known key in several orders, `null`s (kept in history
    /// entries), unknown keys of every kind, keys that differ from a known
    /// one by a letter, and lists.
    #[test]
    fn keyed_readers_fill_what_serde_fills() {
        fn rotations(fields: &[&str]) -> Vec<String> {
            (0..fields.len())
                .map(|k| {
                    let mut f = fields.to_vec();
                    f.rotate_left(k);
                    format!("{{{}}}", f.join(","))
                })
                .collect()
        }
        fn change(c: &RawChange) -> String {
            format!(
                "{:?}",
                (
                    &c.at,
                    &c.stage,
                    &c.amount,
                    &c.close_date,
                    &c.forecast_category
                )
            )
        }
        fn deal(d: &RawDeal) -> String {
            let history: Option<Vec<String>> =
                d.history.as_ref().map(|h| h.iter().map(change).collect());
            format!(
                "{:?}",
                (
                    (&d.id, &d.name, &d.owner, &d.amount, &d.stage),
                    (
                        &d.created_at,
                        &d.close_date,
                        &d.forecast_category,
                        &d.deal_type
                    ),
                    history
                )
            )
        }
        fn activity(a: &RawActivity) -> String {
            format!(
                "{:?}",
                (
                    &a.id,
                    &a.owner,
                    &a.kind,
                    &a.at,
                    &a.duration_minutes,
                    &a.outcome,
                    &a.deal_id
                )
            )
        }
        fn lead(l: &RawLead) -> String {
            let events: Option<Vec<String>> = l.score_events.as_ref().map(|e| {
                e.iter()
                    .map(|e| format!("{:?}", (&e.kind, &e.at)))
                    .collect()
            });
            format!(
                "{:?}",
                (
                    &l.id,
                    &l.owner,
                    &l.created_at,
                    &l.first_response_at,
                    &l.score,
                    events
                )
            )
        }
        fn read<'a, T: Default>(doc: &'a str, f: impl FnOnce(&mut Scan<'a>, &mut T) -> R<()>) -> T {
            let mut r = T::default();
            let mut s = Scan::new(doc.as_bytes(), 0);
            f(&mut s, &mut r).unwrap();
            assert_eq!(s.pos, doc.len(), "{doc}");
            r
        }
        let extra = r#""ids":"x","x":{"id":[1,null]},"type_":true,"ownr":1.5,"Id":null"#;
        for doc in rotations(&[
            r#""id":"d1""#,
            r#""name":"Caf\u00e9""#,
            r#""owner":7"#,
            r#""amount":"12000.50""#,
            r#""stage":null"#,
            r#""created_at":"2026-01-01T00:00:00.000Z""#,
            r#""close_date":"2026-02-01""#,
            r#""forecast_category":"commit""#,
            r#""type":"renewal""#,
            r#""history":[{"at":null,"stage":null,"x":1},{"amount":5,"forecast_category":null,"close_date":"2026-03-01","at":"2026-01-02T00:00:00Z"},{}]"#,
            extra,
        ]) {
            let got = read(&doc, |s, r| s.deal(r, &mut Vec::new()));
            let want: RawDeal = serde_json::from_str(&doc).unwrap();
            assert_eq!(deal(&got), deal(&want), "{doc}");
        }
        for doc in rotations(&[
            r#""id":"a1""#,
            r#""owner":"r1""#,
            r#""kind":"meeting""#,
            r#""at":"2026-06-03T15:00:00+09:00""#,
            r#""duration_minutes":null"#,
            r#""outcome":"No-Show""#,
            r#""deal_id":18000000001"#,
            extra,
        ])
        .into_iter()
        .chain(["{}".to_string()])
        {
            let got = read(&doc, |s, r| s.activity(r));
            let want: RawActivity = serde_json::from_str(&doc).unwrap();
            assert_eq!(activity(&got), activity(&want), "{doc}");
        }
        for doc in rotations(&[
            r#""id":"l1""#,
            r#""owner":null"#,
            r#""created_at":"2026-06-03""#,
            r#""first_response_at":"2026-06-04T00:00:00Z""#,
            r#""score":40"#,
            r#""score_events":[{"kind":"demo_request","at":"2026-06-03"}]"#,
            extra,
        ]) {
            let got = read(&doc, |s, r| s.lead(r, &mut Vec::new()));
            let want: RawLead = serde_json::from_str(&doc).unwrap();
            assert_eq!(lead(&got), lead(&want), "{doc}");
        }
    }
}
