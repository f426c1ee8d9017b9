//! What another Rust project writes to use the detector: load a saved model, score images.
//! Only the public API of `deepfake` (the `deepfake-detection` package) is used.

use std::path::Path;

use burn::tensor::Device;
use deepfake::{Detector, Prediction};

/// Loads the model in `model_dir` on the CPU and scores the files in `paths`, in order:
/// `Ok` with the verdict, or `Err` with a readable reason for files that could not be scored.
pub fn score_files(
    model_dir: &Path,
    paths: &[&Path],
) -> Result<Vec<Result<Prediction, String>>, String> {
    let detector = Detector::load(model_dir, &Device::flex()).map_err(|e| e.to_string())?;
    Ok(detector
        .predict_paths(paths)
        .into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect())
}

/// Scores images already in memory.
pub fn score_images(
    model_dir: &Path,
    images: &[image::DynamicImage],
) -> Result<Vec<Prediction>, String> {
    let detector = Detector::load(model_dir, &Device::flex()).map_err(|e| e.to_string())?;
    detector.predict(images).map_err(|e| e.to_string())
}
