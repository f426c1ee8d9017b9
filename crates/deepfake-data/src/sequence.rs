//! Frame sequences for video-style input: one folder per clip holding its frames, under
//! `real/` or `fake/`.

use std::path::{Path, PathBuf};

use deepfake_formats::Label;
use serde::{Deserialize, Serialize};

use crate::decode::{DecodeLimits, decode_file};
use crate::error::{DataError, Result};
use crate::layout::list_images;
use crate::normalize::preprocess_eval;

/// A clip: its frames in file-name order, and its class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clip {
    /// The clip's folder.
    pub dir: PathBuf,
    /// Frame files, sorted.
    pub frames: Vec<PathBuf>,
    /// Its class.
    pub label: Label,
}

/// Lists the clips under `root/real/*/` and `root/fake/*/` (folders without frames skipped).
pub fn list_clips(root: &Path) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    for label in [Label::Real, Label::Fake] {
        let class_dir = std::fs::read_dir(root)
            .map_err(|source| DataError::Io {
                path: root.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .find(|p| {
                p.is_dir()
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().eq_ignore_ascii_case(label.name()))
            });
        let Some(class_dir) = class_dir else {
            return Err(DataError::Layout {
                path: root.to_path_buf(),
                reason: format!("no {}/ folder of clips", label.name()),
            });
        };
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&class_dir)
            .map_err(|source| DataError::Io {
                path: class_dir.clone(),
                source,
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for dir in dirs {
            let frames = list_images(&dir);
            if !frames.is_empty() {
                clips.push(Clip { dir, frames, label });
            }
        }
    }
    Ok(clips)
}

/// `t` frame indices spread evenly over `n` frames: the centre of each of `t` equal segments
/// (`(2i + 1) n / 2t`); frames repeat when `n < t`.
pub fn sample_frame_indices(n: usize, t: usize) -> Vec<usize> {
    (0..t)
        .map(|i| ((2 * i + 1) * n / (2 * t)).min(n.saturating_sub(1)))
        .collect()
}

/// Loads `t` evenly sampled frames of `clip` with the evaluation preprocessing:
/// `[T, 3, size, size]` values.
pub fn load_clip(clip: &Clip, t: usize, size: u32, limits: DecodeLimits) -> Result<Vec<f32>> {
    let mut out = Vec::new();
    for index in sample_frame_indices(clip.frames.len(), t) {
        let frame = decode_file(&clip.frames[index], limits)?;
        out.extend(preprocess_eval(&frame, size)?);
    }
    Ok(out)
}
