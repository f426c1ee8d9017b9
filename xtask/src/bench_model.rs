//! `cargo xtask bench model`: forward-pass speed of the seed preset (backbone and whole
//! detector, 224x224, batch 1 and 8) in Burn flex, PyTorch eager (default and channels_last)
//! and ONNX Runtime, in one run, same threads; ratios and peak memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use serde_json::Value;

use crate::bench_output::BenchOutput;
use crate::python::{find_python, output_checked, repo_root, run_checked};
use crate::stats::median;

/// Options of `cargo xtask bench model`.
#[derive(clap::Args)]
pub struct ModelArgs {
    /// Batch sizes, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    batch_sizes: Vec<usize>,
    /// Timed passes per case (after 2 warm-up passes); the median is reported.
    #[arg(long, default_value_t = 5)]
    iters: usize,
    /// Threads for every runtime [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Rounds: the four runtimes run one after another this many times, and each case
    /// reports the median of its rounds (a shared machine's speed drifts over minutes).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// The random-weight seed preset saved for benchmarks (`target/bench-model-seed`).
pub fn seed_model() -> Result<PathBuf> {
    let root = repo_root();
    let model = root.join("target/bench-model-seed");
    if !model.join("model.bpk").is_file() {
        run_checked(
            Command::new(env!("CARGO"))
                .args([
                    "run",
                    "--quiet",
                    "--release",
                    "--example",
                    "model_info",
                    "--",
                ])
                .args(["--preset", "seed", "--save"])
                .arg(&model)
                .current_dir(&root),
        )?;
    }
    Ok(model)
}

/// The seed preset exported to ONNX by the `export` example (re-exported when older than the
/// model).
fn seed_onnx(model: &Path) -> Result<PathBuf> {
    let root = repo_root();
    let onnx = root.join("target/bench-onnx-seed/deepfake_detector.onnx");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if modified(&onnx) < modified(&model.join("model.bpk")) {
        run_checked(
            Command::new(env!("CARGO"))
                .args(["run", "--quiet", "--release", "--example", "export", "--"])
                .arg("--checkpoint")
                .arg(model)
                .arg("--out")
                .arg(&onnx)
                .current_dir(&root),
        )?;
    }
    Ok(onnx)
}

/// Runs a command that prints one JSON object per line; returns them.
fn json_lines(command: &mut Command, what: &str) -> Result<Vec<Value>> {
    let output = output_checked(command, what)?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).with_context(|| format!("{what} printed {l}")))
        .collect()
}

pub fn run(args: ModelArgs) -> Result<()> {
    let root = repo_root();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let batches = args
        .batch_sizes
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let iters = args.iters.to_string();
    let model = seed_model()?;
    let onnx = seed_onnx(&model)?;
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--example", "bench_model"])
            .current_dir(&root),
    )?;
    // On first use: target/venv (seeing the system's torch) with onnxruntime and onnx.
    let python = find_python(
        &["torch", "torchvision", "onnxruntime", "onnx"],
        &["onnxruntime", "onnx"],
        true,
    )?;
    let mut records = Vec::new();
    let rounds = args.rounds.max(1);
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}: Burn flex ...");
        records.extend(json_lines(
            Command::new(root.join("target/release/examples/bench_model"))
                .arg("--checkpoint")
                .arg(&model)
                .args(["--batch-sizes", &batches, "--iters", &iters])
                .env("RAYON_NUM_THREADS", threads.to_string()),
            "the bench_model example",
        )?);
        for channels_last in [false, true] {
            eprintln!(
                "round {round}/{rounds}: PyTorch eager{} ...",
                if channels_last { ", channels_last" } else { "" }
            );
            let mut command = Command::new(&python);
            command
                .arg(root.join("scripts/bench_model_torch.py"))
                .args(["--threads", &threads.to_string()])
                .args(["--batch-sizes", &batches, "--iters", &iters]);
            if channels_last {
                command.arg("--channels-last");
            }
            records.extend(json_lines(&mut command, "scripts/bench_model_torch.py")?);
        }
        eprintln!("round {round}/{rounds}: ONNX Runtime ...");
        records.extend(json_lines(
            Command::new(&python)
                .arg(root.join("scripts/bench_model_ort.py"))
                .arg("--detector")
                .arg(&onnx)
                .args(["--threads", &threads.to_string()])
                .args(["--batch-sizes", &batches, "--iters", &iters]),
            "scripts/bench_model_ort.py",
        )?);
    }
    print_table(&records, threads, rounds)
}

/// A benchmark case: (part, batch size).
type Case = (String, u64);

/// One row per (part, batch): images/s of each runtime (median over the rounds), ratios of
/// Burn to the best PyTorch layout and to ONNX Runtime, and peak memory (largest of the
/// rounds).
fn print_table(records: &[Value], threads: usize, rounds: usize) -> Result<()> {
    let mut samples: BTreeMap<Case, BTreeMap<String, Vec<(f64, f64)>>> = BTreeMap::new();
    let mut versions: BTreeMap<String, String> = BTreeMap::new();
    for r in records {
        let runtime = r["runtime"].as_str().unwrap_or("?").to_string();
        if let Some(v) = r["version"].as_str() {
            versions.insert(runtime.clone(), v.to_string());
        }
        let key = (
            r["part"].as_str().unwrap_or("?").to_string(),
            r["batch"].as_u64().unwrap_or(0),
        );
        samples
            .entry(key)
            .or_default()
            .entry(runtime)
            .or_default()
            .push((
                r["images_per_second"].as_f64().unwrap_or(f64::NAN),
                r["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
            ));
    }
    let rows: BTreeMap<Case, BTreeMap<String, (f64, f64)>> = samples
        .into_iter()
        .map(|(key, runtimes)| {
            let runtimes = runtimes
                .into_iter()
                .map(|(runtime, values)| {
                    let peak = values.iter().map(|v| v.1).fold(f64::NAN, f64::max);
                    (
                        runtime,
                        (
                            median(&values.iter().map(|v| v.0).collect::<Vec<_>>()),
                            peak,
                        ),
                    )
                })
                .collect();
            (key, runtimes)
        })
        .collect();
    let mut out = BenchOutput::new("model");
    out.line(format!(
        "Seed preset forward pass, 224x224, random weights, {threads} threads, CPU (images/s, \
         median of {rounds} rounds with the runtimes interleaved; peak RSS of each process in MB)"
    ));
    out.line(format!(
        "versions: {}",
        versions
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    out.line("");
    out.line(
        "| part | batch | Burn flex | PyTorch | PyTorch channels_last | ONNX Runtime | Burn / best PyTorch | Burn / ORT | peak MB Burn / PyTorch / ORT |",
    );
    out.line("|---|---|---|---|---|---|---|---|---|");
    let get = |m: &BTreeMap<String, (f64, f64)>, k: &str| {
        m.get(k).copied().unwrap_or((f64::NAN, f64::NAN))
    };
    for ((part, batch), m) in &rows {
        let burn = get(m, "burn");
        let torch = get(m, "pytorch");
        let torch_cl = get(m, "pytorch-channels-last");
        let ort = get(m, "onnxruntime");
        let best_torch = torch.0.max(torch_cl.0);
        out.line(format!(
            "| {part} | {batch} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2}x | {:.2}x | {:.0} / {:.0} / {:.0} |",
            burn.0,
            torch.0,
            torch_cl.0,
            ort.0,
            burn.0 / best_torch,
            burn.0 / ort.0,
            burn.1,
            torch.1.max(torch_cl.1),
            ort.1
        ));
    }
    out.save()
}

/// Options of `cargo xtask bench train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// Timed steps per round of the seed preset (after one warm-up step); the median is
    /// reported. The tiny preset, whose step is about a hundred times shorter, times ten times
    /// as many.
    #[arg(long, default_value_t = 3)]
    iters: usize,
    /// Threads for both runtimes [default: all cores].
    #[arg(long)]
    threads: Option<usize>,
    /// Rounds: Burn and PyTorch run one after the other this many times per preset, and each
    /// preset reports the medians of its rounds (a shared machine's speed drifts over minutes,
    /// so the ratio is taken within each round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

/// One training step (forward, cross-entropy, backward, Adam) of the tiny preset (batch 32,
/// 64x64) and the seed preset (batch 8, 224x224), and the tiny preset's training loop end to
/// end (the `train` command's loader and steps on synthetic JPEGs, against PyTorch's
/// DataLoader loop on the same files): Burn flex (autodiff) vs PyTorch eager, interleaved over
/// rounds.
pub fn run_train(args: TrainArgs) -> Result<()> {
    let root = repo_root();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    run_checked(
        Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--release", "--example", "bench_model"])
            .current_dir(&root),
    )?;
    let python = find_python(&["torch", "torchvision"], &["torch", "torchvision"], false)?;
    let rounds = args.rounds.max(1);
    let mut out = BenchOutput::new("train");
    out.line(format!(
        "One training step (train mode, cross-entropy, backward, Adam lr 1e-3 wd 1e-4), random \
         weights and data, {threads} threads, CPU (images/s, median of {rounds} rounds with the \
         runtimes interleaved; Burn / PyTorch is the median of the rounds' ratios, their range \
         in brackets; peak RSS in MB). `train loop`: the `train` command's loop end to end, \
         its loader decoding and augmenting synthetic JPEGs (8/7 of the input's side) while the steps run (two \
         epochs of {} batches, the second timed), against PyTorch's DataLoader (one worker per \
         core) feeding the same steps from the same files (its peak MB: the main process, \
         without the workers')",
        args.iters * 10
    ));
    out.line("");
    out.line(
        "| preset | batch | Burn flex | PyTorch eager | Burn / PyTorch | peak MB Burn / PyTorch |",
    );
    out.line("|---|---|---|---|---|---|");
    // The training loop's synthetic JPEGs, written by Burn's first run and read by every run.
    let loop_data = root.join("target/bench-train-loop");
    let loop_data = loop_data.to_string_lossy();
    let cases = [
        ("tiny", "32", Measure::Step, args.iters * 10),
        ("seed", "8", Measure::Step, args.iters),
        ("tiny", "32", Measure::Loop, args.iters * 10),
    ];
    for (preset, batch, measure, iters) in cases {
        let iters = iters.to_string();
        // The step: a warm-up step, then the timed ones; the loop: two epochs of `iters`
        // batches, the first its warm-up.
        let (burn_part, torch_part, data_flag, label) = match measure {
            Measure::Step => ("train-step", "train_step", None, preset.to_string()),
            Measure::Loop => (
                "train-epoch",
                "train_epoch",
                Some(&*loop_data),
                format!("{preset}, train loop"),
            ),
        };
        // Per round: (images/s, peak MB) of Burn and of PyTorch.
        let mut burn = Vec::new();
        let mut torch = Vec::new();
        for round in 1..=rounds {
            eprintln!("{label}, round {round}/{rounds}: Burn ...");
            let mut command = Command::new(root.join("target/release/examples/bench_model"));
            command
                .args(["--preset", preset, "--parts", burn_part])
                .args(["--batch-sizes", batch, "--warmup", "1", "--iters", &iters])
                .env("RAYON_NUM_THREADS", threads.to_string());
            if let Some(dir) = data_flag {
                command.args(["--data-dir", dir]);
            }
            burn.push(train_step_record(&mut command, "the bench_model example")?);
            eprintln!("{label}, round {round}/{rounds}: PyTorch ...");
            let mut command = Command::new(&python);
            command
                .arg(root.join("scripts/bench_model_torch.py"))
                .args(["--preset", preset, "--parts", torch_part])
                .args(["--batch-sizes", batch, "--warmup", "1", "--iters", &iters])
                .args(["--threads", &threads.to_string()]);
            if let Some(dir) = data_flag {
                command.args(["--data", dir]);
            }
            torch.push(train_step_record(
                &mut command,
                "scripts/bench_model_torch.py",
            )?);
        }
        let rates = |records: &[(f64, f64)]| records.iter().map(|r| r.0).collect::<Vec<_>>();
        let peak = |records: &[(f64, f64)]| records.iter().map(|r| r.1).fold(f64::NAN, f64::max);
        let (burn_rates, torch_rates) = (rates(&burn), rates(&torch));
        let ratios: Vec<f64> = burn_rates
            .iter()
            .zip(&torch_rates)
            .map(|(b, t)| b / t)
            .collect();
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        out.line(format!(
            "| {label} | {batch} | {:.2} | {:.2} | {:.2}x ({low:.2}-{high:.2}) | {:.0} / {:.0} |",
            median(&burn_rates),
            median(&torch_rates),
            median(&ratios),
            peak(&burn),
            peak(&torch)
        ));
    }
    out.save()
}

/// What a row of `bench train` times.
#[derive(Clone, Copy)]
enum Measure {
    /// One training step on random tensors.
    Step,
    /// The training loop end to end: loader and steps on synthetic JPEGs.
    Loop,
}

/// The (images/s, peak RSS MB) of the one record `command` prints.
fn train_step_record(command: &mut Command, what: &str) -> Result<(f64, f64)> {
    let records = json_lines(command, what)?;
    let record = records
        .first()
        .with_context(|| format!("{what} printed no result"))?;
    let field = |name: &str| {
        record[name]
            .as_f64()
            .with_context(|| format!("{what} printed no {name}: {record}"))
    };
    Ok((field("images_per_second")?, field("peak_rss_mb")?))
}
