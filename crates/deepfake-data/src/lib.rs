//! Data for the deepfake detector: files on disk -> batches of normalised tensors and labels.
//!
//! - [`layout`]: the Kaggle 140k layout, split folders, or plain `real/` `fake/` folders.
//! - [`decode`], [`resize`], [`normalize`]: RGB8 decoding with limits, PIL-equal bilinear
//!   resizing, ImageNet normalisation; [`normalize::preprocess_eval`] is the one evaluation
//!   preprocessing that training, evaluation and prediction share.
//! - [`augment`]: torchvision-semantics augmentation, deterministic in (seed, epoch, index).
//! - [`perturb`]: JPEG, blur, rescaling, noise and colour perturbations for robustness
//!   studies and augmentation (JPEG and blur with PIL's semantics).
//! - [`loader`]: shuffled, parallel, prefetched batches that skip unreadable files.
//! - [`synth`]: synthetic proxy data in the 140k layout.
//! - [`sequence`]: which frames of a clip make its sequence.

pub mod augment;
pub mod decode;
pub mod degrade;
pub mod error;
pub mod info;
pub mod layout;
pub mod loader;
pub mod normalize;
pub mod perturb;
pub mod resize;
pub mod rotate;
mod scratch;
pub mod sequence;
pub mod synth;
pub mod transpose;
pub mod video;

pub use augment::AugmentConfig;
pub use decode::{DecodeLimits, decode_bytes, decode_file};
pub use error::{DataError, Result};
pub use info::DatasetInfo;
pub use layout::{Dataset, Layout, Sample, Skipped, Split};
pub use loader::{Batch, EpochLoader, LoaderConfig, LoaderStats};
pub use normalize::preprocess_eval;
pub use perturb::{Perturbation, STUDY};
pub use synth::SynthConfig;
