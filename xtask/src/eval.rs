//! `cargo xtask eval [ARGS]`: runs the `eval` example in release (every argument is passed
//! on; `cargo xtask eval --help` shows them). A `--device cuda...`, `--device wgpu` or `--device vulkan` adds
//! the matching cargo feature.

use std::ffi::OsString;
use std::process::Command;

use anyhow::{Context, Result};

use crate::python::repo_root;

/// Options of `cargo xtask eval`: everything is forwarded to the example.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// Arguments of the eval example (see `cargo xtask eval --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

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

pub fn run(args: Args) -> Result<()> {
    run_example("eval", &args.args)
}

/// `cargo run --release --example NAME [--features F] -- ARGS` in the repository root.
pub fn run_example(name: &str, args: &[OsString]) -> Result<()> {
    let mut command = Command::new(env!("CARGO"));
    command.args(["run", "--quiet", "--release", "--example", name]);
    if let Some(feature) = device_feature(args) {
        command.args(["--features", feature]);
    }
    command.arg("--").args(args).current_dir(repo_root());
    let status = command.status().context("starting cargo")?;
    if !status.success() {
        // The example has printed its error; pass its exit status on.
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}
