//! Which model answers: returned with every prediction so a client can tell models apart.

use deepfake::formats::{WEIGHTS_FILE, sha256_file};
use deepfake::predict::SavedModel;
use serde::{Deserialize, Serialize};

use crate::error::ServeError;

/// The served model: its folder name, architecture and the SHA-256 of its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelIdentity {
    /// The saved model's folder (e.g. `best`), as given on the command line.
    pub path: String,
    /// Architecture summary from `model_info.json`.
    pub architecture: String,
    /// Trainable parameters.
    pub parameters: usize,
    /// Square input side in pixels.
    pub image_size: usize,
    /// Lower-case hex SHA-256 of the weights file (`model.bpk`).
    pub sha256: String,
    /// The server's version (`deepfake-serve` crate version).
    pub server_version: String,
}

impl ModelIdentity {
    /// The identity of a loaded saved model (its weights hashed, unless loading already did).
    pub fn of(saved: &SavedModel) -> Result<Self, ServeError> {
        let weights = saved.dir.join(WEIGHTS_FILE);
        Ok(Self {
            path: saved.dir.display().to_string(),
            architecture: saved.info.architecture.clone(),
            parameters: saved.info.parameters,
            image_size: saved.info.image_size,
            sha256: match &saved.verified_sha256 {
                Some(digest) => digest.clone(),
                None => sha256_file(&weights).map_err(|e| ServeError::Io {
                    path: weights.clone(),
                    source: std::io::Error::other(e.to_string()),
                })?,
            },
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}
