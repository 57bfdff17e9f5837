//! What a chat message says, in one place: `Summary`, built from the
//! report's view model (every value already text in the report's locale
//! and currency) by `summary_from`. The Slack message and the Teams card
//! both lay out this struct and add nothing of their own, so the two say
//! the same thing. Pure; computes no figure.

use super::labels::Labels;
use super::model::fill;
use super::view::View;
use crate::metrics::Figures;
use serde::Serialize;

/// How many reps the message names (the report has them all).
pub const TOP_REPS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// "Sales report · 2026-07".
    pub title: String,
    /// "monthly · 2026-07 (2026-07-01 – 2026-07-31)".
    pub subtitle: String,
    pub as_of: String,
    /// Set while the period is still running.
    pub running: Option<String>,
    /// "vs 2026-06": what the changes compare with.
    pub vs_previous: String,
    /// One line for notifications and clients that show no blocks (the
    /// email's default subject).
    pub fallback: String,
    pub headline: Vec<Figure>,
    pub best_forecast: Option<BestForecast>,
    pub goals: Vec<GoalLine>,
    pub top_reps: Vec<RepLine>,
    /// "3 data-quality note(s): see the report", when there are any.
    pub notes: Option<String>,
    /// The report's page, when `public_base_url` is set.
    pub link: Option<String>,
    /// The charts, in the order the report shows them.
    pub charts: Vec<ChartLine>,
    pub words: Words,
}

/// One headline figure with its change against the previous period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figure {
    pub label: String,
    pub value: String,
    /// e.g. "12 won, 4 lost"; may be empty.
    pub sub: String,
    /// e.g. "▲ 12.5%"; empty when there is nothing to compare with.
    pub change: String,
}

/// The forecast of the method with the best track record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestForecast {
    /// The method's name in the report's locale.
    pub method: String,
    /// The period forecast, e.g. "2026-08".
    pub target: String,
    pub value: String,
    /// Its mean accuracy over the track record, e.g. "91.2%".
    pub mean_accuracy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalLine {
    pub label: String,
    /// None when the goal cannot be judged (no actual or no target).
    pub met: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepLine {
    /// As the CRM spells it: escape it for the medium.
    pub name: String,
    /// "142.0% of quota · $52,000.00 won".
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChartLine {
    /// "quadrant" or "forecast"; the file is `<name>.png`.
    pub name: String,
    pub alt: String,
    /// `<public_base_url>/<report>/<period>/<name>.png`, when set.
    pub url: Option<String>,
}

/// The message's own words, in the report's locale.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Words {
    pub goals: String,
    pub top_reps: String,
    pub met: String,
    pub not_met: String,
    pub unknown: String,
    pub open_report: String,
    pub in_thread: String,
    /// The best-forecast sentence, with {target}, {value}, {method} and
    /// {accuracy} to fill.
    pub best_forecast: String,
}

impl Summary {
    /// The words for a goal's state.
    pub fn goal_state(&self, met: Option<bool>) -> &str {
        match met {
            Some(true) => &self.words.met,
            Some(false) => &self.words.not_met,
            None => &self.words.unknown,
        }
    }

    /// The mark a chat message shows before a goal's state.
    pub fn goal_mark(met: Option<bool>) -> &'static str {
        match met {
            Some(true) => "✅",
            Some(false) => "❌",
            None => "⚪",
        }
    }

    /// The best forecast as one sentence, e.g. "Forecast for 2026-08:
    /// $1.2M by Stage-weighted, the most accurate method (91.2% on average)".
    pub fn best_forecast_line(&self) -> Option<String> {
        self.best_forecast.as_ref().map(|b| {
            fill(
                &self.words.best_forecast,
                &[
                    ("target", &b.target),
                    ("value", &b.value),
                    ("method", &b.method),
                    ("accuracy", &b.mean_accuracy),
                ],
            )
        })
    }
}

/// The chat summary of a rendered report. `view` has its charts set;
/// `public_dir` is the report folder's public URL ending in `/`.
pub fn summary_from(
    view: &View,
    figures: &Figures,
    t: &Labels,
    public_dir: Option<&str>,
) -> Summary {
    // The best method's forecast for the target, as the forecast table
    // shows it, with its mean accuracy over the track record.
    let tr = &figures.track_record;
    let best_forecast = tr.best_method.and_then(|m| {
        let row = view.forecast.rows.iter().find(|r| r.method == m.as_str())?;
        let mean = tr.mean_accuracy.get(&m).copied().flatten()?;
        Some(BestForecast {
            method: row.name.clone(),
            target: view.forecast.target.clone(),
            value: row.value.clone(),
            mean_accuracy: super::format::pct(mean),
        })
    });
    let goals = figures
        .goals
        .iter()
        .map(|g| GoalLine {
            label: g
                .label
                .clone()
                .unwrap_or_else(|| g.metric.as_str().replace('_', " ")),
            met: g.met,
        })
        .collect();
    let top_reps = view
        .reps
        .rows
        .iter()
        .filter(|r| r.has_quota)
        .take(TOP_REPS)
        .map(|r| RepLine {
            name: r.name.clone(),
            line: fill(
                &t.get("chat_rep_line"),
                &[("attainment", &r.attainment), ("won", &r.won)],
            ),
        })
        .collect();
    let url = |file: &str| public_dir.map(|d| format!("{d}{file}"));
    Summary {
        title: format!("{} · {}", view.title, view.period),
        subtitle: view.subtitle.clone(),
        as_of: view.as_of.clone(),
        running: view.running.clone(),
        vs_previous: view.vs_previous.clone(),
        fallback: view.default_subject.clone(),
        headline: view
            .headline
            .iter()
            .map(|k| Figure {
                label: k.label.clone(),
                value: k.value.clone(),
                sub: k.sub.clone(),
                change: k.change.text.clone(),
            })
            .collect(),
        best_forecast,
        goals,
        top_reps,
        notes: (!view.data_quality.is_empty()).then(|| {
            fill(
                &t.get("chat_notes"),
                &[("n", &view.data_quality.len().to_string())],
            )
        }),
        link: url("report.html"),
        charts: view
            .charts
            .iter()
            .map(|(name, c)| ChartLine {
                name: name.clone(),
                alt: c.alt.clone(),
                url: url(&format!("{name}.png")),
            })
            .collect(),
        words: Words {
            goals: t.get("chat_goals"),
            top_reps: t.get("chat_top_reps"),
            met: t.get("chat_goal_met"),
            not_met: t.get("chat_goal_not_met"),
            unknown: t.get("chat_goal_unknown"),
            open_report: t.get("open_report"),
            in_thread: t.get("chat_thread"),
            best_forecast: t.get("chat_best_forecast"),
        },
    }
}
