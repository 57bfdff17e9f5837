//! Rendering: figures → the report people read. Builds the view model,
//! draws the charts, runs the tera templates and inlines the CSS, giving
//! the email body (charts by `cid:`), the same page with the charts
//! embedded (report.html, opens alone in a browser), the plain text, the
//! subject and the rep CSV.
//!
//! Computes no figure and sends nothing; the only I/O is reading
//! `templates_dir` and `chart_font`.

pub(crate) mod charts;
mod csv;
pub mod format;
pub(crate) mod labels;
pub(crate) mod model;
mod sections;
pub mod summary;
pub(crate) mod templates;
pub(crate) mod view;

use anyhow::{Context, Result};
use base64::Engine;
use std::path::Path;

pub use charts::Chart;
pub use model::{Input, Rules};
pub use summary::Summary;

/// Where the layout and the chart font may come from (the config's
/// `templates_dir`, `chart_font` and the report's `subject`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options<'a> {
    pub templates_dir: Option<&'a Path>,
    pub chart_font: Option<&'a Path>,
    pub subject: Option<&'a str>,
    /// The public URL of the report's folder, ending in `/`
    /// (`public_base_url`); messages link to report.html in it.
    pub public_dir: Option<&'a str>,
}

/// Everything a report run writes and sends.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    /// The email body: charts referenced as `cid:<name>@salesops.report`.
    pub html_email: String,
    /// report.html: the same page with the charts as data URIs.
    pub html_file: String,
    pub charts: Vec<Chart>,
    pub csv_name: String,
    pub csv: Vec<u8>,
    /// What Slack and Teams messages say.
    pub summary: Summary,
}

/// The Content-ID of a chart in the email (without angle brackets).
pub fn content_id(chart: &Chart) -> String {
    format!("{}@salesops.report", chart.name)
}

impl Rendered {
    /// The files written next to report.json.
    pub fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = vec![
            (
                "report.html".to_string(),
                self.html_file.clone().into_bytes(),
            ),
            ("report.txt".to_string(), self.text.clone().into_bytes()),
        ];
        for c in &self.charts {
            out.push((format!("{}.png", c.name), c.png.clone()));
        }
        out.push((self.csv_name.clone(), self.csv.clone()));
        out
    }
}

/// Renders one report (on the render thread, whose stack bounds how deep
/// a user template may recurse).
pub fn render(input: &Input, opts: &Options) -> Result<Rendered> {
    templates::on_render_thread(|| render_here(input, opts))
}

fn render_here(input: &Input, opts: &Options) -> Result<Rendered> {
    let custom = templates::labels_override(opts.templates_dir)?;
    let t = labels::Labels::load(
        input.locale,
        custom
            .as_ref()
            .map(|(text, origin)| (text.as_str(), origin.as_str())),
    )?;
    let mut view = model::build(input, &t);
    view.report_url = opts.public_dir.map(|d| format!("{d}report.html"));
    let data = charts::data(input, &t);
    let font = charts::ChartFont::load(opts.chart_font)?;
    // The track record and team charts only when they have something to draw.
    type Draw = fn(&view::ChartData, &charts::ChartFont) -> Result<Chart>;
    let mut draws: Vec<Draw> = vec![charts::quadrant, charts::forecast];
    if !data.track.series.is_empty() {
        draws.push(charts::track);
    }
    if data.teams.iter().any(|b| b.value.is_some()) {
        draws.push(charts::teams);
    }
    let ctx = |view: &view::View| tera::Context::from_serialize(view).context("the view model");
    // Each chart drawn and compressed on a thread of its own: a report's
    // charts take as long as the slowest, not as long as all of them.
    // Meanwhile this thread loads the templates and renders what shows no
    // chart (the subject and the text version).
    let (charts, early) = std::thread::scope(|scope| {
        let drawn: Vec<_> = draws
            .iter()
            .map(|draw| scope.spawn(|| draw(&data, &font)))
            .collect();
        let early = (|| -> Result<(tera::Tera, String, String)> {
            let tera = templates::load(opts.templates_dir, opts.subject)?;
            let subject = templates::render(&tera, "subject.txt", &ctx(&view)?)?
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let text = templates::render(&tera, "report.txt", &ctx(&view)?)?;
            Ok((tera, subject, text))
        })();
        let charts = drawn
            .into_iter()
            .map(|h| h.join().expect("drawing a chart panicked"))
            .collect::<Result<Vec<Chart>>>();
        (charts, early)
    });
    let charts = charts?;
    let (tera, subject, text) = early?;
    let alts = [
        ("quadrant", t.get("chart_quadrant_alt")),
        (
            "forecast",
            model::fill(
                &t.get("chart_forecast_alt"),
                &[("target", &input.figures.forecasts.target.label())],
            ),
        ),
        (
            "track",
            model::fill(
                &t.get("chart_track_alt"),
                &[("n", &data.track.periods.len().to_string())],
            ),
        ),
        ("teams", t.get("chart_teams_alt")),
    ];
    let chart_refs = |src: &dyn Fn(&Chart) -> String| {
        charts
            .iter()
            .map(|c| {
                let alt = alts
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, a)| a.clone())
                    .unwrap_or_default();
                let r = view::ChartRef {
                    src: src(c),
                    width: c.width,
                    height: c.height,
                    alt,
                };
                (c.name.to_string(), r)
            })
            .collect()
    };

    let inliner = css_inline::CSSInliner::options()
        .keep_at_rules(true)
        .minify_css(true)
        .load_remote_stylesheets(false)
        .build();
    let html = |view: &view::View| -> Result<String> {
        let raw = templates::render(&tera, "report.html", &ctx(view)?)?;
        inliner
            .inline(&raw)
            .context("inlining the CSS of report.html")
    };
    view.charts = chart_refs(&|c| format!("cid:{}", content_id(c)));
    let html_email = html(&view)?;
    let summary = summary::summary_from(&view, input.figures, &t, opts.public_dir);
    view.charts = chart_refs(&|c| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&c.png)
        )
    });
    let html_file = html(&view)?;

    // A NUL from the CRM (in a name) is written as U+FFFD: no reader of
    // text, CSV or mail expects one.
    let nul = |s: String| s.replace('\0', "\u{fffd}");
    Ok(Rendered {
        subject: nul(subject),
        text: nul(text),
        html_email: nul(html_email),
        html_file: nul(html_file),
        charts,
        csv_name: view.csv_name.clone(),
        csv: nul(String::from_utf8_lossy(&csv::reps_csv(input.figures)).into_owned()).into_bytes(),
        summary,
    })
}
