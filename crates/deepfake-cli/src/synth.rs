//! `deepfake synth`: writes synthetic proxy data in the 140k layout.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use deepfake::data::synth::{SynthConfig, write_dataset};

/// Write synthetic proxy data (procedural face-like images with planted "fake" traces) in
/// the 140k-faces layout.
#[derive(clap::Parser)]
#[command(name = "synth")]
pub struct Args {
    /// Output folder (gets train.csv, valid.csv, test.csv and real_vs_fake/real-vs-fake/).
    #[arg(long)]
    out: PathBuf,
    /// Training images per class; valid and test get a fifth of that each.
    #[arg(long, default_value_t = 500)]
    per_class: usize,
    /// Image side in pixels.
    #[arg(long, default_value_t = 128)]
    size: u32,
    /// Seed (same seed, same images).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// How faint the fake traces are, 0 (obvious) to 1 (nearly invisible).
    #[arg(long, default_value_t = 0.3)]
    difficulty: f64,
    /// Confine each fake image's traces to one random square patch of this fraction of the
    /// side (e.g. 0.4) and list the patches in regions.csv: ground truth for heatmaps.
    #[arg(long, value_name = "FRACTION")]
    trace_region: Option<f64>,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let config = SynthConfig {
        per_class: args.per_class,
        size: args.size,
        seed: args.seed,
        difficulty: args.difficulty,
        trace_region: args.trace_region,
        ..SynthConfig::default()
    };
    let start = Instant::now();
    let written = write_dataset(&args.out, &config)
        .with_context(|| format!("writing synthetic data to {}", args.out.display()))?;
    println!(
        "wrote {written} synthetic images ({}x{}) to {} in {:.1} s (synthetic data: not real faces)",
        args.size,
        args.size,
        args.out.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
