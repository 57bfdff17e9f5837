//! What one report's run puts out besides report.json: the rendered report
//! (with the previous period's figures for the headline changes and the
//! forecast accuracy of earlier periods) and its delivery.

use crate::app::RunOptions;
use crate::config::{ReportSettings, Settings};
use crate::deliver::{self, DeliveryOutcome};
use crate::metrics::{self, forecast, Accuracy, Figures, Method};
use crate::period::Period;
use crate::render::{self, Rendered};
use crate::source::Pulled;
use crate::state::Store;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// How many finished periods the accuracy history shows.
const HISTORY_PERIODS: usize = 6;

/// Forecast accuracy of the finished periods that have stored forecasts,
/// most recent first, judged against the won revenue in this snapshot.
fn accuracy_history(
    store: &mut Store,
    pulled: &Pulled,
    ms: &metrics::Settings,
    as_of: chrono::NaiveDate,
) -> Result<Vec<(Period, BTreeMap<Method, Accuracy>)>> {
    let mut out = Vec::new();
    for (label, start, end) in store.forecast_targets_before(as_of, HISTORY_PERIODS)? {
        let p = Period::parse(&label, ms.fiscal_start_month)
            .ok()
            .filter(|p| p.start == start && p.end == end)
            .unwrap_or_else(|| Period::range(start, end.pred_opt().unwrap_or(end)));
        let stored = store.forecasts_for(&p)?;
        let actual = metrics::won_revenue(&pulled.snapshot, &p, as_of, ms.tz);
        out.push((p, forecast::accuracy(&p, as_of, actual, &stored)));
    }
    Ok(out)
}

/// Renders the report of `figures` (HTML, text, charts, CSV, subject).
pub(super) fn render(
    s: &Settings,
    r: &ReportSettings,
    pulled: &Pulled,
    figures: &Figures,
    ms: &metrics::Settings,
    store: Option<&mut Store>,
) -> Result<Rendered> {
    // The previous period as the books stood when this one began.
    let previous = metrics::compute(
        &pulled.snapshot,
        figures.previous,
        figures.period.start,
        ms,
        &[],
    );
    let history = match store {
        Some(st) => accuracy_history(st, pulled, ms, figures.as_of)?,
        None => Vec::new(),
    };
    let selling_kinds = crate::snapshot::ActivityKind::ALL
        .iter()
        .filter(|(_, k)| ms.selling_kinds[k.index()])
        .map(|(n, _)| n.to_string())
        .collect();
    let tz = r.tz.to_string();
    let input = render::Input {
        report: &r.name,
        locale: &r.locale,
        currency: &pulled.snapshot.currency,
        timezone: &tz,
        source: &pulled.description,
        figures,
        previous: &previous,
        history: &history,
        reps: &pulled.snapshot.reps,
        rules: render::Rules {
            high_performer_attainment: ms.high_performer_attainment,
            response_sla_minutes: ms.response_sla_minutes,
            sql_threshold: ms.sql_threshold,
            growth_rate: ms.growth_rate,
            selling_kinds,
        },
    };
    render::render(
        &input,
        &render::Options {
            templates_dir: s.templates_dir.as_deref(),
            chart_font: s.chart_font.as_deref(),
            subject: r.subject.as_deref(),
            public_dir: public_dir(s, r, &figures.period).as_deref(),
        },
    )
}

/// The report folder's public URL, ending in `/`, when `public_base_url`
/// is set: `<public_base_url>/<report>/<period>/`, as out_dir lays it out.
fn public_dir(s: &Settings, r: &ReportSettings, period: &Period) -> Option<String> {
    let base = s.public_base_url.as_ref()?;
    Some(format!(
        "{}/{}/{}/",
        base.as_str().trim_end_matches('/'),
        r.name,
        period.label()
    ))
}

/// Delivers a rendered report to the report's recipients and chat
/// destinations, each exactly once.
pub(super) async fn deliver(
    s: &Settings,
    r: &ReportSettings,
    rendered: &Rendered,
    figures: &Figures,
    out_dir: &Path,
    opts: &RunOptions,
    store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let key = deliver::period_key(&figures.period, figures.as_of);
    let job = deliver::Job {
        report: &r.name,
        period_key: &key,
        rendered,
        to: &r.to,
        cc: &r.cc,
        bcc: &r.bcc,
        out_dir,
        force: opts.force,
        dry_run: opts.dry_run,
    };
    let mut store = store;
    let mut out = deliver::deliver(&s.delivery, &job, store.as_deref_mut()).await?;
    let chat = deliver::chat::ChatJob {
        report: &r.name,
        team: "",
        period_key: &key,
        rendered,
        slack_channels: &r.slack_channels,
        msteams: &r.msteams,
        force: opts.force,
        dry_run: opts.dry_run,
    };
    let c = deliver::chat::deliver(&s.slack, &s.msteams, &chat, store).await?;
    out.sent.extend(c.sent);
    out.already.extend(c.already);
    out.failed.extend(c.failed);
    out.would_send.extend(c.would_send);
    Ok(out)
}
