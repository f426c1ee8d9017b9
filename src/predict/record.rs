//! The one output record of a scored input: what `predict --format json` prints per input and
//! what the server answers per image.

use serde::{Deserialize, Serialize};

use super::detector::Detector;
use super::faces::FaceVerdict;
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
    /// With faces on: every face found, largest first, each with its own verdict (the verdict
    /// above is the most suspicious face's). Empty when no face was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faces: Option<Vec<FaceRecord>>,
    /// Why an input that did not fail has no verdict (e.g. `no face found`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One face of an input and the verdict on its aligned crop.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceRecord {
    /// `[x1, y1, x2, y2]` in the input's pixels.
    #[serde(rename = "box")]
    pub bbox: [f32; 4],
    /// The face detector's probability that this is a face.
    pub detection: f32,
    /// `[x, y]` of the left eye, right eye, nose, left and right mouth corners.
    pub landmarks: [[f32; 2]; 5],
    /// `real` or `fake`.
    pub label: String,
    /// Calibrated probability of Fake of the face's crop.
    pub p_fake: f32,
    /// Probability of the predicted label.
    pub confidence: f32,
    /// Where the aligned crop was written (`predict --save-crops DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crop: Option<String>,
}

impl FaceRecord {
    /// The record of one face, with the path its crop was saved to.
    pub fn new(verdict: &FaceVerdict, crop: Option<String>) -> Self {
        Self {
            bbox: verdict.face.bbox,
            detection: verdict.face.probability,
            landmarks: verdict.face.landmarks,
            label: verdict.prediction.label.name().to_string(),
            p_fake: verdict.prediction.p_fake,
            confidence: verdict.prediction.confidence,
            crop,
        }
    }
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
        Self::from_parts(
            path,
            prediction,
            error,
            threshold,
            temperature,
            milliseconds,
        )
    }

    /// The record of `path`, scored without a verdict (`note` says why, e.g. no face found).
    pub fn without_verdict(
        path: String,
        note: impl Into<String>,
        threshold: f64,
        temperature: f64,
        milliseconds: Option<f64>,
    ) -> Self {
        let mut record = Self::from_parts(path, None, None, threshold, temperature, milliseconds);
        record.note = Some(note.into());
        record
    }

    fn from_parts(
        path: String,
        prediction: Option<Prediction>,
        error: Option<String>,
        threshold: f64,
        temperature: f64,
        milliseconds: Option<f64>,
    ) -> Self {
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
            faces: None,
            note: None,
        }
    }

    /// The record with the faces found in the input.
    pub fn with_faces(mut self, faces: Vec<FaceRecord>) -> Self {
        self.faces = Some(faces);
        self
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
