//! Score images, folders or frame sequences with a trained detector. Exit status: 0 all inputs
//! scored, 1 some failed, 2 usage, model or device error.
//!
//! `cargo run --release --example predict [--features cuda|wgpu|vulkan] -- [--checkpoint DIR]
//! PATH...` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::predict`], also installed as `deepfake predict` (`cargo install --path
//! crates/deepfake-cli`).

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::predict::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    run(Args::parse())
}
