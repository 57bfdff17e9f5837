//! Horizontal bar charts: the five forecasts against the team quota, and
//! attainment by team against 100 % of quota.

use super::{check_glyphs, encode_png, nice_step, plot_err, Area, Chart, ChartFont, DrawResult};
use super::{BAR, GRID, INK, MUTED, QUOTA, SCALE};
use crate::render::format;
use crate::render::view::ChartData;
use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The forecast and team bars are narrower than the page, with larger
/// words, so that they stay readable when a phone shrinks them.
pub const FORECAST_WIDTH: u32 = 440;
pub const TEAMS_WIDTH: u32 = 440;

/// Sizes of a horizontal bar chart, in displayed pixels.
#[derive(Clone, Copy)]
struct BarSizes {
    width: u32,
    row: u32,
    name: u32,
    value: u32,
    tick: u32,
}

const FORECAST_SIZES: BarSizes = BarSizes {
    width: FORECAST_WIDTH,
    row: 36,
    name: 16,
    value: 15,
    tick: 14,
};

const TEAMS_SIZES: BarSizes = BarSizes {
    width: TEAMS_WIDTH,
    ..FORECAST_SIZES
};

/// A row of a horizontal bar chart; no value draws only the label.
struct HBar<'a> {
    name: &'a str,
    value: Option<f64>,
    label: &'a str,
}

/// The forecast chart: one bar per method, the team quota as a line.
pub fn forecast(d: &ChartData, font: &ChartFont) -> Result<Chart> {
    let rows: Vec<HBar> = d
        .bars
        .iter()
        .map(|b| HBar {
            name: &b.name,
            value: Some(b.value),
            label: &b.label,
        })
        .collect();
    let cur = d.currency.clone();
    let tick = move |v: f64| {
        format::money_short(
            &cur,
            rust_decimal::Decimal::from_f64_retain(v).unwrap_or_default(),
        )
    };
    let quota = d.quota.as_ref().map(|(v, l)| (*v, l.as_str()));
    hbars("forecast", &rows, quota, &tick, font, FORECAST_SIZES)
}

/// Attainment by team: one bar per team, 100 % of quota as a line; a team
/// without quota has its name and "no quota" and no bar.
pub fn teams(d: &ChartData, font: &ChartFont) -> Result<Chart> {
    let rows: Vec<HBar> = d
        .teams
        .iter()
        .map(|b| HBar {
            name: &b.name,
            value: b.value,
            label: &b.label,
        })
        .collect();
    hbars(
        "teams",
        &rows,
        Some((1.0, d.quota_line.as_str())),
        &|v| format::pct0(v),
        font,
        TEAMS_SIZES,
    )
}

fn hbars(
    name: &'static str,
    rows: &[HBar],
    line: Option<(f64, &str)>,
    tick: &dyn Fn(f64) -> String,
    font: &ChartFont,
    z: BarSizes,
) -> Result<Chart> {
    let n = rows.len().max(1) as u32;
    let height = 40 + n * z.row + 36;
    let (w, h) = (z.width * SCALE, height * SCALE);
    check_glyphs(font, rows.iter().map(|b| b.name));
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_hbars(&root, rows, line, tick, font, z, (w as i32, h as i32)).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Chart {
        name,
        png: encode_png(&buf, w, h)?,
        width: z.width,
        height,
    })
}

fn draw_hbars(
    root: &Area,
    rows: &[HBar],
    line: Option<(f64, &str)>,
    tick: &dyn Fn(f64) -> String,
    font: &ChartFont,
    z: BarSizes,
    (w, h): (i32, i32),
) -> DrawResult {
    let s = SCALE as i32;
    let name_style = font.style(z.name, INK);
    let value_style = font.style(z.value, INK);
    let tick_style = font.style(z.tick, MUTED);
    let mut name_w = 0;
    for b in rows {
        name_w = name_w.max(root.estimate_text_size(b.name, &name_style)?.0 as i32);
    }
    let left = name_w + 20 * s;
    let right = w - 70 * s;
    let (top, bottom) = (36 * s, h - 30 * s);
    let top_value = rows
        .iter()
        .filter_map(|b| b.value)
        .chain(line.map(|l| l.0))
        .fold(1.0, f64::max);
    let step = nice_step(top_value / 4.0);
    let max = (top_value / step).ceil() * step;
    let x = |v: f64| left + ((v.max(0.0) / max) * (right - left) as f64).round() as i32;

    // Gridlines and ticks on round values.
    let mut v = 0.0;
    while v <= max + step / 2.0 {
        let px = x(v);
        root.draw(&PathElement::new(
            vec![(px, top), (px, bottom)],
            GRID.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            tick(v),
            (px, bottom + 6 * s),
            tick_style.pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        v += step;
    }
    // The reference line goes behind the bars, its label above them.
    if let Some((q, label)) = line {
        let px = x(q);
        let dash = 8 * s;
        let mut y = top - 6 * s;
        while y < bottom {
            root.draw(&PathElement::new(
                vec![(px, y), (px, (y + dash).min(bottom))],
                QUOTA.stroke_width(2 * SCALE),
            ))?;
            y += dash * 2;
        }
        let anchor = if px > w / 2 { HPos::Right } else { HPos::Left };
        let dx = if matches!(anchor, HPos::Right) {
            -6 * s
        } else {
            6 * s
        };
        root.draw(&Text::new(
            label.to_string(),
            (px + dx, 8 * s),
            font.style(z.value, QUOTA).pos(Pos::new(anchor, VPos::Top)),
        ))?;
    }
    let row_h = (bottom - top) / rows.len().max(1) as i32;
    for (i, b) in rows.iter().enumerate() {
        let cy = top + row_h * i as i32 + row_h / 2;
        let bh = (row_h as f64 * 0.6) as i32;
        root.draw(&Text::new(
            b.name.to_string(),
            (left - 10 * s, cy),
            name_style.pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
        let (vx, style) = match b.value {
            Some(v) => {
                root.draw(&Rectangle::new(
                    [(left, cy - bh / 2), (x(v).max(left + s), cy + bh / 2)],
                    BAR.filled(),
                ))?;
                (x(v) + 6 * s, value_style.clone())
            }
            None => (left + 6 * s, font.style(z.value, MUTED)),
        };
        // A white backing keeps the value readable over the reference line.
        let (tw, th) = root.estimate_text_size(b.label, &style)?;
        root.draw(&Rectangle::new(
            [
                (vx - 2 * s, cy - th as i32 / 2 - s),
                (vx + tw as i32 + 2 * s, cy + th as i32 / 2 + s),
            ],
            WHITE.filled(),
        ))?;
        root.draw(&Text::new(
            b.label.to_string(),
            (vx, cy),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}
