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

/// Matches a rep to its `[[reps]]` entry (email ignoring case, or id) and
/// role; an unmatched rep has the default role.
pub fn plan<'a>(rep: &Rep, s: &'a Settings) -> RepPlan<'a> {
    let rule: Option<&RepRule> = s.rep_rules.iter().find(|r| {
        r.id.as_deref() == Some(rep.id.as_str())
            || matches!((&r.email, &rep.email), (Some(a), Some(b)) if a.eq_ignore_ascii_case(b.trim()))
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

/// How many months a period counts for: 1, 3, or days / 30 for a range.
pub fn months(p: &Period) -> Decimal {
    match p.kind {
        PeriodKind::Month => Decimal::ONE,
        PeriodKind::Quarter { .. } => Decimal::from(3),
        PeriodKind::Range => Decimal::from(p.days()) / Decimal::from(30),
    }
}

/// The rep's quota for `p`, prorated when the rep starts after `p` starts;
/// `None` when it comes out as 0 (no quota).
pub fn quota(plan: &RepPlan, p: &Period) -> Option<Decimal> {
    // Multiply before dividing so that 10 000 × 91 / 30 stays as exact as it can.
    let mut q = match p.kind {
        PeriodKind::Month => plan.monthly_quota,
        PeriodKind::Quarter { .. } => plan.monthly_quota * Decimal::from(3),
        PeriodKind::Range => plan.monthly_quota * Decimal::from(p.days()) / Decimal::from(30),
    };
    if let Some(start) = plan.start_date {
        if start > p.start {
            let days_on = (p.end - start).num_days().max(0);
            q = q * Decimal::from(days_on) / Decimal::from(p.days());
        }
    }
    (q > Decimal::ZERO).then_some(q)
}

/// Commission once attainment ≥ 1: rate × quota + accelerator × (won − quota); else 0.
pub fn commission(role: &Role, quota: Decimal, won: Decimal) -> Decimal {
    if won >= quota {
        role.commission_rate * quota + role.accelerator_rate * (won - quota)
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
        assert_eq!(commission(&r, dec("10000"), dec("10000")), dec("1000"));
        assert_eq!(commission(&r, dec("10000"), dec("9999.99")), dec("0"));
    }

    #[test]
    fn accelerator_pays_above_quota() {
        let r = role(dec("25000"), dec("0.10"), Some(dec("0.15")));
        assert_eq!(
            commission(&r, dec("25000"), dec("33722.64")),
            dec("3808.3960")
        );
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
        let q3 = Period::parse("2026-Q3", 1).unwrap();
        assert_eq!(quota(&plan, &q3), Some(dec("30000")));
        let range = Period::parse("2026-07-01..2026-09-29", 1).unwrap(); // 91 days
        assert_eq!(
            quota(&plan, &range).unwrap().round_dp(6),
            (dec("10000") * dec("91") / dec("30")).round_dp(6)
        );
        // Starts 2026-08-17: 45 of Q3's 92 days.
        plan.start_date = NaiveDate::from_ymd_opt(2026, 8, 17);
        assert_eq!(
            quota(&plan, &q3),
            Some(dec("30000") * dec("45") / dec("92"))
        );
        // Starts on the first day: full quota; after the period: none.
        plan.start_date = NaiveDate::from_ymd_opt(2026, 7, 1);
        assert_eq!(quota(&plan, &q3), Some(dec("30000")));
        plan.start_date = NaiveDate::from_ymd_opt(2026, 10, 1);
        assert_eq!(quota(&plan, &q3), None);
    }
}
