//! Why the host engine cannot run a backbone.

/// A layer whose form the host kernels do not implement.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The named layer has a shape the kernels do not cover.
    #[error("the host CPU engine cannot run {layer}: {reason}")]
    Unsupported {
        /// Which layer (`stem`, `block 3 conv2`, `max pool`, ...).
        layer: String,
        /// What about it is not supported.
        reason: String,
    },
}

/// Shorthand for this crate's results.
pub type Result<T> = std::result::Result<T, Error>;
