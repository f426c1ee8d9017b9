//! Serve the detector over HTTP with dynamic batching, Prometheus metrics and graceful
//! shutdown.
//!
//! `cargo run --release --example serve [--features cuda|wgpu|vulkan] -- --checkpoint runs/tiny
//! --port 8080` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::serve`], also installed as `deepfake serve`.

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::exit_status;
use deepfake_cli::serve::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    exit_status(run(Args::parse()))
}
