//! The built-in demo CRM: a realistic, deterministic sales org covering the
//! 18 months up to `today`, so that `salesops run` works on a fresh clone
//! with no config and no network, and last month always has data.
//!
//! Dates are relative to `today`; the numbers come from a fixed seed. The
//! generator is a hand-written SplitMix64 so the demo data never changes
//! when a dependency's random algorithm does.

use crate::period::add_months;
use crate::snapshot::*;
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use rust_decimal::Decimal;

const SEED: u64 = 0x5A1E_5095;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
}

const STAGES: [(&str, &str, &str, bool, bool); 7] = [
    ("discovery", "Discovery call", "0.1", false, false),
    ("qualified", "Qualified", "0.2", false, false),
    ("demo", "Product demo", "0.4", false, false),
    ("trial", "Product trial", "0.6", false, false),
    ("decision", "Final decision", "0.8", false, false),
    ("won", "Closed won", "1", true, true),
    ("lost", "Closed lost", "0", true, false),
];

/// (name, email local part, months since hire (negative: starts later),
/// active, skill, the CRM's team — spelled as CRMs drift)
#[allow(clippy::type_complexity)]
const REPS: [(&str, &str, i32, bool, f64, &str); 14] = [
    ("김민지", "kim.minji", 30, true, 1.3, "Seoul Enterprise"),
    (
        "Lee Seo-yeon",
        "lee.seoyeon",
        20,
        true,
        1.0,
        "seoul enterprise",
    ),
    ("박지훈", "park.jihoon", 28, true, 0.9, "Seoul Enterprise"),
    ("Choi Yu-na", "choi.yuna", 19, true, 1.4, "Seoul Enterprise"),
    ("Jung Hae-won", "jung.haewon", 18, true, 0.7, "부산 SMB"),
    ("강도현", "kang.dohyun", 26, true, 1.1, "부산 SMB"),
    ("Yoon Ji-woo", "yoon.jiwoo", 19, true, 0.8, "부산 smb"),
    ("Jang Soo-bin", "jang.soobin", 29, true, 1.2, "부산 SMB"),
    (
        "Lim Chae-won",
        "lim.chaewon",
        27,
        true,
        0.95,
        "Inside Sales",
    ),
    ("한예진", "han.yejin", 32, true, 1.0, "Inside Sales"),
    (
        "Oh Seung-min",
        "oh.seungmin",
        22,
        false,
        0.6,
        "Inside Sales",
    ),
    ("Seo Jun-ho", "seo.junho", 2, true, 0.8, "INSIDE SALES"),
    (
        "Shin Da-eun",
        "shin.daeun",
        1,
        true,
        0.7,
        "Seoul Enterprise",
    ),
    ("권태양", "kwon.taeyang", 0, true, 0.5, ""),
];

/// A deal's name suffix and its kind of business (None: left untyped).
const KINDS: [(&str, Option<DealType>); 5] = [
    ("renewal", Some(DealType::Renewal)),
    ("new business", Some(DealType::NewBusiness)),
    ("upsell", Some(DealType::Upsell)),
    ("expansion", Some(DealType::CrossSell)),
    ("pilot", None),
];

const ACCOUNTS: [&str; 12] = [
    "Hanbit Logistics",
    "Seoul Bio",
    "Acme Corp",
    "Daehan Steel",
    "Blue Harbor",
    "Mirae Foods",
    "Northwind",
    "Gangnam Clinics",
    "Tidewater",
    "<b>Ajou</b> & Sons",
    "Busan Marine",
    "Orbit Retail",
];

/// Generates the demo snapshot for a run on local date `today`.
pub fn generate(today: NaiveDate) -> Snapshot {
    let mut rng = Rng(SEED);
    let this_month = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap();
    let first_month = add_months(this_month, -17);
    let first_day = first_month;

    let stages = STAGES
        .iter()
        .enumerate()
        .map(|(i, (id, label, p, closed, won))| Stage {
            id: id.to_string(),
            label: label.to_string(),
            probability: p.parse().unwrap(),
            order: i as i64 + 1,
            closed: *closed,
            won: *won,
        })
        .collect();

    let reps: Vec<Rep> = REPS
        .iter()
        .enumerate()
        .map(|(i, (name, mail, months, active, _, team))| {
            // New hires start mid-month so their quotas are prorated.
            let start = add_months(this_month, -months)
                + Duration::days(if *months <= 2 { 14 } else { (i * 3) as i64 });
            Rep {
                id: format!("rep-{}", 100 + i),
                name: name.to_string(),
                email: Some(format!("{mail}@example.com")),
                start_date: Some(start),
                active: *active,
                team: (!team.is_empty()).then(|| team.to_string()),
            }
        })
        .collect();

    let at = |d: NaiveDate, minutes: i64| {
        // Business hours in Seoul (UTC+9): 09:00-18:00 local = 00:00-09:00 UTC.
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap()) + Duration::minutes(minutes)
    };

    let mut deals = Vec::new();
    let mut changes = Vec::new();
    let mut activities = Vec::new();
    // Each rep's deals that are still open on the day: activities link to them.
    let mut open: Vec<Vec<(usize, NaiveDate, bool)>> = vec![Vec::new(); reps.len()];
    let mut day = first_day;
    while day < today {
        let workday = !matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
        for (ri, rep) in reps.iter().enumerate() {
            if rep.start_date.is_some_and(|s| s > day) || !workday {
                continue;
            }
            let skill = REPS[ri].4;
            open[ri].retain(|(_, close, _)| *close >= day);
            // About eight new deals a month per rep.
            if rng.chance(0.30) {
                let created = at(day, rng.range(0, 540));
                let cycle = rng.range(12, 110);
                let close = day + Duration::days(cycle);
                let amount = Decimal::new(rng.range(60_000, 1_100_000) + rng.range(0, 99), 2);
                let (stage, category) = if close < today {
                    (
                        if rng.chance(0.42 * skill.min(1.5)) {
                            5
                        } else {
                            6
                        },
                        Some(ForecastCategory::Closed),
                    )
                } else {
                    let progress = 1.0 - (close - today).num_days() as f64 / cycle.max(1) as f64;
                    let stage = ((progress * 5.0) as usize + rng.range(0, 1) as usize).min(4);
                    let cat = match stage {
                        4 => ForecastCategory::Commit,
                        3 if rng.chance(0.5) => ForecastCategory::Commit,
                        2 | 3 => ForecastCategory::BestCase,
                        _ => ForecastCategory::Pipeline,
                    };
                    (stage, Some(cat))
                };
                let n = deals.len();
                let (suffix, deal_type) = KINDS[match rng.range(0, 19) {
                    0..=5 => 1,
                    6..=10 => 0,
                    11..=13 => 2,
                    14..=16 => 3,
                    _ => 4,
                }];
                let amount = if n % 211 == 17 { None } else { Some(amount) };
                let first = changes.len() as u32;
                history(
                    &mut rng,
                    &mut changes,
                    created,
                    close,
                    stage,
                    category,
                    amount,
                    today,
                    at,
                );
                deals.push(Deal {
                    id: format!("deal-{n:05}").into(),
                    name: format!(
                        "{} {suffix}",
                        ACCOUNTS[rng.range(0, ACCOUNTS.len() as i64 - 1) as usize],
                    )
                    .into(),
                    owner: ri,
                    amount,
                    stage,
                    created_at: When::Instant(created),
                    close_date: When::Date(close),
                    forecast_category: category,
                    deal_type,
                    history: first..changes.len() as u32,
                });
                open[ri].push((n, close, stage == 6));
            }
            for _ in 0..rng.range(2, 6) {
                let kind = match rng.range(0, 99) {
                    0..=27 => ActivityKind::Email,
                    28..=52 => ActivityKind::Call,
                    53..=64 => ActivityKind::Meeting,
                    65..=72 => ActivityKind::Social,
                    73..=80 => ActivityKind::InternalMeeting,
                    81..=87 => ActivityKind::Admin,
                    88..=93 => ActivityKind::Task,
                    _ => ActivityKind::Training,
                };
                let minutes = match kind {
                    ActivityKind::Email | ActivityKind::Social => rng.range(3, 15),
                    ActivityKind::Call => rng.range(5, 40),
                    ActivityKind::Task | ActivityKind::Admin => rng.range(10, 60),
                    _ => rng.range(30, 90),
                };
                let outcome = (kind == ActivityKind::Meeting).then(|| {
                    [
                        "completed",
                        "completed",
                        "completed",
                        "scheduled",
                        "no_show",
                        "canceled",
                    ][rng.range(0, 5) as usize]
                        .to_string()
                });
                // Most selling activities are about one of the rep's open deals.
                let selling = matches!(
                    kind,
                    ActivityKind::Call
                        | ActivityKind::Email
                        | ActivityKind::Meeting
                        | ActivityKind::Social
                );
                // Deals that end up lost get fewer follow-ups (the seed: reps
                // who lose deals often did not follow up).
                let mut deal = DealLink::None;
                if selling && !open[ri].is_empty() && rng.chance(0.7) {
                    let pick = rng.range(0, open[ri].len() as i64 - 1) as usize;
                    let (d, _, lost) = open[ri][pick];
                    if !lost || rng.chance(0.45) {
                        deal = DealLink::Deal(d as u32);
                    }
                }
                activities.push(Activity {
                    id: format!("act-{:06}", activities.len()).into(),
                    owner: Some(ri),
                    kind,
                    at: When::Instant(at(day, rng.range(0, 540))),
                    duration_minutes: Decimal::from(minutes),
                    outcome: outcome.map(Into::into),
                    deal,
                });
            }
        }
        day += Duration::days(1);
    }

    let mut leads = Vec::new();
    let mut day = first_day;
    let kinds = [
        "pricing_page_visit",
        "email_open",
        "email_click",
        "wrong_company_details",
        "persona_fit",
        "webinar",
    ];
    while day < today {
        for _ in 0..rng.range(1, 6) {
            let created = at(day, rng.range(-180, 900));
            let owner = (!rng.chance(0.1)).then(|| format!("rep-{}", 100 + rng.range(0, 10)));
            let response = if rng.chance(0.88) {
                let minutes = (rng.f().powi(3) * 600.0) as i64 + 5;
                Some(When::Instant(created + Duration::minutes(minutes)))
            } else {
                None
            };
            let (events, score) = if rng.chance(0.15) {
                (None, Some(Decimal::from(rng.range(0, 30))))
            } else {
                let evs = (0..rng.range(0, 6))
                    .map(|_| ScoreEvent {
                        kind: kinds[rng.range(0, 5) as usize].into(),
                        at: When::Instant(created + Duration::hours(rng.range(1, 400))),
                    })
                    .collect();
                (Some(evs), None)
            };
            leads.push(Lead {
                id: format!("lead-{:05}", leads.len()).into(),
                owner: owner.map(Into::into),
                created_at: When::Instant(created),
                first_response_at: response,
                score_events: events,
                score,
            });
        }
        day += Duration::days(1);
    }

    Snapshot {
        currency: "USD".into(),
        reps,
        stages,
        deals,
        activities: activities.into(),
        leads: leads.into(),
        changes,
        unknown_deal_ids: Vec::new(),
        notes: Vec::new(),
    }
}

/// A deal's history as a CRM records it: created in discovery with a
/// first estimate of amount and close date, moved up the stages over its
/// life (a close date pushed out on the way), then closed on its close
/// date, or still open today at its current stage. The last value of every
/// field is the deal's current one.
#[allow(clippy::too_many_arguments)]
fn history(
    rng: &mut Rng,
    out: &mut Vec<Change>,
    created: chrono::DateTime<Utc>,
    close: NaiveDate,
    stage: usize,
    category: Option<ForecastCategory>,
    amount: Option<Decimal>,
    today: NaiveDate,
    at: impl Fn(NaiveDate, i64) -> chrono::DateTime<Utc>,
) {
    let closed = stage >= 5;
    let created_day = created.date_naive();
    // The last day a step before closing can happen.
    let until = if closed { close } else { today };
    let span = (until - created_day).num_days().max(1);
    let reached = if closed {
        rng.range(1, 4) as usize
    } else {
        stage
    };
    let first_close = close - Duration::days(rng.range(0, 21));
    let hundred = Decimal::from(100);
    let first_amount = amount.map(|a| {
        ((a * Decimal::new(rng.range(70, 110), 2) / hundred).round() * hundred)
            .max(Decimal::from(500))
    });
    let push = |out: &mut Vec<Change>, t, v| out.push(Change { at: t, value: v });
    push(out, created, Field::Stage(0));
    push(out, created, Field::Amount(first_amount));
    push(out, created, Field::CloseDate(When::Date(first_close)));
    push(
        out,
        created,
        Field::Category(Some(ForecastCategory::Pipeline)),
    );
    let mut last = created;
    for step in 1..=reached {
        let day = created_day + Duration::days(span * step as i64 / (reached as i64 + 1));
        let t = at(day, rng.range(0, 540)).max(last + Duration::minutes(1));
        if t.date_naive() >= until {
            break;
        }
        last = t;
        push(out, t, Field::Stage(step as u32));
        let cat = match step {
            4 => ForecastCategory::Commit,
            2 | 3 => ForecastCategory::BestCase,
            _ => ForecastCategory::Pipeline,
        };
        push(out, t, Field::Category(Some(cat)));
        if step == 2 {
            push(out, t, Field::Amount(amount));
            push(out, t, Field::CloseDate(When::Date(close)));
        }
    }
    if closed {
        let t = at(close, rng.range(0, 540)).max(last + Duration::minutes(1));
        push(out, t, Field::Stage(stage as u32));
        push(out, t, Field::Category(category));
        push(out, t, Field::Amount(amount));
        push(out, t, Field::CloseDate(When::Date(close)));
    } else {
        // Bring every field to its current value.
        let t = last + Duration::minutes(1);
        push(out, t, Field::Stage(stage as u32));
        push(out, t, Field::Category(category));
        push(out, t, Field::Amount(amount));
        push(out, t, Field::CloseDate(When::Date(close)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_covers_last_month() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        let a = generate(today);
        let b = generate(today);
        assert_eq!(a.deals, b.deals);
        assert!(a.reps.len() >= 12);
        assert_eq!(a.stages.len(), 7);
        let last_month =
            |w: &When| matches!(w, When::Date(d) if d.month() == 10 && d.year() == 2026);
        let won_last_month = a
            .deals
            .iter()
            .filter(|d| d.stage == 5 && last_month(&d.close_date))
            .count();
        assert!(won_last_month > 10, "{won_last_month}");
        for stage in 0..7 {
            assert!(
                a.deals.iter().any(|d| d.stage == stage),
                "no deal in stage {stage}"
            );
        }
        assert!(a.activities.len() > 5_000 && a.leads.len() > 1_000);
        // Everything it makes is valid canonical data.
        let json = crate::snapshot::to_json(&a).to_string();
        crate::snapshot::parse(json.as_bytes(), Default::default()).unwrap();
    }
}
