//! `cargo xtask backends`: the tiny detector and the grouped-conv formulations on wgpu against
//! flex. Built with the `wgpu` feature (WGSL kernels, autotune, fusion): on a CPU-only machine
//! it runs on Mesa's lavapipe, and Debian 12's lavapipe (Mesa 22.3.6) crashes (SIGSEGV in
//! `create_compute_pipeline`) compiling the SPIR-V matmul kernels that the `vulkan` feature's
//! compiler emits while autotune tries them; the WGSL path does not hit it.
//!
//! Not in CI (measured 2026-12-01 on the 2-core CI machine, cold clone): compiling wgpu into
//! the shared test build took its cold build from 1,323 s to 2,459 s, and with this check
//! (239 s there) the CI run would take ~62 min, over its 60; the README's two commands would
//! go from 23 to ~43 min, over their 30. A separate `--features wgpu` build costs more still.

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
                "wgpu",
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
