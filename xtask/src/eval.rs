//! `cargo xtask eval [ARGS]`: `deepfake eval` in xtask's process. A `--device cuda...`,
//! `--device wgpu` or `--device vulkan` that xtask was not built with re-runs xtask with the
//! matching cargo feature.

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Context, Result};

use crate::python::repo_root;

/// The cargo feature a `--device` value needs, if any.
pub fn device_feature(args: &[OsString]) -> Option<&'static str> {
    let values = args.iter().map(|a| a.to_string_lossy().into_owned());
    let mut previous_was_flag = false;
    for arg in values {
        let value = if previous_was_flag {
            Some(arg.clone())
        } else {
            arg.strip_prefix("--device=").map(str::to_string)
        };
        previous_was_flag = arg == "--device";
        match value.as_deref() {
            Some(v) if v.starts_with("cuda") => return Some("cuda"),
            Some("wgpu") => return Some("wgpu"),
            Some("vulkan") => return Some("vulkan"),
            _ => {}
        }
    }
    None
}

/// Whether this xtask binary was built with `feature`.
fn compiled_in(feature: &str) -> bool {
    match feature {
        "cuda" => cfg!(feature = "cuda"),
        "wgpu" => cfg!(feature = "wgpu"),
        "vulkan" => cfg!(feature = "vulkan"),
        _ => false,
    }
}

/// Evaluates in this process, or re-runs `cargo xtask eval` with the device's feature.
pub fn run(args: deepfake_cli::eval::Args) -> Result<()> {
    let command_line: Vec<OsString> = std::env::args_os().skip(1).collect();
    match device_feature(&command_line) {
        Some(feature) if !compiled_in(feature) => rerun_with_feature(feature, &command_line),
        _ => deepfake_cli::eval::run(args),
    }
}

/// `cargo run --release -p xtask --features FEATURE -- ARGS` in the repository root.
fn rerun_with_feature(feature: &str, args: &[OsString]) -> Result<()> {
    eprintln!("building xtask with --features {feature} for this device ...");
    let status = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--release", "--package", "xtask"])
        .args(["--features", feature, "--"])
        .args(args)
        .current_dir(repo_root())
        .status()
        .context("starting cargo")?;
    if !status.success() {
        // It has printed its error; pass its exit status on.
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}
