//! Loss and accuracy per epoch from a run's `history.json`.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::palette::{FAKE, REAL};
use crate::render::{DrawResult, Figure, draw_legend, legend_line};
use deepfake_formats::EpochRecord;

/// Two panels: loss (train, validation) and accuracy (train, validation) against epoch.
pub struct TrainingCurves<'a> {
    /// The epochs, in order.
    pub history: &'a [EpochRecord],
}

impl Figure for TrainingCurves<'_> {
    fn name(&self) -> &str {
        "training_curves"
    }
    fn title(&self) -> String {
        "Training curves".into()
    }
    fn size(&self) -> (u32, u32) {
        (1080, 460)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (left, right) = root.split_horizontally(540);
        let last = self.history.last().map_or(1, |e| e.epoch).max(2) as f64;
        let first = self.history.first().map_or(1, |e| e.epoch) as f64;
        let losses = self
            .history
            .iter()
            .flat_map(|e| [e.train_loss, e.val_loss])
            .filter(|v| v.is_finite());
        let max_loss = losses.fold(0.0f64, f64::max).max(1e-3) * 1.1;
        let panels: [(&DrawingArea<DB, Shift>, &str, f64, Series); 2] = [
            (&left, "Loss", max_loss, |e| (e.train_loss, e.val_loss)),
            (&right, "Accuracy", 1.0, |e| {
                (e.train_accuracy, e.val_accuracy)
            }),
        ];
        for (area, label, top, series) in panels {
            let mut chart = ChartBuilder::on(area)
                .caption(label, ("sans-serif", 22))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d(first..last, 0.0..top)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(label)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .draw()?;
            let train = self.history.iter().map(|e| (e.epoch as f64, series(e).0));
            let valid = self.history.iter().map(|e| (e.epoch as f64, series(e).1));
            chart
                .draw_series(LineSeries::new(train, REAL.stroke_width(2)).point_size(3))?
                .label("train")
                .legend(legend_line(REAL));
            chart
                .draw_series(LineSeries::new(valid, FAKE.stroke_width(2)).point_size(3))?
                .label("validation")
                .legend(legend_line(FAKE));
            draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }
}

type Series = fn(&EpochRecord) -> (f64, f64);
