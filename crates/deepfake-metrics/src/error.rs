//! The metrics crate's error type.

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A file over its size or row limit: `deepfake_formats`' message, which names the file
    /// and the limit.
    #[error("{0}")]
    Limit(String),
    /// No samples at all.
    #[error("no samples to score")]
    Empty,
    /// Labels and scores differ in length.
    #[error("{labels} labels but {scores} scores")]
    LengthMismatch {
        /// Number of labels.
        labels: usize,
        /// Number of scores.
        scores: usize,
    },
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NonFinite {
        /// Position of the score.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A probability is outside [0, 1].
    #[error("score {index} = {value} is not a probability in [0, 1]")]
    NotProbability {
        /// Position of the score.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The metric needs both classes and only one is present.
    #[error("{metric} is undefined with only one class present")]
    OneClass {
        /// The metric asked for.
        metric: &'static str,
    },
    /// A scores file could not be read or has a malformed line.
    #[error("{path}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    ScoresFile {
        /// The file.
        path: std::path::PathBuf,
        /// 1-based line number of the bad record, when one is to blame.
        line: Option<u64>,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// A parameter is out of range.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
}

/// Result alias for this crate.
pub type Result<T, E = MetricsError> = std::result::Result<T, E>;
