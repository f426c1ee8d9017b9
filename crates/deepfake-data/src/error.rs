//! The data crate's error type.

use std::path::PathBuf;

/// Errors from reading data sets and images.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file or folder could not be written (the synthetic data set's folders and images).
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not an image we can decode (or is corrupt / truncated).
    #[error("cannot decode {path}: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The image is larger than the decode limit.
    #[error("{path} is {width}x{height} = {pixels} pixels, over the limit of {limit} pixels")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// width * height.
        pixels: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A video could not be probed or decoded (or the ffmpeg tools are missing).
    #[error("{path}: {reason}")]
    Video {
        /// The video file.
        path: PathBuf,
        /// What went wrong, and the fix where there is one.
        reason: String,
    },
    /// A video is longer, has more frames or larger frames than the limits allow.
    #[error("{path} is {what}")]
    VideoLimit {
        /// The video file.
        path: PathBuf,
        /// Which limit, and by how much.
        what: String,
    },
    /// A CSV file (the 140k layout's splits, a synthetic data set's regions) is malformed.
    #[error("{path}, line {line}: {reason}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        reason: String,
    },
    /// The folder is not a data set layout we know.
    #[error("{path}: {reason}")]
    Layout {
        /// The folder given.
        path: PathBuf,
        /// What was expected.
        reason: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// A file operation of `deepfake_formats` failed: a file over its size or row limit
    /// (see `deepfake_formats::limits`), or an atomic write; the message names the file.
    #[error(transparent)]
    Format(#[from] deepfake_formats::FormatError),
}

/// Result alias for this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
