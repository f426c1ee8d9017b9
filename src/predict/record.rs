//! The one output record of a scored input: what `predict --format json` prints per input and
//! what the server answers per image.

use serde::{Deserialize, Serialize};

use super::detector::Detector;
use super::prediction::Prediction;
use super::video::FrameScore;

/// The prediction (or the error) of one input, with the threshold and temperature it was
/// made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionRecord {
    /// The input as given: an image or video path, a folder of frames, or an uploaded file's name.
    pub path: String,
    /// `real` or `fake`; absent when the input failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Calibrated probability of Fake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_fake: Option<f32>,
    /// Probability of the predicted label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Binary predictive entropy of `p_fake`, in nats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entropy: Option<f32>,
    /// Decision threshold on `p_fake` the label was decided with.
    pub threshold: f64,
    /// Calibration temperature `p_fake` was computed with (1 = none).
    pub temperature: f64,
    /// Why the input could not be scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Time spent on this input, in milliseconds (when asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milliseconds: Option<f64>,
    /// The Grad-CAM heatmap written for this input (`predict --heatmap DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heatmap: Option<String>,
    /// For a video: the sampled frames' own scores (the verdict above is the sequence's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<Vec<FrameScore>>,
}

impl PredictionRecord {
    /// The record of `path` from its result, made with `threshold` and `temperature`.
    pub fn new(
        path: String,
        result: Result<Prediction, String>,
        threshold: f64,
        temperature: f64,
        milliseconds: Option<f64>,
    ) -> Self {
        let (prediction, error) = match result {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        };
        Self {
            path,
            label: prediction.map(|p| p.label.name().to_string()),
            p_fake: prediction.map(|p| p.p_fake),
            confidence: prediction.map(|p| p.confidence),
            entropy: prediction.map(|p| p.entropy),
            threshold,
            temperature,
            error,
            milliseconds,
            heatmap: None,
            frames: None,
        }
    }

    /// The record with the scores of a video's sampled frames.
    pub fn with_frames(mut self, frames: Vec<FrameScore>) -> Self {
        self.frames = Some(frames);
        self
    }

    /// The record with the path of its heatmap image.
    pub fn with_heatmap(mut self, path: String) -> Self {
        self.heatmap = Some(path);
        self
    }
}

impl Detector {
    /// The record of `path` (`Ok`: its prediction, `Err`: why it failed), with this
    /// detector's threshold and temperature.
    pub fn record(
        &self,
        path: String,
        result: Result<Prediction, String>,
        milliseconds: Option<f64>,
    ) -> PredictionRecord {
        PredictionRecord::new(
            path,
            result,
            self.threshold(),
            self.temperature(),
            milliseconds,
        )
    }
}
