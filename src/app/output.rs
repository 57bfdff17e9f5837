//! What one report's run puts out besides report.json: the rendered report
//! and its delivery.

use crate::app::RunOptions;
use crate::config::{ReportSettings, Settings};
use crate::deliver::{self, DeliveryOutcome};
use crate::metrics::{self, Figures, TeamRow};
use crate::period::Period;
use crate::render::{self, Rendered};
use crate::source::Pulled;
use crate::state::Store;
use anyhow::Result;
use std::path::Path;

/// Renders the report of `figures` (HTML, text, charts, CSV, subject):
/// the organisation's with its `teams` rows, or team `team`'s.
pub(super) fn render(
    s: &Settings,
    r: &ReportSettings,
    pulled: &Pulled,
    figures: &Figures,
    ms: &metrics::Settings,
    team: Option<&str>,
    teams: &[TeamRow],
) -> Result<Rendered> {
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
        team,
        figures,
        teams,
        reps: &pulled.snapshot.reps,
        deals: &pulled.snapshot.deals,
        rules: render::Rules {
            high_performer_attainment: ms.high_performer_attainment,
            response_sla_minutes: ms.response_sla_minutes,
            sql_threshold: ms.sql_threshold,
            growth_rate: ms.growth_rate,
            selling_kinds,
            follow_up_target: ms.follow_up_target,
            goals: ms.goals.clone(),
        },
    };
    render::render(
        &input,
        &render::Options {
            templates_dir: s.templates_dir.as_deref(),
            chart_font: s.chart_font.as_deref(),
            subject: r.subject.as_deref(),
            public_dir: public_dir(s, r, team, &figures.period).as_deref(),
        },
    )
}

/// The report folder's public URL, ending in `/`, when `public_base_url`
/// is set: `<public_base_url>/<report>/[teams/<team>/]<period>/`, as
/// out_dir lays it out (each part percent-encoded).
fn public_dir(
    s: &Settings,
    r: &ReportSettings,
    team: Option<&str>,
    period: &Period,
) -> Option<String> {
    let mut u = s.public_base_url.clone()?;
    {
        let mut segs = u.path_segments_mut().ok()?;
        segs.pop_if_empty().push(&r.name);
        if let Some(t) = team {
            segs.push("teams").push(&super::team_folder(t));
        }
        segs.push(&period.label()).push("");
    }
    Some(u.to_string())
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
    let mut store = store;
    let mut out = deliver_to(
        s,
        &r.name,
        &r.to,
        &r.cc,
        &r.bcc,
        rendered,
        figures,
        out_dir,
        opts,
        store.as_deref_mut(),
    )
    .await?;
    let c = deliver_chat(
        s,
        &r.name,
        &r.slack_channels,
        &r.msteams,
        rendered,
        figures,
        opts,
        store,
    )
    .await?;
    merge(&mut out, c);
    Ok(out)
}

/// Adds the chat destinations' outcome to the email's.
fn merge(out: &mut DeliveryOutcome, chat: DeliveryOutcome) {
    out.sent.extend(chat.sent);
    out.already.extend(chat.already);
    out.failed.extend(chat.failed);
    out.would_send.extend(chat.would_send);
}

/// Where a team's report goes.
pub(super) struct TeamDestinations<'a> {
    pub team: &'a str,
    /// None: the report is not emailed (not even to `team_cc`).
    pub manager: Option<&'a str>,
    pub chat: &'a crate::config::TeamChat,
}

/// Delivers a team's report, exactly once per (report, team, period,
/// recipient or channel), under the delivery key `<report>/teams/<team>`:
/// by email to its manager and the report's `team_cc` (a team without a
/// manager is written, not emailed), and to the team's own Slack channel
/// and Teams webhook.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver_team(
    s: &Settings,
    r: &ReportSettings,
    team: &TeamDestinations<'_>,
    rendered: &Rendered,
    figures: &Figures,
    out_dir: &Path,
    opts: &RunOptions,
    store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let mut store = store;
    let log_key = format!("{}/teams/{}", r.name, team.team);
    let mut out = match team.manager {
        None => DeliveryOutcome::default(),
        Some(m) => {
            deliver_to(
                s,
                &log_key,
                &[m.to_string()],
                &r.team_cc,
                &[],
                rendered,
                figures,
                out_dir,
                opts,
                store.as_deref_mut(),
            )
            .await?
        }
    };
    let c = deliver_chat(
        s,
        &log_key,
        &team.chat.slack_channels,
        &team.chat.msteams,
        rendered,
        figures,
        opts,
        store,
    )
    .await?;
    merge(&mut out, c);
    Ok(out)
}

/// Delivers to the given recipients, exactly once per `log_key` (the
/// report's name, or `<report>/teams/<team>` for a team's report) and period.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver_to(
    s: &Settings,
    log_key: &str,
    to: &[String],
    cc: &[String],
    bcc: &[String],
    rendered: &Rendered,
    figures: &Figures,
    out_dir: &Path,
    opts: &RunOptions,
    store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let key = deliver::period_key(&figures.period, figures.as_of);
    let job = deliver::Job {
        report: log_key,
        period_key: &key,
        rendered,
        to,
        cc,
        bcc,
        out_dir,
        force: opts.force,
        dry_run: opts.dry_run,
    };
    deliver::deliver(&s.delivery, &job, store).await
}

/// Posts the report's summary to Slack channels and Teams webhooks,
/// exactly once per `log_key` (as for `deliver_to`), period and destination.
#[allow(clippy::too_many_arguments)]
pub(super) async fn deliver_chat(
    s: &Settings,
    log_key: &str,
    slack_channels: &[String],
    msteams: &[String],
    rendered: &Rendered,
    figures: &Figures,
    opts: &RunOptions,
    store: Option<&mut Store>,
) -> Result<DeliveryOutcome> {
    let key = deliver::period_key(&figures.period, figures.as_of);
    let chat = deliver::chat::ChatJob {
        report: log_key,
        period_key: &key,
        rendered,
        slack_channels,
        msteams,
        force: opts.force,
        dry_run: opts.dry_run,
    };
    deliver::chat::deliver(&s.slack, &s.msteams, &chat, store).await
}
