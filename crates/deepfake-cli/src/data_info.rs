//! `deepfake data-info PATH`: what a data set folder holds.

use std::path::PathBuf;

use anyhow::{Context, Result};
use deepfake::data::{Dataset, DatasetInfo};

/// Summarise a data set folder and write dataset_info.json.
#[derive(clap::Parser)]
#[command(name = "data-info")]
pub struct Args {
    /// The data set folder (Kaggle 140k root, its real-vs-fake folder, or real/ + fake/ folders).
    path: PathBuf,
    /// Print the summary as JSON on stdout instead of a table.
    #[arg(long)]
    json: bool,
    /// Seed of the 70/15/15 re-split of plain real/ fake/ folders.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Skip decoding every image (faster; no sizes, no corrupt-file check).
    #[arg(long)]
    no_decode: bool,
    /// Where to write dataset_info.json (default: the current folder).
    #[arg(long, default_value = "dataset_info.json")]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> Result<()> {
    let dataset = Dataset::open(&args.path, args.seed)
        .with_context(|| format!("opening {}", args.path.display()))?;
    let info = DatasetInfo::compute(&dataset, !args.no_decode);
    let json = serde_json::to_string_pretty(&info)?;
    deepfake::formats::write_atomic(&args.out, json.as_bytes())
        .with_context(|| format!("writing {}", args.out.display()))?;
    if args.json {
        println!("{json}");
        return Ok(());
    }
    println!("{}: {}", args.path.display(), dataset.layout.describe());
    println!("{:<8}{:>10}{:>10}{:>10}", "split", "real", "fake", "total");
    for (split, counts) in &info.splits {
        println!(
            "{split:<8}{:>10}{:>10}{:>10}",
            counts.real,
            counts.fake,
            counts.real + counts.fake
        );
    }
    if !info.image_sizes.is_empty() {
        let sizes: Vec<String> = info
            .image_sizes
            .iter()
            .map(|(size, n)| format!("{size} ({n})"))
            .collect();
        println!("image sizes: {}", sizes.join(", "));
    }
    println!("skipped: {}", info.skipped.len());
    for skipped in info.skipped.iter().take(20) {
        println!("  {}: {}", skipped.path.display(), skipped.reason);
    }
    println!("wrote {}", args.out.display());
    Ok(())
}
