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

mod prepare;
mod report;

use std::path::PathBuf;

use anyhow::Result;

use prepare::prepare;
use report::report;

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
