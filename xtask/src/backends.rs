//! `cargo xtask backends`: the tiny detector and the grouped-conv formulations on wgpu against
//! flex: the ignored `backends::` tests of the `cargo test --workspace` build, which has the
//! `wgpu` feature (WGSL kernels, autotune, fusion). On a CPU-only machine they run on Mesa's
//! lavapipe, and Debian 12's lavapipe (Mesa 22.3.6) crashes (SIGSEGV in
//! `create_compute_pipeline`) compiling the SPIR-V matmul kernels that the `vulkan` feature's
//! compiler emits while autotune tries them; the WGSL path does not hit it.

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
                "--workspace",
                "--test",
                "integration",
                "--",
                "backends::",
                "--ignored",
                "--nocapture",
            ])
            .current_dir(repo_root()),
    )
}
