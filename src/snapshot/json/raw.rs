//! The lenient first read of each record: every field as any JSON value
//! (`Scalar`, borrowing strings from the input), and the field readers that
//! turn one into a typed value or the message for that field's error.

use crate::snapshot::When;
use chrono::NaiveDate;
use rust_decimal::prelude::*;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The lists of records (millions each: the fast path cuts them into parts).
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

/// Any JSON value, kept only as far as a snapshot field needs. Strings are
/// borrowed from the input when they have no escapes.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'de> {
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'de, str>),
    Other(&'static str),
}

impl fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Null => write!(f, "null"),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Num(n) => write!(f, "{n}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
            Scalar::Other(what) => write!(f, "{what}"),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Scalar<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_none<E>(self) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Num(n))
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar<'a>, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Scalar<'a>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("a list"))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Scalar<'a>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other("an object"))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

pub(super) type F<'a> = Option<Scalar<'a>>;

#[derive(Deserialize, Default)]
pub(super) struct RawRep<'a> {
    #[serde(default, borrow)]
    pub id: F<'a>,
    #[serde(default, borrow)]
    pub name: F<'a>,
    #[serde(default, borrow)]
    pub email: F<'a>,
    #[serde(default, borrow)]
    pub start_date: F<'a>,
    #[serde(default, borrow)]
    pub active: F<'a>,
    #[serde(default, borrow)]
    pub team: F<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawStage<'a> {
    #[serde(default, borrow)]
    pub id: F<'a>,
    #[serde(default, borrow)]
    pub label: F<'a>,
    #[serde(default, borrow)]
    pub probability: F<'a>,
    #[serde(default, borrow)]
    pub order: F<'a>,
    #[serde(default, borrow)]
    pub closed: F<'a>,
    #[serde(default, borrow)]
    pub won: F<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawDeal<'a> {
    #[serde(default, borrow)]
    pub id: F<'a>,
    #[serde(default, borrow)]
    pub name: F<'a>,
    #[serde(default, borrow)]
    pub owner: F<'a>,
    #[serde(default, borrow)]
    pub amount: F<'a>,
    #[serde(default, borrow)]
    pub stage: F<'a>,
    #[serde(default, borrow)]
    pub created_at: F<'a>,
    #[serde(default, borrow)]
    pub close_date: F<'a>,
    #[serde(default, borrow)]
    pub forecast_category: F<'a>,
    #[serde(default, borrow, rename = "type")]
    pub deal_type: F<'a>,
    #[serde(default, borrow)]
    pub history: Option<Vec<RawChange<'a>>>,
}

/// One entry of a deal's `history`. A field written as `null` is kept as
/// `Some(Scalar::Null)` (the field was emptied then), unlike a field that
/// is absent (`None`: unchanged then).
#[derive(Deserialize, Default)]
pub(super) struct RawChange<'a> {
    #[serde(default, borrow)]
    pub at: F<'a>,
    #[serde(default, borrow, deserialize_with = "present_or_null")]
    pub stage: F<'a>,
    #[serde(default, borrow, deserialize_with = "present_or_null")]
    pub amount: F<'a>,
    #[serde(default, borrow, deserialize_with = "present_or_null")]
    pub close_date: F<'a>,
    #[serde(default, borrow, deserialize_with = "present_or_null")]
    pub forecast_category: F<'a>,
}

fn present_or_null<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<F<'a>, D::Error> {
    Scalar::deserialize(d).map(Some)
}

#[derive(Deserialize, Default)]
pub(super) struct RawActivity<'a> {
    #[serde(default, borrow)]
    pub id: F<'a>,
    #[serde(default, borrow)]
    pub owner: F<'a>,
    #[serde(default, borrow)]
    pub kind: F<'a>,
    #[serde(default, borrow)]
    pub at: F<'a>,
    #[serde(default, borrow)]
    pub duration_minutes: F<'a>,
    #[serde(default, borrow)]
    pub outcome: F<'a>,
    #[serde(default, borrow)]
    pub deal_id: F<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawLead<'a> {
    #[serde(default, borrow)]
    pub id: F<'a>,
    #[serde(default, borrow)]
    pub owner: F<'a>,
    #[serde(default, borrow)]
    pub created_at: F<'a>,
    #[serde(default, borrow)]
    pub first_response_at: F<'a>,
    #[serde(default, borrow)]
    pub score_events: Option<Vec<RawScoreEvent<'a>>>,
    #[serde(default, borrow)]
    pub score: F<'a>,
}

#[derive(Deserialize, Default)]
pub(super) struct RawScoreEvent<'a> {
    #[serde(default, borrow)]
    pub kind: F<'a>,
    #[serde(default, borrow)]
    pub at: F<'a>,
}

/// Field readers: each returns the message that follows `field: ` on error.
pub(super) mod read {
    use super::*;

    /// Empty or only white space (`str::trim`'s), without trimming the
    /// usual text that starts with a visible ASCII character.
    #[inline]
    pub fn blank(s: &str) -> bool {
        match s.as_bytes().first() {
            Some(c) if c.is_ascii_graphic() => false,
            _ => s.trim().is_empty(),
        }
    }

    #[inline]
    pub fn present<'a, 'de>(v: &'a F<'de>) -> Option<&'a Scalar<'de>> {
        match v {
            None | Some(Scalar::Null) => None,
            Some(s) => Some(s),
        }
    }

    /// Text as borrowed from the input (numeric ids are taken as text).
    /// Inlined (a field or two per record): the usual text is a borrow.
    #[inline]
    pub fn text<'a>(v: &'a F<'_>) -> Result<Option<Cow<'a, str>>, String> {
        match v {
            Some(Scalar::Str(s)) => Ok(Some(Cow::Borrowed(s.as_ref()))),
            None | Some(Scalar::Null) => Ok(None),
            Some(other) => other_text(other).map(Some),
        }
    }

    /// `text` of a value that is not a string: ids are often numeric in
    /// exports, so a whole number is taken as its digits.
    fn other_text(v: &Scalar) -> Result<Cow<'static, str>, String> {
        match v {
            Scalar::Num(n) => whole(*n).map(|i| Cow::Owned(i.to_string())),
            _ => None,
        }
        .ok_or_else(|| format!("expected text, got {v}"))
    }

    /// A number that is whole and small enough to be exact as an `i64`
    /// (ids, minutes, scores, most amounts).
    #[inline]
    fn whole(n: f64) -> Option<i64> {
        (n.fract() == 0.0 && n.abs() < 1e15).then_some(n as i64)
    }

    pub fn string(v: &F) -> Result<Option<String>, String> {
        Ok(text(v)?.map(Cow::into_owned))
    }

    #[inline]
    pub fn required_text<'a>(v: &'a F<'_>) -> Result<Cow<'a, str>, String> {
        match text(v)? {
            Some(s) if !blank(&s) => Ok(s),
            _ => Err("is missing".into()),
        }
    }

    pub fn boolean(v: &F, default: bool) -> Result<bool, String> {
        match present(v) {
            None => Ok(default),
            Some(Scalar::Bool(b)) => Ok(*b),
            Some(other) => Err(format!("expected true or false, got {other}")),
        }
    }

    /// A number, or a string holding one ("12000.50"), at most
    /// `MAX_NUMBER` in size. Inlined for the usual whole number (minutes,
    /// scores); the rest is read out of line.
    #[inline]
    pub fn decimal(v: &F) -> Result<Option<Decimal>, String> {
        if let Some(Scalar::Num(n)) = v {
            if let Some(i) = whole(*n) {
                return Ok(Some(Decimal::from(i)));
            }
        }
        any_decimal(v)
    }

    fn any_decimal(v: &F) -> Result<Option<Decimal>, String> {
        let too_large = |shown: &str| {
            format!(
                "{shown} is too large (the limit is {})",
                super::super::MAX_NUMBER
            )
        };
        let max = Decimal::from(super::super::MAX_NUMBER);
        match present(v) {
            None => Ok(None),
            Some(Scalar::Num(n)) if n.abs() > super::super::MAX_NUMBER as f64 => {
                Err(too_large(&format!("{n:e}")))
            }
            Some(Scalar::Num(n)) => number(*n).map(Some),
            Some(Scalar::Str(s)) if blank(s) => Ok(None),
            Some(Scalar::Str(s)) => {
                match Decimal::from_str(s.trim()).or_else(|_| Decimal::from_scientific(s.trim())) {
                    Ok(d) if d.abs() > max => Err(too_large(&format!("{s:?}"))),
                    Ok(d) => Ok(Some(d)),
                    Err(_) if s.trim().parse::<f64>().is_ok_and(|f| f.is_finite()) => {
                        Err(too_large(&format!("{s:?}")))
                    }
                    Err(_) => Err(format!("{s:?} is not a number")),
                }
            }
            Some(other) => Err(format!("expected a number, got {other}")),
        }
    }

    /// The decimal a JSON number was written as: the shortest text that
    /// reads back as the same f64 (ryu) is what the CRM wrote.
    pub fn number(n: f64) -> Result<Decimal, String> {
        if !n.is_finite() {
            return Err(format!("{n} is not a number"));
        }
        if let Some(i) = whole(n) {
            return Ok(Decimal::from(i));
        }
        if let Some(d) = short_decimal(n) {
            return Ok(d);
        }
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(n);
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .map_err(|_| format!("{n} is out of range"))
    }

    /// ryu's shortest form without text, for the usual amounts: the
    /// fewest decimals `k / 10^s` (at most 15 digits) that read back as
    /// `n`. With `k < 2^53` and `s <= 22` the division is exactly the
    /// correctly rounded reading of that decimal, so equality proves it.
    fn short_decimal(n: f64) -> Option<Decimal> {
        const POW10: [f64; 16] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
        ];
        for (scale, p) in POW10.iter().enumerate().skip(1) {
            let k = (n * p).round();
            if k.abs() >= 1e15 {
                return None;
            }
            if k / p == n {
                return Some(Decimal::new(k as i64, scale as u32));
            }
        }
        None
    }

    pub fn date(v: &F) -> Result<Option<NaiveDate>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => crate::period::parse_date(s)
                .map(Some)
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)")),
            Some(other) => Err(format!("expected a date (YYYY-MM-DD), got {other}")),
        }
    }

    /// An RFC 3339 instant with an offset, or a bare date (a local date).
    /// The usual hand-read instant is returned from here, inlined; the
    /// rest (dates, other forms, errors) out of line.
    #[inline]
    pub fn when(v: &F) -> Result<Option<When>, String> {
        if let Some(Scalar::Str(s)) = v {
            if let Some(t) = utc_seconds(s.as_bytes()) {
                return Ok(Some(When::Instant(t)));
            }
        }
        any_when(v)
    }

    #[inline(never)]
    fn any_when(v: &F) -> Result<Option<When>, String> {
        match present(v) {
            None => Ok(None),
            Some(Scalar::Str(s)) => not_hand_read(s).map(Some),
            Some(other) => Err(format!(
                "expected a timestamp (RFC 3339) or a date, got {other}"
            )),
        }
    }

    /// Text `when` did not read by hand: a bare date, or any other
    /// RFC 3339 form through chrono.
    fn not_hand_read(s: &str) -> Result<When, String> {
        // A bare date as written, before any trimming.
        if let Some(d) = crate::period::ymd(s.as_bytes()) {
            return Ok(When::Date(d));
        }
        let t = s.trim();
        if t.len() == 10 {
            return crate::period::parse_date(t)
                .map(When::Date)
                .map_err(|_| format!("{s:?} is not a date (YYYY-MM-DD)"));
        }
        chrono::DateTime::parse_from_rfc3339(t)
            .map(|d| When::Instant(d.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                format!(
                    "{s:?} is not a timestamp (RFC 3339 with an offset, e.g. 2026-07-01T09:00:00Z)"
                )
            })
    }

    /// Fast path for the forms exporters write, `YYYY-MM-DDTHH:MM:SS`,
    /// then optionally `.` and 1 to 9 digits, then `Z` or `±HH:MM`; any
    /// other text (lower-case `t`, leap seconds, …) goes through the full
    /// RFC 3339 parser, which gives the same instant for these forms.
    #[inline]
    fn utc_seconds(b: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        // The fixed digits, checked together: one branch, no per-digit loop.
        let d = |i: usize| b[i].wrapping_sub(b'0') as u32;
        let bad = |i: usize| (d(i) > 9) as u32;
        if bad(0)
            | bad(1)
            | bad(2)
            | bad(3)
            | bad(5)
            | bad(6)
            | bad(8)
            | bad(9)
            | bad(11)
            | bad(12)
            | bad(14)
            | bad(15)
            | bad(17)
            | bad(18)
            != 0
        {
            return None;
        }
        let two = |i: usize| d(i) * 10 + d(i + 1);
        let year = (d(0) * 1000 + d(1) * 100 + two(2)) as i32;
        let mut i = 19;
        let mut nanos = 0;
        if b[i] == b'.' {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if !(1..=9).contains(&digits) {
                return None;
            }
            for k in 0..9 {
                nanos = nanos * 10 + if k < digits { d(i + 1 + k) } else { 0 };
            }
            i += 1 + digits;
        }
        let offset = match (b.get(i), b.len() - i) {
            (Some(b'Z'), 1) => 0,
            (Some(sign @ (b'+' | b'-')), 6) if b[i + 3] == b':' => {
                if bad(i + 1) | bad(i + 2) | bad(i + 4) | bad(i + 5) != 0 {
                    return None;
                }
                let (h, m) = (two(i + 1), two(i + 4));
                if h > 23 || m > 59 {
                    return None;
                }
                let secs = (h * 3600 + m * 60) as i64;
                if *sign == b'+' {
                    secs
                } else {
                    -secs
                }
            }
            _ => return None,
        };
        let date = NaiveDate::from_ymd_opt(year, two(5), two(8))?;
        let (h, m, s) = (two(11), two(14), two(17));
        // A leap second (`:60`) goes to chrono, which reads it its own way.
        if h > 23 || m > 59 || s > 59 {
            return None;
        }
        // The offset applied in whole seconds (less than a day either
        // way): integers in registers, not chrono's 16-byte results
        // handed through memory, which stalled every timestamp.
        let secs = (h * 3600 + m * 60 + s) as i64 - offset;
        let (date, secs) = if secs < 0 {
            (date.pred_opt()?, secs + 86_400)
        } else if secs >= 86_400 {
            (date.succ_opt()?, secs - 86_400)
        } else {
            (date, secs)
        };
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(secs as u32, nanos)?;
        Some(date.and_time(time).and_utc())
    }

    pub fn required<T>(r: Result<Option<T>, String>) -> Result<T, String> {
        r?.ok_or_else(|| "is missing".to_string())
    }
}

/// A field's error: its name (or path, `history[2].at`) and the message.
pub(super) type FieldError = (Cow<'static, str>, String);

pub(super) fn at<T>(field: &'static str, r: Result<T, String>) -> Result<T, FieldError> {
    r.map_err(|m| (Cow::Borrowed(field), m))
}

pub(super) fn id_of(v: &F) -> Option<String> {
    read::string(v).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::{read, Scalar};
    use crate::snapshot::When;

    /// Text read as a record's timestamp field is.
    fn parse_when(s: &str) -> Result<When, String> {
        read::required(read::when(&Some(Scalar::Str(s.into()))))
    }

    /// Bare dates read by hand as `period::parse_date` reads them, and
    /// what it refuses still refused.
    #[test]
    fn bare_dates_read_by_hand_as_the_date_parser_reads_them() {
        for f in [
            "2026-05-28",
            "2024-02-29",
            "0001-01-01",
            "9999-12-31",
            " 2026-05-28",
            "2026-05-28 ",
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-010",
            "2026/05/28",
            "20a6-05-28",
            "2026-05-2x",
        ] {
            let want = crate::period::parse_date(f).ok().map(When::Date);
            assert_eq!(parse_when(f).ok(), want, "{f:?}");
        }
    }

    /// The hand-read forms give the instant chrono's RFC 3339 parser gives,
    /// and what they do not read goes to it (or is refused by it).
    #[test]
    fn timestamps_read_by_hand_as_chrono_reads_them() {
        let mut forms = vec![
            "2026-06-03T15:00:00Z".to_string(),
            "2026-06-03T15:00:00.000Z".into(),
            "2026-06-03T15:00:00.1Z".into(),
            "2026-06-03T15:00:00.123456789Z".into(),
            "2026-06-03T00:30:00+09:00".into(),
            "2026-01-01T00:30:00+09:30".into(),
            "2025-12-31T23:30:00-05:00".into(),
            "2024-02-29T12:00:00.5+01:00".into(),
            "0001-01-01T00:00:00+00:00".into(),
            "2000-02-29T00:00:00Z".into(),
            "1970-01-01T00:00:00Z".into(),
            "1969-12-31T23:59:59.999999999Z".into(),
            "2026-01-01T08:00:00+09:00".into(),
            "9999-12-31T23:59:59.999-23:59".into(),
            // Offsets that move the instant into another day, month, year.
            "2026-03-01T00:30:00+01:00".into(),
            "2024-03-01T00:00:00+00:01".into(),
            "2026-12-31T23:30:00-01:00".into(),
            "2026-06-03T23:59:59.999999999-00:01".into(),
            "2026-06-03T00:00:00.5+23:59".into(),
            "2026-06-03T23:59:59-00:00".into(),
        ];
        for bad in [
            "2026-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-06-03T24:00:00Z",
            "2026-06-03T15:00:00.Z",
            "2026-06-03T15:00:00.1234567890Z",
            "2026-06-03T15:00:00+24:00",
            "2026-06-03T15:00:00+0900",
            "2026-06-03T15:0a:00Z",
            "2026-06-03t15:00:00z",
            "2026-06-03T15:00:60Z",
            "20x6-06-03T15:00:00Z",
        ] {
            forms.push(bad.into());
        }
        for f in &forms {
            let want = chrono::DateTime::parse_from_rfc3339(f)
                .ok()
                .map(|d| When::Instant(d.with_timezone(&chrono::Utc)));
            assert_eq!(parse_when(f).ok(), want, "{f}");
        }
    }
}
