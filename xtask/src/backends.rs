//! `cargo xtask backends`: the tiny detector and the grouped-conv formulations on wgpu against
//! flex. Built with the `wgpu` feature (WGSL kernels, autotune, fusion): on a CPU-only machine
//! it runs on Mesa's lavapipe, and Debian 12's lavapipe (Mesa 22.3.6) crashes (SIGSEGV in
//! `create_compute_pipeline`) compiling the SPIR-V matmul kernels that the `vulkan` feature's
//! compiler emits while autotune tries them; the WGSL path does not hit it.
//!
//! It builds the model crate and its own test target (`crates/deepfake-model/tests/backends.rs`)
//! with the `wgpu` feature in the dev profile, so the rest of the workspace is not rebuilt.
//!
//! Not in CI (measured 2026-12-01 on 2 cores). In the shared test build: its cold build went
//! from 1,323 s to 2,459 s, and the README's two commands from 23 to ~43 min (over their 30).
//! As this separate build: 1,114 s on top of the test build (burn-flex 394 s, burn-dispatch
//! 250 s and cubek-matmul 216 s of 2,217 s of compile units: Burn's crates are rebuilt with
//! the GPU features, and serde, syn, half and others with the extra features the GPU stack
//! turns on) plus the test 211 s: CI would take ~3,690 s, over its 60 min. What would bring
//! it under: giving the test build the shared crates' GPU-stack features (so that only Burn's
//! own crates and the GPU stack compile here), or a CI machine with more cores.

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
                "--package",
                "deepfake-model",
                "--features",
                "wgpu",
                "--test",
                "backends",
                "--",
                "--ignored",
                "--nocapture",
            ])
            .current_dir(repo_root()),
    )
}
