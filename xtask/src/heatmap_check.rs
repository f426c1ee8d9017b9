//! `cargo xtask heatmap-check`: on synthetic data whose fake traces sit in a known patch
//! (`deepfake synth --trace-region F`), how much of a trained detector's Grad-CAM heatmap
//! falls inside the patch: the mean heatmap inside vs outside over a split's fakes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use deepfake::data::synth::{TraceRegion, read_regions};
use deepfake::predict::{Detector, RegionMass};

/// Options of `cargo xtask heatmap-check`.
#[derive(clap::Args)]
pub struct Args {
    /// Synthetic data written with `--trace-region` (holds regions.csv).
    #[arg(long)]
    data: PathBuf,
    /// Trained model or run folder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Split whose fakes are explained.
    #[arg(long, default_value = "test")]
    split: String,
}

/// Explains every fake of `split` in `data` with `detector` and measures where the heatmaps
/// fall.
pub fn region_mass(detector: &Detector, data: &Path, split: &str) -> Result<RegionMass> {
    let regions = read_regions(data).context("reading the trace regions")?;
    let base = data.join("real_vs_fake/real-vs-fake");
    let mut fakes: Vec<(PathBuf, TraceRegion)> = regions
        .iter()
        .filter(|(name, _)| name.starts_with(&format!("{split}/fake/")))
        .map(|(name, region)| (base.join(name), *region))
        .collect();
    fakes.sort_by(|a, b| a.0.cmp(&b.0));
    if fakes.is_empty() {
        bail!(
            "no {split}/fake images in {}",
            data.join("regions.csv").display()
        );
    }
    Ok(detector.region_mass(&fakes)?)
}

/// Runs the check and prints the means and their ratio.
pub fn run(args: Args) -> Result<()> {
    let detector = Detector::load(&args.checkpoint, &Device::flex())
        .with_context(|| format!("loading {}", args.checkpoint.display()))?;
    let mass = region_mass(&detector, &args.data, &args.split)?;
    println!(
        "{} {} fakes: mean heatmap inside the trace patch {:.3}, outside {:.3}, ratio {:.2}x; \
         with another image's patch (control) {:.2}x",
        mass.images,
        args.split,
        mass.inside,
        mass.outside,
        mass.ratio(),
        mass.control_ratio()
    );
    Ok(())
}
