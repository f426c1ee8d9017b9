//! `cargo xtask backends`: the tiny detector and the grouped-conv formulations on wgpu against
//! flex. Built with the `wgpu` feature (WGSL kernels, autotune, fusion): on a CPU-only machine
//! it runs on Mesa's lavapipe, and Debian 12's lavapipe (Mesa 22.3.6) crashes (SIGSEGV in
//! `create_compute_pipeline`) compiling the SPIR-V matmul kernels that the `vulkan` feature's
//! compiler emits while autotune tries them; the WGSL path does not hit it.
//!
//! It builds the model crate and its own test target (`crates/deepfake-model/tests/backends.rs`)
//! with the `wgpu` feature in the `backends` profile (Cargo.toml: the dev profile with the
//! dependencies at opt-level 0), in its own directory `target/backends/`: sharing the dev build
//! saved little, because enabling the GPU stack changes the features of Burn's own crates,
//! and they are most of the work.
//!
//! Measured on 2 cores (2026-12-02), cold, `target/backends/` absent: the build 349 s, the
//! test 280 s. The same with the dependencies at opt-level 1 (the GPU stack) and 3 (the rest,
//! sharing the dev build where features matched): 1,114 s on top of the dev build, test 211 s;
//! with all at opt-level 1 in this profile: 1,272 s, test 199 s. Most of the build time is
//! code generation for burn-flex, burn-dispatch, cubek-matmul and burn-cubecl, which opt-level
//! 0 cuts to a fraction, for 80 s more of test.
//! Since the training-gradient and grouped-conv measurement tests (2026-12-02) the test takes
//! 501 s (708 s in a cold CI run). Half of that was cubecl compiling kernels at opt-level 0
//! (naga, pliron, cubecl's IR and optimiser; the rest is lavapipe's LLVM): with those crates
//! at opt-level 1, on a faster 2-core machine, cold and with Mesa's shader cache empty, the
//! build went from 223 s to 280 s and the test from 461 s to 319 s.

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
                "--profile",
                "backends",
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
