//! Where the time of a forward pass goes: times every layer of the detector (backbone
//! convolutions by kind, BatchNorm, ReLU, pooling, residual adds, LSTM, classifier) over
//! several passes and prints a table, largest first. For docs/benchmarks.md.
//!
//! `cargo run --release --example profile_forward -- [--preset seed] [--batch-size 8] [--iters 3] [--fast [--fastest] [--batched-from N]]`
//!
//! The passes are the model's own, run with a [`LayerTimer`] (no copy of the forward pass).
//! Burn's CPU backend (flex) runs each operation when it is called, so wall-clock time around
//! each call is that operation's cost; the table also prints their sum beside the time of
//! whole forward passes, as a check.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::Result;
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use clap::Parser;
use deepfake::model::{InferenceBackbone, LayerTimer};

use crate::Preset;

/// Per-layer timing of the detector's forward pass on CPU.
#[derive(Parser)]
#[command(name = "profile_forward")]
pub struct Args {
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

impl LayerTimer for Profile {
    fn time<const D: usize>(&mut self, kind: &str, f: impl FnOnce() -> Tensor<D>) -> Tensor<D> {
        let start = Instant::now();
        // Flex runs each operation when it is called (the sum of the rows matches a whole
        // pass), so no read-back is needed to time it.
        let out = f();
        self.add(kind, start.elapsed().as_secs_f64());
        out
    }

    fn add(&mut self, kind: &str, seconds: f64) {
        *self.seconds.entry(kind.to_string()).or_default() += seconds;
    }
}

/// Profiles the passes and prints the table.
pub fn run(args: Args) -> Result<()> {
    let device = Device::flex();
    let config = args.preset.config();
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
        let frames = images.clone().unsqueeze_dim(1);
        let _ = match (&plain, &fast) {
            (_, Some(fast)) => fast.forward_sequence_timed(frames, &mut this_pass),
            (Some(plain), _) => plain.forward_sequence_timed(frames, &mut this_pass),
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
        args.preset.name(),
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
