//! Export a trained detector to ONNX (opset 18, with model_info.json) or to a PyTorch state dict
//! in safetensors format.
//!
//! `cargo run --release --example export [--features cuda|wgpu|vulkan] -- [--checkpoint DIR]
//! [--out FILE] [--format onnx|safetensors-pytorch]` (`--help` lists every option). A thin entry
//! point: the command is [`deepfake_cli::export`], also installed as `deepfake export` (`cargo
//! install --path crates/deepfake-cli`).

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::export::{Args, run};

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    deepfake_cli::exit_status(run(Args::parse()))
}
