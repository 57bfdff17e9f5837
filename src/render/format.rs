//! How numbers read in a report: money per currency, ratios as
//! percentages, changes with an arrow. Pure text formatting; the figures
//! themselves are computed in `metrics` and rounded by `metrics::cents`.

use crate::metrics::cents;
use rust_decimal::prelude::*;

/// How one currency is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    /// Written before the amount ("$", "₩"); `None` writes the ISO code
    /// and a space ("CHF 1,234.50").
    symbol: Option<&'static str>,
    /// Digits after the decimal point (0 for KRW and JPY).
    minor: u32,
}

impl Currency {
    pub fn of(code: &str) -> Currency {
        let (symbol, minor) = match code {
            "USD" => (Some("$"), 2),
            "EUR" => (Some("€"), 2),
            "GBP" => (Some("£"), 2),
            "KRW" => (Some("₩"), 0),
            "JPY" => (Some("¥"), 0),
            _ => (None, 2),
        };
        Currency { symbol, minor }
    }
}

/// Money for display: `$1,234,567.89`, `₩1,234,568`, `CHF 1,234.50`.
/// Rounds with `metrics::cents` first (the same cents as report.json), then
/// to the currency's minor unit.
pub fn money(code: &str, d: Decimal) -> String {
    let cur = Currency::of(code);
    let v = cents(d).round_dp_with_strategy(cur.minor, RoundingStrategy::MidpointAwayFromZero);
    let sign = if v.is_sign_negative() && !v.is_zero() {
        "-"
    } else {
        ""
    };
    let body = group(&format!("{:.*}", cur.minor as usize, v.abs()));
    match cur.symbol {
        Some(sym) => format!("{sign}{sym}{body}"),
        None => format!("{sign}{code} {body}"),
    }
}

/// Money in a few characters, for subjects and chart axes: `$1.2M`,
/// `$48.3K`, `₩35M`, `$950`.
pub fn money_short(code: &str, d: Decimal) -> String {
    let cur = Currency::of(code);
    let v = cents(d).to_f64().unwrap_or(0.0);
    let (scaled, suffix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "B"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "K"),
        _ => (v, ""),
    };
    let num = if suffix.is_empty() || scaled.abs() >= 100.0 {
        format!("{:.0}", scaled.abs())
    } else {
        format!("{:.1}", scaled.abs())
    };
    let num = num.strip_suffix(".0").unwrap_or(&num);
    let sign = if v < 0.0 && num != "0" { "-" } else { "" };
    match cur.symbol {
        Some(sym) => format!("{sign}{sym}{num}{suffix}"),
        None => format!("{sign}{code} {num}{suffix}"),
    }
}

/// Thousands separators on the integer part of a plain decimal string.
fn group(plain: &str) -> String {
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain, None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// A ratio as a percentage with one decimal: 0.5490 → `54.9%`.
pub fn pct(v: f64) -> String {
    format!("{}%", num_plain(v * 100.0, 1))
}

/// A ratio as a whole percentage: 1.04 → `104%` (subjects, chart labels).
pub fn pct0(v: f64) -> String {
    format!("{}%", num_plain(v * 100.0, 0))
}

/// A number with `decimals` decimals and no thousands separators; a value
/// that rounds to zero has no minus sign (-0.0004 is `0.0`, not `-0.0`).
fn num_plain(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => s,
    }
}

/// A number with a fixed count of decimals and thousands separators.
pub fn num(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v.abs());
    let sign = if v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0') {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", group(&s))
}

/// Which way a figure moved against the previous period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Up,
    Down,
    Flat,
}

impl Trend {
    pub fn arrow(self) -> &'static str {
        match self {
            Trend::Up => "▲",
            Trend::Down => "▼",
            Trend::Flat => "■",
        }
    }
}

/// A change against the previous period, written for the headline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Change {
    pub trend: Trend,
    /// e.g. `▲ 12.5%`, `▼ 3.1 pts`, or "" when there is nothing to compare.
    pub text: String,
}

impl Change {
    fn none() -> Change {
        Change {
            trend: Trend::Flat,
            text: String::new(),
        }
    }

    fn new(delta: f64, text: String) -> Change {
        let trend = if text
            .trim_start_matches(['-', '+'])
            .chars()
            .all(|c| !c.is_ascii_digit() || c == '0')
        {
            Trend::Flat
        } else if delta > 0.0 {
            Trend::Up
        } else {
            Trend::Down
        };
        Change {
            trend,
            text: format!("{} {text}", trend.arrow()),
        }
    }

    /// Relative change of an amount: (now − before) / before, as `12.5%`.
    /// Without a base (before is 0 or missing) there is nothing to say.
    pub fn relative(now: Option<f64>, before: Option<f64>) -> Change {
        match (now, before) {
            (Some(n), Some(b)) if b != 0.0 => {
                let r = (n - b) / b.abs();
                Change::new(r, format!("{:.1}%", r.abs() * 100.0))
            }
            _ => Change::none(),
        }
    }

    /// Change of a ratio in percentage points: 0.52 → 0.55 is `3.0 pts`.
    pub fn points(now: Option<f64>, before: Option<f64>, pts: &str) -> Change {
        match (now, before) {
            (Some(n), Some(b)) => {
                let d = (n - b) * 100.0;
                Change::new(d, format!("{:.1} {pts}", d.abs()))
            }
            _ => Change::none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn money_per_currency() {
        assert_eq!(money("USD", d("1234567.891")), "$1,234,567.89");
        assert_eq!(money("USD", d("0")), "$0.00");
        assert_eq!(money("USD", d("-12.5")), "-$12.50");
        assert_eq!(money("KRW", d("1234567.5")), "₩1,234,568");
        assert_eq!(money("KRW", d("999")), "₩999");
        assert_eq!(money("CHF", d("1234.5")), "CHF 1,234.50");
        // The same cents as report.json: an exact half cent follows its double.
        assert_eq!(money("USD", d("3865.665")), "$3,865.66");
    }

    #[test]
    fn short_money() {
        assert_eq!(money_short("USD", d("1234567")), "$1.2M");
        assert_eq!(money_short("USD", d("48300")), "$48.3K");
        assert_eq!(money_short("USD", d("250000")), "$250K");
        assert_eq!(money_short("USD", d("950")), "$950");
        assert_eq!(money_short("USD", d("-2000")), "-$2K");
        assert_eq!(money_short("KRW", d("35000000")), "₩35M");
    }

    #[test]
    fn ratios_and_changes() {
        assert_eq!(pct(0.5490196), "54.9%");
        assert_eq!(pct0(1.04), "104%");
        assert_eq!(pct0(-0.001), "0%");
        assert_eq!(pct(-0.00001), "0.0%");
        assert_eq!(pct(-0.239), "-23.9%");
        assert_eq!(num(1234.567, 1), "1,234.6");
        assert_eq!(num(-0.01, 1), "0.0");
        let up = Change::relative(Some(112.5), Some(100.0));
        assert_eq!((up.trend, up.text.as_str()), (Trend::Up, "▲ 12.5%"));
        let down = Change::points(Some(0.52), Some(0.55), "pts");
        assert_eq!((down.trend, down.text.as_str()), (Trend::Down, "▼ 3.0 pts"));
        assert_eq!(Change::relative(Some(5.0), Some(0.0)).text, "");
        assert_eq!(
            Change::points(Some(0.5), Some(0.5), "pts").trend,
            Trend::Flat
        );
    }
}
