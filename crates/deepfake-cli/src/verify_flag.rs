//! The `--no-verify` flag of every command that loads a saved model.

use deepfake::predict::WeightsCheck;

/// `--no-verify`, flattened into a command's options.
#[derive(clap::Args, Clone, Debug)]
pub struct VerifyFlag {
    /// Load the weights even if they differ from the SHA-256 recorded in model_info.json
    /// (for weights edited on purpose).
    #[arg(long)]
    no_verify: bool,
}

impl VerifyFlag {
    /// Whether loading checks the weights.
    pub fn check(&self) -> WeightsCheck {
        if self.no_verify {
            WeightsCheck::Skip
        } else {
            WeightsCheck::Verify
        }
    }
}
