//! The rep table as a CSV attachment: RFC 4180 (CRLF, quoted fields when
//! needed), UTF-8 with a byte-order mark so Excel reads Hangul names right.
//! Values are machine-readable: money in cents as in report.json, ratios as
//! fractions, the same keys as report.json's `reps`.

use super::model::sorted_reps;
use crate::metrics::Figures;
use crate::report::cents;
use rust_decimal::Decimal;

const COLUMNS: &[&str] = &[
    "id",
    "name",
    "role",
    "won_revenue",
    "prev_won_revenue",
    "quota",
    "attainment",
    "deals_won",
    "deals_lost",
    "win_rate",
    "avg_won_deal_size",
    "sales_cycle_days_mean",
    "pipeline_total",
    "pipeline_weighted",
    "quadrant",
    "commission",
    "expansion_revenue",
    "lost_before_target",
    "open_under_target",
];

/// One field, quoted when it holds a comma, quote or line break. Text from
/// the CRM that Excel would run as a formula (=, +, -, @) gets a leading
/// apostrophe (OWASP's advice for CSV injection).
fn field(s: &str, text: bool) -> String {
    let s = if text && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn money(d: Decimal) -> String {
    cents(d).to_string()
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_default()
}

/// The CSV bytes, reps in the report's order (by attainment).
pub fn reps_csv(f: &Figures) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    out.push_str(&COLUMNS.join(","));
    out.push_str("\r\n");
    for r in sorted_reps(f) {
        let cells = [
            field(&r.id, true),
            field(&r.name, true),
            field(&r.role, true),
            money(r.won_revenue),
            money(r.prev_won_revenue),
            opt(r.quota, money),
            opt(r.attainment, |a| a.normalize().to_string()),
            r.deals_won.to_string(),
            r.deals_lost.to_string(),
            opt(r.win_rate, |v| v.to_string()),
            opt(r.avg_won_deal_size, money),
            opt(r.sales_cycle_days_mean, |v| v.to_string()),
            money(r.pipeline_total),
            money(r.pipeline_weighted),
            opt(r.quadrant, |q| q.as_str().to_string()),
            opt(r.commission, money),
            money(r.expansion_revenue),
            r.lost_before_target.to_string(),
            r.open_under_target.to_string(),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed_and_defuses_formulas() {
        assert_eq!(field("Kim", true), "Kim");
        assert_eq!(field("Kim, Min-ji", true), "\"Kim, Min-ji\"");
        assert_eq!(field("say \"hi\"", true), "\"say \"\"hi\"\"\"");
        assert_eq!(field("a\r\nb", true), "\"a\r\nb\"");
        assert_eq!(
            field("=HYPERLINK(\"x\")", true),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(field("-12.50", false), "-12.50");
    }
}
