//! Videos scored as frame sequences: `T` frames sampled evenly (decoded by ffmpeg, see
//! [`deepfake_data::video`]) go through the BiLSTM as one sequence for the verdict, and each
//! through the image path for its own score. With faces on, the largest face is tracked
//! across the frames and the sequence is made of its aligned crops.

use std::path::Path;

use deepfake_data::video::{VideoLimits, sample_frames};
use deepfake_faces::{ALIGNED_SIZE, Face, MtcnnConfig, align_face, track_largest_face};
use image::{DynamicImage, RgbImage};
use serde::{Deserialize, Serialize};

use super::detector::Detector;
use super::error::{PredictError, Result};
use super::faces::{FaceMode, is_aligned_crop};
use super::prediction::Prediction;

/// In video frames, faces smaller than this fraction of the frame's shorter side are not
/// searched for (facenet-pytorch's 20 px minimum on a 720p frame would search faces down to
/// 1/36 of its height, at about 5x the cost; a face that small is no basis for a verdict).
pub const VIDEO_MIN_FACE_FRACTION: f64 = 1.0 / 16.0;

/// One sampled frame's own score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrameScore {
    /// 0-based index of the frame in the video stream.
    pub index: u64,
    /// Its time in the video, seconds (index / average frame rate).
    pub seconds: f64,
    /// Calibrated P(fake) of the frame (or of its tracked face's crop) scored alone.
    pub p_fake: f32,
    /// The tracked face's box `[x1, y1, x2, y2]` in this frame, when faces were searched.
    #[serde(default, rename = "face_box", skip_serializing_if = "Option::is_none")]
    pub face: Option<[f32; 4]>,
}

/// The verdict on a video and the scores of the frames it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoPrediction {
    /// The sequence of sampled frames (or face crops) `[1, T, 3, H, W]` through the BiLSTM.
    pub prediction: Prediction,
    /// Each sampled frame on its own, in stream order.
    pub frames: Vec<FrameScore>,
}

impl Detector {
    /// Scores the video at `path` as a sequence of `frames` frames spread evenly over it
    /// (fewer when a truncated video holds fewer). With `faces` other than `Off`, the
    /// largest face is tracked through the frames and its aligned crops are scored (in
    /// `Auto`, frames that already are aligned faces are scored whole). Errors name the file:
    /// a missing ffmpeg, an unreadable or frameless video, a video over `limits`, no face
    /// in any frame.
    pub fn predict_video(
        &self,
        path: &Path,
        frames: usize,
        limits: VideoLimits,
        faces: FaceMode,
    ) -> Result<VideoPrediction> {
        let sampled = sample_frames(path, frames, limits)?;
        let (images, track) = match faces {
            FaceMode::Off => (sampled.frames, None),
            mode => {
                let track = self.track_face(path, &sampled.frames)?;
                let whole =
                    mode == FaceMode::Auto
                        && sampled.frames.iter().zip(&track).all(|(frame, face)| {
                            is_aligned_crop(face, frame.width(), frame.height())
                        });
                let images = if whole {
                    sampled.frames
                } else {
                    sampled
                        .frames
                        .iter()
                        .zip(&track)
                        .map(|(frame, face)| align_face(frame, face, ALIGNED_SIZE))
                        .collect()
                };
                (images, Some(track))
            }
        };
        let images: Vec<DynamicImage> = images.into_iter().map(DynamicImage::ImageRgb8).collect();
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
            .enumerate()
            .map(|(i, (&index, single))| FrameScore {
                index,
                seconds: if fps > 0.0 { index as f64 / fps } else { 0.0 },
                p_fake: single.p_fake,
                face: track.as_ref().map(|t| t[i].bbox),
            })
            .collect();
        Ok(VideoPrediction { prediction, frames })
    }

    /// The largest face followed through `frames` (faces from 1/16 of the shorter side up);
    /// an error naming `path` when no frame shows a face.
    fn track_face(&self, path: &Path, frames: &[RgbImage]) -> Result<Vec<Face>> {
        let mtcnn = self.face_detector()?;
        let detected = frames
            .iter()
            .map(|frame| {
                let shorter = f64::from(frame.width().min(frame.height()));
                let config = MtcnnConfig {
                    min_face_size: mtcnn
                        .config()
                        .min_face_size
                        .max(shorter * VIDEO_MIN_FACE_FRACTION),
                    ..*mtcnn.config()
                };
                mtcnn.detect_with(frame, &config)
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        track_largest_face(&detected).ok_or_else(|| PredictError::NoFaceInVideo(path.to_path_buf()))
    }
}
