//! Finding (or making) a Python interpreter with the packages a task needs.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The repository root (the parent of `xtask/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the repository")
        .to_path_buf()
}

/// The project's virtual environment for reference tools: `target/venv`. It sees the system's
/// site packages (a torch installed there is used, not downloaded again).
pub fn venv_dir() -> PathBuf {
    repo_root().join("target/venv")
}

fn can_import(python: &Path, modules: &[&str]) -> bool {
    let check = format!("import {}", modules.join(", "));
    Command::new(python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A Python that can import every module in `modules`: `$DEEPFAKE_PYTHON`, then `target/venv`,
/// then `python3` on the PATH. With `install`, creates `target/venv` and pip-installs
/// `packages` into it when none fits.
pub fn find_python(modules: &[&str], packages: &[&str], install: bool) -> Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("DEEPFAKE_PYTHON") {
        candidates.push(PathBuf::from(path));
    }
    let venv_python = venv_dir().join("bin/python");
    candidates.push(venv_python.clone());
    candidates.push(PathBuf::from("python3"));
    if let Some(found) = candidates.iter().find(|p| can_import(p, modules)) {
        return Ok(found.clone());
    }
    if !install {
        bail!(
            "no Python with {} found (tried $DEEPFAKE_PYTHON, target/venv, python3). \
             Re-run with --install to create target/venv and pip install {}",
            modules.join(", "),
            packages.join(" ")
        );
    }
    if !venv_python.exists() {
        eprintln!("creating {}", venv_dir().display());
        let status = Command::new("python3")
            .args(["-m", "venv", "--system-site-packages"])
            .arg(venv_dir())
            .status()
            .context("running python3 -m venv")?;
        if !status.success() {
            bail!("python3 -m venv failed (on Debian: apt-get install python3-venv)");
        }
    }
    eprintln!("installing {} into target/venv", packages.join(" "));
    let status = Command::new(&venv_python)
        .args(["-m", "pip", "install", "--quiet"])
        .args(packages)
        .status()
        .context("running pip")?;
    if !status.success() {
        bail!("pip install {} into target/venv failed", packages.join(" "));
    }
    let missing: Vec<&str> = modules
        .iter()
        .copied()
        .filter(|module| !can_import(&venv_python, &[module]))
        .collect();
    if !missing.is_empty() {
        bail!(
            "target/venv still cannot import {} (it installs only {}; the rest must come from \
             the system's Python, or point $DEEPFAKE_PYTHON at a Python that has them)",
            missing.join(", "),
            packages.join(" ")
        );
    }
    Ok(venv_python)
}

/// Runs a command and returns its output, failing with `what` and its stderr when it does
/// not succeed.
pub fn output_checked(command: &mut Command, what: &str) -> Result<std::process::Output> {
    let output = command
        .output()
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(output)
}

/// Runs a command, failing with its name when it does not succeed.
pub fn run_checked(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}
