//! The training curves: train and validation loss (left) and accuracy (right) per epoch, each
//! point where the panel's axes put its value.

use deepfake_formats::EpochRecord;
use deepfake_report::figures::TrainingCurves;
use deepfake_report::render::{Figure, render_svg};

use crate::svg::{self, assert_at};

const TRAIN: &str = svg::REAL;
const VALIDATION: &str = svg::FAKE;

/// Epochs 3 to 6 (a resumed run): losses 1/e (train) and 1.1/e (validation), accuracies
/// 0.3 + 0.1 e and 0.25 + 0.1 e.
fn history() -> Vec<EpochRecord> {
    (3..=6)
        .map(|epoch| {
            let e = epoch as f64;
            EpochRecord {
                epoch,
                train_loss: 1.0 / e,
                train_accuracy: 0.3 + 0.1 * e,
                val_loss: 1.1 / e,
                val_accuracy: 0.25 + 0.1 * e,
                lr: 1e-3,
                seconds: 10.0,
                images_per_second: 100.0,
                step_images_per_second: 120.0,
                loader_images_per_second: 900.0,
            }
        })
        .collect()
}

#[test]
fn each_epoch_is_drawn_at_its_loss_and_accuracy() {
    let history = history();
    let curves = TrainingCurves { history: &history };
    assert_eq!(curves.title(), "Training curves");
    let figure = svg::parse(&render_svg(&curves).expect("SVG"));
    // The loss panel runs from 0 to 1.1x the largest loss (1.1 / 3); accuracy from 0 to 1;
    // both from the first epoch to the last.
    let max_loss = 1.1 / 3.0 * 1.1;
    let panels = [
        (0.0..540.0, max_loss, "loss"),
        (540.0..1080.0, 1.0, "accuracy"),
    ];
    for (x_range, top, name) in panels {
        let axes = figure.axes(x_range.clone());
        for (colour, series) in [(TRAIN, "train"), (VALIDATION, "validation")] {
            let expected: Vec<(f64, f64)> = history
                .iter()
                .map(|e| {
                    let value = match (name, series) {
                        ("loss", "train") => e.train_loss,
                        ("loss", _) => e.val_loss,
                        (_, "train") => e.train_accuracy,
                        _ => e.val_accuracy,
                    };
                    (
                        axes.x_of(e.epoch as f64, 3.0, 6.0),
                        axes.y_of(value, 0.0, top),
                    )
                })
                .collect();
            let drawn = figure.points(colour, x_range.clone());
            assert_at(&format!("{series} {name}"), &drawn, &expected);
        }
    }
    for label in ["Loss", "Accuracy", "epoch"] {
        assert!(
            !figure.texts_saying(label).is_empty(),
            "no {label:?} on the figure"
        );
    }
    assert_eq!(figure.texts_saying("train").len(), 2, "a legend per panel");
    assert_eq!(figure.texts_saying("validation").len(), 2);
}
