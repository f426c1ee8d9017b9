//! The robustness study of `eval --robustness`: every image of the split that scored clean
//! is decoded once, perturbed at each level of [`STUDY`] and scored through the same
//! preprocessing, model and temperature as `predict`; one [`RobustnessRow`] per level.

use std::path::PathBuf;

use deepfake_data::{Perturbation, STUDY};
use deepfake_metrics::{ReportOptions, RobustnessRow, Scored, p_fake};
use image::RgbImage;
use rayon::prelude::*;

use super::{EvalProgress, Result};
use crate::predict::{Detector, Preprocessed};

/// Scores of one level, aligned with the clean images; `None` where the image could not be
/// perturbed or scored.
type LevelScores = Vec<Option<f64>>;

/// The rows of the study: `clean` first (on the images every level could score), then
/// each level of [`STUDY`] in order. `labels` and `clean` are the clean evaluation's, one
/// per path; `seed` seeds the noise.
pub(crate) fn robustness_rows(
    detector: &Detector,
    paths: &[PathBuf],
    labels: &[bool],
    clean: &[f64],
    seed: u64,
    options: &ReportOptions,
    progress: &mut dyn EvalProgress,
) -> Result<Vec<RobustnessRow>> {
    progress.start("robustness", paths.len() * STUDY.len());
    let mut levels: Vec<LevelScores> = vec![Vec::with_capacity(paths.len()); STUDY.len()];
    // Decoded images held at once: a few batches, so memory stays bounded.
    let group = (detector.batch_size() * 2).max(1);
    for (chunk_index, chunk) in paths.chunks(group).enumerate() {
        let decoded: Vec<Option<RgbImage>> = chunk
            .par_iter()
            .map(|path| detector.decode_file(path).ok())
            .collect();
        let first_index = (chunk_index * group) as u64;
        for (perturbation, scores) in STUDY.iter().zip(levels.iter_mut()) {
            scores.extend(score_perturbed(
                detector,
                &decoded,
                perturbation,
                seed,
                first_index,
            ));
            progress.advance(chunk.len());
        }
    }
    progress.finish();

    // Keep the images that every level scored, so that all rows describe the same images.
    let kept: Vec<usize> = (0..paths.len())
        .filter(|&i| levels.iter().all(|level| level[i].is_some()))
        .collect();
    let kept_labels: Vec<bool> = kept.iter().map(|&i| labels[i]).collect();
    let clean = Scored::new(
        kept_labels.clone(),
        kept.iter().map(|&i| clean[i]).collect(),
    )?;
    let (threshold, bins) = (options.threshold, options.calibration_bins);
    let mut rows = vec![RobustnessRow::compute(
        "clean", None, "clean", &clean, &clean, threshold, bins,
    )?];
    for (perturbation, scores) in STUDY.iter().zip(&levels) {
        let perturbed_scores = kept.iter().filter_map(|&i| scores[i]).collect();
        let perturbed = Scored::new(kept_labels.clone(), perturbed_scores)?;
        rows.push(RobustnessRow::compute(
            perturbation.kind(),
            Some(perturbation.level()),
            perturbation.label(),
            &clean,
            &perturbed,
            threshold,
            bins,
        )?);
    }
    Ok(rows)
}

/// P(Fake) of each decoded image under `perturbation` (`None` for an image that is missing
/// or fails); `first_index` is the split index of the first image (it seeds the noise).
fn score_perturbed(
    detector: &Detector,
    decoded: &[Option<RgbImage>],
    perturbation: &Perturbation,
    seed: u64,
    first_index: u64,
) -> LevelScores {
    // Err(()) for an image that is missing or fails: it gets no score.
    let prepared: Vec<std::result::Result<Preprocessed, ()>> = decoded
        .par_iter()
        .enumerate()
        .map(|(i, image)| {
            let image = image.as_ref().ok_or(())?;
            let perturbed = perturbation
                .apply(image, seed, first_index + i as u64)
                .map_err(drop)?;
            detector.prepare_image(&perturbed).map_err(drop)
        })
        .collect();
    detector
        .logits_in_place(prepared)
        .into_iter()
        .map(|logits| Some(p_fake(logits.ok()?.ok()?, detector.temperature())))
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::tensor::Device;
    use deepfake_data::{Perturbation, STUDY};
    use deepfake_model::DetectorConfig;
    use image::{Rgb, RgbImage};

    use super::score_perturbed;
    use crate::predict::Detector;

    /// An image that is missing (or fails to perturb) takes no score from its neighbours:
    /// the images after it keep their own.
    #[test]
    fn a_missing_image_leaves_the_others_their_scores() {
        let config = DetectorConfig::tiny();
        let device = Device::flex();
        let detector = Detector::new(config.init(&device).unwrap(), config, &device);
        let image = |seed: u32| {
            RgbImage::from_fn(64, 64, |x, y| {
                let v = (x * 7 + y * 13 + seed * 101) % 256;
                Rgb([v as u8, (255 - v) as u8, ((v * seed) % 256) as u8])
            })
        };
        // Deterministic perturbation (no noise): the score depends on the image alone.
        let jpeg = STUDY
            .iter()
            .find(|p| matches!(p, Perturbation::Jpeg { .. }))
            .unwrap();
        let (a, b) = (image(1), image(2));
        let alone = score_perturbed(&detector, &[Some(a.clone()), Some(b.clone())], jpeg, 0, 0);
        let (score_a, score_b) = (alone[0].unwrap(), alone[1].unwrap());
        assert_ne!(score_a, score_b, "the two images must score apart");
        let with_gap = score_perturbed(&detector, &[Some(a), None, Some(b)], jpeg, 0, 0);
        assert_eq!(with_gap, [Some(score_a), None, Some(score_b)]);
    }
}
