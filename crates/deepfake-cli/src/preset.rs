//! The `--preset` flag: which architecture to build.

use clap::ValueEnum;
use deepfake::model::DetectorConfig;

/// A detector architecture by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// ResNeXt-50 32x4d + 2x512 BiLSTM at 224x224 (the seed's model).
    Seed,
    /// The same architecture, small, at 64x64: trains in minutes on a CPU.
    Tiny,
}

impl Preset {
    /// The detector configuration of this preset.
    pub fn config(self) -> DetectorConfig {
        match self {
            Self::Seed => DetectorConfig::seed(),
            Self::Tiny => DetectorConfig::tiny(),
        }
    }

    /// The name on the command line (`seed`, `tiny`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Tiny => "tiny",
        }
    }
}
