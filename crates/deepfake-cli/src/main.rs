//! The `deepfake` binary: `deepfake <command> --help` for each command's options.
//! Install with `cargo install --path crates/deepfake-cli [--features cuda|wgpu|vulkan]`.

use std::process::ExitCode;

use clap::Parser;
use deepfake_cli::Cli;

fn main() -> ExitCode {
    deepfake_cli::keep_freed_memory();
    Cli::parse().command.run()
}
