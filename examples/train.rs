//! Train the deepfake detector with the seed's recipe (Adam 1e-3, weight decay 1e-4,
//! ReduceLROnPlateau, 12 epochs, batch 64) into a run folder with best/ and last/ checkpoints.
//!
//! `cargo run --release --example train [--features cuda|wgpu|vulkan] -- --data PATH --out
//! runs/NAME` (`--help` lists every option). A thin entry point: the command is
//! [`deepfake_cli::train`], also installed as `deepfake train` (`cargo install --path
//! crates/deepfake-cli`).

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::train::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
