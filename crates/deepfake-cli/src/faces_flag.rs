//! `--faces auto|off|only`, shared by `predict` and `eval --inputs`.

use clap::ValueEnum;
use deepfake::predict::FaceMode;

/// How faces in images and videos are treated (see [`FaceMode`]).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FacesFlag {
    /// Find the faces and score each aligned crop; an already aligned face is scored whole.
    Auto,
    /// Score whole images and frames.
    Off,
    /// Always find and crop the faces, even of an aligned image.
    Only,
}

impl From<FacesFlag> for FaceMode {
    fn from(flag: FacesFlag) -> Self {
        match flag {
            FacesFlag::Auto => FaceMode::Auto,
            FacesFlag::Off => FaceMode::Off,
            FacesFlag::Only => FaceMode::Only,
        }
    }
}
