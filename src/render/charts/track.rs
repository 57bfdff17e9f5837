//! The forecast track record chart: each method's accuracy over the last
//! finished periods, with the legend under the plot.

use super::{check_glyphs, encode_png, plot_err, Area, Chart, ChartFont, DrawResult};
use super::{GRID, INK, MUTED, SCALE};
use crate::render::format;
use crate::render::view::{ChartData, TrackChart};
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The track record chart, narrower than the page with larger words so
/// that a phone (about 336 px) keeps them readable.
pub const TRACK_WIDTH: u32 = 440;
const TRACK_PLOT_HEIGHT: u32 = 230;

/// One colour per forecast method, in `Method::ALL` order (the legend and
/// the lines of the track record).
const METHOD_COLOURS: [RGBColor; 5] = [
    RGBColor(0x25, 0x63, 0xeb),
    RGBColor(0xea, 0x58, 0x0c),
    RGBColor(0x16, 0xa3, 0x4a),
    RGBColor(0x93, 0x33, 0xea),
    RGBColor(0x0e, 0x74, 0x90),
];

/// Size of the words of the track chart, and the height of a legend row.
const TRACK_TEXT: u32 = 16;
const LEGEND_ROW: u32 = 24;

/// Rows of the legend under the track chart (two entries a row).
fn legend_rows(tc: &TrackChart) -> u32 {
    let items = tc.series.len() + usize::from(!tc.hollow_note.is_empty());
    items.div_ceil(2) as u32
}

/// The track record: one line per method, accuracy (0–100 %) per period,
/// oldest on the left; a hollow dot is a reconstructed forecast; the
/// legend sits under the chart so the plot keeps the full width on a phone.
pub fn track(d: &ChartData, font: &ChartFont) -> Result<Chart> {
    let tc = &d.track;
    let height = TRACK_PLOT_HEIGHT + 8 + legend_rows(tc) * LEGEND_ROW + 6;
    let (w, h) = (TRACK_WIDTH * SCALE, height * SCALE);
    check_glyphs(
        font,
        tc.series
            .iter()
            .map(|s| s.name.as_str())
            .chain(std::iter::once(tc.hollow_note.as_str())),
    );
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_track(&root, tc, font).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Chart {
        name: "track",
        png: encode_png(&buf, w, h)?,
        width: TRACK_WIDTH,
        height,
    })
}

fn draw_track(root: &Area, tc: &TrackChart, font: &ChartFont) -> DrawResult {
    let s = SCALE as i32;
    let (plot, legend) = root.split_vertically((TRACK_PLOT_HEIGHT * SCALE) as i32);
    let n = tc.periods.len().max(1);
    let x_max = (n as f64 - 1.0).max(0.0) + 0.35;
    let mut chart = ChartBuilder::on(&plot)
        .margin(10 * s)
        .margin_right(18 * s)
        .x_label_area_size(44 * s)
        .y_label_area_size(50 * s)
        .build_cartesian_2d(-0.35..x_max, 0.0..1.04)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(6)
        .y_label_formatter(&|v: &f64| format::pct0(*v))
        .label_style(font.style(TRACK_TEXT, MUTED))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(WHITE)
        .axis_style(GRID.stroke_width(SCALE))
        .draw()?;
    // Period names under their points, drawn here so each sits exactly
    // under its column: "12" over "2025", then "01" over "2026", "02"...
    // (the year only where it changes), so seven fit on a phone.
    let mut year = "";
    for (k, p) in tc.periods.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(k as f64, 0.0));
        let (y, part) = p.split_once('-').unwrap_or(("", p.as_str()));
        let style = font
            .style(TRACK_TEXT, MUTED)
            .pos(Pos::new(HPos::Center, VPos::Top));
        plot.draw(&Text::new(
            part.to_string(),
            (px, py + 7 * s),
            style.clone(),
        ))?;
        if y != year {
            plot.draw(&Text::new(y.to_string(), (px, py + 25 * s), style))?;
            year = y;
        }
    }
    let r = 5 * s;
    for series in &tc.series {
        let c = METHOD_COLOURS[series.index % METHOD_COLOURS.len()];
        // Lines join neighbouring periods that both have an accuracy.
        for pair in series.points.windows(2).enumerate() {
            if let (k, [Some((a, _)), Some((b, _))]) = pair {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(k as f64, *a), (k as f64 + 1.0, *b)],
                    c.stroke_width(2 * SCALE),
                )))?;
            }
        }
        for (k, p) in series.points.iter().enumerate() {
            let Some((v, rebuilt)) = p else { continue };
            let at = chart.backend_coord(&(k as f64, *v));
            if *rebuilt {
                plot.draw(&Circle::new(at, r, WHITE.filled()))?;
                plot.draw(&Circle::new(at, r, c.stroke_width(2 * SCALE)))?;
            } else {
                plot.draw(&Circle::new(at, r, c.filled()))?;
            }
        }
    }
    // The legend: two entries a row.
    let (lw, _) = legend.dim_in_pixel();
    let col_w = (lw as i32 - 20 * s) / 2;
    let style = font.style(TRACK_TEXT, INK);
    let row = LEGEND_ROW as i32 * s;
    let entry = |i: usize| {
        (
            10 * s + (i as i32 % 2) * col_w,
            (i as i32 / 2) * row + row / 2,
        )
    };
    for (i, series) in tc.series.iter().enumerate() {
        let c = METHOD_COLOURS[series.index % METHOD_COLOURS.len()];
        let (x0, cy) = entry(i);
        legend.draw(&PathElement::new(
            vec![(x0, cy), (x0 + 24 * s, cy)],
            c.stroke_width(2 * SCALE),
        ))?;
        legend.draw(&Circle::new((x0 + 12 * s, cy), r, c.filled()))?;
        legend.draw(&Text::new(
            series.name.clone(),
            (x0 + 32 * s, cy),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    if !tc.hollow_note.is_empty() {
        let (x0, cy) = entry(tc.series.len());
        legend.draw(&Circle::new(
            (x0 + 12 * s, cy),
            r,
            MUTED.stroke_width(2 * SCALE),
        ))?;
        legend.draw(&Text::new(
            tc.hollow_note.clone(),
            (x0 + 32 * s, cy),
            font.style(TRACK_TEXT, MUTED)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
