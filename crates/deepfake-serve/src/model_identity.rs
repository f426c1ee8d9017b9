//! Which model answers: returned with every prediction so a client can tell models apart.

use std::io::Read;
use std::path::Path;

use deepfake::formats::WEIGHTS_FILE;
use deepfake::predict::SavedModel;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// The identity of a loaded saved model (reads and hashes its weights file).
    pub fn of(saved: &SavedModel) -> Result<Self, ServeError> {
        let weights = saved.dir.join(WEIGHTS_FILE);
        Ok(Self {
            path: saved.dir.display().to_string(),
            architecture: saved.info.architecture.clone(),
            parameters: saved.info.parameters,
            image_size: saved.info.image_size,
            sha256: sha256_file(&weights)?,
            server_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}

/// Lower-case hex SHA-256 of a file, read in 1 MiB pieces.
fn sha256_file(path: &Path) -> Result<String, ServeError> {
    let io = |source| ServeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
