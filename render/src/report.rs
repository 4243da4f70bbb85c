//! `--report`: a PNG with the bed's level change over time (speech shaded) and a time x band
//! heat map of the masking overlap before and after ducking.
//!
//! Drawn on a plain RGB raster and encoded with `png`. Text is set in Ubuntu Light, the editor's
//! own typeface (egui's default font, embedded by the `epaint_default_fonts` crate, Ubuntu Font
//! Licence), rasterised with anti-aliasing and kerning by `ab_glyph`: no font file on the
//! machine is needed, so a render on a bare CI box draws the same picture. Colours: the heat maps use viridis
//! (perceptually uniform, readable in grey and with the common colour-vision deficiencies);
//! the curve and shading use the Okabe-Ito vermillion and bluish green, as the editor does.

use std::path::Path;

use ab_glyph::{Font, FontRef, GlyphId, PxScale, ScaleFont, point};

use crate::error::RenderError;
use crate::job::RenderReport;
use crate::stats::Summary;
use crate::timecode::Timing;
use underscore_dsp::settings::Choice;

type Rgb = [u8; 3];

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];
const AXIS: Rgb = [90, 90, 90];
/// Okabe-Ito vermillion: the reduction curve.
const VERMILLION: Rgb = [213, 94, 0];
/// Okabe-Ito bluish green, lightened: speech regions.
const SPEECH: Rgb = [178, 226, 212];
/// Heat-map columns without speech (nothing to mask).
const NO_SPEECH: Rgb = [210, 210, 210];
/// Top of the overlap colour scale, dB. Overlap is how far a band misses Clarity (against the
/// dialogue's mean level) where the engine acts: on the shared scenes at the default Clarity
/// (25 dB) it reaches 25-30 dB before ducking in the densest music and Depth (10 dB) less
/// after, so a 30 dB scale shows the change without saturating.
const OVERLAP_MAX_DB: f32 = 30.0;

/// Viridis at 0, 0.1, ..., 1 (matplotlib's values).
const VIRIDIS: [Rgb; 11] = [
    [68, 1, 84],
    [72, 36, 117],
    [65, 68, 135],
    [53, 95, 141],
    [42, 120, 142],
    [33, 145, 140],
    [34, 168, 132],
    [68, 191, 112],
    [122, 209, 81],
    [189, 223, 38],
    [253, 231, 37],
];

/// Viridis colour for `t` in 0..=1.
pub fn viridis(t: f32) -> Rgb {
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * 10.0;
    let i = (x.floor() as usize).min(9);
    let f = x - i as f32;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    std::array::from_fn(|k| (a[k] as f32 + f * (b[k] as f32 - a[k] as f32)).round() as u8)
}

/// Body text size, px (axis labels, legends, panel titles): about 9 px capitals, readable at
/// 100 % zoom on the 1200 px wide picture.
const BODY_PX: f32 = 14.0;
/// Title size, px.
const TITLE_PX: f32 = 24.0;

/// An RGB raster with the report's typeface.
struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
    font: FontRef<'static>,
}

impl Canvas {
    fn new(w: usize, h: usize) -> Result<Self, RenderError> {
        let font = FontRef::try_from_slice(epaint_default_fonts::UBUNTU_LIGHT).map_err(|e| {
            RenderError::output(
                Path::new("report"),
                format!("the embedded font is unreadable: {e}"),
            )
        })?;
        Ok(Self {
            w,
            h,
            px: vec![255; w * h * 3],
            font,
        })
    }

    /// Mixes `c` over the pixel at (x, y) with `coverage` in 0..=1 (anti-aliased text).
    fn blend(&mut self, x: i64, y: i64, c: Rgb, coverage: f32) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            let a = coverage.clamp(0.0, 1.0);
            for (dst, ink) in self.px[i..i + 3].iter_mut().zip(c) {
                let bg = *dst as f32;
                *dst = (bg + a * (ink as f32 - bg)).round() as u8;
            }
        }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb) {
        for y in y0.max(0)..y1.min(self.h as i64) {
            for x in x0.max(0)..x1.min(self.w as i64) {
                self.set(x, y, c);
            }
        }
    }

    /// A 2-pixel line.
    fn line(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgb) {
        let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
        for s in 0..=steps {
            let t = s as f64 / steps as f64;
            let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
            let (x, y) = (x.round() as i64, y.round() as i64);
            self.rect(x, y, x + 2, y + 2, c);
        }
    }

    /// Height of the capitals at `size_px`, px: text is placed by the top of its capitals so
    /// that a label centred on a tick sits on it whatever the size.
    fn cap_px(&self, size_px: f32) -> f32 {
        let glyph = self
            .font
            .glyph_id('H')
            .with_scale_and_position(PxScale::from(size_px), point(0.0, 0.0));
        self.font
            .outline_glyph(glyph)
            .map_or(0.7 * size_px, |g| -g.px_bounds().min.y)
    }

    /// Lays `s` out at `size_px` from pen position `x0`: calls `place(glyph, pen_x)` for each
    /// character (kerned advances) and returns where the pen ends, px.
    fn lay_out(&self, s: &str, size_px: f32, x0: f32, mut place: impl FnMut(GlyphId, f32)) -> f32 {
        let scaled = self.font.as_scaled(PxScale::from(size_px));
        let mut pen = x0;
        let mut previous = None;
        for ch in s.chars() {
            let id = scaled.glyph_id(ch);
            if let Some(p) = previous {
                pen += scaled.kern(p, id);
            }
            place(id, pen);
            pen += scaled.h_advance(id);
            previous = Some(id);
        }
        pen
    }

    /// Text with the top of its capitals at `y`, starting at `x`, `size_px` high (em).
    fn text(&mut self, x: i64, y: i64, s: &str, size_px: f32, c: Rgb) {
        let scale = PxScale::from(size_px);
        let baseline = y as f32 + self.cap_px(size_px);
        let mut outlines = Vec::new();
        self.lay_out(s, size_px, x as f32, |id, pen| {
            let glyph = id.with_scale_and_position(scale, point(pen, baseline));
            outlines.extend(self.font.outline_glyph(glyph));
        });
        for outline in outlines {
            let b = outline.px_bounds();
            outline.draw(|gx, gy, coverage| {
                self.blend(
                    b.min.x as i64 + gx as i64,
                    b.min.y as i64 + gy as i64,
                    c,
                    coverage,
                )
            });
        }
    }

    /// Advance width of `s` at `size_px`, px.
    fn text_width(&self, s: &str, size_px: f32) -> i64 {
        self.lay_out(s, size_px, 0.0, |_, _| {}).ceil() as i64
    }

    fn text_right(&mut self, x_right: i64, y: i64, s: &str, size_px: f32, c: Rgb) {
        let w = self.text_width(s, size_px);
        self.text(x_right - w, y, s, size_px, c);
    }

    fn text_centre(&mut self, x_centre: i64, y: i64, s: &str, size_px: f32, c: Rgb) {
        let w = self.text_width(s, size_px);
        self.text(x_centre - w / 2, y, s, size_px, c);
    }

    fn encode(&self, path: &Path) -> Result<Vec<u8>, RenderError> {
        let mut bytes = Vec::new();
        let fail = |e: png::EncodingError| {
            RenderError::output(path, format!("cannot encode the PNG: {e}"))
        };
        let mut enc = png::Encoder::new(&mut bytes, self.w as u32, self.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(fail)?;
        writer.write_image_data(&self.px).map_err(fail)?;
        writer.finish().map_err(fail)?;
        Ok(bytes)
    }
}

/// A "nice" tick step (1, 2 or 5 x 10^k) for about `ticks` ticks over `range`.
fn tick_step(range: f64, ticks: f64) -> f64 {
    let raw = (range / ticks).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let n = raw / mag;
    let m = if n < 1.5 {
        1.0
    } else if n < 3.5 {
        2.0
    } else if n < 7.5 {
        5.0
    } else {
        10.0
    };
    m * mag
}

fn format_hz(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

/// Plot area of one panel.
#[derive(Clone, Copy)]
struct Area {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Area {
    fn w(&self) -> i64 {
        self.x1 - self.x0
    }
    fn h(&self) -> i64 {
        self.y1 - self.y0
    }
}

/// Steps between timecode ticks, labelled seconds: round values of the timecode.
const TIMECODE_STEPS_S: [u32; 14] = [
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200,
];

/// The time axis' ticks over a bed of `duration_s`: (seconds from the bed's start, label).
/// In seconds from 0 without timecode; with timecode ([`Timing::show_timecode`]), at round
/// labels (`HH:MM:SS:00`, about 6 ticks, the labels being wider) counted from the bed's time
/// reference; at a drop-frame rate a minute's first label is `;02` (`;04` at 59.94).
fn time_ticks(duration_s: f64, timing: &Timing) -> Vec<(f64, String)> {
    let mut ticks = Vec::new();
    if !timing.show_timecode {
        let step = tick_step(duration_s, 8.0);
        let mut k = 0.0;
        while k * step <= duration_s + 1e-9 {
            let t = k * step;
            ticks.push((
                t,
                if step < 1.0 {
                    format!("{t:.1}")
                } else {
                    format!("{t:.0}")
                },
            ));
            k += 1.0;
        }
        return ticks;
    }
    let sr = timing.sample_rate_hz as f64;
    let step = TIMECODE_STEPS_S
        .into_iter()
        .find(|&s| s as f64 >= duration_s / 6.0)
        .unwrap_or(86_400);
    let start = timing.start_timecode();
    let start_label_s =
        3_600 * start.hours as u32 + 60 * start.minutes as u32 + start.seconds as u32;
    // From the round label at or before the bed's start (skipped if before it).
    let mut label_s = start_label_s / step * step;
    while label_s < 86_400 {
        let mut tc = crate::timecode::Timecode {
            hours: (label_s / 3_600) as u8,
            minutes: (label_s / 60 % 60) as u8,
            seconds: (label_s % 60) as u8,
            frames: 0,
            drop_frame: timing.fps.drop_frame,
        };
        let mut position = timing.position_of(&tc);
        if position.is_err() && timing.fps.drop_frame {
            // A dropping minute starts at frame 02 (04 at 59.94).
            tc.frames = (timing.fps.nominal / 15) as u8;
            position = timing.position_of(&tc);
        }
        if let Ok(p) = position {
            let t = p as f64 / sr;
            if t > duration_s + 1e-9 {
                break;
            }
            ticks.push((t, tc.to_string()));
        }
        label_s += step;
    }
    ticks
}

/// Time axis under `a`: ticks, labels and the unit.
fn time_axis(c: &mut Canvas, a: Area, duration_s: f64, grid_to: i64, timing: &Timing) {
    for (t, label) in time_ticks(duration_s, timing) {
        let x = a.x0 + ((t / duration_s.max(1e-9)) * a.w() as f64).round() as i64;
        c.rect(x, grid_to, x + 1, a.y1, GRID);
        c.rect(x, a.y1, x + 1, a.y1 + 5, AXIS);
        // Centred on its tick, but kept inside the panel (the legend is right of it).
        if x + c.text_width(&label, BODY_PX) / 2 > a.x1 {
            c.text_right(a.x1, a.y1 + 8, &label, BODY_PX, BLACK);
        } else {
            c.text_centre(x, a.y1 + 8, &label, BODY_PX, BLACK);
        }
    }
    let unit = if timing.show_timecode {
        format!("timecode ({})", timing.fps)
    } else {
        "time (s)".to_string()
    };
    c.text_right(a.x1, a.y1 + 20, &unit, BODY_PX, BLACK);
}

fn frame(c: &mut Canvas, a: Area) {
    c.rect(a.x0, a.y0, a.x1, a.y0 + 1, AXIS);
    c.rect(a.x0, a.y1, a.x1 + 1, a.y1 + 1, AXIS);
    c.rect(a.x0, a.y0, a.x0 + 1, a.y1, AXIS);
    c.rect(a.x1, a.y0, a.x1 + 1, a.y1, AXIS);
}

/// Column index range covered by pixel column `px` of `a`.
fn column_at(a: Area, px: i64, columns: usize) -> usize {
    (((px - a.x0) as f64 / a.w() as f64 * columns as f64) as usize).min(columns.saturating_sub(1))
}

fn gain_panel(c: &mut Canvas, a: Area, s: &Summary, timing: &Timing) {
    let cols = &s.timeline;
    let lowest = cols.iter().filter_map(|k| k.gain_db).fold(0.0f64, f64::min);
    let floor_db = ((lowest.min(-6.0) / 3.0).floor() * 3.0).max(-60.0);
    let y_of = |db: f64| a.y0 as f64 + (db / floor_db).clamp(0.0, 1.0) * a.h() as f64;
    // Speech shading.
    for px in a.x0..a.x1 {
        let k = column_at(a, px, cols.len());
        if cols.get(k).is_some_and(|k| k.speech_share >= 0.5) {
            c.rect(px, a.y0, px + 1, a.y1, SPEECH);
        }
    }
    let step = tick_step(-floor_db, 5.0);
    let mut db = 0.0;
    while db >= floor_db - 1e-9 {
        let y = y_of(db).round() as i64;
        c.rect(a.x0, y, a.x1, y + 1, GRID);
        c.text_right(a.x0 - 6, y - 4, &format!("{db:.0}"), BODY_PX, BLACK);
        db -= step;
    }
    time_axis(c, a, s.duration_s, a.y0, timing);
    // The curve: per pixel column, the column's level change (gaps where the bed is silent).
    let mut last: Option<(f64, f64)> = None;
    for px in a.x0..a.x1 {
        let k = column_at(a, px, cols.len());
        match cols.get(k).and_then(|k| k.gain_db) {
            Some(g) => {
                let p = (px as f64, y_of(g.min(0.0)));
                if let Some(q) = last {
                    c.line(q.0, q.1, p.0, p.1, VERMILLION);
                }
                last = Some(p);
            }
            None => last = None,
        }
    }
    frame(c, a);
    c.text(a.x0 - 80, a.y0 + a.h() / 2 - 4, "dB", BODY_PX, BLACK);
}

fn heat_panel(c: &mut Canvas, a: Area, s: &Summary, after: bool, timing: &Timing) {
    let cols = &s.timeline;
    let bands = s.band_centres_hz.len();
    if bands == 0 {
        c.text(a.x0 + 10, a.y0 + 10, "no band analysis", BODY_PX, BLACK);
        frame(c, a);
        return;
    }
    for px in a.x0..a.x1 {
        let k = column_at(a, px, cols.len());
        let col = &cols[k.min(cols.len() - 1)];
        let values = if after {
            &col.overlap_after_db
        } else {
            &col.overlap_before_db
        };
        for py in a.y0..a.y1 {
            // Band 0 at the bottom.
            let b = ((a.y1 - 1 - py) as f64 / a.h() as f64 * bands as f64) as usize;
            let colour = match values.get(b.min(bands - 1)) {
                Some(v) => viridis(v / OVERLAP_MAX_DB),
                None => NO_SPEECH,
            };
            c.set(px, py, colour);
        }
    }
    // Frequency labels at the bands nearest round frequencies.
    let centres = &s.band_centres_hz;
    for hz in [100.0f32, 300.0, 1_000.0, 3_000.0, 10_000.0] {
        let Some((b, _)) = centres
            .iter()
            .enumerate()
            .filter(|(_, c)| (**c / hz).ln().abs() < 0.2)
            .min_by(|x, y| (x.1 / hz).ln().abs().total_cmp(&(y.1 / hz).ln().abs()))
        else {
            continue;
        };
        let y = a.y1 - ((b as f64 + 0.5) / bands as f64 * a.h() as f64).round() as i64;
        c.rect(a.x0 - 5, y, a.x0, y + 1, AXIS);
        c.text_right(a.x0 - 8, y - 4, &format_hz(hz as f64), BODY_PX, BLACK);
    }
    c.text(a.x0 - 80, a.y0 + a.h() / 2 - 4, "Hz", BODY_PX, BLACK);
    time_axis(c, a, s.duration_s, a.y1, timing);
    frame(c, a);
}

fn colour_bar(c: &mut Canvas, x: i64, y0: i64, y1: i64) {
    let h = y1 - y0;
    for y in y0..y1 {
        let t = (y1 - 1 - y) as f32 / h as f32;
        c.rect(x, y, x + 18, y + 1, viridis(t));
    }
    frame(
        c,
        Area {
            x0: x,
            y0,
            x1: x + 18,
            y1,
        },
    );
    for db in [0.0f32, 10.0, 20.0, 30.0]
        .into_iter()
        .filter(|&d| d <= OVERLAP_MAX_DB)
    {
        let y = y1 - (db / OVERLAP_MAX_DB * h as f32).round() as i64;
        c.rect(x + 18, y, x + 23, y + 1, AXIS);
        let label = if db >= OVERLAP_MAX_DB {
            format!(">={db:.0}")
        } else {
            format!("{db:.0}")
        };
        c.text(x + 26, y - 4, &label, BODY_PX, BLACK);
    }
    c.text(x - 4, y0 - 46, "overlap", BODY_PX, BLACK);
    c.text(x - 4, y0 - 28, "dB", BODY_PX, BLACK);
    c.text(x - 4, y1 + 8, "grey: no", BODY_PX, BLACK);
    c.text(x - 4, y1 + 24, "speech", BODY_PX, BLACK);
}

/// Draws the report picture for a finished render.
pub fn draw(r: &RenderReport, bed: &Path) -> Result<Vec<u8>, RenderError> {
    let s = &r.summary;
    let (w, h) = (1_200usize, 1_000usize);
    let mut c = Canvas::new(w, h)?;
    let name = bed.file_name().map_or_else(
        || bed.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mode = r.params.mode.id();
    let start = if r.timing.show_timecode {
        format!(", from {} ({})", r.timing.start_timecode(), r.timing.fps)
    } else {
        String::new()
    };
    c.text(
        20,
        12,
        &format!("Underscore render: {name}{start}"),
        TITLE_PX,
        BLACK,
    );
    c.text(
        20,
        36,
        &format!(
            "preset {}, mode {mode}, depth {} dB, clarity {} dB; {:.1} s at {} Hz, latency \
             {} samples compensated",
            r.preset,
            r.params.depth_db,
            r.params.clarity_db,
            s.duration_s,
            s.sample_rate_hz,
            s.latency_samples,
        ),
        BODY_PX,
        BLACK,
    );
    c.text(
        20,
        52,
        &format!(
            "speech {:.0} % of the time; bed reduction {} dB mean during speech, {} dB max; \
             dialogue - bed (speech-gated) {} LU before, {} LU after",
            100.0 * s.speech_share,
            s.mean_reduction_speech_db
                .map_or("n/a".into(), |v| format!("{v:.1}")),
            s.max_reduction_db
                .map_or("n/a".into(), |v| format!("{v:.1}")),
            s.dialogue_to_bed_before_lu()
                .map_or("n/a".into(), |v| format!("{v:+.1}")),
            s.dialogue_to_bed_after_lu()
                .map_or("n/a".into(), |v| format!("{v:+.1}")),
        ),
        BODY_PX,
        BLACK,
    );
    let (x0, x1) = (90i64, w as i64 - 120);
    let panels = [(90i64, 330i64), (400, 640), (710, 950)];
    let ratio = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:+.1} dB"));
    let titles = [
        "Bed level change (after - before, K-weighted, dB); speech detected: shaded green"
            .to_string(),
        format!(
            "Masking overlap BEFORE ducking: bed over (dialogue - Clarity) where the engine acts; \
             dialogue-to-bed 500 Hz-4 kHz {}",
            ratio(s.speech_band_ratio_before_db)
        ),
        format!(
            "Masking overlap AFTER ducking; dialogue-to-bed 500 Hz-4 kHz {}",
            ratio(s.speech_band_ratio_after_db)
        ),
    ];
    for (i, ((y0, y1), title)) in panels.iter().zip(titles).enumerate() {
        c.text(x0, y0 - 18, &title, BODY_PX, BLACK);
        let a = Area {
            x0,
            y0: *y0,
            x1,
            y1: *y1,
        };
        if i == 0 {
            gain_panel(&mut c, a, s, &r.timing);
        } else {
            heat_panel(&mut c, a, s, i == 2, &r.timing);
        }
    }
    // Legend for the first panel, one colour bar for both heat maps.
    let lx = x1 + 16;
    c.rect(lx, 100, lx + 14, 110, SPEECH);
    c.text(lx + 18, 101, "speech", BODY_PX, BLACK);
    c.rect(lx, 122, lx + 14, 124, VERMILLION);
    c.text(lx + 18, 116, "level", BODY_PX, BLACK);
    c.text(lx + 18, 132, "change", BODY_PX, BLACK);
    colour_bar(&mut c, lx + 6, 420, 930);
    c.encode(bed)
}

/// Draws the report and writes it to `path` through a temporary file.
pub fn write_png(path: &Path, r: &RenderReport, bed: &Path) -> Result<(), RenderError> {
    let bytes = draw(r, bed).map_err(|e| RenderError::output(path, e.problem))?;
    Ok(underscore_io::write_atomically(path, &bytes)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_middle() {
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
        assert_eq!(viridis(0.5), [33, 145, 140]);
        assert_eq!(viridis(f32::NAN), [68, 1, 84]);
    }

    /// Rows and columns of `c` that text touched (any non-white pixel): (top, bottom, left, right).
    fn inked(c: &Canvas) -> Option<(usize, usize, usize, usize)> {
        let mut b: Option<(usize, usize, usize, usize)> = None;
        for y in 0..c.h {
            for x in 0..c.w {
                if c.px[(y * c.w + x) * 3..][..3] != [255, 255, 255] {
                    let (t, bo, l, r) = b.unwrap_or((y, y, x, x));
                    b = Some((t.min(y), bo.max(y), l.min(x), r.max(x)));
                }
            }
        }
        b
    }

    #[test]
    fn text_is_set_in_the_embedded_font_by_its_cap_top() {
        let mut c = Canvas::new(200, 60).unwrap();
        c.text(10, 20, "HH", BODY_PX, BLACK);
        let (top, bottom, left, right) = inked(&c).unwrap();
        // Capitals from y = 20 down by the cap height (Ubuntu: 0.69 em = 9.7 px at 14 px).
        assert!((19..=20).contains(&top), "top {top}");
        assert!((28..=30).contains(&bottom), "bottom {bottom}");
        assert!((10..=12).contains(&left), "left {left}");
        // Two proportional capitals about 0.65 em wide each, not the 8-px cells of a bitmap font.
        let width = right - left + 1;
        assert!((15..=21).contains(&width), "width {width}");
        // Anti-aliased: some pixels are between paper and ink.
        assert!(c.px.iter().any(|&v| v > 20 && v < 235));
        // The advance agrees with what was drawn, and a centred label straddles its point.
        assert!((c.text_width("HH", BODY_PX) - width as i64).abs() <= 3);
        let mut d = Canvas::new(200, 60).unwrap();
        d.text_centre(100, 20, "1000", BODY_PX, BLACK);
        let (_, _, l, r) = inked(&d).unwrap();
        assert!(((l + r) as i64 / 2 - 100).abs() <= 1, "{l}..{r}");
    }

    #[test]
    fn time_ticks_are_seconds_or_round_timecode_from_the_time_reference() {
        use crate::timecode::FrameRate;
        let plain = time_ticks(25.0, &Timing::seconds(48_000));
        assert_eq!(plain.len(), 13);
        assert_eq!((plain[1].0, plain[1].1.as_str()), (2.0, "2"));
        // A 12-minute bed starting at 01:00:00:07 (25 fps): ticks every 2 min of timecode,
        // the first at 01:02:00:00, 1 min 59.72 s into the bed.
        let start = 172_800_000 + 7 * 1_920;
        let t = Timing::new(48_000, None, Some(start), None);
        let ticks = time_ticks(720.0, &t);
        assert_eq!(ticks[0].1, "01:02:00:00");
        assert!((ticks[0].0 - (120.0 - 7.0 / 25.0)).abs() < 1e-9);
        assert_eq!(ticks.last().unwrap().1, "01:12:00:00");
        assert_eq!(ticks.len(), 6);
        // A bed on a tick: the first label is its start. At 29.97 NDF labels run 1001/1000
        // slow: 00:00:02:00 is 2.002 s in. Drop-frame minutes start at ;02.
        let t = Timing::new(48_000, Some(FrameRate::parse("29.97").unwrap()), None, None);
        let ticks = time_ticks(10.0, &t);
        assert_eq!(ticks[0], (0.0, "00:00:00:00".to_string()));
        assert_eq!(ticks[1].1, "00:00:02:00");
        assert!((ticks[1].0 - 2.002).abs() < 1e-4, "{}", ticks[1].0);
        let t = Timing::new(
            48_000,
            Some(FrameRate::parse("29.97df").unwrap()),
            None,
            None,
        );
        let ticks = time_ticks(300.0, &t);
        assert_eq!(ticks[1].1, "00:01:00;02");
        assert!((ticks[1].0 - 60.06).abs() < 1e-3, "{}", ticks[1].0);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(25.0, 8.0), 2.0);
        assert_eq!(tick_step(3600.0, 8.0), 500.0);
        assert_eq!(tick_step(12.0, 5.0), 2.0);
    }
}
