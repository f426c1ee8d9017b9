//! `cargo xtask bench ...`: performance side by side with the Python peers, as ratios.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use deepfake_data::degrade::Degradations;
use deepfake_data::loader::{LoaderConfig, load_sample};
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_data::{Dataset, Sample};

use crate::bench_output::BenchOutput;
use crate::python::{find_python, output_checked, repo_root};
use crate::stats::median;

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
    /// `predict` with the seed preset (random weights) on a folder of 256x256 JPEGs:
    /// Rust (the predict example) vs the same pipeline in PyTorch eager, same threads.
    Predict(PredictArgs),
    /// The full metrics report (every metric, curves, calibration, 1000-resample bootstrap
    /// skipped) on N random scores.
    Metrics(MetricsArgs),
    /// Forward pass of the seed preset (backbone and detector, batch 1 and 8): Burn flex vs
    /// PyTorch eager (default and channels_last) vs ONNX Runtime, same threads.
    Model(crate::bench_model::ModelArgs),
    /// One training step of the tiny and the seed preset: Burn flex vs PyTorch eager.
    Train(crate::bench_model::TrainArgs),
    /// The HTTP server (the serve example, seed preset) under load at several concurrencies
    /// vs a minimal PyTorch server, plus one overload run (503s, nothing lost).
    Serve(crate::bench_serve::ServeArgs),
    /// The GPU benchmark: `prepare` builds the binaries into gpu-bench/ for one run on a GPU
    /// machine (`bash gpu-bench/bench_gpu.sh OUT`, under 8 minutes), `report` reads its records.
    Gpu(crate::bench_gpu::GpuArgs),
    /// Face detection (MTCNN) on 640x480 photos: ours (Burn flex) vs facenet-pytorch.
    Faces(crate::bench_faces::FacesArgs),
    /// Gather the latest results of each benchmark (target/bench/*.md) into
    /// docs/benchmarks.md with the machine, versions and date.
    Docs,
}

#[derive(clap::Args)]
struct PredictArgs {
    /// Images to score.
    #[arg(long, default_value_t = 64)]
    images: usize,
    /// Images per forward pass (both sides).
    #[arg(long, default_value_t = 8)]
    batch_size: usize,
    /// Create target/venv with torch and torchvision if no Python has them.
    #[arg(long)]
    install: bool,
}

/// A folder of `images` synthetic 256x256 JPEGs (made once, kept under target/).
pub fn benchmark_jpegs(images: usize) -> Result<PathBuf> {
    let dir = repo_root().join(format!("target/bench-predict-{images}"));
    if !dir.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let config = SynthConfig {
            per_class: images.div_ceil(2),
            size: 256,
            ..SynthConfig::default()
        };
        write_dataset(&dir, &config).context("writing benchmark JPEGs")?;
        std::fs::write(dir.join(".complete"), b"")?;
    }
    Ok(dir.join("real_vs_fake/real-vs-fake/train"))
}

/// Builds the release examples `names` (one cargo call).
pub fn build_release_examples(names: &[&str]) -> Result<()> {
    let mut command = Command::new(env!("CARGO"));
    command.args(["build", "--quiet", "--release"]);
    for name in names {
        command.args(["--example", name]);
    }
    crate::python::run_checked(command.current_dir(repo_root()))
}

/// Images per second of the release `predict` example on `images` with `model`, from its
/// summary line on stderr ("N inputs: ...; R inputs/s"; model loading not included).
pub fn predict_rate(model: &Path, images: &Path, batch_size: usize) -> Result<f64> {
    let output = output_checked(
        Command::new(repo_root().join("target/release/examples/predict"))
            // Whole images, as the PyTorch pipeline it is compared with.
            .args(["--faces", "off", "--format", "jsonl"])
            .args(["--batch-size", &batch_size.to_string()])
            .arg("--checkpoint")
            .arg(model)
            .arg(images),
        "the predict example",
    )?;
    let summary = String::from_utf8_lossy(&output.stderr);
    summary
        .lines()
        .last()
        .and_then(|l| l.rsplit("; ").next())
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no inputs/s in the predict summary")
}

fn bench_predict(args: PredictArgs) -> Result<()> {
    let root = repo_root();
    let images = benchmark_jpegs(args.images)?;
    let model = crate::bench_model::seed_model()?;
    build_release_examples(&["predict"])?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let rust_rate = predict_rate(&model, &images, args.batch_size)?;
    let python = find_python(
        &["torch", "torchvision", "PIL"],
        &["torch", "torchvision", "pillow"],
        args.install,
    )?;
    let mut rates = Vec::new();
    for channels_last in [false, true] {
        let mut command = Command::new(&python);
        command
            .arg(root.join("scripts/bench_predict_torch.py"))
            .arg(&images)
            .args([
                "--batch-size",
                &args.batch_size.to_string(),
                "--threads",
                &threads.to_string(),
            ]);
        if channels_last {
            command.arg("--channels-last");
        }
        let output = output_checked(&mut command, "the PyTorch benchmark")?;
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
        rates.push(report["images_per_second"].as_f64().unwrap_or(f64::NAN));
    }
    let mut out = BenchOutput::new("predict");
    out.line(format!(
        "predict, seed preset, {} JPEGs 256x256, batch {}, {threads} threads (decode + resize + normalise + forward):",
        args.images, args.batch_size
    ));
    out.line(format!(
        "  Rust (Burn flex, predict example): {rust_rate:>6.2} images/s"
    ));
    out.line(format!(
        "  PyTorch eager:                     {:>6.2} images/s  (Rust / PyTorch {:.2}x)",
        rates[0],
        rust_rate / rates[0]
    ));
    out.line(format!(
        "  PyTorch eager, channels_last:      {:>6.2} images/s  (Rust / PyTorch {:.2}x)",
        rates[1],
        rust_rate / rates[1]
    ));
    out.save()
}

#[derive(clap::Args)]
struct MetricsArgs {
    /// Number of scores.
    #[arg(long, default_value_t = 1_000_000)]
    n: usize,
    /// Timed passes; the best is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
}

fn bench_metrics(args: MetricsArgs) -> Result<()> {
    use deepfake_metrics::{Report, ReportOptions, Scored};
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let labels: Vec<bool> = (0..args.n).map(|_| rng.random::<bool>()).collect();
    // Informative but overlapping scores, rounded to 1e-4 so that ties occur as in practice.
    let scores: Vec<f64> = labels
        .iter()
        .map(|&fake| {
            let shift = if fake { 0.15 } else { -0.15 };
            ((rng.random::<f64>() * 0.7 + 0.15 + shift) * 1e4).round() / 1e4
        })
        .collect();
    let scored = Scored::new(labels, scores)?;
    let options = ReportOptions {
        bootstrap_resamples: 0,
        ..ReportOptions::default()
    };
    let mut best = f64::INFINITY;
    let mut auc = None;
    for _ in 0..args.repeat.max(1) {
        let start = Instant::now();
        let report = Report::compute(&scored, None, &options)?;
        best = best.min(start.elapsed().as_secs_f64());
        auc = report.roc_auc;
    }
    let mut out = BenchOutput::new("metrics");
    out.line(format!(
        "Report::compute on {} scores (all metrics, ROC/PR curves, calibration, error analysis; \
         no bootstrap): {:.3} s (best of {}); ROC AUC {:.4}",
        args.n,
        best,
        args.repeat,
        auc.unwrap_or(f64::NAN)
    ));
    out.save()
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
    /// Alternating Rust/torchvision rounds; the median ratio is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Passes over the images for the robustness augmentations' throughput cost: each image
    /// through each pipeline in turn, its fastest pass counted.
    #[arg(long, default_value_t = 5)]
    cost_passes: usize,
    /// Create target/venv with torch, torchvision and pillow if no Python has them.
    #[arg(long)]
    install: bool,
}

pub fn run(args: Args) -> Result<()> {
    match args.what {
        What::Data(args) => bench_data(args),
        What::Metrics(args) => bench_metrics(args),
        What::Predict(args) => bench_predict(args),
        What::Model(args) => crate::bench_model::run(args),
        What::Train(args) => crate::bench_model::run_train(args),
        What::Gpu(args) => crate::bench_gpu::run(args),
        What::Faces(args) => crate::bench_faces::run(args),
        What::Serve(args) => crate::bench_serve::run(args),
        What::Docs => crate::bench_docs::write(),
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
    let python = find_python(
        &["torch", "torchvision", "PIL"],
        &["torch", "torchvision", "pillow"],
        args.install,
    )?;
    let train_dir: PathBuf = dir.join("real_vs_fake/real-vs-fake/train");
    pool.install(|| print_stages(&samples, &config))?;
    // Alternate the two pipelines so that drift in the machine's speed hits both alike;
    // report every round's ratio and their median.
    let mut ratios = Vec::new();
    let mut out = BenchOutput::new("data");
    for round in 1..=args.rounds.max(1) {
        let rust_rate = pool.install(|| rust_pipeline_rate(&samples, &config, args.repeat))?;
        let torch_rate = torchvision_rate(&python, &train_dir, args.size, args.repeat)?;
        let ratio = rust_rate / torch_rate;
        out.line(format!(
            "round {round}: Rust (deepfake-data, 1 core) {rust_rate:>7.1} images/s | \
             torchvision + PIL (1 core) {torch_rate:>7.1} images/s | ratio {ratio:.2}x"
        ));
        ratios.push(ratio);
    }
    // The robustness augmentations on top of the seed recipe: CNNDetection's Blur+JPEG at
    // its two probabilities (its (0.5) and (0.1) models), and both with rescaling too. Their
    // cost in the same pipeline, timed image by image in turns (see `interleaved_rates`).
    let mut pipelines = vec![("seed recipe".to_string(), config.clone())];
    for (p, rescaled) in [("0.5", false), ("0.5", true), ("0.1", false), ("0.1", true)] {
        let (jpeg, blur, rescale) = (format!("{p},30,100"), format!("{p},3"), format!("{p},4"));
        let mut flags = format!("--augment-jpeg {jpeg} --augment-blur {blur}");
        if rescaled {
            flags.push_str(&format!(" --augment-rescale {rescale}"));
        }
        let mut degraded = config.clone();
        if let Some(recipe) = degraded.augment.as_mut() {
            recipe.degrade = Degradations {
                jpeg: Some(jpeg.parse()?),
                blur: Some(blur.parse()?),
                rescale: rescaled.then(|| rescale.parse()).transpose()?,
            };
        }
        pipelines.push((flags, degraded));
    }
    let rates = pool.install(|| interleaved_rates(&samples, &pipelines, args.cost_passes))?;
    let seed_rate = rates[0];
    for ((flags, _), rate) in pipelines.iter().zip(&rates).skip(1) {
        out.line(format!(
            "seed recipe {seed_rate:.1} images/s; with {flags} {rate:.1} images/s: \
             throughput cost {:.1}% (1 core, interleaved)",
            100.0 * (1.0 - rate / seed_rate)
        ));
    }
    out.line(format!(
        "{} images of 256x256 -> {}: median ratio Rust / torchvision {:.2}x (rounds: {})",
        samples.len(),
        args.size,
        median(&ratios),
        ratios
            .iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.save()
}

/// Images per second of the Rust training pipeline over `samples` (best of `repeat`).
fn rust_pipeline_rate(samples: &[Sample], config: &LoaderConfig, repeat: usize) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        for (i, sample) in samples.iter().enumerate() {
            load_sample(sample, config, 0, i as u64)?;
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(samples.len() as f64 / best)
}

/// Images per second of each pipeline over `samples`, robust to bursts of load on a shared
/// machine: each image goes through every pipeline in turn, `passes` times, and each
/// pipeline's time is the sum over images of that image's fastest pass.
fn interleaved_rates(
    samples: &[Sample],
    pipelines: &[(String, LoaderConfig)],
    passes: usize,
) -> Result<Vec<f64>> {
    let mut fastest = vec![vec![f64::INFINITY; samples.len()]; pipelines.len()];
    for _ in 0..passes.max(1) {
        for (i, sample) in samples.iter().enumerate() {
            for ((_, config), times) in pipelines.iter().zip(&mut fastest) {
                let start = Instant::now();
                load_sample(sample, config, 0, i as u64)?;
                times[i] = times[i].min(start.elapsed().as_secs_f64());
            }
        }
    }
    Ok(fastest
        .iter()
        .map(|times| samples.len() as f64 / times.iter().sum::<f64>())
        .collect())
}

/// Images per second of the torchvision/PIL pipeline on one thread (best of `repeat`).
fn torchvision_rate(python: &Path, dir: &Path, size: u32, repeat: usize) -> Result<f64> {
    let output = output_checked(
        Command::new(python)
            .arg(repo_root().join("scripts/bench_data_torchvision.py"))
            .arg(dir)
            .args(["--size", &size.to_string(), "--repeat", &repeat.to_string()])
            .env("OMP_NUM_THREADS", "1"),
        "the torchvision benchmark",
    )?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    report["images_per_second"]
        .as_f64()
        .context("the torchvision benchmark printed no images_per_second")
}

/// Per-stage time of the Rust pipeline (best of three passes), to show where the time goes,
/// and of each training degradation on the resized image at a middle level.
fn print_stages(samples: &[Sample], config: &LoaderConfig) -> Result<()> {
    use deepfake_data::augment::{augment_deferred, item_rng};
    use deepfake_data::normalize::normalize_mapped_into;
    use deepfake_data::perturb::{gaussian_blur, jpeg_roundtrip, rescale};
    use deepfake_data::resize::resize_rgb;
    const STAGES: [&str; 7] = [
        "decode",
        "resize",
        "augment",
        "normalise",
        "(degradation) JPEG q65",
        "(degradation) blur sigma 1.5",
        "(degradation) rescale /2.5",
    ];
    let mut best = [f64::INFINITY; STAGES.len()];
    for _ in 0..3 {
        let mut seconds = [0.0f64; STAGES.len()];
        let mut lap =
            |stage: usize, start: Instant| seconds[stage] += start.elapsed().as_secs_f64();
        for (i, sample) in samples.iter().enumerate() {
            let t = Instant::now();
            let image = deepfake_data::decode_file(&sample.path, config.limits)?;
            lap(0, t);
            let t = Instant::now();
            let resized = resize_rgb(&image, config.image_size, config.image_size)?;
            lap(1, t);
            let t = Instant::now();
            let recipe = config
                .augment
                .clone()
                .unwrap_or_else(deepfake_data::AugmentConfig::none);
            let (ready, values) =
                augment_deferred(&resized, &recipe, &mut item_rng(config.seed, 0, i as u64))?;
            lap(2, t);
            let t = Instant::now();
            let mut out = Vec::new();
            normalize_mapped_into(&ready, &values, &mut out);
            lap(3, t);
            let t = Instant::now();
            std::hint::black_box(jpeg_roundtrip(&resized, 65)?);
            lap(4, t);
            let t = Instant::now();
            std::hint::black_box(gaussian_blur(&resized, 1.5));
            lap(5, t);
            let t = Instant::now();
            std::hint::black_box(rescale(&resized, 2.5)?);
            lap(6, t);
        }
        for (b, s) in best.iter_mut().zip(seconds) {
            *b = b.min(s);
        }
    }
    let n = samples.len().max(1) as f64;
    for (name, s) in STAGES.iter().zip(best) {
        println!("  {name:<28} {:>8.1} us/image", s / n * 1e6);
    }
    Ok(())
}
