//! The one rounding rule for money: figures stay exact decimals until they
//! are written out (report.json, the rendered report) or stored (forecasts
//! of record), where they are rounded to cents by `cents`.

use rust_decimal::prelude::*;

/// Rounds money to cents: the exact value is taken to the nearest binary
/// double, which is then rounded to two decimals (what `round(float(x), 2)`
/// does). Only an exact half cent is affected: it goes the way its double
/// lies (3865.665 → 3865.66, 6713.925 → 6713.93). docs/metrics.md "Money
/// and rounding" says why, and where the spec's reference files differ.
pub fn cents(d: Decimal) -> Decimal {
    let f: f64 = d.to_string().parse().unwrap_or(0.0);
    // `{:.2}` rounds the double's exact binary value correctly.
    Decimal::from_str(&format!("{f:.2}")).unwrap_or(d.round_dp(2))
}
