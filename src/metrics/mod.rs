//! Every figure of the spec (METRICS.md), as pure functions of a snapshot,
//! a period, `as_of` and settings.
//!
//! Never does I/O and never reads the clock: the time zone, `as_of` and the
//! forecasts stored by earlier runs all come in as arguments. Money stays in
//! exact decimals here; rounding to cents happens only when the report is
//! written.

mod activity;
mod deals;
pub mod forecast;
pub mod goals;
mod money;
pub mod quota;
mod reps;
pub mod scope;
mod touches;
pub mod track;
mod window;

pub use deals::FollowUp;
pub use forecast::{Forecasts, Method, StoredForecast};
pub use goals::{Goal, GoalMetric, GoalResult, GoalRule, Num};
pub use money::cents;
pub use scope::{Scope, Team, TeamDef, Teams};
pub use track::{Accuracy, TrackRecord};
pub use window::{Bound, Window};

use crate::period::Period;
use crate::snapshot::{ActivityKind, Books, DealType, Snapshot, Status};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};
use touches::TouchIndex;

/// A role's quota and commission terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub monthly_quota: Decimal,
    pub commission_rate: Decimal,
    pub accelerator_rate: Decimal,
}

/// One `[[reps]]` entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RepRule {
    pub email: Option<String>,
    pub id: Option<String>,
    pub role: Option<String>,
    pub quota: Option<Decimal>,
    pub start_date: Option<NaiveDate>,
}

/// Everything the figures depend on besides the data.
#[derive(Debug, Clone)]
pub struct Settings {
    pub tz: Tz,
    pub fiscal_start_month: u32,
    pub roles: BTreeMap<String, Role>,
    pub default_role: String,
    pub rep_rules: Vec<RepRule>,
    pub growth_rate: Decimal,
    pub new_rep_first_month_revenue: Decimal,
    pub high_performer_attainment: Decimal,
    /// Indexed by `ActivityKind::index()`.
    pub selling_kinds: [bool; ActivityKind::ALL.len()],
    pub sql_threshold: Decimal,
    pub response_sla_minutes: Decimal,
    pub points: HashMap<String, Decimal>,
    /// Touches a deal should get (`[activities] follow_up_target`).
    pub follow_up_target: u32,
    /// Finished periods in the track record (`[forecast] track_record_periods`).
    pub track_record_periods: usize,
    /// `[[goals]]`, in config order.
    pub goals: Vec<Goal>,
}

/// Won revenue by deal type; `untyped` for deals without one.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ByType {
    pub new_business: Decimal,
    pub upsell: Decimal,
    pub cross_sell: Decimal,
    pub renewal: Decimal,
    pub untyped: Decimal,
}

impl ByType {
    pub fn add(&mut self, t: Option<DealType>, amount: Decimal) {
        *match t {
            Some(DealType::NewBusiness) => &mut self.new_business,
            Some(DealType::Upsell) => &mut self.upsell,
            Some(DealType::CrossSell) => &mut self.cross_sell,
            Some(DealType::Renewal) => &mut self.renewal,
            None => &mut self.untyped,
        } += amount;
    }

    /// Upsell and cross-sell.
    pub fn expansion(&self) -> Decimal {
        self.upsell + self.cross_sell
    }

    /// In the spec's key order.
    pub fn entries(&self) -> [(&'static str, Decimal); 5] {
        [
            ("new_business", self.new_business),
            ("upsell", self.upsell),
            ("cross_sell", self.cross_sell),
            ("renewal", self.renewal),
            ("untyped", self.untyped),
        ]
    }
}

/// Team KPIs for the period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    pub won_revenue: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub win_rate: Option<f64>,
    pub avg_won_deal_size: Option<Decimal>,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub avg_open_deal_size: Option<Decimal>,
    pub pipeline_coverage: Option<f64>,
    pub quota_attainment_rate: Option<f64>,
    pub sales_cycle_days_mean: Option<f64>,
    pub sales_cycle_days_median: Option<f64>,
    pub lead_response_hours_median: Option<f64>,
    pub lead_response_hours_mean: Option<f64>,
    pub leads_unanswered: u64,
    pub lead_response_within_sla: Option<f64>,
    pub selling_time_share: Option<f64>,
    pub meetings_per_prospecting_activity: Option<f64>,
    pub won_revenue_by_type: ByType,
    pub expansion_share: Option<f64>,
    pub touches_mean_won: Option<f64>,
    pub touches_mean_lost: Option<f64>,
    pub lost_before_target_share: Option<f64>,
    pub open_under_target: u64,
    /// salesops' own key: won revenue / team quota (null without quota).
    pub team_attainment: Option<f64>,
    /// salesops' own key: reps whose won revenue reached their quota.
    pub reps_at_quota: u64,
    /// Reps with a quota for the period.
    pub reps_with_quota: u64,
    /// The team quota of the period (Σ the reps' quotas).
    pub team_quota: Option<Decimal>,
    /// Not in report.json: won revenue of the previous period.
    pub prev_won_revenue: Decimal,
    /// Not in report.json: the team quota of the forecast target (what the
    /// forecasts are set against in the report).
    pub target_quota: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quadrant {
    RisingStar,
    FallingStar,
    ImprovingLaggard,
    DecliningLaggard,
}

impl Quadrant {
    pub fn as_str(&self) -> &'static str {
        match self {
            Quadrant::RisingStar => "rising_star",
            Quadrant::FallingStar => "falling_star",
            Quadrant::ImprovingLaggard => "improving_laggard",
            Quadrant::DecliningLaggard => "declining_laggard",
        }
    }
}

/// Per-rep figures for the period.
#[derive(Debug, Clone, PartialEq)]
pub struct RepFigures {
    pub index: usize,
    pub id: String,
    pub name: String,
    pub role: String,
    pub won_revenue: Decimal,
    pub prev_won_revenue: Decimal,
    pub deals_won: u64,
    pub deals_lost: u64,
    pub win_rate: Option<f64>,
    pub avg_won_deal_size: Option<Decimal>,
    pub pipeline_total: Decimal,
    pub pipeline_weighted: Decimal,
    pub quota: Option<Decimal>,
    pub attainment: Option<Decimal>,
    pub sales_cycle_days_mean: Option<f64>,
    pub quadrant: Option<Quadrant>,
    pub commission: Option<Decimal>,
    /// Won upsell and cross-sell revenue in the period.
    pub expansion_revenue: Decimal,
    pub lost_before_target: u64,
    pub open_under_target: u64,
}

/// An SQL created in the period that nobody owns or answered.
#[derive(Debug, Clone, PartialEq)]
pub struct UnworkedLead {
    pub id: String,
    pub owner: Option<String>,
    pub answered: bool,
    pub score: Decimal,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeadFigures {
    pub sql_count: u64,
    pub leads_created: u64,
    pub mql_to_sql_rate: Option<f64>,
    pub unworked_sqls: Vec<UnworkedLead>,
}

/// What the deals give for one period: the pass, the reps' figures and
/// quota totals, the forecasts (a team row needs no more).
struct DealFigures {
    pass: deals::Pass,
    reps: Vec<RepFigures>,
    quota: reps::QuotaTotals,
    forecasts: Forecasts,
}

/// The figures of one period with the books at one `as_of`: everything a
/// report shows except what compares with other periods.
#[derive(Debug, Clone)]
pub struct Core {
    pub period: Period,
    pub as_of: NaiveDate,
    pub kpis: Kpis,
    pub reps: Vec<RepFigures>,
    pub forecasts: Forecasts,
    pub leads: LeadFigures,
    /// Open deals in the forecast target under the follow-up target,
    /// largest first, at most ten.
    pub follow_ups: Vec<FollowUp>,
    pub notes: Vec<String>,
}

/// All figures of one report.
#[derive(Debug, Clone)]
pub struct Figures {
    pub period: Period,
    pub previous: Period,
    pub as_of: NaiveDate,
    pub kpis: Kpis,
    /// The previous period's KPIs with the books as of this period's start
    /// (the headline's changes).
    pub previous_kpis: Kpis,
    pub reps: Vec<RepFigures>,
    pub forecasts: Forecasts,
    /// Forecast accuracy of the period once it has ended: the methods that
    /// have a forecast of record.
    pub accuracy: BTreeMap<Method, Accuracy>,
    pub track_record: TrackRecord,
    pub goals: Vec<GoalResult>,
    pub follow_ups: Vec<FollowUp>,
    pub leads: LeadFigures,
    pub data_quality: Vec<String>,
}

/// One row of the organisation's `teams` (METRICS.md "Teams").
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRow {
    pub name: Option<String>,
    pub manager: Option<String>,
    pub reps: u64,
    pub won_revenue: Decimal,
    pub team_quota: Option<Decimal>,
    pub team_attainment: Option<f64>,
    pub quota_attainment_rate: Option<f64>,
    pub win_rate: Option<f64>,
    pub pipeline_weighted: Decimal,
    pub pipeline_coverage: Option<f64>,
    pub stage_weighted: Decimal,
}

/// Exact ratio of two counts.
pub(crate) fn ratio(n: u64, d: u64) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

pub(crate) fn dec_ratio(n: Decimal, d: Decimal) -> Option<f64> {
    use rust_decimal::prelude::ToPrimitive;
    if d.is_zero() {
        return None;
    }
    (n / d).to_f64()
}

/// Mean and median of a list of values (median of an even count: the mean
/// of the two middle values).
pub(crate) fn mean_median(mut v: Vec<f64>) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    (Some(mean), Some(median))
}

/// Computes reports over one snapshot: the follow-up index is built once
/// and shared by the organisation's report and every team's.
pub struct Engine<'a> {
    snap: &'a Snapshot,
    s: &'a Settings,
    touches: TouchIndex,
    /// Some deal carries history: forecasts of past periods can be rebuilt.
    history: bool,
}

impl<'a> Engine<'a> {
    pub fn new(snap: &'a Snapshot, s: &'a Settings) -> Engine<'a> {
        Engine {
            snap,
            s,
            touches: TouchIndex::new(snap, s),
            history: snap.has_history(),
        }
    }

    pub fn snapshot(&self) -> &'a Snapshot {
        self.snap
    }

    /// The books of `scope` at the start of local day `as_of`.
    fn books(&self, scope: &Scope, as_of: NaiveDate) -> Books {
        Books::at(self.snap, self.s.tz, as_of, scope.deals.as_deref())
    }

    /// The figures of `p` for `scope` with the books at `as_of`.
    pub fn core(&self, scope: &Scope, p: Period, as_of: NaiveDate) -> Core {
        self.core_at(scope, &self.books(scope, as_of), p)
    }

    fn core_at(&self, scope: &Scope, books: &Books, p: Period) -> Core {
        let (snap, s, as_of) = (self.snap, self.s, books.as_of);
        let touches = deals::Touches {
            index: &self.touches,
            scope,
        };
        let DealFigures {
            pass,
            reps,
            quota,
            forecasts,
        } = self.deal_figures(scope, books, p, Some(touches));
        let act = activity::activities(snap, scope, &p, as_of, s);
        let leads = activity::leads(snap, scope, &p, as_of, s);
        let kpis = kpis(&pass, &quota, act, &leads);
        let mut follow_ups = pass.follow_ups.clone();
        follow_ups.sort_by(|a, b| {
            b.amount.cmp(&a.amount).then_with(|| {
                snap.deals[a.deal as usize]
                    .id
                    .cmp(&snap.deals[b.deal as usize].id)
            })
        });
        follow_ups.truncate(10);
        Core {
            period: p,
            as_of,
            kpis,
            reps,
            forecasts,
            leads: leads.figures,
            follow_ups,
            notes: missing_amount_note(snap, &pass.missing_amount),
        }
    }

    /// The deals' pass of `p` for `scope` (follow-up touches counted when
    /// `touches` is given), the reps' figures and quotas, the forecasts.
    fn deal_figures(
        &self,
        scope: &Scope,
        books: &Books,
        p: Period,
        touches: Option<deals::Touches>,
    ) -> DealFigures {
        let (snap, s) = (self.snap, self.s);
        let target = forecast::target(&p, books.as_of);
        let pass = deals::pass(snap, books, &p, &target, s, touches);
        let (reps, quota) = reps::figures(snap, scope, &pass, &p, &target, s);
        let forecasts = forecast::forecasts(target, &pass.forecast, quota.new_reps, s);
        DealFigures {
            pass,
            reps,
            quota,
            forecasts,
        }
    }

    /// The forecasts of target `q` as they would have been made when it
    /// began, from the books as they were then.
    fn reconstruct(&self, scope: &Scope, q: &Period) -> Forecasts {
        let books = self.books(scope, q.start);
        let pass = deals::pass(self.snap, &books, &q.previous(), q, self.s, None);
        let new_reps = reps::new_reps(self.snap, scope, q, self.s);
        forecast::forecasts(*q, &pass.forecast, new_reps, self.s)
    }

    /// The whole report of `p` for `scope` at `as_of`; `stored` holds the
    /// forecasts earlier runs of this report (and team) kept.
    pub fn report(
        &self,
        scope: &Scope,
        p: Period,
        as_of: NaiveDate,
        stored: &[StoredForecast],
    ) -> Figures {
        let periods = track::periods(&p, as_of, self.s.track_record_periods);
        // The forecasts to rebuild from history: the track record's and,
        // when the period is over but not one of them (a range), its own.
        let mut judged: Vec<Period> = periods.clone();
        if as_of >= p.end && !periods.contains(&p) {
            judged.push(p);
        }
        let rebuild: Vec<Period> = judged
            .iter()
            .filter(|q| self.history && track::needs_rebuild(q, stored))
            .copied()
            .collect();
        // Both cores: the rebuilt forecasts on one, the report's own
        // figures, the previous period's and the goals' on the other.
        let (books, core, previous, goals, rebuilt) = std::thread::scope(|sc| {
            let rebuilding = sc.spawn(|| {
                rebuild
                    .iter()
                    .map(|q| (*q, self.reconstruct(scope, q)))
                    .collect::<HashMap<Period, Forecasts>>()
            });
            let books = self.books(scope, as_of);
            let core = self.core_at(scope, &books, p);
            let prev = p.previous();
            let previous = self.core(scope, prev, goals::baseline_as_of(&prev, as_of));
            let goals = self.goals(scope, &core, &previous);
            let rebuilt = rebuilding
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (books, core, previous, goals, rebuilt)
        });
        let track_record = self.track_record(&books, periods, stored, &rebuilt);
        let accuracy = if as_of < p.end {
            BTreeMap::new()
        } else {
            let actual = core.kpis.won_revenue;
            track::judge_period(&p, actual, stored, rebuilt.get(&p))
                .into_iter()
                .filter(|(_, a)| a.forecast.is_some())
                .collect()
        };
        let mut data_quality = self.snap.notes.clone();
        data_quality.extend(core.notes);
        Figures {
            period: p,
            previous: previous.period,
            as_of,
            kpis: core.kpis,
            previous_kpis: previous.kpis,
            reps: core.reps,
            forecasts: core.forecasts,
            accuracy,
            track_record,
            goals,
            follow_ups: core.follow_ups,
            leads: core.leads,
            data_quality,
        }
    }

    /// Each goal judged: its baseline from its own period and books (the
    /// previous period's figures serve every goal that uses the default).
    fn goals(&self, scope: &Scope, core: &Core, previous: &Core) -> Vec<GoalResult> {
        let mut cores: HashMap<(String, NaiveDate), Core> = HashMap::new();
        let mut out = Vec::new();
        for g in &self.s.goals {
            let bp = g.baseline_period(&core.period);
            let b_as_of = goals::baseline_as_of(&bp, core.as_of);
            let base = if bp == previous.period && b_as_of == previous.as_of {
                previous
            } else {
                cores
                    .entry((bp.label(), b_as_of))
                    .or_insert_with(|| self.core(scope, bp, b_as_of))
            };
            out.push(goals::judge(
                g,
                bp,
                g.metric.value(base),
                g.metric.value(core),
            ));
        }
        out
    }

    /// The track record over `periods`, each judged against its won
    /// revenue in the report's books.
    fn track_record(
        &self,
        books: &Books,
        periods: Vec<Period>,
        stored: &[StoredForecast],
        rebuilt: &HashMap<Period, Forecasts>,
    ) -> TrackRecord {
        let actuals = won_by_period(books, &periods);
        let mut methods: BTreeMap<Method, Vec<Accuracy>> = BTreeMap::new();
        for (q, actual) in periods.iter().zip(actuals) {
            for (m, a) in track::judge_period(q, actual, stored, rebuilt.get(q)) {
                methods.entry(m).or_default().push(a);
            }
        }
        track::summarize(periods, methods)
    }

    /// The organisation's `teams` rows: each team's figures as its own
    /// report would give them.
    pub fn team_rows(&self, teams: &Teams, p: Period, as_of: NaiveDate) -> Vec<TeamRow> {
        // The teams are independent: half of them on each core.
        let all: Vec<(&Team, &Scope)> = teams.teams.iter().zip(&teams.scopes).collect();
        let (first, second) = all.split_at(all.len() / 2);
        std::thread::scope(|sc| {
            let other = sc.spawn(|| self.rows_of(second, p, as_of));
            let mut rows = self.rows_of(first, p, as_of);
            rows.extend(
                other
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            );
            rows
        })
    }

    fn rows_of(&self, teams: &[(&Team, &Scope)], p: Period, as_of: NaiveDate) -> Vec<TeamRow> {
        teams
            .iter()
            .map(|(t, scope)| {
                // A row shows deal and quota figures only: no activity,
                // lead or follow-up pass over the team's records.
                let books = self.books(scope, as_of);
                let d = self.deal_figures(scope, &books, p, None);
                let none = activity::LeadResults::default();
                let k = kpis(&d.pass, &d.quota, Default::default(), &none);
                TeamRow::of(t, d.reps.len(), &k, &d.forecasts)
            })
            .collect()
    }
}

impl TeamRow {
    /// The row of team `t` with `reps` reps, from its KPIs and forecasts.
    fn of(t: &Team, reps: usize, k: &Kpis, f: &Forecasts) -> TeamRow {
        TeamRow {
            name: t.name.clone(),
            manager: t.manager.clone(),
            reps: reps as u64,
            won_revenue: k.won_revenue,
            team_quota: k.team_quota,
            team_attainment: k.team_attainment,
            quota_attainment_rate: k.quota_attainment_rate,
            win_rate: k.win_rate,
            pipeline_weighted: k.pipeline_weighted,
            pipeline_coverage: k.pipeline_coverage,
            stage_weighted: f.stage_weighted,
        }
    }
}

/// The KPIs from the pass, the quota totals and the activity and lead figures.
fn kpis(
    pass: &deals::Pass,
    q: &reps::QuotaTotals,
    act: activity::ActivityKpis,
    leads: &activity::LeadResults,
) -> Kpis {
    let (cycle_mean, cycle_median) = pass.cycle_mean_median();
    let mean = |v: &[f64]| mean_median(v.to_vec()).0;
    Kpis {
        won_revenue: pass.won_revenue,
        deals_won: pass.deals_won,
        deals_lost: pass.deals_lost,
        win_rate: ratio(pass.deals_won, pass.deals_won + pass.deals_lost),
        avg_won_deal_size: (pass.deals_won > 0)
            .then(|| pass.won_revenue / Decimal::from(pass.deals_won)),
        pipeline_total: pass.pipeline_total,
        pipeline_weighted: pass.pipeline_weighted,
        avg_open_deal_size: (pass.open_count > 0)
            .then(|| pass.pipeline_total / Decimal::from(pass.open_count)),
        pipeline_coverage: q
            .target_quota
            .and_then(|t| dec_ratio(pass.coverage_amount, t)),
        quota_attainment_rate: q.attainment_rate(),
        sales_cycle_days_mean: cycle_mean,
        sales_cycle_days_median: cycle_median,
        lead_response_hours_median: leads.response_median,
        lead_response_hours_mean: leads.response_mean,
        leads_unanswered: leads.unanswered,
        lead_response_within_sla: leads.within_sla,
        selling_time_share: act.selling_time_share,
        meetings_per_prospecting_activity: act.meetings_per_prospecting_activity,
        won_revenue_by_type: pass.by_type,
        expansion_share: dec_ratio(pass.by_type.expansion(), pass.won_revenue),
        touches_mean_won: mean(&pass.touches_won),
        touches_mean_lost: mean(&pass.touches_lost),
        lost_before_target_share: ratio(pass.lost_before_target, pass.deals_lost),
        open_under_target: pass.follow_ups.len() as u64,
        team_attainment: q.team_quota.and_then(|t| dec_ratio(pass.won_revenue, t)),
        reps_at_quota: q.at_quota,
        reps_with_quota: q.with_quota,
        team_quota: q.team_quota,
        prev_won_revenue: pass.prev_won_revenue,
        target_quota: q.target_quota,
    }
}

/// Won revenue of each period with the books `books` (deals won with a
/// close date in the period and before as_of).
fn won_by_period(books: &Books, periods: &[Period]) -> Vec<Decimal> {
    let mut out = vec![Decimal::ZERO; periods.len()];
    if periods.is_empty() {
        return out;
    }
    for d in &books.deals {
        if d.status != Status::Won || d.close >= books.as_of {
            continue;
        }
        if let Some(i) = periods.iter().position(|q| q.contains(d.close)) {
            out[i] += d.amount_or_zero();
        }
    }
    out
}

fn missing_amount_note(snap: &Snapshot, missing: &[u32]) -> Vec<String> {
    if missing.is_empty() {
        return Vec::new();
    }
    let shown: Vec<&str> = missing
        .iter()
        .take(10)
        .map(|i| snap.deals[*i as usize].id.as_str())
        .collect();
    let more = missing.len().saturating_sub(shown.len());
    vec![format!(
        "{} deal(s) have no amount and count as 0: {}{}",
        missing.len(),
        shown.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )]
}

/// Every figure of `p` for the whole organisation at `as_of` (no team).
pub fn compute(
    snap: &Snapshot,
    p: Period,
    as_of: NaiveDate,
    s: &Settings,
    stored: &[StoredForecast],
) -> Figures {
    Engine::new(snap, s).report(&Scope::all(), p, as_of, stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Lead, ScoreEvent, When};
    use chrono::TimeZone;

    fn settings() -> Settings {
        crate::config::Settings::from_toml("").unwrap().metrics
    }

    #[test]
    fn empty_books_give_nulls_not_zeros() {
        let snap = Snapshot::default();
        let p = Period::parse("2026-07", 1).unwrap();
        let f = compute(&snap, p, p.end, &settings(), &[]);
        let k = &f.kpis;
        assert_eq!(k.won_revenue, Decimal::ZERO);
        assert_eq!(
            (k.win_rate, k.avg_won_deal_size, k.avg_open_deal_size),
            (None, None, None)
        );
        assert_eq!((k.pipeline_coverage, k.quota_attainment_rate), (None, None));
        assert_eq!(
            (k.sales_cycle_days_mean, k.sales_cycle_days_median),
            (None, None)
        );
        assert_eq!(
            (k.lead_response_hours_mean, k.lead_response_within_sla),
            (None, None)
        );
        assert_eq!(
            (k.selling_time_share, k.meetings_per_prospecting_activity),
            (None, None)
        );
        assert_eq!(f.leads.mql_to_sql_rate, None);
        assert_eq!(f.forecasts.cycle_length, None);
        assert_eq!(f.forecasts.target.label(), "2026-08");
    }

    #[test]
    fn median_of_even_count_is_mean_of_middle_two() {
        assert_eq!(
            mean_median(vec![4.0, 1.0, 3.0, 2.0]),
            (Some(2.5), Some(2.5))
        );
        assert_eq!(mean_median(vec![5.0, 1.0, 3.0]), (Some(3.0), Some(3.0)));
    }

    #[test]
    fn score_events_beat_the_crm_score_even_when_they_come_later() {
        let s = settings();
        let t = |d: u32| When::Instant(chrono::Utc.with_ymd_and_hms(2026, 7, d, 12, 0, 0).unwrap());
        let lead = |events: Option<Vec<ScoreEvent>>, score: Option<i64>| Lead {
            id: "l".into(),
            owner: None,
            created_at: t(1),
            first_response_at: None,
            score_events: events,
            score: score.map(Decimal::from),
        };
        let as_of = Bound::new(chrono::NaiveDate::from_ymd_opt(2026, 7, 10).unwrap(), s.tz);
        let ev = |kind: &str, d: u32| ScoreEvent {
            kind: kind.into(),
            at: t(d),
        };
        // Events up to as_of only; an unknown kind is worth 0.
        let l = lead(
            Some(vec![
                ev("pricing_page_visit", 2),
                ev("email_click", 20),
                ev("webinar", 3),
            ]),
            Some(50),
        );
        assert_eq!(activity::score(&l, &as_of, &s), Decimal::from(10));
        // No events (none or empty): the CRM's score; neither: 0.
        assert_eq!(
            activity::score(&lead(Some(vec![]), Some(50)), &as_of, &s),
            Decimal::from(50)
        );
        assert_eq!(
            activity::score(&lead(None, Some(7)), &as_of, &s),
            Decimal::from(7)
        );
        assert_eq!(
            activity::score(&lead(None, None), &as_of, &s),
            Decimal::ZERO
        );
        // Events that all come after as_of still count as events: 0.
        assert_eq!(
            activity::score(
                &lead(Some(vec![ev("email_open", 25)]), Some(50)),
                &as_of,
                &s
            ),
            Decimal::ZERO
        );
    }

    #[test]
    fn track_record_actuals_are_the_kpi_of_each_period() {
        // The track record's actual of a period is that period's won
        // revenue, read through the same books as the report's own KPI.
        let today = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let snap = crate::source::demo::generate(today);
        let s = crate::config::Settings::from_toml("").unwrap().metrics;
        let p = Period::parse("2026-07", 1).unwrap();
        let f = compute(&snap, p, today, &s, &[]);
        for (i, q) in f.track_record.periods.iter().enumerate() {
            let own = compute(&snap, *q, today, &s, &[]);
            let actual = f.track_record.methods[&Method::StageWeighted][i].actual;
            assert_eq!(actual, own.kpis.won_revenue, "{}", q.label());
        }
        assert_eq!(f.track_record.periods.len(), 6);
    }

    /// A team's row reads only the deals' pass, yet shows what the team's
    /// own figures show (activities, leads and touches counted there). The
    /// rows are made as a run without team reports makes them: before the
    /// teams' activities and leads are listed.
    #[test]
    fn team_rows_are_the_teams_own_figures() {
        let today = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let snap = crate::source::demo::generate(today);
        let s = crate::config::Settings::from_toml("").unwrap();
        let mut teams = scope::split(&snap, &s.teams).unwrap();
        assert!(teams.teams.len() > 1);
        let engine = Engine::new(&snap, &s.metrics);
        let periods = ["2026-07", "2026-Q3", "2026-06"].map(|p| Period::parse(p, 1).unwrap());
        let rows = periods.map(|p| engine.team_rows(&teams, p, today));
        teams.list_records(&snap);
        for (p, rows) in periods.into_iter().zip(rows) {
            assert_eq!(rows.len(), teams.teams.len());
            for ((row, team), scope) in rows.iter().zip(&teams.teams).zip(&teams.scopes) {
                let c = engine.core(scope, p, today);
                let want = TeamRow::of(team, c.reps.len(), &c.kpis, &c.forecasts);
                assert_eq!(row, &want, "{:?} {}", team.name, p.label());
            }
        }
    }
}
