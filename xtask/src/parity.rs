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
    eprintln!("checking Burn against them (release build)");
    run_checked(
        Command::new(env!("CARGO"))
            .args([
                "test",
                "--release",
                "--package",
                "deepfake-model",
                "--test",
                "full_parity",
                "--",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env("DEEPFAKE_PARITY_DIR", &out)
            .current_dir(&root),
    )
}
