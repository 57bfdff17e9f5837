//! The report's charts as PNG bytes: the rep quadrant scatter (here), the
//! forecast and team bars (`bars`) and the forecast track record
//! (`track`). Drawn with plotters on an in-memory bitmap, with a font
//! built into the binary (Nanum Gothic, SIL OFL: Latin and Hangul glyphs),
//! so a chart looks the same on a machine with no fonts installed.
//! `chart_font` in the config replaces it.
//!
//! Charts are drawn at twice the size they are shown, for sharp text on
//! phones. Nothing here computes a figure: the data come from the model.

use super::format;
use super::labels::Labels;
use super::model::{f64_of, fill, method_name, Input, QUADRANTS};
use super::sections;
use super::view::{ChartData, ForecastBar, QuadrantPoint};
use crate::metrics::Method;
use crate::metrics::Quadrant;
use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

mod bars;
mod track;

pub use bars::{forecast, teams};
pub use track::track;

static EMBEDDED_FONT: &[u8] = include_bytes!("../../assets/fonts/NanumGothic.ttf");

/// Drawn at SCALE × the displayed size.
const SCALE: u32 = 2;
pub const QUADRANT_SIZE: (u32, u32) = (600, 380);

/// The data the charts draw.
pub fn data(i: &Input, t: &Labels) -> ChartData {
    let f = i.figures;
    let prev = f.previous.label();
    let points = f
        .reps
        .iter()
        .filter_map(|r| {
            Some(QuadrantPoint {
                name: r.name.clone(),
                attainment: f64_of(r.attainment?),
                change: f64_of(r.won_revenue - r.prev_won_revenue),
                quadrant: r.quadrant?,
            })
        })
        .collect();
    let bars = Method::ALL
        .into_iter()
        .filter_map(|m| {
            let v = f.forecasts.get(m)?;
            Some(ForecastBar {
                name: method_name(t, m),
                value: f64_of(v),
                label: format::money_short(i.currency, v),
            })
        })
        .collect();
    ChartData {
        currency: i.currency.to_string(),
        points,
        threshold: f64_of(i.rules.high_performer_attainment),
        quadrant_names: QUADRANTS.map(|q| t.get(&format!("{}_group", q.as_str()))),
        axis_attainment: t.get("axis_attainment"),
        axis_change: fill(&t.get("axis_change"), &[("previous", &prev)]),
        bars,
        quota: f.kpis.target_quota.map(|q| {
            (
                f64_of(q),
                format!(
                    "{} {}",
                    t.get("team_quota"),
                    format::money_short(i.currency, q)
                ),
            )
        }),
        track: sections::track_chart(i, t),
        teams: sections::team_bars(i, t),
        quota_line: format!("{} 100%", t.get("quota_line")),
    }
}

#[derive(Debug, Clone)]
pub struct Chart {
    /// File stem and Content-ID stem: `quadrant`, `forecast`, `track`, `teams`.
    pub name: &'static str,
    pub png: Vec<u8>,
    /// Displayed size, in CSS pixels.
    pub width: u32,
    pub height: u32,
}

/// A font registered with plotters under its own family name.
#[derive(Clone)]
pub struct ChartFont {
    family: String,
    bytes: &'static [u8],
    origin: String,
}

impl ChartFont {
    /// The built-in font, or the TrueType/OpenType file at `path`.
    pub fn load(path: Option<&Path>) -> Result<ChartFont> {
        static LOADED: OnceLock<Mutex<HashMap<Option<PathBuf>, ChartFont>>> = OnceLock::new();
        let mut loaded = LOADED
            .get_or_init(Default::default)
            .lock()
            .map_err(|_| anyhow!("chart font registry poisoned"))?;
        let key = path.map(Path::to_path_buf);
        if let Some(f) = loaded.get(&key) {
            return Ok(f.clone());
        }
        let (bytes, origin): (&'static [u8], String) = match path {
            None => (EMBEDDED_FONT, "the built-in Nanum Gothic".into()),
            Some(p) => {
                let b = std::fs::read(p).with_context(|| {
                    format!(
                        "chart_font: cannot read {}: give a .ttf or .otf file",
                        p.display()
                    )
                })?;
                // plotters keeps fonts for the life of the process; each
                // distinct path is read and kept once.
                (
                    Box::leak(b.into_boxed_slice()),
                    format!("chart_font {}", p.display()),
                )
            }
        };
        ab_glyph::FontRef::try_from_slice(bytes)
            .map_err(|_| anyhow!("{origin} is not a TrueType/OpenType font"))?;
        let family = format!("salesops-font-{}", loaded.len());
        plotters::style::register_font(&family, FontStyle::Normal, bytes)
            .map_err(|_| anyhow!("{origin} is not a TrueType/OpenType font"))?;
        let font = ChartFont {
            family,
            bytes,
            origin,
        };
        loaded.insert(key, font.clone());
        Ok(font)
    }

    /// Characters of `text` the font has no glyph for (drawn as boxes).
    pub fn missing_glyphs(&self, text: &str) -> Vec<char> {
        use ab_glyph::Font;
        let Ok(f) = ab_glyph::FontRef::try_from_slice(self.bytes) else {
            return text.chars().collect();
        };
        let mut out: Vec<char> = text
            .chars()
            .filter(|c| !c.is_whitespace() && f.glyph_id(*c).0 == 0)
            .collect();
        out.dedup();
        out
    }

    fn style(&self, size: u32, color: RGBColor) -> TextStyle<'_> {
        TextStyle {
            font: (self.family.as_str(), (size * SCALE) as f64).into_font(),
            color: color.to_backend_color(),
            pos: Pos::new(HPos::Left, VPos::Top),
        }
    }
}

const INK: RGBColor = RGBColor(0x1f, 0x29, 0x37);
const MUTED: RGBColor = RGBColor(0x6b, 0x72, 0x80);
const GRID: RGBColor = RGBColor(0xd1, 0xd5, 0xdb);
const BAR: RGBColor = RGBColor(0x25, 0x63, 0xeb);
const QUOTA: RGBColor = RGBColor(0xdc, 0x26, 0x26);

/// (shade, dot) colours of each quadrant.
fn colours(q: Quadrant) -> (RGBColor, RGBColor) {
    match q {
        Quadrant::RisingStar => (RGBColor(0xe7, 0xf6, 0xec), RGBColor(0x16, 0x80, 0x3d)),
        Quadrant::FallingStar => (RGBColor(0xfe, 0xf5, 0xe1), RGBColor(0xb4, 0x53, 0x09)),
        Quadrant::ImprovingLaggard => (RGBColor(0xe8, 0xf0, 0xfe), RGBColor(0x1d, 0x4e, 0xd8)),
        Quadrant::DecliningLaggard => (RGBColor(0xfd, 0xec, 0xec), RGBColor(0xb9, 0x1c, 0x1c)),
    }
}

fn encode_png(buf: &[u8], w: u32, h: u32) -> Result<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    use image::ImageEncoder;
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Default, FilterType::Adaptive)
        .write_image(buf, w, h, image::ColorType::Rgb8)
        .context("encoding a chart as PNG")?;
    Ok(out)
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing a chart: {e:?}")
}

/// Warns once per chart when a label cannot be drawn with the chart font.
fn check_glyphs<'a>(font: &ChartFont, texts: impl Iterator<Item = &'a str>) {
    let mut missing: Vec<char> = texts.flat_map(|t| font.missing_glyphs(t)).collect();
    missing.sort_unstable();
    missing.dedup();
    if !missing.is_empty() {
        tracing::warn!(
            "{} has no glyph for {:?}: those labels show as boxes; set chart_font to a font that covers them",
            font.origin,
            missing.iter().take(10).collect::<String>()
        );
    }
}

/// The quadrant chart: x = attainment, y = change in won revenue against
/// the previous period, the quadrants shaded and named, a labelled dot per rep.
pub fn quadrant(d: &ChartData, font: &ChartFont) -> Result<Chart> {
    let (w, h) = (QUADRANT_SIZE.0 * SCALE, QUADRANT_SIZE.1 * SCALE);
    check_glyphs(
        font,
        d.points
            .iter()
            .map(|p| p.name.as_str())
            .chain(d.quadrant_names.iter().map(String::as_str)),
    );
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw_quadrant(&root, d, font).map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Chart {
        name: "quadrant",
        png: encode_png(&buf, w, h)?,
        width: QUADRANT_SIZE.0,
        height: QUADRANT_SIZE.1,
    })
}

/// Charts with up to this many reps name every dot (the report lists up
/// to 40 names per quadrant too).
const EVERY_LABEL_UP_TO: usize = 40;

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_quadrant(root: &Area, d: &ChartData, font: &ChartFont) -> DrawResult {
    let s = SCALE as i32;
    let thr = d.threshold;
    let x_max = d
        .points
        .iter()
        .map(|p| p.attainment)
        .fold(thr * 1.5, f64::max)
        .max(0.5)
        * 1.12;
    let y_abs = d
        .points
        .iter()
        .map(|p| p.change.abs())
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.25;
    let cur = d.currency.clone();
    let mut chart = ChartBuilder::on(root)
        .margin(10 * s)
        .x_label_area_size(40 * s)
        .y_label_area_size(58 * s)
        .build_cartesian_2d(-x_max * 0.02..x_max, -y_abs..y_abs)?;
    let shade = |q: Quadrant, x0: f64, x1: f64, y0: f64, y1: f64| {
        Rectangle::new([(x0, y0), (x1, y1)], colours(q).0.filled())
    };
    chart.draw_series([
        shade(Quadrant::ImprovingLaggard, -x_max, thr, 0.0, y_abs),
        shade(Quadrant::RisingStar, thr, x_max, 0.0, y_abs),
        shade(Quadrant::DecliningLaggard, -x_max, thr, -y_abs, 0.0),
        shade(Quadrant::FallingStar, thr, x_max, -y_abs, 0.0),
    ])?;
    let x_fmt = |v: &f64| format::pct0(*v);
    let y_fmt = move |v: &f64| {
        format::money_short(
            &cur,
            rust_decimal::Decimal::from_f64_retain(*v).unwrap_or_default(),
        )
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc(d.axis_attainment.as_str())
        .y_desc(d.axis_change.as_str())
        .label_style(font.style(13, MUTED))
        .axis_desc_style(font.style(13, MUTED))
        .axis_style(GRID.stroke_width(SCALE))
        .draw()?;
    let line = GRID.stroke_width(SCALE);
    chart.draw_series([
        PathElement::new(vec![(thr, -y_abs), (thr, y_abs)], line),
        PathElement::new(vec![(-x_max, 0.0), (x_max, 0.0)], line),
    ])?;

    // Quadrant names in the outer corners.
    let pad = 8 * s;
    let name_style = |q: Quadrant, pos: Pos| font.style(14, colours(q).1).pos(pos);
    let corner = |x: f64, y: f64| chart.backend_coord(&(x, y));
    let corners = [
        (
            Quadrant::ImprovingLaggard,
            corner(-x_max * 0.02, y_abs),
            (pad, pad),
            HPos::Left,
            VPos::Top,
        ),
        (
            Quadrant::RisingStar,
            corner(x_max, y_abs),
            (-pad, pad),
            HPos::Right,
            VPos::Top,
        ),
        (
            Quadrant::DecliningLaggard,
            corner(-x_max * 0.02, -y_abs),
            (pad, -pad),
            HPos::Left,
            VPos::Bottom,
        ),
        (
            Quadrant::FallingStar,
            corner(x_max, -y_abs),
            (-pad, -pad),
            HPos::Right,
            VPos::Bottom,
        ),
    ];
    let mut taken: Vec<(i32, i32, i32, i32)> = Vec::new();
    for (q, (x, y), (dx, dy), hp, vp) in corners {
        let name = &d.quadrant_names[quadrant_index(q)];
        let style = name_style(q, Pos::new(hp, vp));
        let (tw, th) = root.estimate_text_size(name, &style)?;
        let (tx, ty) = (x + dx, y + dy);
        let x0 = if matches!(hp, HPos::Left) {
            tx
        } else {
            tx - tw as i32
        };
        let y0 = if matches!(vp, VPos::Top) {
            ty
        } else {
            ty - th as i32
        };
        taken.push((x0, y0, x0 + tw as i32, y0 + th as i32));
        root.draw(&Text::new(name.clone(), (tx, ty), style))?;
    }

    // Dots first, then labels placed where they do not overlap.
    let dots: Vec<((i32, i32), &QuadrantPoint)> = d
        .points
        .iter()
        .map(|p| (chart.backend_coord(&(p.attainment, p.change)), p))
        .collect();
    let r = 5 * s;
    for ((x, y), p) in &dots {
        let c = colours(p.quadrant).1;
        root.draw(&Circle::new((*x, *y), r, c.filled()))?;
        root.draw(&Circle::new((*x, *y), r, WHITE.stroke_width(SCALE)))?;
        taken.push((x - r, y - r, x + r, y + r));
    }
    let area = chart.plotting_area().get_pixel_range();
    let label_style = font.style(13, INK);
    // Up to `EVERY_LABEL_UP_TO` reps every dot is named, moved where it is
    // least crowded. Beyond, a label only goes where it covers no other
    // label or dot, the reps furthest from the quadrants' crossing first:
    // hundreds of names drawn over one another named no one (and took
    // longer to draw and compress than the rest of the report).
    let crowded = dots.len() > EVERY_LABEL_UP_TO;
    let mut order: Vec<usize> = (0..dots.len()).collect();
    if crowded {
        let far =
            |p: &QuadrantPoint| ((p.attainment - thr) / x_max).powi(2) + (p.change / y_abs).powi(2);
        order.sort_by(|&a, &b| far(dots[b].1).total_cmp(&far(dots[a].1)));
    }
    for ((x, y), p) in order.into_iter().map(|i| &dots[i]) {
        let (tw, th) = root.estimate_text_size(&p.name, &label_style)?;
        let (tw, th) = (tw as i32 + 2 * s, th as i32 + 2 * s);
        let spot = Spot {
            dot: (*x, *y),
            size: (tw, th),
            gap: r + 3 * s,
        };
        let Some(at) = place_label(&spot, &area, &taken, crowded) else {
            continue;
        };
        taken.push((at.0, at.1, at.0 + tw, at.1 + th));
        // A label moved away from its dot gets a thin line back to it.
        let (lx, ly) = (if at.0 > *x { at.0 } else { at.0 + tw }, at.1 + th / 2);
        if (ly - y).abs() > th {
            root.draw(&PathElement::new(
                vec![(*x, *y), (lx, ly)],
                MUTED.stroke_width(1),
            ))?;
        }
        root.draw(&Text::new(
            p.name.clone(),
            (at.0 + s, at.1 + s),
            label_style.pos(Pos::new(HPos::Left, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// A label to place: its dot, its box's size, its distance from the dot.
struct Spot {
    dot: (i32, i32),
    size: (i32, i32),
    gap: i32,
}

/// Where a label's box goes (its top-left corner): beside its dot first,
/// then stepped up and down away from it, the first place inside `area`
/// that covers nothing `taken`; failing that, the least crowded place, or
/// in a `crowded` chart none (and only places near the dot are tried).
fn place_label(
    spot: &Spot,
    area: &(std::ops::Range<i32>, std::ops::Range<i32>),
    taken: &[(i32, i32, i32, i32)],
    crowded: bool,
) -> Option<(i32, i32)> {
    let ((x, y), (tw, th), gap) = (spot.dot, spot.size, spot.gap);
    let mut candidates = vec![
        (x + gap, y - th / 2),
        (x - gap - tw, y - th / 2),
        (x - tw / 2, y - gap - th),
        (x - tw / 2, y + gap),
    ];
    let steps = if crowded { 2 } else { 8 };
    for k in 1..=steps {
        for dy in [-k * th, k * th] {
            candidates.push((x + gap, y - th / 2 + dy));
            candidates.push((x - gap - tw, y - th / 2 + dy));
        }
    }
    let inside = |(x0, y0): (i32, i32)| {
        x0 >= area.0.start && x0 + tw <= area.0.end && y0 >= area.1.start && y0 + th <= area.1.end
    };
    let overlap = |(x0, y0): (i32, i32)| -> i64 {
        taken
            .iter()
            .map(|b| {
                let w = (x0 + tw).min(b.2) - x0.max(b.0);
                let h = (y0 + th).min(b.3) - y0.max(b.1);
                if w > 0 && h > 0 {
                    w as i64 * h as i64
                } else {
                    0
                }
            })
            .sum()
    };
    let mut places = candidates.iter().copied().filter(|c| inside(*c));
    if crowded {
        return places.find(|c| overlap(*c) == 0);
    }
    // The first of the least covered (the first free one when there is).
    places.min_by_key(|c| overlap(*c)).or(Some(candidates[0]))
}

/// A round step near `raw`: 1, 2, 2.5 or 5 times a power of ten.
fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|v| *v >= raw)
        .unwrap_or(10.0 * p)
}

fn quadrant_index(q: Quadrant) -> usize {
    match q {
        Quadrant::RisingStar => 0,
        Quadrant::FallingStar => 1,
        Quadrant::ImprovingLaggard => 2,
        Quadrant::DecliningLaggard => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::view::{TeamBar, TrackChart, TrackSeries};

    fn data(names: &[&str]) -> ChartData {
        ChartData {
            currency: "USD".into(),
            points: names
                .iter()
                .enumerate()
                .map(|(i, n)| QuadrantPoint {
                    name: n.to_string(),
                    attainment: 0.5 + i as f64 * 0.4,
                    change: 1000.0 - i as f64 * 900.0,
                    quadrant: if i == 0 {
                        Quadrant::ImprovingLaggard
                    } else {
                        Quadrant::FallingStar
                    },
                })
                .collect(),
            threshold: 1.0,
            quadrant_names: ["Rising stars", "Falling stars", "Improving", "Declining"]
                .map(String::from),
            axis_attainment: "Attainment".into(),
            axis_change: "Change".into(),
            bars: vec![ForecastBar {
                name: "단계 가중 예측".into(),
                value: 120_000.0,
                label: "$120K".into(),
            }],
            quota: Some((100_000.0, "Team quota $100K".into())),
            track: TrackChart::default(),
            teams: vec![],
            quota_line: "Quota 100%".into(),
        }
    }

    /// Beside the dot when that is free; elsewhere near it when not; when
    /// every place is covered, the least crowded one, or none at all in a
    /// crowded chart.
    #[test]
    fn labels_go_where_they_cover_nothing_or_not_at_all_when_crowded() {
        let area = (0..1000, 0..1000);
        let spot = Spot {
            dot: (500, 500),
            size: (100, 20),
            gap: 10,
        };
        for crowded in [false, true] {
            assert_eq!(place_label(&spot, &area, &[], crowded), Some((510, 490)));
            // The right-hand place taken: the left-hand one.
            let right = [(505, 480, 700, 520)];
            assert_eq!(place_label(&spot, &area, &right, crowded), Some((390, 490)));
        }
        // Everything around the dot taken.
        let all = [(0, 0, 1000, 1000)];
        assert_eq!(place_label(&spot, &area, &all, true), None);
        assert_eq!(place_label(&spot, &area, &all, false), Some((510, 490)));
        // Near the dot only, in a crowded chart: a place five steps below
        // is tried in a small chart, not in a crowded one.
        let near = [(300, 400, 720, 580)];
        assert_eq!(place_label(&spot, &area, &near, true), None);
        assert_eq!(place_label(&spot, &area, &near, false), Some((510, 590)));
    }

    /// Five hundred reps: the labels that would cover others are left out.
    /// With every name drawn over the others this chart's PNG was 660 KB,
    /// 21 times that of a three-rep chart; with them left out, under 8.
    #[test]
    fn a_crowded_quadrant_chart_leaves_out_labels_that_would_cover_others() {
        let names: Vec<String> = (0..500).map(|i| format!("Rep {i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut d = data(&names);
        for (i, p) in d.points.iter_mut().enumerate() {
            p.attainment = (i % 25) as f64 * 0.1;
            p.change = (i / 25) as f64 * 100.0 - 1000.0;
        }
        let font = ChartFont::load(None).unwrap();
        let chart = quadrant(&d, &font).unwrap();
        let few = quadrant(&data(&names[..3]), &font).unwrap();
        assert!(
            chart.png.len() < 8 * few.png.len(),
            "{} bytes against {}",
            chart.png.len(),
            few.png.len()
        );
    }

    fn pixels(png: &[u8]) -> image::RgbImage {
        image::load_from_memory(png).unwrap().to_rgb8()
    }

    #[test]
    fn the_built_in_font_has_hangul() {
        let f = ChartFont::load(None).unwrap();
        assert!(f
            .missing_glyphs("김민지 이서연 Kim Min-ji $1,234 ▲%")
            .is_empty());
        // A character no font of ours covers is reported, not hidden.
        assert_eq!(f.missing_glyphs("\u{10FFFD}"), vec!['\u{10FFFD}']);
    }

    /// The same chart with two different Hangul names must differ where
    /// the label is drawn: a font without Hangul draws both as the same
    /// boxes (or nothing), and this fails.
    #[test]
    fn hangul_rep_names_are_drawn_as_glyphs() {
        let f = ChartFont::load(None).unwrap();
        let a = pixels(&quadrant(&data(&["김민지", "Park"]), &f).unwrap().png);
        let b = pixels(&quadrant(&data(&["이서연", "Park"]), &f).unwrap().png);
        assert_eq!(a.dimensions(), (1200, 760));
        let diff: Vec<(u32, u32)> = a
            .enumerate_pixels()
            .filter(|(x, y, p)| b.get_pixel(*x, *y) != *p)
            .map(|(x, y, _)| (x, y))
            .collect();
        assert!(diff.len() > 200, "only {} pixels differ", diff.len());
        // All the difference is in one small box: the label beside the dot.
        let (x0, x1) = (
            diff.iter().map(|p| p.0).min().unwrap(),
            diff.iter().map(|p| p.0).max().unwrap(),
        );
        let (y0, y1) = (
            diff.iter().map(|p| p.1).min().unwrap(),
            diff.iter().map(|p| p.1).max().unwrap(),
        );
        assert!(
            x1 - x0 < 140 && y1 - y0 < 50,
            "label box {x0}..{x1} × {y0}..{y1}"
        );
        // Dark ink is drawn there (text, not a blank).
        let dark = (x0..=x1)
            .flat_map(|x| (y0..=y1).map(move |y| (x, y)))
            .filter(|(x, y)| a.get_pixel(*x, *y).0.iter().all(|c| *c < 120))
            .count();
        assert!(dark > 50, "{dark} dark pixels in the label box");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_step(131_000.0), 200_000.0);
        assert_eq!(nice_step(21_000.0), 25_000.0);
        assert_eq!(nice_step(0.9), 1.0);
    }

    #[test]
    fn forecast_chart_has_a_row_per_bar() {
        let f = ChartFont::load(None).unwrap();
        let c = forecast(&data(&[]), &f).unwrap();
        assert_eq!((c.width, c.height), (440, 112));
        assert_eq!(pixels(&c.png).dimensions(), (880, 224));
    }

    fn track_data(first: &str) -> ChartData {
        let mut d = data(&[]);
        d.track = TrackChart {
            periods: vec!["2026-05".into(), "2026-06".into(), "2026-07".into()],
            series: vec![
                TrackSeries {
                    index: 0,
                    name: first.into(),
                    points: vec![Some((0.8, true)), None, Some((0.9, false))],
                },
                TrackSeries {
                    index: 3,
                    name: "최선 시나리오".into(),
                    points: vec![Some((0.4, true)), Some((0.5, false)), Some((0.45, false))],
                },
            ],
            hollow_note: "빈 원: 재구성".into(),
        };
        d.teams = vec![
            TeamBar {
                name: first.into(),
                value: Some(1.3),
                label: "130%".into(),
            },
            TeamBar {
                name: "Inside Sales".into(),
                value: None,
                label: "목표 없음".into(),
            },
        ];
        d
    }

    /// Pixels where two charts differ, as a bounding box.
    fn diff_box(a: &image::RgbImage, b: &image::RgbImage) -> Option<(u32, u32, u32, u32)> {
        assert_eq!(a.dimensions(), b.dimensions());
        let d: Vec<(u32, u32)> = a
            .enumerate_pixels()
            .filter(|(x, y, p)| b.get_pixel(*x, *y) != *p)
            .map(|(x, y, _)| (x, y))
            .collect();
        Some((
            d.iter().map(|p| p.0).min()?,
            d.iter().map(|p| p.1).min()?,
            d.iter().map(|p| p.0).max()?,
            d.iter().map(|p| p.1).max()?,
        ))
    }

    #[test]
    fn track_chart_names_each_method_in_hangul_under_the_plot() {
        let f = ChartFont::load(None).unwrap();
        let c = track(&track_data("단계 가중 예측"), &f).unwrap();
        // Two methods and the hollow-dot note: two legend rows.
        assert_eq!((c.width, c.height), (440, 230 + 8 + 2 * 24 + 6));
        let a = pixels(&c.png);
        assert_eq!(a.dimensions(), (880, 2 * c.height));
        let b = pixels(&track(&track_data("영업 주기 모델"), &f).unwrap().png);
        // Only the first legend entry differs: the name is drawn as glyphs.
        let (x0, y0, x1, y1) = diff_box(&a, &b).expect("different names draw differently");
        assert!(
            y0 >= 2 * 230,
            "the difference is in the legend, not the plot: {y0}"
        );
        assert!(
            x1 < 440 && y1 - y0 < 40,
            "one entry: {x0}..{x1} × {y0}..{y1}"
        );
    }

    #[test]
    fn team_chart_has_a_row_per_team_and_hangul_names() {
        let f = ChartFont::load(None).unwrap();
        let c = teams(&track_data("부산 SMB"), &f).unwrap();
        assert_eq!(
            (c.name, c.width, c.height),
            ("teams", 440, 40 + 2 * 36 + 36)
        );
        let a = pixels(&c.png);
        let b = pixels(&teams(&track_data("서울 SMB"), &f).unwrap().png);
        let (x0, _, x1, _) = diff_box(&a, &b).expect("different names draw differently");
        assert!(x1 - x0 < 80, "only the differing syllable: {x0}..{x1}");
    }

    #[test]
    fn a_missing_chart_font_file_names_the_key() {
        let err = ChartFont::load(Some(Path::new("/nonexistent/font.ttf")))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.starts_with("chart_font: cannot read /nonexistent/font.ttf"),
            "{err}"
        );
    }
}
