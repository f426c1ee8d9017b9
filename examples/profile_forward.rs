//! Where the time of a forward pass goes: times every layer of the detector (backbone
//! convolutions by kind, BatchNorm, ReLU, pooling, residual adds, LSTM, classifier) over
//! several passes and prints a table, largest first. For docs/benchmarks.md and issue #10.
//!
//! `cargo run --release --example profile_forward -- [--preset seed] [--batch-size 8] [--iters 3] [--fast [--fastest] [--batched-from N]]`
//!
//! Burn's CPU backend (flex) runs each operation when it is called, so wall-clock time around
//! each call is that operation's cost; the table also prints their sum beside the time of
//! whole forward passes, as a check.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use clap::{Parser, ValueEnum};
use deepfake::model::resnext::Bottleneck;
use deepfake::model::{
    Classifier, Detector, DetectorConfig, InferenceBackbone, InferenceDetector, Lstm,
};

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum Preset {
    /// Small widths and depths, 64x64 input.
    Tiny,
    /// ResNeXt-50 32x4d + 2x512 BiLSTM, 224x224 input.
    Seed,
}

/// Per-layer timing of the detector's forward pass on CPU.
#[derive(Parser)]
#[command(name = "profile_forward")]
struct Args {
    /// Architecture preset (random weights).
    #[arg(long, value_enum, default_value = "seed")]
    preset: Preset,
    /// Images per pass.
    #[arg(long, default_value_t = 8)]
    batch_size: usize,
    /// Timed passes (after one warm-up).
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Profile the inference form `predict` uses on a CPU (BatchNorm folded, the backbone on
    /// the host CPU kernels) instead of the detector as trained.
    #[arg(long)]
    fast: bool,
    /// Report each layer's (and the whole pass's) fastest pass instead of the mean: steadier
    /// on a shared machine whose other load comes and goes.
    #[arg(long)]
    fastest: bool,
    /// With --fast: run blocks from this index on (0-based; ResNeXt-50 has 16) on the whole
    /// batch at once instead of image by image, overriding the size rule
    /// (`CpuResNeXt::set_batched_from`).
    #[arg(long, requires = "fast")]
    batched_from: Option<usize>,
}

/// Seconds per layer kind, summed over passes.
#[derive(Default)]
struct Profile {
    seconds: BTreeMap<String, f64>,
}

impl Profile {
    /// Runs `f`, waits for its result, and adds its time to `kind`.
    fn time<const D: usize>(&mut self, kind: &str, f: impl FnOnce() -> Tensor<D>) -> Tensor<D> {
        let start = Instant::now();
        // Flex runs each operation when it is called (the sum of the rows matches a whole
        // pass), so no read-back is needed to time it.
        let out = f();
        *self.seconds.entry(kind.to_string()).or_default() += start.elapsed().as_secs_f64();
        out
    }
}

fn block(profile: &mut Profile, b: &Bottleneck, x: Tensor<4>) -> Tensor<4> {
    let identity = match &b.downsample {
        Some(d) => {
            let y = profile.time("conv 1x1 downsample", || d.conv.forward(x.clone()));
            profile.time("batchnorm", || d.bn.forward(y))
        }
        None => x.clone(),
    };
    let out = profile.time("conv 1x1 reduce", || b.conv1.forward(x));
    let out = profile.time("batchnorm", || b.bn1.forward(out));
    let out = profile.time("relu", || relu(out));
    let out = profile.time("conv 3x3 grouped", || b.conv2.forward(out));
    let out = profile.time("batchnorm", || b.bn2.forward(out));
    let out = profile.time("relu", || relu(out));
    let out = profile.time("conv 1x1 expand", || b.conv3.forward(out));
    let out = profile.time("batchnorm", || b.bn3.forward(out));
    let out = profile.time("residual add", || out + identity);
    profile.time("relu", || relu(out))
}

/// Pooled features `[B, F]` (one frame each) -> LSTM -> classifier -> logits.
fn head(
    profile: &mut Profile,
    lstm: &Lstm,
    classifier: &Classifier,
    pooled: Tensor<2>,
) -> Tensor<2> {
    let features: Tensor<3> = pooled.unsqueeze_dim(1);
    let sequence = profile.time("lstm", || lstm.forward(features));
    // One time step: the mean over time is that step.
    let step: Tensor<2> = sequence.squeeze_dim(1);
    profile.time("classifier", || classifier.forward(step))
}

fn forward(profile: &mut Profile, model: &Detector, images: Tensor<4>) -> Tensor<2> {
    let bb = &model.backbone;
    let x = profile.time("conv 7x7 stem", || bb.conv1.forward(images));
    let x = profile.time("batchnorm", || bb.bn1.forward(x));
    let x = profile.time("relu", || relu(x));
    let mut x = profile.time("maxpool", || bb.maxpool.forward(x));
    for b in [&bb.layer1, &bb.layer2, &bb.layer3, &bb.layer4]
        .into_iter()
        .flatten()
    {
        x = block(profile, b, x);
    }
    let pooled: Tensor<4> = profile.time("avgpool", || bb.avgpool.forward(x));
    head(
        profile,
        &model.lstm,
        &model.classifier,
        pooled.flatten(1, 3),
    )
}

/// The inference form `predict` runs on a CPU: the host backbone times its own layers
/// ([`CpuResNeXt::forward_host_timed`]); their thread-seconds are scaled to the backbone's wall
/// time, so the rows still add up to a pass when images run in parallel.
fn fast_forward(profile: &mut Profile, model: &InferenceDetector, images: Tensor<4>) -> Tensor<2> {
    let InferenceBackbone::Cpu(backbone) = &model.backbone else {
        unreachable!("built with into_cpu_inference");
    };
    let device = images.device();
    let [batch, _, height, width] = images.dims();
    let pixels: Vec<f32> = images.into_data().try_to_vec().expect("f32 images");
    let start = Instant::now();
    let (features, times) = backbone.forward_host_timed(&pixels, batch, [height, width]);
    let wall = start.elapsed().as_secs_f64();
    let thread_seconds: f64 = times.seconds.values().sum();
    for (kind, seconds) in times.seconds {
        *profile.seconds.entry(kind).or_default() +=
            seconds * wall / thread_seconds.max(f64::MIN_POSITIVE);
    }
    let pooled = Tensor::<2>::from_data(
        TensorData::new(features, [batch, backbone.feature_dim()]),
        &device,
    );
    head(profile, &model.lstm, &model.classifier, pooled)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let device = Device::flex();
    let config = match args.preset {
        Preset::Tiny => DetectorConfig::tiny(),
        Preset::Seed => DetectorConfig::seed(),
    };
    device.seed(0);
    let model = config.init(&device)?.valid();
    let size = config.image_size;
    let images = Tensor::<4>::random(
        [args.batch_size, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        &device,
    );
    // Only the form being profiled is kept.
    let (plain, fast) = if args.fast {
        let mut fast = model.into_cpu_inference();
        if let (Some(first), InferenceBackbone::Cpu(backbone)) =
            (args.batched_from, &mut fast.backbone)
        {
            backbone.set_batched_from(first);
        }
        eprintln!(
            "blocks run on the whole batch from block {}",
            match &fast.backbone {
                InferenceBackbone::Cpu(backbone) => backbone.batched_from(),
                _ => unreachable!("built with into_cpu_inference"),
            }
        );
        (None, Some(fast))
    } else {
        (Some(model), None)
    };
    let whole_pass = || {
        let logits = match (&plain, &fast) {
            (_, Some(fast)) => fast.forward(images.clone()),
            (Some(plain), _) => plain.forward(images.clone()),
            _ => unreachable!("one form is always kept"),
        };
        let _ = logits.into_data();
    };
    whole_pass();
    let mut pass_seconds = Vec::new();
    for _ in 0..args.iters {
        let start = Instant::now();
        whole_pass();
        pass_seconds.push(start.elapsed().as_secs_f64());
    }
    let whole = if args.fastest {
        pass_seconds.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        pass_seconds.iter().sum::<f64>() / args.iters as f64
    };
    let mut profile = Profile::default();
    for pass in 0..=args.iters {
        // Pass 0 warms up and is not counted.
        let mut this_pass = Profile::default();
        let _ = match (&plain, &fast) {
            (_, Some(fast)) => fast_forward(&mut this_pass, fast, images.clone()),
            (Some(plain), _) => forward(&mut this_pass, plain, images.clone()),
            _ => unreachable!("one form is always kept"),
        };
        if pass > 0 {
            for (k, v) in this_pass.seconds {
                if args.fastest {
                    let best = profile.seconds.entry(k).or_insert(f64::INFINITY);
                    *best = best.min(v);
                } else {
                    *profile.seconds.entry(k).or_default() += v / args.iters as f64;
                }
            }
        }
    }
    let mut rows: Vec<(String, f64)> = profile.seconds.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    println!(
        "forward pass{}, {} preset, batch {}, {} threads: {:.3} s per pass ({:.2} images/s); \
         sum of layers {:.3} s",
        if args.fast {
            " (inference form: BatchNorm folded, host CPU backbone)"
        } else {
            ""
        },
        if args.preset == Preset::Seed {
            "seed"
        } else {
            "tiny"
        },
        args.batch_size,
        rayon::current_num_threads(),
        whole,
        args.batch_size as f64 / whole,
        total
    );
    println!("| layer | ms per pass | share |");
    println!("|---|---|---|");
    for (kind, seconds) in rows {
        println!(
            "| {kind} | {:.1} | {:.1}% |",
            seconds * 1e3,
            100.0 * seconds / total
        );
    }
    Ok(())
}
