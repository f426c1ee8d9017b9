//! Inference: load a trained detector and score images, files, folders and frame sequences
//! with exactly the evaluation preprocessing used in training.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use burn::tensor::Device;
//! use deepfake::Detector;
//!
//! let detector = Detector::load("runs/tiny/best", &Device::flex())?;
//! for (path, prediction) in ["a.jpg", "b.png"].iter().zip(detector.predict_paths(&["a.jpg", "b.png"])) {
//!     match prediction {
//!         Ok(p) => println!("{path}: {} (P(fake) = {:.3})", p.label.name(), p.p_fake),
//!         Err(e) => println!("{path}: {e}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod detector;
mod error;
mod explain;
mod faces;
mod file;
mod inputs;
mod prediction;
mod record;
mod region_mass;
mod saved_model;
mod video;

pub use detector::{DEFAULT_BATCH_SIZE, Detector, Preprocessed};
pub use error::{PredictError, Result};
pub use explain::Explanation;
pub use faces::{FaceMode, FaceVerdict, FacesPrediction, NO_FACE, is_aligned_crop};
pub use file::{FileOptions, FilePrediction};
pub use inputs::{InputList, expand_inputs, inputs_in, is_image_file};
pub use prediction::Prediction;
pub use record::{FaceRecord, PredictionRecord};
pub use region_mass::RegionMass;
pub use saved_model::{SavedModel, WeightsCheck};
pub use video::{FrameScore, VideoPrediction};
