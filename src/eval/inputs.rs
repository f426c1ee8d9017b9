//! Evaluation on labelled photos and videos (`eval --inputs DIR`): `DIR/real/` and `DIR/fake/`
//! hold any images and videos, each scored exactly as `predict` scores it
//! ([`Detector::predict_file`]: faces found and aligned, videos as frame sequences).

use std::path::{Path, PathBuf};

use deepfake_data::Skipped;
use deepfake_data::video::is_video_file;
use deepfake_metrics::{Report, ReportOptions, Scored};
use deepfake_report::{ReportInputs, write_report};

use super::{EvalError, EvalOutcome, EvalProgress, Result, write_scores};
use crate::predict::{Detector, FileOptions, NO_FACE, inputs_in};

/// The labelled files under `dir`: everything in `real/` (false) and `fake/` (true), images by
/// content and videos by extension, sorted within each class.
pub fn labelled_inputs(dir: &Path) -> Result<Vec<(PathBuf, bool)>> {
    let mut files = Vec::new();
    for (class, fake) in [("real", false), ("fake", true)] {
        let folder = dir.join(class);
        if folder.is_dir() {
            files.extend(inputs_in(&folder)?.into_iter().map(|path| (path, fake)));
        }
    }
    if files.is_empty() {
        return Err(EvalError::NoLabelledInputs(dir.to_path_buf()));
    }
    Ok(files)
}

/// Scores the labelled files under `dir` with `detector` as `predict` would (`options`), and
/// writes the report, `scores.csv` and `skipped.json` (files that failed, and images in which
/// no face was found) into `out`.
pub fn evaluate_inputs(
    detector: &Detector,
    dir: &Path,
    options: &FileOptions,
    out: &Path,
    report_options: &ReportOptions,
    progress: &mut dyn EvalProgress,
) -> Result<EvalOutcome> {
    let files = labelled_inputs(dir)?;
    progress.start("labelled inputs", files.len());
    let (mut names, mut labels, mut scores, mut skipped) = (vec![], vec![], vec![], vec![]);
    for (path, fake) in &files {
        let reason = match detector.predict_file(path, options) {
            Ok(file) => match file.prediction() {
                Some(prediction) => {
                    names.push(path.display().to_string());
                    labels.push(*fake);
                    scores.push(f64::from(prediction.p_fake));
                    None
                }
                None => Some(NO_FACE.to_string()),
            },
            Err(e) => Some(e.to_string()),
        };
        if let Some(reason) = reason {
            skipped.push(Skipped {
                path: path.clone(),
                reason,
            });
        }
        progress.advance(1);
    }
    progress.finish();
    let scored = Scored::new(labels, scores)?;
    let report = Report::compute(&scored, Some(&names), report_options)?;
    let mut inputs = ReportInputs::new(
        format!(
            "{} on the labelled files in {}",
            detector_title(detector),
            dir.display()
        ),
        &report,
        &scored,
    );
    // The sample grid shows images; a video has no thumbnail.
    if !names.iter().any(|n| is_video_file(Path::new(n))) {
        inputs.names = Some(&names);
    }
    if !skipped.is_empty() {
        inputs.notes.push(format!(
            "{} files were not scored (listed in skipped.json: unreadable, or no face found).",
            skipped.len()
        ));
    }
    let files = write_report(out, &inputs)?;
    write_scores(out, &names, &scored, &skipped)?;
    Ok(EvalOutcome {
        report,
        files,
        checkpoint: None,
        data: Some(dir.to_path_buf()),
        skipped,
        temperature: None,
    })
}

fn detector_title(detector: &Detector) -> String {
    format!(
        "detector ({}x{} input, temperature {:.3})",
        detector.image_size(),
        detector.image_size(),
        detector.temperature()
    )
}
