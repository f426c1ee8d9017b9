//! Times forward passes of a detector preset on one device: the backbone alone and the whole
//! detector, at each batch size; also Grad-CAM, a training step and the training loop end to
//! end (`--parts`). `cargo xtask bench model`, `bench train` and `bench gpu` run it beside
//! PyTorch and ONNX Runtime; run it alone for a quick number.
//!
//! `cargo run --release --example bench_model -- [--preset seed] [--device cpu|wgpu|vulkan|cuda]
//! [--batch-sizes 1,8] [--iters 5] [--checkpoint DIR]` (the example calls this module).
//!
//! Prints one JSON object per (part, batch): runtime, device, part, batch, median seconds per
//! pass, images per second, and the process's peak resident memory so far.

mod train_epoch;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use clap::{Parser, ValueEnum};
use deepfake::inference_form_for;
use deepfake::model::saved::read_config;
use deepfake::model::{
    Detector, DetectorConfig, GroupedConvMeasurement, GroupedConvMethod, grouped_conv_measurements,
    set_grouped_conv_override,
};
use serde_json::json;

use crate::{DeviceFlag, Preset};

/// Which form of the model is timed.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Variant {
    /// The detector as trained (BatchNorm layers, Burn's kernels).
    Plain,
    /// BatchNorm folded into the convolutions, Burn's kernels.
    Fused,
    /// Folded, the backbone on the host CPU kernels on a CPU device (what `predict` uses).
    Fast,
}

/// Which part of the model is timed.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Part {
    /// The ResNeXt backbone up to its pooled features.
    Backbone,
    /// Backbone, LSTM and classifier: images to logits.
    Detector,
    /// Grad-CAM of the Fake logit (what `predict --heatmap` runs): the inference form's
    /// backbone to its feature map, then the head forward and backward on it.
    Explain,
    /// One training step of the whole detector: forward in training mode, cross-entropy,
    /// backward, Adam (torch's) update, on the autodiff version of the device.
    TrainStep,
    /// The `train` command's loop end to end on synthetic JPEGs (the 140k faces' 8/7 of the
    /// input side, written to --data-dir or a temporary folder): two epochs of --iters
    /// batches, the loader decoding, augmenting and resizing while the device runs the steps;
    /// the second epoch is reported, with the steps' and the loader's images/s. Runs before
    /// the other parts, whose model would otherwise take device memory beside the loop's.
    TrainEpoch,
}

/// Time the detector's forward pass, training step or training loop.
#[derive(Parser)]
#[command(name = "bench_model")]
pub struct Args {
    /// Architecture preset (random weights unless --checkpoint).
    #[arg(long, value_enum, default_value = "seed")]
    preset: Preset,
    /// A saved model to time instead of a random preset.
    #[arg(long)]
    checkpoint: Option<std::path::PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Batch sizes, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    batch_sizes: Vec<usize>,
    /// Which form of the model to time.
    #[arg(long, value_enum, default_value = "fast")]
    variant: Variant,
    /// Parts to time, comma separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "backbone,detector"
    )]
    parts: Vec<Part>,
    /// Untimed passes first (train-epoch: its first epoch is the warm-up).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Timed passes; the median is reported (train-epoch: batches per epoch).
    #[arg(long, default_value_t = 5)]
    iters: usize,
    /// Also run two images through the timed form of the model and through a CPU (flex)
    /// copy of the plain model, and print the largest logit difference (for GPU devices).
    #[arg(long)]
    check_against_cpu: bool,
    /// Pins how grouped convolutions run: direct (the backend's conv2d), host (the host CPU
    /// kernels, cpu only), im2col or shifted (matrix products) [default: host on cpu; on GPU
    /// devices the fastest of direct, im2col and shifted, measured per layer shape at the
    /// first pass].
    #[arg(long)]
    grouped_conv: Option<String>,
    /// With --parts train-epoch: write the synthetic training data here and keep it (for the
    /// PyTorch peer's turn on the same files) instead of in a temporary folder.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

/// The command-line name of a value (`seed`, `fast`, `train-step`).
fn name(value: &impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// One result (the schema `cargo xtask bench` reads), to print as a JSON line.
fn record(
    args: &Args,
    part: Part,
    batch: usize,
    image_size: usize,
    seconds: f64,
    device: &Device,
) -> serde_json::Value {
    let training = matches!(part, Part::TrainStep | Part::TrainEpoch);
    json!({
        "runtime": "burn",
        "device": args.device.name,
        "preset": args.preset.name(),
        "variant": name(&args.variant),
        "part": name(&part).replace('-', "_"),
        "batch": batch,
        "image_size": image_size,
        "seconds_per_pass": seconds,
        "images_per_second": batch as f64 / seconds,
        "peak_rss_mb": peak_rss_mb(),
        "grouped_conv": GroupedConvMethod::pinned_for_device(device)
            .map_or("measured", GroupedConvMethod::name),
        "grouped_conv_measurements": measurements_at(&grouped_conv_measurements(), batch, training),
        "gpu_reserved_mb": gpu_reserved_mb(device),
    })
}

/// Those of `all` (the process's grouped-convolution measurements) taken at `batch` (with
/// the backward pass when `training`): one object per layer shape, seconds per formulation
/// (`null` for one whose run failed) and the one chosen.
fn measurements_at(
    all: &[GroupedConvMeasurement],
    batch: usize,
    training: bool,
) -> Vec<serde_json::Value> {
    all.iter()
        .filter(|m| m.batch == batch && m.training == training)
        .map(|m| {
            let seconds: serde_json::Map<String, serde_json::Value> = GroupedConvMethod::ALL
                .iter()
                .zip(m.seconds)
                .map(|(method, s)| (method.name().to_string(), json!(s)))
                .collect();
            json!({"shape": m.shape, "seconds": seconds, "chosen": m.chosen().name()})
        })
        .collect()
}

/// Memory the device's allocator holds, in MB (`None` on CPU backends). Read right after a
/// pass, it is the pass's footprint as the pool keeps it (pools grow, they do not shrink
/// between passes), so it bounds the peak from below.
fn gpu_reserved_mb(device: &Device) -> Option<f64> {
    device
        .memory_pool_usage()
        .map(|usage| megabytes(usage.bytes_reserved))
}

/// `bytes` in MB as every memory figure of the benchmarks counts them: MiB (2^20 bytes),
/// as the PyTorch peer's `max_memory_allocated() / 2**20` and `ru_maxrss / 1024`.
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// Peak resident set size of this process in MB (Linux `VmHWM`), if known.
fn peak_rss_mb() -> Option<f64> {
    peak_rss_mb_of(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The `VmHWM:` line of a `/proc/<pid>/status` text (in kB) in [`megabytes`].
fn peak_rss_mb_of(status: &str) -> Option<f64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(megabytes(kb * 1024))
}

/// The middle value (for an even count, the upper of the two middle ones).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Runs `pass` (which must wait for its result) `warmup` times untimed, then `iters` (at
/// least one) times timed; the timed passes' median seconds, or the first pass's error.
fn time_passes(warmup: usize, iters: usize, mut pass: impl FnMut() -> Result<()>) -> Result<f64> {
    for _ in 0..warmup {
        pass()?;
    }
    let times = (0..iters.max(1))
        .map(|_| {
            let start = Instant::now();
            pass()?;
            Ok(start.elapsed().as_secs_f64())
        })
        .collect::<Result<_>>()?;
    Ok(median(times))
}

/// Median seconds of a training step at `batch` (random images and labels, Adam lr 1e-3,
/// weight decay 1e-4 as the seed's recipe).
fn time_train_steps(
    args: &Args,
    model: &Detector,
    size: usize,
    batch: usize,
    device: &Device,
) -> Result<f64> {
    let autodiff = device.clone().autodiff();
    // A step takes the model and gives back the updated one.
    let mut model = Some(model.clone().to_device(&autodiff).train());
    let mut optimizer = deepfake::train::step::torch_adam(1e-4);
    let images = Tensor::<4>::random(
        [batch, 3, size, size],
        Distribution::Normal(0.0, 1.0),
        &autodiff,
    );
    let labels: Vec<i64> = (0..batch as i64).map(|i| i % 2).collect();
    let labels = Tensor::<1, burn::tensor::Int>::from_data(
        burn::tensor::TensorData::new(labels, [batch]),
        &autodiff,
    );
    time_passes(args.warmup, args.iters, || {
        let current = model.take().expect("every step puts the model back");
        let (next, queued) = deepfake::train::step::train_step(
            current,
            &mut optimizer,
            images.clone(),
            labels.clone(),
            1e-3,
            None,
        );
        model = Some(next);
        // Reading the loss waits for the step to finish (as `loss.item()` in the PyTorch peer).
        let output = queued.read()?;
        if !output.loss.is_finite() {
            bail!("the training step's loss is {}", output.loss);
        }
        Ok(())
    })
}

/// Two epochs of the `train` command's loop at `batch` (see [`Part::TrainEpoch`]): the second
/// epoch's record, with the steps' and the loader's images/s.
fn time_train_epoch(
    args: &Args,
    config: &DetectorConfig,
    batch: usize,
    device: &Device,
) -> Result<serde_json::Value> {
    let steps = args.iters.max(1);
    let scratch;
    let data = match &args.data_dir {
        Some(dir) => dir.as_path(),
        None => {
            scratch = tempfile::tempdir().context("creating a temporary data folder")?;
            scratch.path()
        }
    };
    train_epoch::prepare_data(data, config.image_size, batch, steps)?;
    let measured = train_epoch::time_train_epochs(config.clone(), batch, steps, data, device)?;
    let seconds = batch as f64 / measured.images_per_second;
    let mut record = record(
        args,
        Part::TrainEpoch,
        batch,
        config.image_size,
        seconds,
        device,
    );
    record["step_images_per_second"] = json!(measured.step_images_per_second);
    record["loader_images_per_second"] = json!(measured.loader_images_per_second);
    record["loader_threads"] = json!(rayon::current_num_threads());
    record["data_image_size"] = json!(train_epoch::data_image_size(config.image_size));
    Ok(record)
}

/// Times every (part, batch) and prints one JSON line each.
pub fn run(args: Args) -> Result<()> {
    if args.batch_sizes.contains(&0) {
        bail!("batch sizes must be at least 1");
    }
    if let Some(name) = &args.grouped_conv {
        let method = GroupedConvMethod::parse(name).with_context(|| {
            format!("--grouped-conv {name}: use direct, host, im2col or shifted")
        })?;
        set_grouped_conv_override(Some(method));
    }
    let device: Device = args.device.device();
    // The training loop builds its model as the `train` command does, so it runs before this
    // run's model exists: that model's device memory is no part of the loop's record.
    if args.parts.contains(&Part::TrainEpoch) {
        let config = match &args.checkpoint {
            Some(dir) => read_config(dir).with_context(|| format!("reading {}", dir.display()))?,
            None => args.preset.config(),
        };
        for &batch in &args.batch_sizes {
            println!("{}", time_train_epoch(&args, &config, batch, &device)?);
        }
    }
    if args.parts.iter().all(|&part| part == Part::TrainEpoch) {
        return Ok(());
    }
    let (model, config): (Detector, DetectorConfig) = match &args.checkpoint {
        Some(dir) => Detector::load_dir(dir, &device)
            .with_context(|| format!("loading {}", dir.display()))?,
        None => {
            let config = args.preset.config();
            device.seed(0);
            (config.init(&device)?, config)
        }
    };
    let trainable = args.parts.contains(&Part::TrainStep).then(|| model.clone());
    // `valid()` borrows: the block drops the original, so the inference forms below really
    // own (and can release) the weights they convert.
    let model = {
        let original = model;
        original.valid()
    };
    let size = config.image_size;
    // The flex reference for --check-against-cpu, made before the model is converted.
    let reference = args.check_against_cpu.then(|| {
        let cpu = Device::flex();
        // `valid()` gives the copy its own BatchNorm statistics before it moves.
        let on_cpu = model.valid().to_device(&cpu);
        let images = Tensor::<4>::random([2, 3, size, size], Distribution::Normal(0.0, 1.0), &cpu);
        let logits = on_cpu.forward(images.clone());
        (images, logits)
    });
    // Only the form being timed stays in memory (peak memory is part of the report).
    let (plain, fused) = match args.variant {
        Variant::Plain => (Some(model), None),
        Variant::Fused => (None, Some(model.into_inference())),
        Variant::Fast => (None, Some(inference_form_for(model, &device))),
    };
    if let Some((images, expected)) = reference {
        let images = images.to_device(&device);
        let got = match (&plain, &fused) {
            (Some(model), _) => model.forward(images),
            (_, Some(fused)) => fused.forward(images),
            _ => unreachable!("one form of the model is always kept"),
        };
        let expected: Vec<f32> = expected.into_data().try_to_vec()?;
        let got: Vec<f32> = got.into_data().try_to_vec()?;
        // NaN anywhere makes the difference infinite: it can never pass as small.
        let diff = deepfake_compare::max_abs_diff(&got, &expected)
            .with_context(|| format!("logits on {} vs flex", args.device.name))?;
        println!(
            "{}",
            json!({"check": "logits vs flex", "device": args.device.name,
                   "variant": name(&args.variant), "max_abs_diff": diff,
                   "logits_max_abs": expected.iter().fold(0.0f32, |m, v| m.max(v.abs()))})
        );
    }
    for &part in args.parts.iter().filter(|&&part| part != Part::TrainEpoch) {
        for &batch in &args.batch_sizes {
            if part == Part::TrainStep {
                let Some(trainable) = &trainable else {
                    bail!("no trainable copy");
                };
                let seconds = time_train_steps(&args, trainable, size, batch, &device)?;
                println!("{}", record(&args, part, batch, size, seconds, &device));
                continue;
            }
            let images = Tensor::<4>::random(
                [batch, 3, size, size],
                Distribution::Normal(0.0, 1.0),
                &device,
            );
            if part == Part::Explain {
                let Some(fused) = &fused else {
                    bail!("--parts explain times the inference form: use --variant fused or fast");
                };
                let frames = images.clone().unsqueeze_dim::<5>(1);
                let seconds = time_passes(args.warmup, args.iters, || {
                    // The maps are read back to the host: the pass is complete.
                    let _ = fused.grad_cam(frames.clone(), 1);
                    Ok(())
                })?;
                println!("{}", record(&args, part, batch, size, seconds, &device));
                continue;
            }
            let seconds = time_passes(args.warmup, args.iters, || {
                let out = match (part, &plain, &fused) {
                    (Part::Backbone, Some(model), _) => {
                        model.backbone.forward_features(images.clone())
                    }
                    (Part::Detector, Some(model), _) => model.forward(images.clone()),
                    (Part::Backbone, _, Some(fused)) => {
                        fused.backbone.forward_features(images.clone())
                    }
                    (Part::Detector, _, Some(fused)) => fused.forward(images.clone()),
                    _ => unreachable!("one form of the model is always kept"),
                };
                // Reading the result waits for the device.
                let _ = out.into_data();
                Ok(())
            })?;
            println!("{}", record(&args, part, batch, size, seconds, &device));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use burn::tensor::Device;
    use clap::Parser;
    use deepfake::model::GroupedConvMeasurement;
    use serde_json::json;

    use super::{
        Args, DetectorConfig, Part, measurements_at, median, megabytes, peak_rss_mb_of, record,
        time_passes, time_train_steps,
    };

    /// A record names the run as the command line gave it and derives its speed from the
    /// seconds per pass; a CPU device has no GPU pool and pins the host kernels.
    #[test]
    fn a_record_names_the_run_and_its_speed() {
        let args = Args::try_parse_from([
            "bench_model",
            "--preset",
            "tiny",
            "--variant",
            "fused",
            "--device",
            "cpu",
        ])
        .unwrap();
        let record = record(&args, Part::TrainStep, 8, 64, 0.5, &Device::flex());
        let peak = record["peak_rss_mb"].as_f64().unwrap();
        assert!(peak > 1.0 && peak < 1e6, "{peak} MB");
        let mut expected = json!({
            "runtime": "burn",
            "device": "cpu",
            "preset": "tiny",
            "variant": "fused",
            "part": "train_step",
            "batch": 8,
            "image_size": 64,
            "seconds_per_pass": 0.5,
            "images_per_second": 16.0,
            "peak_rss_mb": peak,
            "grouped_conv": "host",
            "grouped_conv_measurements": [],
            "gpu_reserved_mb": null,
        });
        assert_eq!(record, expected);
        let inference = super::record(&args, Part::Detector, 4, 64, 2.0, &Device::flex());
        expected["part"] = json!("detector");
        expected["batch"] = json!(4);
        expected["seconds_per_pass"] = json!(2.0);
        expected["images_per_second"] = json!(2.0);
        expected["peak_rss_mb"] = inference["peak_rss_mb"].clone();
        assert_eq!(inference, expected);
    }

    /// Only the measurements of the record's batch and pass, each with its seconds per
    /// formulation (a failed one `null`) and the fastest chosen.
    #[test]
    fn measurements_are_those_of_the_batch_and_pass() {
        let measurement = |batch, training, shape: &str, seconds| GroupedConvMeasurement {
            device: "Cube(Wgpu(..))".into(),
            training,
            batch,
            shape: shape.into(),
            seconds,
        };
        let all = [
            measurement(32, false, "a", [0.004, 0.002, f64::INFINITY]),
            measurement(32, true, "b", [0.001, 0.003, 0.002]),
            measurement(8, false, "c", [0.3, 0.2, 0.1]),
        ];
        assert_eq!(
            measurements_at(&all, 32, false),
            [json!({
                "shape": "a",
                "seconds": {"direct": 0.004, "im2col": 0.002, "shifted": null},
                "chosen": "im2col",
            })]
        );
        assert_eq!(
            measurements_at(&all, 32, true),
            [json!({
                "shape": "b",
                "seconds": {"direct": 0.001, "im2col": 0.003, "shifted": 0.002},
                "chosen": "direct",
            })]
        );
        assert_eq!(measurements_at(&all, 8, false)[0]["chosen"], "shifted");
        assert!(measurements_at(&all, 8, true).is_empty());
        assert!(measurements_at(&all, 1, false).is_empty());
    }

    #[test]
    fn median_is_the_middle_value_of_any_order() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert_eq!(median(vec![5.0]), 5.0);
    }

    /// Warm-up and timed steps run, each with a finite loss, and the timed steps' median
    /// comes back (a tiny step at batch 2 takes milliseconds: the bound has a 20x margin).
    #[test]
    fn training_steps_are_timed_after_their_warm_up() {
        let args = Args::try_parse_from([
            "bench_model",
            "--preset",
            "tiny",
            "--warmup",
            "1",
            "--iters",
            "2",
        ])
        .unwrap();
        let device = Device::flex();
        let model = DetectorConfig::tiny().init(&device).unwrap();
        let seconds = time_train_steps(&args, &model, 64, 2, &device).unwrap();
        assert!(seconds > 0.0 && seconds < 0.9, "{seconds} s per step");
    }

    /// Device memory is counted in MiB, as PyTorch's side of the GPU benchmark counts it.
    #[test]
    fn device_memory_is_counted_in_mib() {
        assert_eq!(megabytes(3 << 20), 3.0);
        assert_eq!(megabytes(1 << 19), 0.5);
        assert_eq!(megabytes(0), 0.0);
    }

    #[test]
    fn peak_rss_is_read_from_vmhwm_in_mb() {
        let status = "Name:\tbench\nVmPeak:\t 9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t 1024 kB\n";
        assert_eq!(peak_rss_mb_of(status), Some(2.0));
        assert_eq!(peak_rss_mb_of("Name:\tbench\n"), None);
    }

    /// Warm-up passes are run and not timed; the timed passes' median is returned.
    #[test]
    fn passes_are_timed_after_the_warm_up_and_the_median_returned() {
        let mut calls = 0;
        // Two warm-up passes of 150 ms, then timed passes of 1, 5 and 100 ms: the median is
        // 5 ms (timing the warm-ups too would make it 100; the margins are 20x, as sleeps
        // on a busy machine overshoot).
        let sleeps = [150, 150, 1, 5, 100];
        let seconds = time_passes(2, 3, || {
            std::thread::sleep(Duration::from_millis(sleeps[calls]));
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 5);
        assert!((0.005..0.1).contains(&seconds), "{seconds} s");
        // At least one timed pass, even when asked for none.
        let mut calls = 0;
        time_passes(0, 0, || {
            calls += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(calls, 1);
        // A failing pass, warm-up (the 1st) or timed (the 2nd), stops the timing and its
        // error comes back.
        for failing in [1, 2] {
            let mut calls = 0;
            let failed = time_passes(1, 3, || {
                calls += 1;
                if calls == failing {
                    anyhow::bail!("pass {calls} failed");
                }
                Ok(())
            });
            assert_eq!(
                failed.unwrap_err().to_string(),
                format!("pass {failing} failed")
            );
            assert_eq!(calls, failing);
        }
    }
}
