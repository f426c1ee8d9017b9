//! Training the deepfake detector with the seed's recipe: Adam (lr 1e-3, L2 weight decay 1e-4,
//! PyTorch semantics), cross-entropy, ReduceLROnPlateau on the validation loss, checkpoints of
//! the best validation accuracy (`best/`) and of the last epoch (`last/`), early stopping and
//! resume. [`train`] runs it; [`TrainObserver`] receives progress.

pub mod checkpoint;
pub mod clip;
pub mod config;
pub mod error;
pub mod evaluate;
pub mod plateau;
pub mod step;
pub mod trainer;

pub use config::TrainConfig;
pub use deepfake_formats::{EpochRecord, StopReason, TrainingResults};
pub use error::{Result, TrainError};
pub use evaluate::{Evaluation, evaluate};
pub use plateau::ReduceLrOnPlateau;
pub use step::{QueuedStep, StepOutput, torch_adam, train_step};
pub use trainer::{Silent, TrainObserver, load_best, train};
