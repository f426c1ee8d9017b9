//! `cargo xtask backends`: the tiny detector and the grouped-conv formulations on wgpu against
//! flex. Built with the `vulkan` feature (wgpu + SPIR-V, autotune, fusion), the same build
//! `cargo xtask bench gpu prepare` makes, so the two share their compiled dependencies.

use std::process::Command;

use anyhow::Result;

use crate::python::{repo_root, run_checked};

/// Options of `cargo xtask backends`.
#[derive(clap::Args)]
pub struct Args {
    /// Install Mesa's software Vulkan driver (Debian `mesa-vulkan-drivers`) with apt-get first.
    #[arg(long)]
    install: bool,
}

pub fn run(args: Args) -> Result<()> {
    if args.install {
        run_checked(Command::new("apt-get").args([
            "install",
            "-y",
            "--no-install-recommends",
            "mesa-vulkan-drivers",
            "libvulkan1",
        ]))?;
    }
    run_checked(
        Command::new(env!("CARGO"))
            .args([
                "test",
                "--release",
                "--features",
                "vulkan",
                "--test",
                "backends",
                "--",
                "--ignored",
                "--nocapture",
            ])
            .current_dir(repo_root()),
    )
}
