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

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::Preset;

    /// The name recorded in benchmarks is the one `--preset` takes.
    #[test]
    fn each_name_is_its_command_line_spelling() {
        for preset in Preset::value_variants() {
            assert_eq!(Preset::from_str(preset.name(), false), Ok(*preset));
        }
        assert_eq!(
            Preset::Seed.config(),
            deepfake::model::DetectorConfig::seed()
        );
        assert_eq!(
            Preset::Tiny.config(),
            deepfake::model::DetectorConfig::tiny()
        );
    }
}
