//! Whole-number config keys. The config crate turns a float into an integer
//! by rounding it (`follow_up_target = 2.5` would quietly become 3), so
//! every integer key reads through here instead: a number with a fraction
//! is an error naming the key, as is anything that is not a number.
//! Environment variables arrive as text, so "5" reads as 5.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct Whole;

impl Visitor<'_> for Whole {
    type Value = i128;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a whole number")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i128, E> {
        Ok(v as i128)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i128, E> {
        Ok(v as i128)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i128, E> {
        if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e18 {
            Ok(v as i128)
        } else {
            Err(E::custom(format!("expected a whole number, got {v}")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<i128, E> {
        let t = v.trim();
        match t.parse::<i128>() {
            Ok(n) => Ok(n),
            Err(_) => match t.parse::<f64>() {
                Ok(f) => self.visit_f64(f),
                Err(_) => Err(E::custom(format!("expected a whole number, got {v:?}"))),
            },
        }
    }
}

fn whole<'de, D: Deserializer<'de>, T: TryFrom<i128>>(d: D) -> Result<T, D::Error> {
    let n = d.deserialize_any(Whole)?;
    T::try_from(n).map_err(|_| de::Error::custom(format!("{n} is out of range")))
}

/// For `#[serde(deserialize_with = "whole::u64")]`.
pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    whole(d)
}

pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    whole(d)
}

pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    whole(d)
}
