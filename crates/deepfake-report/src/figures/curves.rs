//! ROC and precision-recall curves.

use deepfake_metrics::{PrCurve, Report, RocCurve, Scored};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::render::palette::{FAKE, GREY, REAL};
use crate::render::{DrawResult, Figure, draw_legend, legend_line};

/// The ROC curve with the chance diagonal and the Youden-optimal point.
pub struct RocFigure<'a> {
    roc: &'a RocCurve,
    auc: f64,
    youden: Option<(f64, f64, f64)>,
}

impl<'a> RocFigure<'a> {
    /// The curve of `report`; the Youden point is where `J = TPR - FPR` is largest.
    pub fn new(roc: &'a RocCurve, report: &Report) -> Self {
        let youden = report.youden_threshold.and_then(|t| {
            let i = roc.thresholds.iter().position(|&x| x == t)?;
            Some((roc.fpr[i], roc.tpr[i], t))
        });
        Self {
            roc,
            auc: roc.auc(),
            youden,
        }
    }
}

impl Figure for RocFigure<'_> {
    fn name(&self) -> &str {
        "roc"
    }
    fn title(&self) -> String {
        format!("ROC curve (AUC {:.4})", self.auc)
    }
    fn size(&self) -> (u32, u32) {
        (600, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("ROC (AUC = {:.4})", self.auc), ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..1.0f64, 0.0..1.0f64)?;
        chart
            .configure_mesh()
            .x_desc("False positive rate (real called fake)")
            .y_desc("True positive rate (fakes caught)")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                GREY.stroke_width(1),
            ))?
            .label("chance")
            .legend(legend_line(GREY));
        let points = self
            .roc
            .fpr
            .iter()
            .copied()
            .zip(self.roc.tpr.iter().copied());
        chart
            .draw_series(LineSeries::new(points, REAL.stroke_width(2)))?
            .label("detector")
            .legend(legend_line(REAL));
        if let Some((fpr, tpr, threshold)) = self.youden {
            chart
                .draw_series([Circle::new((fpr, tpr), 6, FAKE.filled())])?
                .label(format!(
                    "Youden: threshold {threshold:.3}, TPR {tpr:.3}, FPR {fpr:.3}"
                ))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, FAKE.filled()));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerRight)?;
        Ok(())
    }
}

/// The precision-recall curve with the no-skill line at the share of fakes.
pub struct PrFigure<'a> {
    pr: &'a PrCurve,
    average_precision: f64,
    auc: f64,
    prevalence: f64,
}

impl<'a> PrFigure<'a> {
    /// The curve of `report`; `scored` gives the share of fakes.
    pub fn new(pr: &'a PrCurve, report: &Report, scored: &Scored) -> Self {
        Self {
            pr,
            average_precision: report.average_precision.unwrap_or(f64::NAN),
            auc: report.pr_auc.unwrap_or(f64::NAN),
            prevalence: scored.positives() as f64 / scored.len().max(1) as f64,
        }
    }
}

impl Figure for PrFigure<'_> {
    fn name(&self) -> &str {
        "precision_recall"
    }
    fn title(&self) -> String {
        format!(
            "Precision-recall curve (AP {:.4}, AUC {:.4})",
            self.average_precision, self.auc
        )
    }
    fn size(&self) -> (u32, u32) {
        (600, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!(
                    "Precision-recall (AP = {:.4}, AUC = {:.4})",
                    self.average_precision, self.auc
                ),
                ("sans-serif", 20),
            )
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(0.0..1.0f64, 0.0..1.02f64)?;
        chart
            .configure_mesh()
            .x_desc("Recall (fakes caught)")
            .y_desc("Precision (flagged that are fake)")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, self.prevalence), (1.0, self.prevalence)],
                GREY.stroke_width(1),
            ))?
            .label(format!("no skill ({:.2} fakes)", self.prevalence))
            .legend(legend_line(GREY));
        let points = self
            .pr
            .recall
            .iter()
            .copied()
            .zip(self.pr.precision.iter().copied());
        chart
            .draw_series(LineSeries::new(points, REAL.stroke_width(2)))?
            .label("detector")
            .legend(legend_line(REAL));
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        Ok(())
    }
}
