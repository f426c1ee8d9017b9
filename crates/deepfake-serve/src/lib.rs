//! An HTTP inference server for the deepfake detector.
//!
//! One worker owns the model and scores images in dynamic batches (up to `max_batch`
//! images, waiting at most `max_wait` for a batch to fill) from a bounded queue; a request
//! that does not fit the queue gets 503 with `Retry-After` at once. Routes:
//!
//! - `POST /v1/predict`: one image as the raw body (`Content-Type: image/*`) or files in a
//!   `multipart/form-data` body; answers a [`PredictResponse`]: per image the record
//!   `predict --format json` prints, the model's identity and timing.
//! - `POST /v1/explain`: the same uploads; per image the record plus its Grad-CAM map of the
//!   Fake logit (raw `[h, w]` values and a PNG overlay in base64).
//! - `GET /healthz`, `GET /readyz` (model loaded and warmed up), `GET /metrics`
//!   (Prometheus), `GET /v1/model`, and `GET /` (an upload page).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use burn::tensor::Device;
//! use deepfake::predict::WeightsCheck;
//! use deepfake_serve::{ServeOptions, Server, load_model, shutdown_signal};
//!
//! let (detector, identity) =
//!     load_model("runs/tiny".as_ref(), &Device::flex(), WeightsCheck::Verify)?;
//! let server = Server::bind("127.0.0.1:8080", detector, identity, ServeOptions::default()).await?;
//! server.run(shutdown_signal()).await?;
//! # Ok(())
//! # }
//! ```

mod app;
mod batcher;
mod error;
mod explain_route;
mod metrics;
mod model_identity;
mod options;
mod predict_route;
mod probes;
mod server;
mod upload;

use std::path::Path;

use burn::tensor::Device;
use deepfake::predict::{Detector, SavedModel, WeightsCheck};

pub use error::{ApiError, ServeError};
pub use explain_route::{ExplainResponse, ExplainedRecord, ExplanationBody};
pub use model_identity::ModelIdentity;
pub use options::ServeOptions;
pub use predict_route::{PredictResponse, Timing};
pub use server::{Server, shutdown_signal};
pub use upload::{Upload, read_images};

/// Loads a saved model folder or training run (its `best/`) for serving: the detector (with
/// its temperature and threshold) and its identity (weights hashed); `check` says whether
/// weights that differ from the digest in `model_info.json` are an error.
pub fn load_model(
    path: &Path,
    device: &Device,
    check: WeightsCheck,
) -> Result<(Detector, ModelIdentity), ServeError> {
    let saved = SavedModel::open(path, device, check)?;
    let identity = ModelIdentity::of(&saved)?;
    Ok((Detector::from_saved(saved, device), identity))
}
