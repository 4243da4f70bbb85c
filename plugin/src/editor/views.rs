//! The editor's drawn views: masking overlap, gain-reduction history and the bar meters, each
//! with its dB scales (the unit on the top label of every axis).

use egui::{Align2, Color32, FontId, Pos2, Rect, Shape, Stroke, Ui, pos2, vec2};
use underscore_dsp::spectral::BandAnalysis;

use super::history::{Ballistics, HistoryPoint, METER_FLOOR_DB};
use super::palette;

const LOW_HZ: f32 = 20.0;
const HIGH_HZ: f32 = 20_000.0;
/// Spectrum view range, dBFS.
const SPECTRUM_TOP_DB: f32 = 0.0;
const SPECTRUM_BOTTOM_DB: f32 = -96.0;
/// Per-band reduction axis (right-hand scale of the overlap view), dB.
const REDUCTION_RANGE_DB: f32 = 24.0;
/// Gain-reduction history range, dB.
pub const GR_RANGE_DB: f32 = 30.0;
/// Key level range in the history background, dBFS.
const KEY_BOTTOM_DB: f32 = -80.0;
/// Range of the input and output level meters, dBFS (0 at the top): a bed peaking under -60
/// dBFS is inaudible under dialogue.
pub const LEVEL_RANGE_DB: f32 = 60.0;
/// Width of the meter strip (IN, scale, OUT; GR, scale), points.
pub const METER_STRIP_WIDTH: f32 = 132.0;

fn label_font() -> FontId {
    FontId::proportional(11.0)
}

fn lerp_y(rect: Rect, top_db: f32, bottom_db: f32, db: f32) -> f32 {
    let t = ((top_db - db) / (top_db - bottom_db)).clamp(0.0, 1.0);
    rect.top() + t * rect.height()
}

/// x position of `hz` on a log axis from 20 Hz to 20 kHz.
pub fn freq_x(rect: Rect, hz: f32) -> f32 {
    let t = (hz.max(1.0) / LOW_HZ).log10() / (HIGH_HZ / LOW_HZ).log10();
    rect.left() + t.clamp(0.0, 1.0) * rect.width()
}

/// "0", "-6", "-12": a reduction amount as a gain label.
fn minus_db(amount: f32) -> String {
    if amount == 0.0 {
        "0".to_owned()
    } else {
        format!("-{amount:.0}")
    }
}

/// Room for the left and right axis labels of the plots, points ("0 dBFS" at the top).
const AXIS_LEFT: f32 = 40.0;
const AXIS_RIGHT: f32 = 40.0;

/// An axis label: the top one carries the unit ("0 dBFS"), the others the number ("-24").
fn with_unit(db: f32, unit: &str) -> String {
    if db == 0.0 {
        format!("0 {unit}")
    } else {
        format!("{db:.0}")
    }
}

fn format_hz(hz: f32) -> String {
    if hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

/// A horizontal grid line across `rect` at `y`, labelled on the left.
fn grid_line(
    painter: &egui::Painter,
    rect: egui::Rect,
    y: f32,
    label: String,
    colour: egui::Color32,
) {
    painter.line_segment(
        [pos2(rect.left(), y), pos2(rect.right(), y)],
        palette::grid(),
    );
    painter.text(
        pos2(rect.left() - 3.0, y),
        Align2::RIGHT_CENTER,
        label,
        label_font(),
        colour,
    );
}

/// Settings the overlap view draws alongside the analysis.
pub struct OverlapSettings {
    pub clarity_db: f32,
    pub focus_low_hz: f32,
    pub focus_high_hz: f32,
    pub spectral: bool,
}

/// Masking overlap: dialogue and bed spectra per band, the region where the bed comes within
/// Clarity of the dialogue shaded, and the reduction applied per band.
pub fn overlap_view(ui: &mut Ui, size: egui::Vec2, a: &BandAnalysis, s: &OverlapSettings) {
    let (outer, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(outer);
    painter.rect_filled(outer, 2.0, palette::PLOT_BG);
    let rect = Rect::from_min_max(
        outer.min + vec2(AXIS_LEFT, 6.0),
        outer.max - vec2(AXIS_RIGHT, 18.0),
    );
    let y_of = |db: f32| lerp_y(rect, SPECTRUM_TOP_DB, SPECTRUM_BOTTOM_DB, db);
    let red_y = |db: f32| rect.top() + (db / REDUCTION_RANGE_DB).clamp(0.0, 1.0) * rect.height();

    // Focus range.
    let fx0 = freq_x(rect, s.focus_low_hz);
    let fx1 = freq_x(rect, s.focus_high_hz);
    painter.rect_filled(
        Rect::from_x_y_ranges(fx0..=fx1, rect.y_range()),
        0.0,
        palette::FOCUS,
    );

    // Grid and axes.
    for hz in [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0] {
        let x = freq_x(rect, hz);
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            palette::grid(),
        );
        painter.text(
            pos2(x, rect.bottom() + 2.0),
            Align2::CENTER_TOP,
            format_hz(hz),
            label_font(),
            palette::TEXT_DIM,
        );
    }
    let mut db = SPECTRUM_TOP_DB;
    while db >= SPECTRUM_BOTTOM_DB {
        let y = y_of(db);
        grid_line(&painter, rect, y, with_unit(db, "dBFS"), palette::TEXT_DIM);
        db -= 24.0;
    }
    let mut red = 0.0;
    while red <= REDUCTION_RANGE_DB {
        painter.text(
            pos2(rect.right() + 3.0, red_y(red)),
            Align2::LEFT_CENTER,
            if red == 0.0 {
                "0 dB".to_owned()
            } else {
                minus_db(red)
            },
            label_font(),
            palette::REDUCTION,
        );
        red += 6.0;
    }
    painter.rect_stroke(rect, 0.0, palette::frame(), egui::StrokeKind::Inside);

    let n = a.bands;
    if n < 2 {
        painter.text(
            rect.center(),
            Align2::CENTER_CENTER,
            "Waiting for audio (the analysis runs while the editor is open)",
            FontId::proportional(13.0),
            palette::TEXT_DIM,
        );
        return;
    }
    let x: Vec<f32> = (0..n).map(|b| freq_x(rect, a.centre_hz[b])).collect();
    let dialogue: Vec<f32> = (0..n).map(|b| y_of(a.dialogue_db[b])).collect();
    let bed: Vec<f32> = (0..n).map(|b| y_of(a.bed_db[b])).collect();
    let target: Vec<f32> = (0..n)
        .map(|b| y_of(a.dialogue_db[b] - s.clarity_db))
        .collect();

    // Overlap: where the bed is above (the dialogue's mean level - Clarity), the level Clarity
    // is measured against; smaller y is louder.
    for b in 0..n - 1 {
        let (d0, d1) = (target[b] - bed[b], target[b + 1] - bed[b + 1]);
        let (x0, x1) = (x[b], x[b + 1]);
        let poly = if d0 > 0.0 && d1 > 0.0 {
            vec![
                pos2(x0, bed[b]),
                pos2(x1, bed[b + 1]),
                pos2(x1, target[b + 1]),
                pos2(x0, target[b]),
            ]
        } else if d0 > 0.0 || d1 > 0.0 {
            let t = d0 / (d0 - d1);
            let xc = x0 + t * (x1 - x0);
            let yc = bed[b] + t * (bed[b + 1] - bed[b]);
            if d0 > 0.0 {
                vec![pos2(x0, bed[b]), pos2(xc, yc), pos2(x0, target[b])]
            } else {
                vec![pos2(xc, yc), pos2(x1, bed[b + 1]), pos2(x1, target[b + 1])]
            }
        } else {
            continue;
        };
        painter.add(Shape::convex_polygon(poly, palette::OVERLAP, Stroke::NONE));
    }

    let line = |ys: &[f32]| -> Vec<Pos2> { x.iter().zip(ys).map(|(&x, &y)| pos2(x, y)).collect() };
    painter.extend(Shape::dashed_line(
        &line(&target),
        Stroke::new(1.0, palette::DIALOGUE),
        4.0,
        3.0,
    ));
    painter.add(Shape::line(line(&bed), Stroke::new(2.0, palette::BED)));
    painter.add(Shape::line(
        line(&dialogue),
        Stroke::new(2.0, palette::DIALOGUE),
    ));

    // Applied reduction per band, hanging from the top (right-hand scale).
    let reduction: Vec<Pos2> = (0..n)
        .map(|b| pos2(x[b], red_y(a.reduction_db[b])))
        .collect();
    let reduction_stroke = if s.spectral {
        Stroke::new(2.0, palette::REDUCTION)
    } else {
        Stroke::new(1.0, palette::REDUCTION.gamma_multiply(0.5))
    };
    painter.add(Shape::line(reduction, reduction_stroke));

    // Hover read-out of the nearest band.
    if let Some(p) = response.hover_pos()
        && rect.contains(p)
    {
        let b = (0..n)
            .min_by(|&i, &j| (x[i] - p.x).abs().total_cmp(&(x[j] - p.x).abs()))
            .unwrap_or(0);
        painter.line_segment(
            [pos2(x[b], rect.top()), pos2(x[b], rect.bottom())],
            Stroke::new(1.0, palette::TEXT_DIM),
        );
        let text = format!(
            "{} Hz\ndialogue {:.0} dB\nbed {:.0} dB\nreduction {:.1} dB",
            a.centre_hz[b].round(),
            a.dialogue_db[b],
            a.bed_db[b],
            a.reduction_db[b]
        );
        let right = x[b] < rect.center().x;
        let anchor = if right {
            Align2::LEFT_TOP
        } else {
            Align2::RIGHT_TOP
        };
        let offset = if right { 6.0 } else { -6.0 };
        let galley = painter.layout_no_wrap(text, label_font(), palette::TEXT);
        let at = anchor.anchor_size(pos2(x[b] + offset, rect.top() + 4.0), galley.size());
        painter.rect_filled(at.expand(3.0), 2.0, palette::PLOT_BG.gamma_multiply(0.92));
        painter.galley(at.min, galley, palette::TEXT);
    }
}

/// Height of the speech-probability band at the bottom of the history, points (probability 1).
const PROBABILITY_BAND: f32 = 28.0;

/// Gain-reduction history: the key level (with Threshold) behind, the voice detector's speech
/// probability (with the level Sensitivity sets) and the speech decision along the bottom, the
/// duck on top: what ducked, and why.
pub fn history_view(
    ui: &mut Ui,
    size: egui::Vec2,
    points: &std::collections::VecDeque<HistoryPoint>,
    now: f64,
    threshold_db: f32,
    speech_on_probability: f32,
) {
    let (outer, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(outer);
    painter.rect_filled(outer, 2.0, palette::PLOT_BG);
    let rect = Rect::from_min_max(
        outer.min + vec2(AXIS_LEFT, 6.0),
        outer.max - vec2(AXIS_RIGHT, 18.0),
    );
    let seconds = super::history::HISTORY_SECONDS;
    let x_of = |t: f64| rect.right() - ((now - t) / seconds) as f32 * rect.width();
    let gr_y = |db: f32| lerp_y(rect, 0.0, -GR_RANGE_DB, db);
    let key_y = |db: f32| lerp_y(rect, 0.0, KEY_BOTTOM_DB, db);

    for s in 0..=10 {
        let x = x_of(now - s as f64);
        painter.line_segment(
            [pos2(x, rect.top()), pos2(x, rect.bottom())],
            palette::grid(),
        );
        if s % 2 == 0 {
            painter.text(
                pos2(x, rect.bottom() + 2.0),
                Align2::CENTER_TOP,
                if s == 0 {
                    "now".to_owned()
                } else {
                    format!("-{s} s")
                },
                label_font(),
                palette::TEXT_DIM,
            );
        }
    }
    let mut db = 0.0;
    while db <= GR_RANGE_DB {
        let y = gr_y(-db);
        let label = if db == 0.0 {
            "0 dB".to_owned()
        } else {
            minus_db(db)
        };
        grid_line(&painter, rect, y, label, palette::REDUCTION);
        db += 6.0;
    }
    let mut key = 0.0;
    while key >= KEY_BOTTOM_DB {
        painter.text(
            pos2(rect.right() + 3.0, key_y(key)),
            Align2::LEFT_CENTER,
            with_unit(key, "dBFS"),
            label_font(),
            palette::DIALOGUE,
        );
        key -= 20.0;
    }

    let visible: Vec<&HistoryPoint> = points.iter().filter(|p| now - p.t <= seconds).collect();
    // Key level, filled from the bottom, per frame column.
    for w in visible.windows(2) {
        let (x0, x1) = (x_of(w[0].t), x_of(w[1].t));
        let y = key_y(w[1].key_db);
        if y < rect.bottom() {
            painter.rect_filled(
                Rect::from_x_y_ranges(x0..=x1, y..=rect.bottom()),
                0.0,
                palette::KEY_FILL,
            );
        }
        // Speech probability, 0..1 over the bottom band; the decision as a solid strip.
        let py = rect.bottom() - w[1].speech_probability.clamp(0.0, 1.0) * PROBABILITY_BAND;
        painter.rect_filled(
            Rect::from_x_y_ranges(x0..=x1, py..=rect.bottom()),
            0.0,
            palette::SPEECH.gamma_multiply(0.35),
        );
        if w[1].speech {
            painter.rect_filled(
                Rect::from_x_y_ranges(x0..=x1, rect.bottom() - 6.0..=rect.bottom()),
                0.0,
                palette::SPEECH,
            );
        }
    }
    let on_y = rect.bottom() - speech_on_probability.clamp(0.0, 1.0) * PROBABILITY_BAND;
    painter.extend(Shape::dashed_line(
        &[pos2(rect.left(), on_y), pos2(rect.right(), on_y)],
        Stroke::new(1.0, palette::SPEECH),
        3.0,
        3.0,
    ));
    let ty = key_y(threshold_db);
    painter.extend(Shape::dashed_line(
        &[pos2(rect.left(), ty), pos2(rect.right(), ty)],
        Stroke::new(1.0, palette::DIALOGUE),
        5.0,
        4.0,
    ));
    painter.text(
        pos2(rect.left() + 4.0, ty - 2.0),
        Align2::LEFT_BOTTOM,
        "threshold",
        label_font(),
        palette::DIALOGUE,
    );

    let duck: Vec<Pos2> = visible
        .iter()
        .map(|p| pos2(x_of(p.t), gr_y(p.duck_db)))
        .collect();
    if duck.len() >= 2 {
        painter.add(Shape::line(duck, Stroke::new(2.0, palette::REDUCTION)));
    }
    painter.rect_stroke(rect, 0.0, palette::frame(), egui::StrokeKind::Inside);
}

/// The label step for a scale: the first of `steps_db` whose labels stand at least
/// [`MIN_LABEL_GAP`] points apart at `points_per_db`.
fn label_step(points_per_db: f32, steps_db: &[f32]) -> f32 {
    steps_db
        .iter()
        .copied()
        .find(|s| s * points_per_db >= MIN_LABEL_GAP)
        .unwrap_or(steps_db[steps_db.len() - 1])
}

/// Closest two scale labels may stand, points: 10-point numbers with room to breathe (a
/// label every 6 dB on a 60 dB meter only from 180 points of bar).
const MIN_LABEL_GAP: f32 = 18.0;

/// One bar of the strip.
struct Bar<'a> {
    label: &'a str,
    meter: &'a Ballistics,
    /// Reduction (grows down from 0 over [`GR_RANGE_DB`]) rather than a level (grows up over
    /// [`LEVEL_RANGE_DB`]).
    reduction: bool,
    colour: Color32,
}

impl Bar<'_> {
    fn range_db(&self) -> f32 {
        if self.reduction {
            GR_RANGE_DB
        } else {
            LEVEL_RANGE_DB
        }
    }

    /// y of `db` (a level in dBFS, or a reduction in dB below 0, both <= 0) on `bar`.
    fn y(&self, bar: Rect, db: f32) -> f32 {
        lerp_y(bar, 0.0, -self.range_db(), db)
    }

    /// The bar's value and held peak, dB as the scale reads (<= 0).
    fn value_peak_db(&self) -> (f32, f32) {
        if self.reduction {
            (-self.meter.value, -self.meter.peak)
        } else {
            (self.meter.value, self.meter.peak)
        }
    }

    fn draw(&self, painter: &egui::Painter, bar: Rect, header_y: f32, footer_y: f32) {
        painter.rect_filled(bar, 1.0, palette::PLOT_BG);
        painter.text(
            pos2(bar.center().x, header_y),
            Align2::CENTER_TOP,
            self.label,
            label_font(),
            palette::TEXT,
        );
        let (value, peak) = self.value_peak_db();
        let filled = if self.reduction {
            Rect::from_x_y_ranges(bar.x_range(), bar.top()..=self.y(bar, value))
        } else {
            Rect::from_x_y_ranges(bar.x_range(), self.y(bar, value)..=bar.bottom())
        };
        painter.rect_filled(filled, 0.0, self.colour);
        let py = self.y(bar, peak);
        painter.line_segment(
            [pos2(bar.left(), py), pos2(bar.right(), py)],
            Stroke::new(2.0, palette::TEXT),
        );
        painter.rect_stroke(bar, 1.0, palette::frame(), egui::StrokeKind::Inside);
        let text = if self.reduction {
            // "0.0", not "-0.0", when nothing is cut.
            let cut = self.meter.peak.max(0.0);
            if cut < 0.05 {
                "0.0".to_owned()
            } else {
                format!("-{cut:.1}")
            }
        } else if self.meter.peak <= METER_FLOOR_DB + 0.5 {
            "-inf".to_owned()
        } else {
            format!("{:.1}", self.meter.peak)
        };
        painter.text(
            pos2(bar.center().x, footer_y),
            Align2::CENTER_BOTTOM,
            text,
            FontId::proportional(10.0),
            palette::TEXT,
        );
    }
}

/// A dB scale in the column `x_range` beside `bar`: ticks every `minor_db` on the bar's
/// edge(s) facing the column, labels at a step that stays legible, the unit above.
fn scale(
    painter: &egui::Painter,
    bars: &[(&Bar, Rect)],
    column: std::ops::RangeInclusive<f32>,
    unit_y: f32,
    unit: &str,
    colour: Color32,
) {
    let Some(&(first, bar)) = bars.first() else {
        return;
    };
    let range_db = first.range_db();
    let minor_db = if first.reduction { 3.0 } else { 6.0 };
    let step_db = label_step(
        bar.height() / range_db,
        if first.reduction {
            &[3.0, 6.0, 12.0, 15.0]
        } else {
            &[6.0, 12.0, 24.0, 30.0]
        },
    );
    let (left, right) = (*column.start(), *column.end());
    let centre_x = 0.5 * (left + right);
    painter.text(
        pos2(centre_x, unit_y),
        Align2::CENTER_TOP,
        unit,
        FontId::proportional(9.5),
        colour,
    );
    let ticks = (range_db / minor_db).round() as u32;
    for k in 0..=ticks {
        let db = k as f32 * minor_db;
        let y = first.y(bar, -db);
        for &(_, b) in bars {
            // The tick sits on the bar's edge that faces the scale column.
            let (x0, x1) = if b.center().x < centre_x {
                (b.right() - 3.0, b.right())
            } else {
                (b.left(), b.left() + 3.0)
            };
            painter.line_segment(
                [pos2(x0, y), pos2(x1, y)],
                Stroke::new(1.0, palette::TEXT_DIM),
            );
        }
        if (db % step_db).abs() < 1e-3 {
            painter.text(
                pos2(centre_x, y),
                Align2::CENTER_CENTER,
                minus_db(db),
                FontId::proportional(10.0),
                colour,
            );
        }
    }
}

/// The meter strip: input and output peak levels (dBFS) on one shared scale between them,
/// and the gain reduction (dB) with its own scale, the same as the history's left axis. Each
/// bar falls with ballistics, holds its peak (the line, and the number under the bar).
pub fn meter_strip(
    ui: &mut Ui,
    size: egui::Vec2,
    input: &Ballistics,
    output: &Ballistics,
    reduction: &Ballistics,
) {
    let (outer, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(outer);
    const BAR: f32 = 18.0;
    const COLUMN: f32 = 28.0;
    // Two header lines: the bars' names, then the scales' units under them.
    let header_y = outer.top();
    let unit_y = outer.top() + 12.0;
    let footer_y = outer.bottom();
    let y_range = outer.top() + 28.0..=outer.bottom() - 16.0;
    let x0 = outer.left() + 6.0;
    let bar_at = |x: f32| Rect::from_x_y_ranges(x..=x + BAR, y_range.clone());
    let (in_rect, out_rect) = (bar_at(x0), bar_at(x0 + BAR + COLUMN));
    let gr_rect = bar_at(x0 + 2.0 * BAR + COLUMN + 12.0);
    let in_bar = Bar {
        label: "IN",
        meter: input,
        reduction: false,
        colour: palette::BED.gamma_multiply(0.7),
    };
    let out_bar = Bar {
        label: "OUT",
        meter: output,
        reduction: false,
        colour: palette::BED,
    };
    let gr_bar = Bar {
        label: "GR",
        meter: reduction,
        reduction: true,
        colour: palette::REDUCTION,
    };
    for (bar, rect) in [(&in_bar, in_rect), (&out_bar, out_rect), (&gr_bar, gr_rect)] {
        bar.draw(&painter, rect, header_y, footer_y);
    }
    scale(
        &painter,
        &[(&in_bar, in_rect), (&out_bar, out_rect)],
        in_rect.right()..=out_rect.left(),
        unit_y,
        "dBFS",
        palette::TEXT_DIM,
    );
    scale(
        &painter,
        &[(&gr_bar, gr_rect)],
        gr_rect.right()..=gr_rect.right() + COLUMN,
        unit_y,
        "dB",
        palette::REDUCTION,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_labels_stay_legible() {
        // 300 points for 60 dB: 5 points per dB, labels every 6 dB (30 points apart).
        assert_eq!(label_step(5.0, &[6.0, 12.0, 24.0, 30.0]), 6.0);
        // 170 points for 60 dB: every 6 dB would be 17 points apart, too close: every 12 dB.
        assert_eq!(label_step(170.0 / 60.0, &[6.0, 12.0, 24.0, 30.0]), 12.0);
        assert_eq!(label_step(0.1, &[3.0, 6.0]), 6.0);
        assert_eq!(with_unit(0.0, "dBFS"), "0 dBFS");
        assert_eq!(with_unit(-24.0, "dBFS"), "-24");
    }

    #[test]
    fn log_axis_ends_and_middle() {
        let r = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 100.0));
        assert!((freq_x(r, 20.0) - 0.0).abs() < 1e-3);
        assert!((freq_x(r, 20_000.0) - 300.0).abs() < 1e-3);
        assert!((freq_x(r, 632.456) - 150.0).abs() < 0.1);
    }
}
