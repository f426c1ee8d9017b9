//! Time forward passes (and training steps) of a detector preset on one device, one JSON line per
//! (part, batch). `cargo xtask bench model` runs it beside PyTorch and ONNX Runtime.
//!
//! `cargo run --release --example bench_model [--features cuda|wgpu|vulkan] -- [--preset seed]
//! [--device cpu] [--batch-sizes 1,8]` (`--help` lists every option). A thin entry point: the
//! command is [`deepfake_cli::bench_model`].

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::bench_model::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
