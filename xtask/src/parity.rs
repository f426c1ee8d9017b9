//! `cargo xtask parity`: full-size PyTorch parity of the backbone and the seed detector.

use std::process::Command;

use anyhow::Result;

use crate::python::{find_python, repo_root, run_checked};

/// Options of `cargo xtask parity`.
#[derive(clap::Args)]
pub struct Args {
    /// Create target/venv and install torch, torchvision and safetensors if no Python has them.
    #[arg(long)]
    install: bool,
    /// Check with the dev-profile build (what `cargo test` built; CI) instead of a release one.
    #[arg(long)]
    dev: bool,
}

pub fn run(args: Args) -> Result<()> {
    let python = find_python(
        &["torch", "torchvision", "safetensors"],
        &["torch", "torchvision", "safetensors"],
        args.install,
    )?;
    let root = repo_root();
    let out = root.join("target/parity");
    eprintln!("writing PyTorch references into {}", out.display());
    run_checked(
        Command::new(&python)
            .arg(root.join("scripts/gen_full_parity.py"))
            .arg("--out")
            .arg(&out)
            .current_dir(root.join("scripts")),
    )?;
    eprintln!(
        "checking Burn against them ({} build)",
        if args.dev { "dev" } else { "release" }
    );
    let mut cargo = Command::new(env!("CARGO"));
    cargo.arg("test");
    if !args.dev {
        cargo.arg("--release");
    }
    run_checked(
        cargo
            // --workspace, not --package deepfake-model: the features `cargo test --workspace`
            // resolves, so the dev check reuses its build (a package alone rebuilt Burn).
            .args([
                "--workspace",
                "--test",
                "integration",
                "--",
                "full_parity::",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("DEEPFAKE_PARITY_DIR", &out)
            .current_dir(&root),
    )
}
