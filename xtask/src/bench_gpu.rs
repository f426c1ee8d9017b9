//! `cargo xtask bench gpu prepare | report`: the GPU benchmark, prepared here and run once on a
//! GPU machine (no Rust toolchain and no network there; GPU time is scarce).
//!
//! `prepare` builds the `bench_model` example for each GPU backend that builds here (`vulkan`;
//! `cuda,wgpu` once `cargo xtask cuda-toolchain` has made CUDA buildable), compresses the
//! binaries with xz into `gpu-bench/` beside `scripts/bench_gpu.sh`, the PyTorch peer and
//! Debian's Vulkan loader packages (`gl/`, unpacked there only where the machine lacks a
//! loader), and checks that the whole fits in one device call.
//! On the GPU machine `bash gpu-bench/bench_gpu.sh OUT` runs every case in under 8 minutes;
//! `report OUT/gpu.jsonl` turns its records into the GPU section of docs/benchmarks.md
//! (through `target/bench/gpu.md` and `cargo xtask bench docs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::bench_output::BenchOutput;
use crate::python::{output_checked, repo_root, run_checked};

/// Options of `cargo xtask bench gpu`.
#[derive(clap::Args)]
pub struct GpuArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Build the Burn binaries (vulkan; cuda,wgpu when CUDA builds here) and put them,
    /// xz-compressed, into gpu-bench/ with the run script, the PyTorch peer and the Vulkan
    /// loader's packages.
    Prepare {
        /// Skip the CUDA binary even when `cargo xtask cuda-toolchain` has been run.
        #[arg(long)]
        no_cuda: bool,
    },
    /// Turn the run's records (gpu.jsonl from bench_gpu.sh) into target/bench/gpu.md; then
    /// `cargo xtask bench docs` puts it into docs/benchmarks.md. Records without a PyTorch
    /// CUDA run (a rehearsal on a CPU) are printed only.
    Report {
        /// The gpu.jsonl that bench_gpu.sh wrote.
        records: PathBuf,
        /// Free text for the section's first line: the machine and the date.
        #[arg(long, default_value = "GPU machine")]
        machine: String,
    },
}

pub fn run(args: GpuArgs) -> Result<()> {
    match args.action {
        Action::Prepare { no_cuda } => prepare(no_cuda),
        Action::Report { records, machine } => report(&records, &machine),
    }
}

/// `gpu-bench/` in the repository (ignored by git; carried to the GPU machine).
fn bundle_dir() -> PathBuf {
    repo_root().join("gpu-bench")
}

/// The CUDA version the cuda binary is built against (cudarc's `CUDARC_CUDA_VERSION`): the GPU
/// machine's (NVIDIA driver 580 with CUDA 13.0, as the lent H200 machines were read in
/// 2026-11). Without it cudarc, finding no nvcc here, assumes the newest CUDA it knows (13.4).
const CUDA_VERSION: &str = "13000";

/// What the device tool carries in one call: the working tree and the carried paths together.
const CARRY_LIMIT_BYTES: u64 = 64 << 20;

/// Debian's Vulkan loader and the GLVND libraries NVIDIA's Vulkan ICD loads, for a GPU machine
/// whose image lacks them (the device tool's README lists these packages).
const VULKAN_PACKAGES: [&str; 7] = [
    "libvulkan1",
    "libegl1",
    "libglvnd0",
    "libopengl0",
    "libgl1",
    "libglx0",
    "libgles2",
];

fn prepare(no_cuda: bool) -> Result<()> {
    let root = repo_root();
    let dir = bundle_dir();
    if std::env::consts::ARCH != "x86_64" {
        bail!(
            "the GPU machine is x86-64 and this one is {}: the binaries built here would not run there",
            std::env::consts::ARCH
        );
    }
    // Nothing stale travels: the bundle is made afresh.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    let gl = dir.join("gl");
    std::fs::create_dir_all(&gl).with_context(|| format!("creating {}", gl.display()))?;
    // The tree the binaries are built from, for the run's log: a later session can tell
    // whether a bundle left in gpu-bench/ still matches its checkout.
    let built_from = built_from(&root)?;
    let mut builds = vec![("vulkan", "vulkan")];
    if no_cuda {
        println!("CUDA binary skipped (--no-cuda)");
    } else if crate::cuda_toolchain::is_installed() {
        builds.push(("cuda,wgpu", "cuda"));
    } else {
        println!(
            "CUDA binary skipped: `cargo xtask cuda-toolchain` has not been run on this machine \
             (cubecl's LLVM would be downloaded)"
        );
    }
    for (features, name) in builds {
        println!("building bench_model --features {features}");
        run_checked(
            Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--release",
                    "--example",
                    "bench_model",
                    "--features",
                ])
                .arg(features)
                .env("CUDARC_CUDA_VERSION", CUDA_VERSION)
                .current_dir(&root),
        )?;
        let binary = dir.join(format!("bench_model-{name}"));
        std::fs::copy(root.join("target/release/examples/bench_model"), &binary)
            .with_context(|| format!("copying the binary to {}", binary.display()))?;
        // Without its symbol table: a quarter smaller (the vulkan binary 17.5 -> 13.9 MB
        // compressed), and a panic's message still names the file and line.
        run_checked(Command::new("strip").arg(&binary))
            .context("strip (apt-get install binutils)")?;
        // xz, not zstd: the GPU machine may have no zstd, and Python's lzma reads xz.
        run_checked(Command::new("xz").args(["-f", "-9", "-T0"]).arg(&binary))
            .context("compressing with xz (apt-get install xz-utils)")?;
        let packed = binary.with_extension("xz");
        let bytes = std::fs::metadata(&packed)
            .with_context(|| format!("reading {}", packed.display()))?
            .len();
        println!("  {} ({:.1} MiB)", packed.display(), mib(bytes));
    }
    println!(
        "downloading the Vulkan loader's packages into {}",
        gl.display()
    );
    run_checked(
        Command::new("apt-get")
            .arg("download")
            .args(VULKAN_PACKAGES)
            .current_dir(&gl),
    )
    .context("apt-get download (Debian's package archive must be reachable)")?;
    for script in ["bench_gpu.sh", "bench_model_torch.py", "reference_model.py"] {
        std::fs::copy(root.join("scripts").join(script), dir.join(script))
            .with_context(|| format!("copying scripts/{script}"))?;
    }
    std::fs::write(dir.join("BUILT_FROM"), format!("{built_from}\n"))
        .context("writing gpu-bench/BUILT_FROM")?;
    println!("built from {built_from}");
    let tree = working_tree_bytes(&root)?;
    let bundle = dir_bytes(&dir)?;
    println!(
        "the device call carries {:.1} MiB (working tree {:.1} + gpu-bench {:.1}) of its {:.0} MiB",
        mib(tree + bundle),
        mib(tree),
        mib(bundle),
        mib(CARRY_LIMIT_BYTES)
    );
    if tree + bundle > CARRY_LIMIT_BYTES {
        bail!(
            "too large for one device call: leave the CUDA binary out (--no-cuda) or shrink the tree"
        );
    }
    println!(
        "ready: carry gpu-bench/ to the GPU machine and run `bash gpu-bench/bench_gpu.sh \"$OUT\"`, \
         then `cargo xtask bench gpu report OUT/gpu.jsonl && cargo xtask bench docs` here"
    );
    Ok(())
}

/// The checkout's commit, with `-dirty` when tracked files differ from it.
fn built_from(root: &Path) -> Result<String> {
    let output = output_checked(
        Command::new("git")
            .args(["describe", "--always", "--dirty", "--abbrev=12"])
            .current_dir(root),
        "git describe",
    )?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Bytes in MiB, the unit of the device tool's limit.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The bytes of the files the device tool sends from the checkout: tracked, and untracked
/// but not ignored.
fn working_tree_bytes(root: &Path) -> Result<u64> {
    let output = output_checked(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
        "git ls-files",
    )?;
    let mut total = 0;
    for name in output.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let path = root.join(String::from_utf8_lossy(name).as_ref());
        // A tracked file deleted in the work tree is not sent.
        total += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    Ok(total)
}

/// The bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// A record's text field.
fn text<'a>(record: &'a Value, key: &str) -> &'a str {
    record.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(record: &Value, key: &str) -> Option<f64> {
    record.get(key).and_then(Value::as_f64)
}

/// One table row: column (runtime and device) -> images/s and memory in MB.
type Row = BTreeMap<String, (f64, Option<f64>)>;

fn report(records: &Path, machine: &str) -> Result<()> {
    let body = std::fs::read_to_string(records)
        .with_context(|| format!("reading {}", records.display()))?;
    let records: Vec<Value> = body
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(serde_json::from_str)
        .collect::<std::result::Result<_, _>>()
        .with_context(|| format!("parsing {}", records.display()))?;
    if records.is_empty() {
        bail!("no records in the file: did bench_gpu.sh run?");
    }
    // The section compares with PyTorch on the GPU; a run without it (a rehearsal on a CPU
    // with Mesa's software Vulkan) prints its tables but does not replace the page's section.
    let has_peer = records
        .iter()
        .any(|r| text(r, "runtime") == "pytorch" && text(r, "device") == "cuda");
    let mut out = BenchOutput::new("gpu");
    out.line(format!(
        "{machine}. Seed preset unless noted, random weights, median of the timed passes \
         (images/s); Burn with autotune + fusion, the inference form (BatchNorm folded) for \
         inference; PyTorch eager with cuDNN benchmark mode. `cargo xtask bench gpu`."
    ));
    out.line("");
    for check in records
        .iter()
        .filter(|r| text(r, "check") == "logits vs flex")
    {
        out.line(format!(
            "Correctness: logits on {} ({}) vs flex, max |diff| {:.1e} (logits up to {:.3}).",
            text(check, "device"),
            text(check, "variant"),
            number(check, "max_abs_diff").unwrap_or(f64::NAN),
            number(check, "logits_max_abs").unwrap_or(f64::NAN),
        ));
    }
    out.line("");
    // (part, batch) -> column -> images/s and memory, for the runs with the default method.
    let mut table: BTreeMap<(String, u64), Row> = BTreeMap::new();
    // case ("detector on cuda") -> grouped-conv method -> images/s, at batch 32.
    let mut grouped: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut columns: Vec<String> = Vec::new();
    for record in &records {
        let (Some(ips), Some(batch)) = (
            number(record, "images_per_second"),
            record.get("batch").and_then(Value::as_u64),
        ) else {
            continue;
        };
        let part = text(record, "part").to_string();
        let runtime = text(record, "runtime");
        let column = if runtime == "burn" {
            format!("Burn {}", text(record, "device"))
        } else {
            format!("{runtime} {}", text(record, "device"))
        };
        let memory = number(record, "gpu_reserved_mb").or_else(|| {
            (runtime != "burn")
                .then(|| number(record, "peak_rss_mb"))
                .flatten()
        });
        let method = text(record, "grouped_conv");
        // Burn's own runs: each shape's method measured ("measured"), not one pinned.
        let default_method = method == "measured" || runtime != "burn";
        if runtime == "burn" && batch == 32 {
            grouped
                .entry(format!("{part} on {}", text(record, "device")))
                .or_default()
                .entry(method.to_string())
                .or_insert(ips);
        }
        if !default_method {
            continue;
        }
        if !columns.contains(&column) {
            columns.push(column.clone());
        }
        table
            .entry((part, batch))
            .or_default()
            .insert(column, (ips, memory));
    }
    out.line(format!(
        "| part | batch | {} | best Burn / best PyTorch |",
        columns.join(" | ")
    ));
    out.line(format!("|---|---|{}---|", "---|".repeat(columns.len())));
    for ((part, batch), cells) in &table {
        let best = |prefix: &str| {
            cells
                .iter()
                .filter(|(c, _)| c.starts_with(prefix))
                .map(|(_, (ips, _))| *ips)
                .fold(f64::NAN, f64::max)
        };
        let ratio = best("Burn") / best("pytorch");
        let row: Vec<String> = columns
            .iter()
            .map(|c| match cells.get(c) {
                Some((ips, Some(mb))) => format!("{ips:.1} ({mb:.0} MB)"),
                Some((ips, None)) => format!("{ips:.1}"),
                None => "-".into(),
            })
            .collect();
        out.line(format!(
            "| {part} | {batch} | {} | {} |",
            row.join(" | "),
            if ratio.is_finite() {
                format!("{ratio:.3}x")
            } else {
                "-".into()
            }
        ));
    }
    out.line("");
    out.line(
        "Memory in parentheses: Burn's device memory pool right after the pass (reserved), \
         PyTorch's torch.cuda.max_memory_allocated.",
    );
    let loops = training_loop_lines(&records);
    if !loops.is_empty() {
        out.line("");
        out.line(
            "train_epoch: the `train` command's loop end to end (the loader decoding, \
             augmenting and resizing synthetic JPEGs while the device runs the steps; the \
             second of two epochs), against PyTorch's DataLoader loop on the same files; where \
             the loader's rate is below the steps' alone, it starves the device:",
        );
        out.line("");
        for line in loops {
            out.line(line);
        }
    }
    if !grouped.is_empty() {
        out.line("");
        out.line("Grouped 3x3 convolutions, batch 32, images/s by formulation:");
        out.line("");
        out.line("| case | direct | im2col | shifted | measured per shape (the default) |");
        out.line("|---|---|---|---|---|");
        for (case, methods) in &grouped {
            let cell = |method: &str| {
                methods
                    .get(method)
                    .map_or("-".into(), |ips| format!("{ips:.1}"))
            };
            out.line(format!(
                "| {case} | {} | {} | {} | {} |",
                cell("direct"),
                cell("im2col"),
                cell("shifted"),
                cell("measured")
            ));
        }
    }
    let measured = measured_table(&records);
    if !measured.is_empty() {
        out.line("");
        out.line(
            "What each run measured per grouped 3x3 layer shape before choosing its formulation \
             (ms per run, the least of 3 after a warm-up; forward, plus backward when training):",
        );
        out.line("");
        for line in measured {
            out.line(line);
        }
    }
    if has_peer {
        out.save()
    } else {
        println!(
            "\nnot kept for docs/benchmarks.md: the records hold no PyTorch CUDA run (a rehearsal \
             without a GPU?), so `cargo xtask bench docs` keeps the page's GPU section"
        );
        Ok(())
    }
}

/// One line per `train_epoch` record: wall, steps-alone and loader images/s.
fn training_loop_lines(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .filter(|r| text(r, "part") == "train_epoch")
        .map(|r| {
            let rate =
                |key: &str| number(r, key).map_or("-".to_string(), |ips| format!("{ips:.1}"));
            let feeder = if text(r, "runtime") == "burn" {
                format!(
                    "loader {} images/s on {} threads",
                    rate("loader_images_per_second"),
                    number(r, "loader_threads").unwrap_or(f64::NAN)
                )
            } else {
                format!(
                    "DataLoader with {} workers",
                    number(r, "loader_workers").unwrap_or(f64::NAN)
                )
            };
            format!(
                "- {} {}, batch {}: {} images/s, steps alone {}, {feeder}",
                text(r, "runtime"),
                text(r, "device"),
                r.get("batch").and_then(Value::as_u64).unwrap_or(0),
                rate("images_per_second"),
                rate("step_images_per_second"),
            )
        })
        .collect()
}

/// One row of the measurement table: ms per formulation (direct, im2col, shifted).
struct MeasuredRow<'a> {
    device: &'a str,
    pass: &'static str,
    shape: &'a str,
    ms: Vec<String>,
    chosen: &'a str,
}

/// The grouped-convolution measurements of Burn's records (`grouped_conv_measurements`), one
/// row per device, pass and layer shape: a markdown table, empty without any.
fn measured_table(records: &[Value]) -> Vec<String> {
    // In the records' order (layer order), one per device, pass and shape.
    let mut rows: Vec<MeasuredRow> = Vec::new();
    for record in records.iter().filter(|r| text(r, "runtime") == "burn") {
        let pass = if matches!(text(record, "part"), "train_step" | "train_epoch") {
            "training"
        } else {
            "inference"
        };
        let Some(list) = record
            .get("grouped_conv_measurements")
            .and_then(Value::as_array)
        else {
            continue;
        };
        for m in list {
            let ms = ["direct", "im2col", "shifted"]
                .iter()
                .map(|method| {
                    m.get("seconds")
                        .and_then(|s| s.get(method))
                        .and_then(Value::as_f64)
                        .map_or("failed".into(), |s| format!("{:.2}", s * 1e3))
                })
                .collect();
            let row = MeasuredRow {
                device: text(record, "device"),
                pass,
                shape: text(m, "shape"),
                ms,
                chosen: text(m, "chosen"),
            };
            let seen =
                |r: &MeasuredRow| (r.device, r.pass, r.shape) == (row.device, pass, row.shape);
            if !rows.iter().any(seen) {
                rows.push(row);
            }
        }
    }
    if rows.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![
        "| device | pass | shape | direct | im2col | shifted | chosen |".to_string(),
        "|---|---|---|---:|---:|---:|---|".to_string(),
    ];
    for row in rows {
        lines.push(format!(
            "| {} | {} | {} | {} | {} |",
            row.device,
            row.pass,
            row.shape,
            row.ms.join(" | "),
            row.chosen
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measured_table_has_one_row_per_device_pass_and_shape() {
        let shape = "batch 32: 128x56x56 -> 128x56x56, 3x3, 32 groups, stride 1x1";
        let measurement = serde_json::json!([{
            "shape": shape,
            "seconds": {"direct": 0.004, "im2col": 0.0021, "shifted": null},
            "chosen": "im2col",
        }]);
        let record = |part: &str| {
            serde_json::json!({
                "runtime": "burn", "device": "cuda", "part": part, "batch": 32,
                "grouped_conv_measurements": measurement,
            })
        };
        // The same measurement in two inference records (batch 32 detector and backbone) is
        // one row; the training step's is another.
        let records = [
            record("detector"),
            record("backbone"),
            record("train_step"),
            serde_json::json!({"runtime": "pytorch", "device": "cuda", "part": "detector"}),
        ];
        let table = measured_table(&records);
        assert_eq!(
            table[2..],
            [
                format!("| cuda | inference | {shape} | 4.00 | 2.10 | failed | im2col |"),
                format!("| cuda | training | {shape} | 4.00 | 2.10 | failed | im2col |"),
            ]
        );
        assert!(measured_table(&records[3..]).is_empty());
    }

    #[test]
    fn training_loop_lines_name_the_feeder_of_each_runtime() {
        let records = [
            serde_json::json!({
                "runtime": "burn", "device": "cuda", "part": "train_epoch", "batch": 64,
                "images_per_second": 812.34, "step_images_per_second": 850.0,
                "loader_images_per_second": 4100.5, "loader_threads": 16,
            }),
            serde_json::json!({
                "runtime": "pytorch-channels-last", "device": "cuda", "part": "train_epoch",
                "batch": 64, "images_per_second": 1500.0, "step_images_per_second": 1900.0,
                "loader_workers": 16,
            }),
            serde_json::json!({"runtime": "burn", "device": "cuda", "part": "train_step"}),
        ];
        assert_eq!(
            training_loop_lines(&records),
            [
                "- burn cuda, batch 64: 812.3 images/s, steps alone 850.0, loader 4100.5 \
                 images/s on 16 threads",
                "- pytorch-channels-last cuda, batch 64: 1500.0 images/s, steps alone 1900.0, \
                 DataLoader with 16 workers",
            ]
        );
    }
}
