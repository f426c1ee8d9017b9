//! One page with the headline metrics against the seed's targets.

use deepfake_metrics::Report;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::inputs::ReportInputs;
use crate::render::palette::{FAKE, GOOD, GREY};
use crate::render::{DrawResult, Figure, text_style};
use crate::targets::HEADLINE_TARGETS;

/// A bar per headline metric (0 to 1) with its target marked, green when met, red when
/// not; plus the sample count and the calibration and error summary.
pub struct Dashboard {
    title: String,
    rows: Vec<Row>,
    footer: Vec<String>,
}

/// One headline metric as shown.
struct Row {
    name: &'static str,
    value: Option<f64>,
    target: f64,
    met: Option<bool>,
    status: &'static str,
}

impl Dashboard {
    /// The dashboard of `inputs`.
    pub fn new(inputs: &ReportInputs) -> Self {
        let report: &Report = inputs.report;
        let rows = HEADLINE_TARGETS
            .iter()
            .map(|t| {
                let value = (t.value)(report);
                Row {
                    name: t.name,
                    value,
                    target: t.at_least,
                    met: t.met(report),
                    status: t.status(report),
                }
            })
            .collect();
        let m = &report.confusion_matrix;
        let mut footer = vec![
            format!(
                "n = {} ({} real, {} fake); threshold {}; TN {}  FP {}  FN {}  TP {}",
                report.n,
                m.tn + m.fp,
                m.fn_ + m.tp,
                report.threshold,
                m.tn,
                m.fp,
                m.fn_,
                m.tp
            ),
            format!(
                "ECE {:.4}   Brier {:.4}   log loss {:.4}   EER {}   Youden threshold {}",
                report.ece,
                report.brier,
                report.log_loss,
                report.eer.map_or("n/a".into(), |v| format!("{v:.4}")),
                report
                    .youden_threshold
                    .map_or("n/a".into(), |v| format!("{v:.4}"))
            ),
        ];
        if let Some(t) = inputs.temperature {
            footer.push(format!(
                "Temperature scaling: T = {:.4}, ECE {:.4} -> {:.4}",
                t.temperature, t.ece_before, t.ece_after
            ));
        }
        Self {
            title: inputs.title.clone(),
            rows,
            footer,
        }
    }
}

impl Figure for Dashboard {
    fn name(&self) -> &str {
        "dashboard"
    }
    fn title(&self) -> String {
        "Headline metrics against the targets".into()
    }
    fn size(&self) -> (u32, u32) {
        (1000, 520)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let anchor = Pos::new(HPos::Left, VPos::Center);
        let left = |size| text_style(size, false, BLACK, anchor);
        root.draw(&Text::new(
            "Headline metrics against the seed's targets",
            (30, 24),
            text_style(22.0, true, BLACK, anchor),
        ))?;
        root.draw(&Text::new(shorten(&self.title, 120), (30, 52), left(13.0)))?;
        let (bar_x, bar_w, row_h) = (250i32, 520i32, 78i32);
        for (i, row) in self.rows.iter().enumerate() {
            let Row {
                name,
                value,
                target,
                met,
                status,
            } = *row;
            let y = 96 + i as i32 * row_h;
            root.draw(&Text::new(name, (30, y + 18), left(20.0)))?;
            root.draw(&Rectangle::new(
                [(bar_x, y), (bar_x + bar_w, y + 36)],
                GREY.mix(0.15).filled(),
            ))?;
            let colour = match met {
                Some(true) => GOOD,
                Some(false) => FAKE,
                None => GREY,
            };
            if let Some(v) = value {
                let end = bar_x + (f64::from(bar_w) * v.clamp(0.0, 1.0)) as i32;
                root.draw(&Rectangle::new(
                    [(bar_x, y), (end, y + 36)],
                    colour.filled(),
                ))?;
            }
            let mark = bar_x + (f64::from(bar_w) * target) as i32;
            root.draw(&PathElement::new(
                vec![(mark, y - 6), (mark, y + 42)],
                BLACK.stroke_width(3),
            ))?;
            root.draw(&Text::new(
                format!("target {target:.2}"),
                (mark - 40, y - 12),
                left(12.0),
            ))?;
            let shown = value.map_or("n/a".to_string(), |v| format!("{v:.4}"));
            root.draw(&Text::new(
                format!("{shown}  ({status})"),
                (bar_x + bar_w + 16, y + 18),
                text_style(18.0, false, colour, anchor),
            ))?;
        }
        for (i, line) in self.footer.iter().enumerate() {
            root.draw(&Text::new(
                line.clone(),
                (30, 420 + i as i32 * 26),
                left(15.0),
            ))?;
        }
        Ok(())
    }
}

/// `text` cut to `max` characters with an ellipsis in the middle.
fn shorten(text: &str, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= max {
        return text.to_string();
    }
    let half = (max - 1) / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - half..].iter().collect();
    format!("{head}…{tail}")
}
