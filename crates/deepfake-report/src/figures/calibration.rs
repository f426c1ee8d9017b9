//! Calibration and confidence: the reliability diagram, the confidence of right and wrong
//! predictions, and the error rate by confidence.

use deepfake_metrics::{ReliabilityBin, Report, Scored, prediction};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::percent;
use crate::render::palette::{FAKE, GREY, REAL};
use crate::render::{DrawResult, Figure, draw_legend, legend_line};

/// Accuracy against mean confidence per equal-width confidence bin, with the diagonal of
/// perfect calibration; bar labels give the bin counts.
pub struct ReliabilityFigure {
    bins: Vec<ReliabilityBin>,
    ece: f64,
    mce: f64,
}

impl ReliabilityFigure {
    /// The diagram of `report`.
    pub fn new(report: &Report) -> Self {
        Self {
            bins: report.reliability.clone(),
            ece: report.ece,
            mce: report.mce,
        }
    }
}

impl Figure for ReliabilityFigure {
    fn name(&self) -> &str {
        "reliability"
    }
    fn title(&self) -> String {
        format!(
            "Reliability diagram (ECE {:.4}, MCE {:.4})",
            self.ece, self.mce
        )
    }
    fn size(&self) -> (u32, u32) {
        (600, 560)
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        // Confidence of the predicted class is at least 0.5 for two classes: start the axis
        // at the lowest bin that holds anything.
        let low = self
            .bins
            .iter()
            .find(|b| b.count > 0)
            .map_or(0.0, |b| b.lower)
            .min(0.5);
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Reliability (ECE = {:.4}, MCE = {:.4})", self.ece, self.mce),
                ("sans-serif", 20),
            )
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(52)
            .build_cartesian_2d(low..1.0f64, 0.0..1.05f64)?;
        chart
            .configure_mesh()
            .x_desc("Confidence of the predicted class")
            .y_desc("Accuracy")
            .draw()?;
        chart.draw_series(self.bins.iter().filter(|b| b.count > 0).map(|b| {
            Rectangle::new(
                [(b.lower, 0.0), (b.upper, b.accuracy)],
                REAL.mix(0.75).filled(),
            )
        }))?;
        chart.draw_series(self.bins.iter().filter(|b| b.count > 0).map(|b| {
            Text::new(
                b.count.to_string(),
                (b.lower, (b.accuracy + 0.04).min(1.03)),
                ("sans-serif", 11).into_font(),
            )
        }))?;
        chart
            .draw_series(LineSeries::new(
                [(low, low), (1.0, 1.0)],
                GREY.stroke_width(2),
            ))?
            .label("perfect calibration")
            .legend(legend_line(GREY));
        chart
            .draw_series(
                self.bins
                    .iter()
                    .filter(|b| b.count > 0)
                    .map(|b| Circle::new((b.mean_confidence, b.accuracy), 4, FAKE.filled())),
            )?
            .label("accuracy at mean confidence of bin")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, FAKE.filled()));
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// Histograms of the predicted class's confidence for correct and for wrong predictions,
/// each as a share of its own group.
pub struct ConfidenceDistribution {
    /// Counts per bin of width 0.025 over [0.5, 1.0]: (correct, wrong).
    counts: Vec<(usize, usize)>,
    totals: (usize, usize),
}

const CONFIDENCE_BINS: usize = 20;

impl ConfidenceDistribution {
    /// The distribution of `scored` (predicted class at P(fake) >= 0.5, as the report's
    /// confidence statistics).
    pub fn new(scored: &Scored) -> Self {
        let mut counts = vec![(0, 0); CONFIDENCE_BINS];
        for (&fake, &p) in scored.labels().iter().zip(scored.scores()) {
            let (_, confidence, correct) = prediction(fake, p);
            let bin = (((confidence - 0.5) * 2.0 * CONFIDENCE_BINS as f64) as usize)
                .min(CONFIDENCE_BINS - 1);
            if correct {
                counts[bin].0 += 1;
            } else {
                counts[bin].1 += 1;
            }
        }
        let totals = counts.iter().fold((0, 0), |(a, b), &(c, w)| (a + c, b + w));
        Self { counts, totals }
    }
}

impl Figure for ConfidenceDistribution {
    fn name(&self) -> &str {
        "confidence_distribution"
    }
    fn title(&self) -> String {
        format!(
            "Confidence of correct ({}) and wrong ({}) predictions",
            self.totals.0, self.totals.1
        )
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let width = 0.5 / CONFIDENCE_BINS as f64;
        let share = |count: usize, total: usize| count as f64 / total.max(1) as f64;
        let top = self
            .counts
            .iter()
            .map(|&(c, w)| share(c, self.totals.0).max(share(w, self.totals.1)))
            .fold(0.05f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption("Confidence: correct vs wrong", ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..1.0f64, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("Confidence of the predicted class")
            .y_desc("Share of the group")
            .y_label_formatter(&|v| percent(*v))
            .draw()?;
        let groups = [
            (0usize, REAL, format!("correct (n = {})", self.totals.0)),
            (1, FAKE, format!("wrong (n = {})", self.totals.1)),
        ];
        for (group, colour, label) in groups {
            let total = if group == 0 {
                self.totals.0
            } else {
                self.totals.1
            };
            let bars = self.counts.iter().enumerate().map(move |(i, &(c, w))| {
                let x0 = 0.5 + i as f64 * width + group as f64 * width / 2.0;
                let count = if group == 0 { c } else { w };
                Rectangle::new(
                    [(x0, 0.0), (x0 + width / 2.0, share(count, total))],
                    colour.mix(0.8).filled(),
                )
            });
            chart.draw_series(bars)?.label(label).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 15, y + 5)], colour.filled())
            });
        }
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        Ok(())
    }
}

/// Error rate per confidence bucket ([0.5, 0.6), ..., [0.9, 1.0]), with bucket sizes.
pub struct ErrorsByConfidence {
    buckets: Vec<deepfake_metrics::confidence::ConfidenceBucket>,
}

impl ErrorsByConfidence {
    /// The buckets of `report`.
    pub fn new(report: &Report) -> Self {
        Self {
            buckets: report.errors_by_confidence.clone(),
        }
    }
}

impl Figure for ErrorsByConfidence {
    fn name(&self) -> &str {
        "errors_by_confidence"
    }
    fn title(&self) -> String {
        "Error rate by confidence".into()
    }
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let top = self
            .buckets
            .iter()
            .map(|b| b.error_rate)
            .fold(0.05f64, f64::max)
            * 1.2;
        let mut chart = ChartBuilder::on(root)
            .caption("Error rate by confidence", ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(42)
            .y_label_area_size(60)
            .build_cartesian_2d(0.5..1.0f64, 0.0..top.min(1.05))?;
        chart
            .configure_mesh()
            .x_desc("Confidence of the predicted class")
            .y_desc("Error rate")
            .y_label_formatter(&|v| percent(*v))
            .draw()?;
        chart.draw_series(self.buckets.iter().map(|b| {
            Rectangle::new(
                [(b.lower + 0.005, 0.0), (b.upper - 0.005, b.error_rate)],
                FAKE.mix(0.8).filled(),
            )
        }))?;
        chart.draw_series(self.buckets.iter().map(|b| {
            Text::new(
                format!("{} / {}", b.errors, b.count),
                (b.lower + 0.02, b.error_rate + top * 0.03),
                ("sans-serif", 13).into_font(),
            )
        }))?;
        Ok(())
    }
}
