//! `cargo xtask bench ...`: performance side by side with the Python peers, as ratios.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use deepfake_data::loader::{LoaderConfig, load_sample};
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_data::{Dataset, Sample};

use crate::python::{find_python, repo_root};

/// Options of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// Decode + augment + normalise of 256x256 JPEGs on one core: Rust vs torchvision/PIL.
    Data(DataArgs),
}

#[derive(clap::Args)]
struct DataArgs {
    /// Images to time (synthetic 256x256 JPEGs written under target/bench-data).
    #[arg(long, default_value_t = 400)]
    images: usize,
    /// Output side of the pipeline.
    #[arg(long, default_value_t = 224)]
    size: u32,
    /// Timed passes; the best is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Create target/venv with torch, torchvision and pillow if no Python has them.
    #[arg(long)]
    install: bool,
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Data(args) => bench_data(args),
    }
}

fn bench_data(args: DataArgs) -> Result<()> {
    let dir = repo_root().join("target/bench-data");
    let per_class = args.images.div_ceil(2);
    let marker = dir.join(format!(".complete-{per_class}"));
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let config = SynthConfig {
            per_class,
            size: 256,
            ..SynthConfig::default()
        };
        write_dataset(&dir, &config).context("writing benchmark JPEGs")?;
        std::fs::write(&marker, b"")?;
    }
    let dataset = Dataset::open(&dir, 0)?;
    let samples: Arc<Vec<Sample>> = Arc::new(dataset.train.clone());
    let config = LoaderConfig::train(1, args.size, 0);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut best = f64::INFINITY;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        pool.install(|| -> Result<()> {
            for (i, sample) in samples.iter().enumerate() {
                load_sample(sample, &config, 0, i as u64)?;
            }
            Ok(())
        })?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    let rust_rate = samples.len() as f64 / best;
    println!(
        "Rust  (deepfake-data, 1 core): {:>8.1} images/s ({} images, best of {})",
        rust_rate,
        samples.len(),
        args.repeat
    );

    let python = find_python(
        &["torch", "torchvision", "PIL"],
        &["torch", "torchvision", "pillow"],
        args.install,
    )?;
    let train_dir: PathBuf = dir.join("real_vs_fake/real-vs-fake/train");
    let output = Command::new(&python)
        .arg(repo_root().join("scripts/bench_data_torchvision.py"))
        .arg(&train_dir)
        .args([
            "--size",
            &args.size.to_string(),
            "--repeat",
            &args.repeat.to_string(),
        ])
        .env("OMP_NUM_THREADS", "1")
        .output()
        .context("running the torchvision benchmark")?;
    if !output.status.success() {
        bail!(
            "torchvision benchmark failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let torch_rate = report["images_per_second"].as_f64().unwrap_or(f64::NAN);
    println!("torchvision + PIL (1 core):    {torch_rate:>8.1} images/s");
    println!("ratio Rust / torchvision: {:.2}x", rust_rate / torch_rate);
    Ok(())
}
