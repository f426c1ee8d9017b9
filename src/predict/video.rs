//! Videos scored as frame sequences: `T` frames sampled evenly (decoded by ffmpeg, see
//! [`deepfake_data::video`]) go through the BiLSTM as one sequence for the verdict, and each
//! through the image path for its own score.

use std::path::Path;

use deepfake_data::video::{VideoLimits, sample_frames};
use image::DynamicImage;
use serde::{Deserialize, Serialize};

use super::detector::Detector;
use super::error::Result;
use super::prediction::Prediction;

/// One sampled frame's own score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameScore {
    /// 0-based index of the frame in the video stream.
    pub index: u64,
    /// Its time in the video, seconds (index / average frame rate).
    pub seconds: f64,
    /// Calibrated P(fake) of the frame scored alone, as an image.
    pub p_fake: f32,
}

/// The verdict on a video and the scores of the frames it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPrediction {
    /// The sequence of sampled frames `[1, T, 3, H, W]` through the BiLSTM.
    pub prediction: Prediction,
    /// Each sampled frame on its own, in stream order.
    pub frames: Vec<FrameScore>,
}

impl Detector {
    /// Scores the video at `path` as a sequence of `frames` frames spread evenly over it
    /// (fewer when a truncated video holds fewer). Errors name the file: a missing ffmpeg,
    /// an unreadable or frameless video, a video over `limits`.
    pub fn predict_video(
        &self,
        path: &Path,
        frames: usize,
        limits: VideoLimits,
    ) -> Result<VideoPrediction> {
        let sampled = sample_frames(path, frames, limits)?;
        let images: Vec<DynamicImage> = sampled
            .frames
            .into_iter()
            .map(DynamicImage::ImageRgb8)
            .collect();
        // Preprocessed once, scored as one sequence and as single images.
        let prepared = self.prepare_frames(&images)?;
        let prediction = self.sequence_prediction(&prepared)?;
        let singles = self
            .score_prepared(&prepared)
            .into_iter()
            .collect::<Result<Vec<_>>>()?;
        let fps = sampled.info.fps;
        let frames = sampled
            .indices
            .iter()
            .zip(singles)
            .map(|(&index, single)| FrameScore {
                index,
                seconds: if fps > 0.0 { index as f64 / fps } else { 0.0 },
                p_fake: single.p_fake,
            })
            .collect();
        Ok(VideoPrediction { prediction, frames })
    }
}
