//! The confusion matrix as a 2x2 grid of counts and percentages.

use deepfake_metrics::Report;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::percent;
use crate::render::palette::{FAKE, REAL};
use crate::render::{DrawResult, Figure, text_style};

/// Rows: true class (Real, Fake); columns: predicted class; cells shaded by the share of
/// their row.
pub struct ConfusionFigure {
    /// `[[tn, fp], [fn, tp]]`.
    counts: [[usize; 2]; 2],
    threshold: f64,
}

impl ConfusionFigure {
    /// The matrix of `report`.
    pub fn new(report: &Report) -> Self {
        let m = &report.confusion_matrix;
        Self {
            counts: [[m.tn, m.fp], [m.fn_, m.tp]],
            threshold: report.threshold,
        }
    }
}

impl Figure for ConfusionFigure {
    fn name(&self) -> &str {
        "confusion_matrix"
    }
    fn title(&self) -> String {
        format!("Confusion matrix (threshold {})", self.threshold)
    }
    fn size(&self) -> (u32, u32) {
        (560, 500)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let names = ["Real", "Fake"];
        let total: usize = self.counts.iter().flatten().sum();
        let (x0, y0, cell) = (150i32, 90i32, 170i32);
        let centre = Pos::new(HPos::Center, VPos::Center);
        let centred = |size| text_style(size, false, BLACK, centre);
        let bold = |size| text_style(size, true, BLACK, centre);
        root.draw(&Text::new("Predicted", (x0 + cell, y0 - 55), bold(20.0)))?;
        for (i, name) in names.iter().enumerate() {
            let offset = i as i32 * cell + cell / 2;
            root.draw(&Text::new(*name, (x0 + offset, y0 - 22), centred(18.0)))?;
            root.draw(&Text::new(*name, (x0 - 40, y0 + offset), centred(18.0)))?;
        }
        root.draw(&Text::new("True", (x0 - 100, y0 + cell), bold(20.0)))?;
        for (row, counts) in self.counts.iter().enumerate() {
            let row_total: usize = counts.iter().sum();
            for (col, &count) in counts.iter().enumerate() {
                let share = count as f64 / row_total.max(1) as f64;
                let colour = if row == col { REAL } else { FAKE };
                let (cx, cy) = (x0 + col as i32 * cell, y0 + row as i32 * cell);
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    colour.mix(0.12 + 0.75 * share).filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [(cx, cy), (cx + cell, cy + cell)],
                    BLACK.stroke_width(1),
                ))?;
                let middle = (cx + cell / 2, cy + cell / 2);
                root.draw(&Text::new(
                    count.to_string(),
                    (middle.0, middle.1 - 16),
                    bold(30.0),
                ))?;
                root.draw(&Text::new(
                    format!("{} of row", percent(share)),
                    (middle.0, middle.1 + 16),
                    centred(15.0),
                ))?;
                root.draw(&Text::new(
                    format!("{} of all", percent(count as f64 / total.max(1) as f64)),
                    (middle.0, middle.1 + 36),
                    centred(13.0),
                ))?;
            }
        }
        Ok(())
    }
}
