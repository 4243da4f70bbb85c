//! The editor's drawn views: masking overlap, gain-reduction history and bar meters.

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
    let rect = Rect::from_min_max(outer.min + vec2(34.0, 6.0), outer.max - vec2(34.0, 18.0));
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
        grid_line(&painter, rect, y, format!("{db:.0}"), palette::TEXT_DIM);
        db -= 24.0;
    }
    let mut red = 0.0;
    while red <= REDUCTION_RANGE_DB {
        painter.text(
            pos2(rect.right() + 3.0, red_y(red)),
            Align2::LEFT_CENTER,
            minus_db(red),
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
    let rect = Rect::from_min_max(outer.min + vec2(34.0, 6.0), outer.max - vec2(34.0, 18.0));
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
        grid_line(&painter, rect, y, minus_db(db), palette::REDUCTION);
        db += 6.0;
    }
    let mut key = 0.0;
    while key >= KEY_BOTTOM_DB {
        painter.text(
            pos2(rect.right() + 3.0, key_y(key)),
            Align2::LEFT_CENTER,
            format!("{key:.0}"),
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

/// A vertical bar meter. `from_top` bars grow downward (gain reduction); the others grow up.
pub fn bar_meter(
    ui: &mut Ui,
    size: egui::Vec2,
    label: &str,
    m: &Ballistics,
    range_db: f32,
    from_top: bool,
    colour: Color32,
) {
    let (outer, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    let painter = ui.painter_at(outer);
    let bar = Rect::from_min_max(outer.min + vec2(4.0, 16.0), outer.max - vec2(4.0, 18.0));
    painter.rect_filled(bar, 1.0, palette::PLOT_BG);
    painter.text(
        pos2(outer.center().x, outer.top()),
        Align2::CENTER_TOP,
        label,
        label_font(),
        palette::TEXT,
    );
    // Fraction of the bar for a value: levels are dBFS from -range (bottom) to 0 (top);
    // reduction is dB below 0 from the top.
    let frac = |v: f32| {
        if from_top {
            (v / range_db).clamp(0.0, 1.0)
        } else {
            ((v + range_db) / range_db).clamp(0.0, 1.0)
        }
    };
    let y = |v: f32| {
        if from_top {
            bar.top() + frac(v) * bar.height()
        } else {
            bar.bottom() - frac(v) * bar.height()
        }
    };
    let filled = if from_top {
        Rect::from_x_y_ranges(bar.x_range(), bar.top()..=y(m.value))
    } else {
        Rect::from_x_y_ranges(bar.x_range(), y(m.value)..=bar.bottom())
    };
    painter.rect_filled(filled, 0.0, colour);
    let py = y(m.peak);
    painter.line_segment(
        [pos2(bar.left(), py), pos2(bar.right(), py)],
        Stroke::new(2.0, palette::TEXT),
    );
    painter.rect_stroke(bar, 1.0, palette::frame(), egui::StrokeKind::Inside);
    let text = if from_top {
        format!("-{:.1}", m.peak.max(0.0))
    } else if m.peak <= METER_FLOOR_DB + 0.5 {
        "-inf".to_owned()
    } else {
        format!("{:.1}", m.peak)
    };
    painter.text(
        pos2(outer.center().x, outer.bottom()),
        Align2::CENTER_BOTTOM,
        text,
        label_font(),
        palette::TEXT,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axis_ends_and_middle() {
        let r = Rect::from_min_size(pos2(0.0, 0.0), vec2(300.0, 100.0));
        assert!((freq_x(r, 20.0) - 0.0).abs() < 1e-3);
        assert!((freq_x(r, 20_000.0) - 300.0).abs() < 1e-3);
        assert!((freq_x(r, 632.456) - 150.0).abs() < 0.1);
    }
}
