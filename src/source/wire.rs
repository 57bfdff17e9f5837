//! Reading vendor JSON leniently, shared by the connectors' `api.rs` and
//! `map.rs`: a field that accepts any JSON type, and the vendors' formats
//! for times ("…Z", "…+0000", zone-less UTC, epoch milliseconds), numbers
//! (as numbers or strings) and durations ("HH:MM").
//!
//! Pure: no I/O. A value that cannot be read is kept as its text so that
//! the snapshot checks report it with its record and field.

use crate::snapshot::When;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Any JSON value, kept as far as a mapping needs it.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Field {
    #[default]
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    /// A list or an object (e.g. Salesforce `attributes`).
    Other,
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_none<E>(self) -> Result<Field, E> {
                Ok(Field::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Field, E> {
                Ok(Field::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Field, E> {
                Ok(Field::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Field, E> {
                Ok(Field::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Field, E> {
                Ok(Field::Num(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Field, E> {
                Ok(Field::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Field, E> {
                Ok(Field::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Field, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Field, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Field::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl Field {
    /// The value as text: strings trimmed (empty = none), whole numbers
    /// without a fraction (ids), other numbers as their shortest decimal.
    pub fn text(&self) -> Option<String> {
        match self {
            Field::Str(s) if s.trim().is_empty() => None,
            Field::Str(s) => Some(s.trim().to_string()),
            Field::Num(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
            Field::Num(n) => Some(format!("{n}")),
            Field::Bool(b) => Some(b.to_string()),
            Field::Null | Field::Other => None,
        }
    }

    /// true/false, also as the strings "true"/"false" (HubSpot).
    pub fn flag(&self) -> Option<bool> {
        match self {
            Field::Bool(b) => Some(*b),
            Field::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Some(true),
                "false" | "0" => Some(false),
                _ => None,
            },
            Field::Num(n) => Some(*n != 0.0),
            _ => None,
        }
    }

    /// A number, or a string holding one ("15000.00").
    pub fn number(&self) -> Read<Decimal> {
        match self {
            Field::Num(n) if n.is_finite() => {
                // The shortest text of the double is the decimal the vendor wrote.
                Decimal::from_str(&format!("{n}")).map_or(Read::Bad(format!("{n}")), Read::Ok)
            }
            Field::Str(s) if s.trim().is_empty() => Read::Missing,
            Field::Str(s) => number(s),
            Field::Null => Read::Missing,
            other => Read::Bad(other.text().unwrap_or_else(|| "a list or object".into())),
        }
    }

    /// A time in any of the vendors' formats (see `when`).
    pub fn when(&self) -> Read<When> {
        match self {
            Field::Str(s) if s.trim().is_empty() => Read::Missing,
            Field::Str(s) => when(s),
            Field::Num(n) if n.fract() == 0.0 => epoch_ms(*n as i64),
            Field::Null => Read::Missing,
            other => Read::Bad(other.text().unwrap_or_else(|| "a list or object".into())),
        }
    }
}

/// A vendor value read for the snapshot: converted, absent, or text that
/// could not be converted (kept for the error message).
#[derive(Debug, Clone, PartialEq)]
pub enum Read<T> {
    Missing,
    Ok(T),
    Bad(String),
}

impl<T> Read<T> {
    pub fn ok(self) -> Option<T> {
        match self {
            Read::Ok(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_missing(&self) -> bool {
        matches!(self, Read::Missing)
    }

    /// This value, or `other` when this one is missing.
    pub fn or_else(self, other: impl FnOnce() -> Read<T>) -> Read<T> {
        match self {
            Read::Missing => other(),
            v => v,
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Read<U> {
        match self {
            Read::Ok(v) => Read::Ok(f(v)),
            Read::Missing => Read::Missing,
            Read::Bad(s) => Read::Bad(s),
        }
    }
}

pub fn number(s: &str) -> Read<Decimal> {
    let t = s.trim();
    Decimal::from_str(t)
        .or_else(|_| Decimal::from_scientific(t))
        .map_or(Read::Bad(s.to_string()), Read::Ok)
}

fn epoch_ms(ms: i64) -> Read<When> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map_or(Read::Bad(ms.to_string()), |t| Read::Ok(When::Instant(t)))
}

/// A vendor time: a bare date (`2026-07-31`) stays a date; RFC 3339
/// (`…Z`, `…+09:00`), Salesforce's `…000+0000`, epoch milliseconds and
/// times without a zone (`2026-06-02 10:00:00`, Pipedrive: UTC) become
/// instants.
pub fn when(s: &str) -> Read<When> {
    let t = s.trim();
    if t.is_empty() {
        return Read::Missing;
    }
    if t.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Read::Ok(When::Date(d));
        }
    }
    if t.len() >= 11 && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map_or(Read::Bad(s.into()), epoch_ms);
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Read::Ok(When::Instant(d.with_timezone(&Utc)));
    }
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Read::Ok(When::Instant(d.with_timezone(&Utc)));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, fmt) {
            return Read::Ok(When::Instant(d.and_utc()));
        }
    }
    Read::Bad(s.to_string())
}

/// A UTC date and an optional "HH:MM" time (Pipedrive's due_date and
/// due_time): an instant when the time is given, else the bare date.
pub fn date_and_time(date: &str, time: &str) -> Read<When> {
    let d = match when(date) {
        Read::Ok(When::Date(d)) => d,
        Read::Missing => return Read::Missing,
        _ => return Read::Bad(date.to_string()),
    };
    let t = time.trim();
    if t.is_empty() {
        return Read::Ok(When::Date(d));
    }
    NaiveTime::parse_from_str(t, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M:%S"))
        .map_or(Read::Bad(format!("{date} {time}")), |tm| {
            Read::Ok(When::Instant(d.and_time(tm).and_utc()))
        })
}

/// Minutes of an "HH:MM" (or "HH:MM:SS") duration; empty is none.
pub fn hh_mm(s: &str) -> Read<Decimal> {
    let t = s.trim();
    if t.is_empty() {
        return Read::Missing;
    }
    let parts: Vec<&str> = t.split(':').collect();
    let nums: Option<Vec<i64>> = parts.iter().map(|p| p.parse::<i64>().ok()).collect();
    match (parts.len(), nums) {
        (2 | 3, Some(n)) if n.iter().all(|v| *v >= 0) => {
            let secs = n[0] * 3600 + n[1] * 60 + n.get(2).copied().unwrap_or(0);
            Read::Ok(Decimal::from(secs) / Decimal::from(60))
        }
        _ => Read::Bad(s.to_string()),
    }
}

/// Orders ids the way people expect: numeric ids by value (so "9" < "10"),
/// before any other id, which are compared as text.
pub fn id_order(a: &str, b: &str) -> Ordering {
    let num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (num(a), num(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len()
                .cmp(&y.len())
                .then_with(|| x.cmp(y))
                .then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

/// 48210 → "48,210" (for progress lines).
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn instant(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> When {
        When::Instant(Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap())
    }

    #[test]
    fn reads_every_vendor_time_format() {
        let t = instant(2026, 7, 1, 3, 4, 5);
        assert_eq!(when("2026-07-01T03:04:05Z"), Read::Ok(t));
        assert_eq!(when("2026-07-01T12:04:05+09:00"), Read::Ok(t));
        // Salesforce: millis and an offset without a colon.
        assert_eq!(when("2026-07-01T03:04:05.000+0000"), Read::Ok(t));
        // Pipedrive v1: no zone means UTC.
        assert_eq!(when("2026-07-01 03:04:05"), Read::Ok(t));
        // Epoch milliseconds, as HubSpot accepts and sometimes returns.
        assert_eq!(when("1782875045000"), Read::Ok(t));
        assert_eq!(Field::Num(1782875045000.0).when(), Read::Ok(t));
        assert_eq!(
            when("2026-07-31"),
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()))
        );
        assert_eq!(when(" "), Read::Missing);
        assert_eq!(when("31/07/2026"), Read::Bad("31/07/2026".into()));
    }

    #[test]
    fn hubspot_millis_survive() {
        match when("2026-05-02T09:15:22.123Z") {
            Read::Ok(When::Instant(t)) => assert_eq!(t.timestamp_millis() % 1000, 123),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pipedrive_due_date_and_time_are_utc() {
        assert_eq!(
            date_and_time("2026-06-02", "10:00"),
            Read::Ok(instant(2026, 6, 2, 10, 0, 0))
        );
        assert_eq!(
            date_and_time("2026-06-02", ""),
            Read::Ok(When::Date(NaiveDate::from_ymd_opt(2026, 6, 2).unwrap()))
        );
        assert_eq!(date_and_time("", "10:00"), Read::Missing);
        assert!(matches!(date_and_time("2026-06-02", "10h"), Read::Bad(_)));
    }

    #[test]
    fn durations_hh_mm() {
        assert_eq!(hh_mm("00:30"), Read::Ok(Decimal::from(30)));
        assert_eq!(hh_mm("01:45"), Read::Ok(Decimal::from(105)));
        assert_eq!(hh_mm("00:00:30"), Read::Ok(Decimal::new(5, 1)));
        assert_eq!(hh_mm(""), Read::Missing);
        assert!(matches!(hh_mm("90"), Read::Bad(_)));
        assert!(matches!(hh_mm("-1:00"), Read::Bad(_)));
    }

    #[test]
    fn numbers_as_numbers_or_strings() {
        assert_eq!(
            Field::Str("15000.50".into()).number(),
            Read::Ok(Decimal::new(1500050, 2))
        );
        assert_eq!(
            Field::Num(4249.06).number(),
            Read::Ok(Decimal::new(424906, 2))
        );
        assert_eq!(Field::Str("".into()).number(), Read::Missing);
        assert_eq!(Field::Null.number(), Read::Missing);
        assert_eq!(
            Field::Str("12,000".into()).number(),
            Read::Bad("12,000".into())
        );
    }

    #[test]
    fn any_json_becomes_a_field() {
        let v: Vec<Field> =
            serde_json::from_str(r#"[null, true, 12, 1.5, "x", [1], {"a": 1}]"#).unwrap();
        assert_eq!(
            v,
            vec![
                Field::Null,
                Field::Bool(true),
                Field::Num(12.0),
                Field::Num(1.5),
                Field::Str("x".into()),
                Field::Other,
                Field::Other
            ]
        );
        assert_eq!(Field::Num(4211.0).text().as_deref(), Some("4211"));
        assert_eq!(Field::Str("false".into()).flag(), Some(false));
    }

    #[test]
    fn ids_in_natural_order() {
        let mut ids = vec!["10", "9", "rep-2", "100", "rep-10", "011"];
        ids.sort_by(|a, b| id_order(a, b));
        assert_eq!(ids, vec!["9", "10", "011", "100", "rep-10", "rep-2"]);
        assert_eq!(thousands(48210), "48,210");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
