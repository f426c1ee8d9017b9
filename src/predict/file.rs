//! One input file scored as `predict` scores it: a video as a frame sequence, an image through
//! its faces (or whole), by extension. `eval --inputs` scores labelled files through this too.

use std::path::Path;

use deepfake_data::video::{VideoLimits, is_video_file};

use super::detector::Detector;
use super::error::Result;
use super::faces::{FaceMode, FacesPrediction};
use super::prediction::Prediction;
use super::video::VideoPrediction;

/// How files are scored by [`Detector::predict_file`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FileOptions {
    /// Faces in images and videos.
    pub faces: FaceMode,
    /// Frames sampled per video.
    pub frames: usize,
    /// The largest video accepted.
    pub video_limits: VideoLimits,
}

impl Default for FileOptions {
    fn default() -> Self {
        Self {
            faces: FaceMode::Auto,
            frames: 16,
            video_limits: VideoLimits::default(),
        }
    }
}

/// What [`Detector::predict_file`] made of a file.
#[derive(Debug, Clone)]
pub enum FilePrediction {
    /// An image, with its faces.
    Image(FacesPrediction),
    /// A video, with its frames.
    Video(VideoPrediction),
}

impl FilePrediction {
    /// The file's verdict; `None` for an image without a face.
    pub fn prediction(&self) -> Option<Prediction> {
        match self {
            FilePrediction::Image(image) => image.prediction,
            FilePrediction::Video(video) => Some(video.prediction),
        }
    }
}

impl Detector {
    /// Scores one file: a video (by extension) as [`Detector::predict_video`] does, anything
    /// else decoded as an image and scored by [`Detector::predict_faces`].
    pub fn predict_file(&self, path: &Path, options: &FileOptions) -> Result<FilePrediction> {
        if is_video_file(path) {
            let video =
                self.predict_video(path, options.frames, options.video_limits, options.faces)?;
            return Ok(FilePrediction::Video(video));
        }
        let image = self.decode_file(path)?;
        Ok(FilePrediction::Image(
            self.predict_faces(&image, options.faces)?,
        ))
    }
}
