//! Quotas (role, override, proration) and commission (gate, accelerator).

use super::{RepRule, Role, Settings};
use crate::period::{Period, PeriodKind};
use crate::snapshot::Rep;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// What config says about one CRM rep.
#[derive(Debug, Clone)]
pub struct RepPlan<'a> {
    pub role_name: &'a str,
    pub role: &'a Role,
    pub monthly_quota: Decimal,
    pub start_date: Option<NaiveDate>,
}

/// Matches a rep to its `[[reps]]` entry and role; an unmatched rep has the
/// default role. Emails match ignoring letter case (Unicode, so `Ödön` is
/// `ödön`) and surrounding spaces; ids match exactly. When several entries
/// match, the first in the config wins.
pub fn plan<'a>(rep: &Rep, s: &'a Settings) -> RepPlan<'a> {
    let email = rep.email.as_deref().map(email_key);
    let rule: Option<&RepRule> = s.rep_rules.iter().find(|r| {
        r.id.as_deref() == Some(rep.id.as_str())
            || matches!((&r.email, &email), (Some(a), Some(b)) if email_key(a) == *b)
    });
    let role_name = rule
        .and_then(|r| r.role.as_deref())
        .unwrap_or(&s.default_role);
    // resolve() guarantees every named role exists.
    let role = &s.roles[role_name];
    RepPlan {
        role_name,
        role,
        monthly_quota: rule.and_then(|r| r.quota).unwrap_or(role.monthly_quota),
        start_date: rule.and_then(|r| r.start_date).or(rep.start_date),
    }
}

/// An email as compared: trimmed, lower-cased (Unicode).
pub(crate) fn email_key(e: &str) -> String {
    e.trim().to_lowercase()
}

/// How many months a period counts for: 1, 3, or days / 30 for a range.
pub fn months(p: &Period) -> Decimal {
    match p.kind {
        PeriodKind::Month => Decimal::ONE,
        PeriodKind::Quarter { .. } => Decimal::from(3),
        PeriodKind::Range => Decimal::from(p.days()) / Decimal::from(30),
    }
}

/// A quota kept as an exact fraction `num / den`: 10 000 × 16 / 31 has no
/// finite decimal, and "won ≥ quota" must hold when won equals it to the
/// cent-less exact value. Comparisons cross-multiply; only displayed values
/// and ratios divide, once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quota {
    num: Decimal,
    den: Decimal,
}

impl Quota {
    /// The quota as a number (28 significant digits).
    pub fn value(&self) -> Decimal {
        self.num / self.den
    }

    /// won / quota.
    pub fn attainment(&self, won: Decimal) -> Decimal {
        won * self.den / self.num
    }

    /// won / quota ≥ threshold, exactly.
    pub fn reached(&self, won: Decimal, threshold: Decimal) -> bool {
        won * self.den >= threshold * self.num
    }
}

/// The rep's quota for `p`, prorated when the rep starts after `p` starts:
/// × (days of P on or after the start) / (days of P). `None` when it comes
/// out as 0 (no quota).
pub fn quota(plan: &RepPlan, p: &Period) -> Option<Quota> {
    let days = p.days();
    let days_on = match plan.start_date {
        Some(start) if start > p.start => (p.end - start).num_days().max(0),
        _ => days,
    };
    let (num, den) = match p.kind {
        PeriodKind::Month => (plan.monthly_quota * Decimal::from(days_on), days),
        PeriodKind::Quarter { .. } => (plan.monthly_quota * Decimal::from(3 * days_on), days),
        // monthly × days / 30 × days_on / days: the days cancel.
        PeriodKind::Range => (plan.monthly_quota * Decimal::from(days_on), 30),
    };
    (num > Decimal::ZERO).then_some(Quota {
        num,
        den: Decimal::from(den),
    })
}

/// Commission once attainment ≥ 1: rate × quota + accelerator × (won − quota); else 0.
pub fn commission(role: &Role, q: &Quota, won: Decimal) -> Decimal {
    if q.reached(won, Decimal::ONE) {
        (role.commission_rate * q.num + role.accelerator_rate * (won * q.den - q.num)) / q.den
    } else {
        Decimal::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    fn role(q: Decimal, rate: Decimal, acc: Option<Decimal>) -> Role {
        Role {
            monthly_quota: q,
            commission_rate: rate,
            accelerator_rate: acc.unwrap_or(rate),
        }
    }

    #[test]
    fn seed_example_junior_at_quota_earns_1000() {
        let r = role(dec("10000"), dec("0.10"), None);
        let q = Quota {
            num: dec("10000"),
            den: dec("1"),
        };
        assert_eq!(commission(&r, &q, dec("10000")), dec("1000"));
        assert_eq!(commission(&r, &q, dec("9999.99")), dec("0"));
    }

    #[test]
    fn accelerator_pays_above_quota() {
        let r = role(dec("25000"), dec("0.10"), Some(dec("0.15")));
        let q = Quota {
            num: dec("25000"),
            den: dec("1"),
        };
        assert_eq!(commission(&r, &q, dec("33722.64")), dec("3808.3960"));
    }

    #[test]
    fn quota_prorates_and_scales() {
        let r = role(dec("10000"), dec("0.1"), None);
        let mut plan = RepPlan {
            role_name: "junior",
            role: &r,
            monthly_quota: dec("10000"),
            start_date: None,
        };
        let value =
            |plan: &RepPlan, p: &str| quota(plan, &Period::parse(p, 1).unwrap()).map(|q| q.value());
        assert_eq!(value(&plan, "2026-Q3"), Some(dec("30000")));
        // 91 days: 10,000 × 91 / 30.
        assert_eq!(
            value(&plan, "2026-07-01..2026-09-29"),
            Some(dec("10000") * dec("91") / dec("30"))
        );
        // Starts 2026-08-17: 45 of Q3's 92 days.
        plan.start_date = NaiveDate::from_ymd_opt(2026, 8, 17);
        assert_eq!(value(&plan, "2026-Q3"), Some(dec("1350000") / dec("92")));
        // Starts on the first day: full quota; after the period: none.
        plan.start_date = NaiveDate::from_ymd_opt(2026, 7, 1);
        assert_eq!(value(&plan, "2026-Q3"), Some(dec("30000")));
        plan.start_date = NaiveDate::from_ymd_opt(2026, 10, 1);
        assert_eq!(value(&plan, "2026-Q3"), None);
    }

    #[test]
    fn won_equal_to_a_prorated_range_quota_reaches_it() {
        // 26-day range, rep from day 21: 10,000 × 26/30 × 6/26 = 2,000 exactly.
        let r = role(dec("10000"), dec("0.1"), None);
        let plan = RepPlan {
            role_name: "junior",
            role: &r,
            monthly_quota: dec("10000"),
            start_date: NaiveDate::from_ymd_opt(2026, 6, 21),
        };
        let q = quota(&plan, &Period::parse("2026-06-01..2026-06-26", 1).unwrap()).unwrap();
        assert_eq!(q.value(), dec("2000"));
        assert!(q.reached(dec("2000"), Decimal::ONE));
        assert_eq!(q.attainment(dec("2000")), Decimal::ONE);
        assert_eq!(commission(&r, &q, dec("2000")), dec("200"));
        // 10,000 × 16/31 has no finite decimal; won at the exact value is not
        // representable, but a cent below is below and a cent above is above.
        let july = Period::parse("2026-07", 1).unwrap();
        let plan = RepPlan {
            start_date: NaiveDate::from_ymd_opt(2026, 7, 16),
            ..plan
        };
        let q = quota(&plan, &july).unwrap();
        assert!(!q.reached(dec("5161.29"), Decimal::ONE));
        assert!(q.reached(dec("5161.30"), Decimal::ONE));
    }

    #[test]
    fn emails_match_ignoring_unicode_case_and_spaces() {
        assert_eq!(
            email_key(" Ödön@Example.com "),
            email_key("ödön@example.com")
        );
        assert_ne!(email_key("odon@example.com"), email_key("ödön@example.com"));
    }
}
