//! Evaluate a trained detector on a split (or score a path,label,p_fake CSV) and write
//! report.json, scores.csv, figures and index.html.
//!
//! `cargo run --release --example eval [--features cuda|wgpu|vulkan] -- [--checkpoint RUN]
//! [--split test]` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::eval`], also installed as `deepfake eval` (`cargo install --path
//! crates/deepfake-cli`).

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::eval::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
