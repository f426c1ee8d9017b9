//! Print a detector preset's architecture and parameter counts and time one forward pass on random
//! input (`--save DIR` keeps the random model).
//!
//! `cargo run --release --example model_info [--features cuda|wgpu|vulkan] -- --preset tiny|seed
//! [--frames T] [--save DIR]` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::model_info`], also installed as `deepfake model-info` (`cargo install --path
//! crates/deepfake-cli`).

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::model_info::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
