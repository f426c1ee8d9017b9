//! `cargo xtask heatmap-check`: on synthetic data whose fake traces sit in a known patch
//! (`deepfake synth --trace-region F`), how much of a trained detector's Grad-CAM heatmap
//! falls inside the patch: the mean heatmap inside vs outside over a split's fakes.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use deepfake::data::synth::read_regions;
use deepfake::formats::Label;
use deepfake::predict::Detector;

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

/// Mean heatmap inside and outside the trace patches, and the number of images.
pub struct RegionMass {
    /// Mean over images of the heatmap's mean inside its own patch.
    pub inside: f64,
    /// Mean over images of the heatmap's mean outside it.
    pub outside: f64,
    /// The same ratio's parts with each image given another image's patch (the control: a
    /// map that ignores where the traces are scores the same on both).
    pub control: (f64, f64),
    /// Fake images explained.
    pub images: usize,
}

/// Explains every fake of `split` in `data` with `detector` and measures where the heatmaps
/// fall.
pub fn region_mass(detector: &Detector, data: &Path, split: &str) -> Result<RegionMass> {
    let regions = read_regions(data).context("reading the trace regions")?;
    let mut names: Vec<&String> = regions
        .keys()
        .filter(|k| k.starts_with(&format!("{split}/fake/")))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!(
            "no {split}/fake images in {}",
            data.join("regions.csv").display()
        );
    }
    let base = data.join("real_vs_fake/real-vs-fake");
    let (mut inside, mut outside) = (0.0, 0.0);
    let mut control = (0.0, 0.0);
    let mut index = 0;
    for chunk in names.chunks(detector.batch_size()) {
        let images = chunk
            .iter()
            .map(|name| detector.decode_file(&base.join(name)))
            .collect::<Result<Vec<_>, _>>()?;
        let prepared = images
            .iter()
            .map(|image| detector.prepare_image(image))
            .collect::<Result<Vec<_>, _>>()?;
        let explanations = detector.explain_prepared(&prepared, Label::Fake);
        for ((name, image), explanation) in chunk.iter().zip(&images).zip(explanations) {
            let explanation = explanation?;
            let (width, height) = image.dimensions();
            let region = regions[*name];
            let (i, o) =
                explanation.mean_inside_and_outside(width, height, |x, y| region.contains(x, y));
            inside += i;
            outside += o;
            let other = regions[names[(index + names.len() / 2) % names.len()]];
            let (i, o) =
                explanation.mean_inside_and_outside(width, height, |x, y| other.contains(x, y));
            control.0 += i;
            control.1 += o;
            index += 1;
        }
    }
    let n = names.len() as f64;
    Ok(RegionMass {
        inside: inside / n,
        outside: outside / n,
        control: (control.0 / n, control.1 / n),
        images: names.len(),
    })
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
        mass.inside / mass.outside,
        mass.control.0 / mass.control.1
    );
    Ok(())
}
