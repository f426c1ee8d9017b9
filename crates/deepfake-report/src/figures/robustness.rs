//! The robustness study: one metric against perturbation severity, one line per kind of
//! perturbation, the clean value as a dashed reference.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::RGBColor;

use deepfake_metrics::RobustnessRow;

use crate::render::palette::GREY;
use crate::render::{DrawResult, Figure, draw_legend, legend_line};

/// A metric of [`RobustnessRow`] that the study plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RobustnessMetric {
    /// ROC AUC.
    RocAuc,
    /// Accuracy at the threshold.
    Accuracy,
    /// Expected calibration error.
    Ece,
    /// Share of verdicts flipped against the clean ones.
    Flipped,
}

impl RobustnessMetric {
    /// Every metric, in the page's order.
    pub const ALL: [RobustnessMetric; 4] = [Self::RocAuc, Self::Accuracy, Self::Ece, Self::Flipped];

    fn value(self, row: &RobustnessRow) -> Option<f64> {
        match self {
            Self::RocAuc => row.roc_auc,
            Self::Accuracy => Some(row.accuracy),
            Self::Ece => Some(row.ece),
            Self::Flipped => Some(row.flipped),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::RocAuc => "ROC AUC",
            Self::Accuracy => "accuracy",
            Self::Ece => "ECE",
            Self::Flipped => "flipped verdicts",
        }
    }

    fn file_stem(self) -> &'static str {
        match self {
            Self::RocAuc => "robustness_auc",
            Self::Accuracy => "robustness_accuracy",
            Self::Ece => "robustness_ece",
            Self::Flipped => "robustness_flipped",
        }
    }
}

/// One line per perturbation kind: severity step (1 = mildest level) on x, the metric on y.
pub struct RobustnessFigure<'a> {
    /// The study's rows: `clean` first, then each kind's levels, mildest first.
    pub rows: &'a [RobustnessRow],
    /// The metric drawn.
    pub metric: RobustnessMetric,
}

const COLOURS: [RGBColor; 6] = [
    RGBColor(46, 109, 180),
    RGBColor(214, 69, 65),
    RGBColor(46, 139, 87),
    RGBColor(230, 145, 30),
    RGBColor(128, 80, 170),
    RGBColor(60, 170, 190),
];

/// The kinds in the rows' order, each with its rows.
fn kinds(rows: &[RobustnessRow]) -> Vec<(&str, Vec<&RobustnessRow>)> {
    let mut kinds: Vec<(&str, Vec<&RobustnessRow>)> = Vec::new();
    for row in rows.iter().filter(|row| row.level.is_some()) {
        match kinds.iter_mut().find(|(kind, _)| *kind == row.perturbation) {
            Some((_, members)) => members.push(row),
            None => kinds.push((&row.perturbation, vec![row])),
        }
    }
    kinds
}

impl Figure for RobustnessFigure<'_> {
    fn name(&self) -> &str {
        self.metric.file_stem()
    }

    fn title(&self) -> String {
        format!(
            "Robustness: {} by perturbation severity",
            self.metric.name()
        )
    }

    fn size(&self) -> (u32, u32) {
        (860, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let kinds = kinds(self.rows);
        let steps = kinds.iter().map(|(_, rows)| rows.len()).max().unwrap_or(1);
        let clean = self
            .rows
            .iter()
            .find(|row| row.level.is_none())
            .and_then(|row| self.metric.value(row));
        let top = self
            .rows
            .iter()
            .filter_map(|row| self.metric.value(row))
            .fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(root)
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..steps as f64 + 0.2, 0.0..top * 1.02)?;
        chart
            .configure_mesh()
            .x_desc("severity step (0 = clean; levels in the legend, mildest first)")
            .y_desc(self.metric.name())
            .x_labels(steps + 1)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .draw()?;
        if let Some(clean) = clean {
            chart
                .draw_series(DashedLineSeries::new(
                    [(0.0, clean), (steps as f64, clean)],
                    6,
                    4,
                    GREY.stroke_width(2),
                ))?
                .label(format!("clean ({clean:.3})"))
                .legend(legend_line(GREY));
        }
        for (i, (_, members)) in kinds.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let points =
                clean
                    .map(|c| (0.0, c))
                    .into_iter()
                    .chain(members.iter().enumerate().filter_map(|(step, row)| {
                        self.metric.value(row).map(|v| ((step + 1) as f64, v))
                    }));
            let levels: Vec<String> = members
                .iter()
                .map(|row| row.level.map_or(String::new(), |l| format!("{l}")))
                .collect();
            let label = format!(
                "{} ({})",
                members.first().map_or("", |row| row.perturbation.as_str()),
                levels.join(", ")
            );
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(2)).point_size(3))?
                .label(label)
                .legend(legend_line(colour));
        }
        draw_legend(&mut chart, SeriesLabelPosition::LowerLeft)
    }
}
