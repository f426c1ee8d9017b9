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

/// Seconds of a whole forward pass and per layer kind (mean or fastest over the timed
/// passes, per `--fastest`).
struct Measured {
    whole: f64,
    layers: BTreeMap<String, f64>,
}

/// Profiles the passes and prints the table.
pub fn run(args: Args) -> Result<()> {
    let measured = measure(&args)?;
    let total: f64 = measured.layers.values().sum();
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
        measured.whole,
        args.batch_size as f64 / measured.whole,
        total
    );
    for line in table(measured.layers) {
        println!("{line}");
    }
    Ok(())
}

/// Times `args.iters` whole passes, then as many passes layer by layer (one warm-up first
/// for each).
fn measure(args: &Args) -> Result<Measured> {
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
    let mut layers = BTreeMap::new();
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
            merge_pass(&mut layers, this_pass.seconds, args.fastest, args.iters);
        }
    }
    Ok(Measured { whole, layers })
}

/// Adds one timed pass's seconds per layer kind into `layers`: its share of the mean over
/// `iters` passes, or with `fastest`, each kind's least so far.
fn merge_pass(
    layers: &mut BTreeMap<String, f64>,
    pass: BTreeMap<String, f64>,
    fastest: bool,
    iters: usize,
) {
    for (kind, seconds) in pass {
        if fastest {
            let best = layers.entry(kind).or_insert(f64::INFINITY);
            *best = best.min(seconds);
        } else {
            *layers.entry(kind).or_default() += seconds / iters as f64;
        }
    }
}

/// The Markdown table of docs/benchmarks.md: one row per layer kind, largest first, with
/// milliseconds per pass and the share of the rows' sum.
fn table(layers: BTreeMap<String, f64>) -> Vec<String> {
    let mut rows: Vec<(String, f64)> = layers.into_iter().collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let total: f64 = rows.iter().map(|r| r.1).sum();
    let mut lines = vec![
        "| layer | ms per pass | share |".to_string(),
        "|---|---|---|".to_string(),
    ];
    lines.extend(rows.into_iter().map(|(kind, seconds)| {
        format!(
            "| {kind} | {:.1} | {:.1}% |",
            seconds * 1e3,
            100.0 * seconds / total
        )
    }));
    lines
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::Parser;
    use deepfake::model::LayerTimer;

    use super::{Args, Profile, measure, merge_pass, table};

    fn seconds(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
    }

    #[test]
    fn a_layer_kinds_times_add_up() {
        let mut profile = Profile::default();
        profile.add("lstm", 1.0);
        profile.add("lstm", 0.5);
        profile.add("classifier", 0.25);
        assert_eq!(
            profile.seconds,
            seconds(&[("lstm", 1.5), ("classifier", 0.25)])
        );
    }

    /// The mean over the passes (a kind missing from a pass counts 0 there), or each kind's
    /// fastest pass.
    #[test]
    fn passes_merge_into_means_or_minima() {
        let passes = [
            seconds(&[("conv", 1.0), ("relu", 2.0)]),
            seconds(&[("conv", 3.0), ("relu", 1.0), ("pool", 4.0)]),
        ];
        let mut mean = BTreeMap::new();
        let mut fastest = BTreeMap::new();
        for pass in &passes {
            merge_pass(&mut mean, pass.clone(), false, 2);
            merge_pass(&mut fastest, pass.clone(), true, 2);
        }
        assert_eq!(
            mean,
            seconds(&[("conv", 2.0), ("relu", 1.5), ("pool", 2.0)])
        );
        assert_eq!(
            fastest,
            seconds(&[("conv", 1.0), ("relu", 1.0), ("pool", 4.0)])
        );
    }

    #[test]
    fn the_table_lists_kinds_largest_first_with_their_share() {
        let lines = table(seconds(&[("lstm", 0.01), ("conv 1x1", 0.03)]));
        assert_eq!(
            lines,
            [
                "| layer | ms per pass | share |",
                "|---|---|---|",
                "| conv 1x1 | 30.0 | 75.0% |",
                "| lstm | 10.0 | 25.0% |",
            ]
        );
    }

    /// Both forms of the tiny preset: every layer kind of the pass is timed, and the rows
    /// are of the same order as a whole pass (flex runs each operation when it is called).
    #[test]
    fn a_pass_is_profiled_layer_by_layer() {
        for fast in [false, true] {
            let mut argv = vec!["profile_forward", "--preset", "tiny", "--batch-size", "2"];
            argv.extend(["--iters", "2", "--fastest"]);
            if fast {
                argv.push("--fast");
            }
            let measured = measure(&Args::try_parse_from(argv).unwrap()).unwrap();
            let kinds: Vec<&str> = measured.layers.keys().map(String::as_str).collect();
            for kind in ["lstm", "classifier", "avgpool", "maxpool"] {
                assert!(kinds.contains(&kind), "fast {fast}: {kinds:?}");
            }
            assert!(
                kinds.iter().any(|k| k.starts_with("conv 3x3 grouped")),
                "fast {fast}: {kinds:?}"
            );
            assert_eq!(
                kinds.iter().any(|k| k.starts_with("batchnorm")),
                !fast,
                "fast {fast}: {kinds:?}"
            );
            let sum: f64 = measured.layers.values().sum();
            assert!(measured.layers.values().all(|&s| s > 0.0 && s.is_finite()));
            assert!(
                sum > 0.0 && measured.whole > 0.0 && sum < 100.0 * measured.whole,
                "{sum} s of layers, {} s per pass",
                measured.whole
            );
        }
    }
}
