//! `cargo xtask cuda-toolchain`: makes `--features cuda` build offline against Debian's LLVM 22.
//!
//! `burn/cuda` pulls cubecl-llvm, whose build script (tracel-llvm-bundler 23.1.0-4) downloads
//! an LLVM 23 bundle from GitHub unless its install directory holds the sentinel
//! `.tracel-llvm-installed`. That download cannot happen on our machines. Past the sentinel the
//! bundler only runs the directory's `bin/llvm-config`; Debian's `llvm-22-dev` provides one
//! (with the NVPTX target). Steps (linked on a fresh machine on 2026-12-02, docs/benchmarks.md):
//! 1. `apt-get install llvm-22-dev libpolly-22-dev libz3-dev libzstd-dev libxml2-dev`;
//! 2. `<data-local-dir>/tracel/tracel-llvm-23.1.0-4/` with `bin` linked to
//!    `llvm-config-22 --prefix`'s, and the sentinel;
//! 3. the bundler turns the absolute `libz3.so` path that `llvm-config --system-libs` prints
//!    into `-llibz3`, so a `liblibz3.so` link to the real `libz3.so` goes where the linker
//!    searches: `llvm-config --libdir`, which names Debian's own directory
//!    (`/usr/lib/llvm-22/lib`; llvm-config finds its prefix through the `bin` link). Until
//!    2026-12-02 the link sat in the bundle directory, where nothing searches, and a fresh
//!    machine's cuda link failed with `unable to find library -llibz3`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::python::run_checked;

/// The bundler's version, which names its install directory.
const BUNDLE: &str = "tracel-llvm-23.1.0-4";
/// Debian's LLVM that stands in for it.
const LLVM_CONFIG: &str = "llvm-config-22";
const PACKAGES: [&str; 5] = [
    "llvm-22-dev",
    "libpolly-22-dev",
    "libz3-dev",
    "libzstd-dev",
    "libxml2-dev",
];

/// Options of `cargo xtask cuda-toolchain`.
#[derive(clap::Args)]
pub struct Args {
    /// Do not apt-get install the LLVM packages (they are already there).
    #[arg(long)]
    no_apt: bool,
}

pub fn run(args: Args) -> Result<()> {
    if !args.no_apt {
        run_checked(
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends"])
                .args(PACKAGES),
        )
        .with_context(|| format!("installing {} (needs root)", PACKAGES.join(" ")))?;
    }
    let prefix = PathBuf::from(llvm_config("--prefix")?);
    let dir = bundle_dir()?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    // The bundler asks `bin/llvm-config` for everything else (include and lib directories,
    // libraries), and llvm-config answers with Debian's own paths.
    replace_with_link(&prefix.join("bin"), &dir.join("bin"))?;
    let z3 = z3_library()?;
    let libdir = PathBuf::from(llvm_config("--libdir")?);
    replace_with_link(&z3, &libdir.join("liblibz3.so"))?;
    // Written once: the bundler's build script reruns whenever the sentinel changes, and with
    // it the whole cuda build (12 min on 2 cores).
    let sentinel = dir.join(".tracel-llvm-installed");
    if !sentinel.is_file() {
        std::fs::write(&sentinel, b"")
            .with_context(|| format!("writing {}", sentinel.display()))?;
    }
    println!(
        "{} now points at {} (LLVM {}): `cargo build --release --features cuda` builds offline",
        dir.display(),
        prefix.display(),
        llvm_config("--version")?
    );
    Ok(())
}

/// Whether the bundle directory is in place (the sentinel the bundler checks).
pub fn is_installed() -> bool {
    bundle_dir().is_ok_and(|dir| dir.join(".tracel-llvm-installed").is_file())
}

/// `<data-local-dir>/tracel/tracel-llvm-23.1.0-4`, as the `dirs` crate names the data-local
/// directory on Linux: `$XDG_DATA_HOME`, else `~/.local/share`.
fn bundle_dir() -> Result<PathBuf> {
    let data_local = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home = std::env::var_os("HOME").context("HOME is not set")?;
            PathBuf::from(home).join(".local/share")
        }
    };
    Ok(data_local.join("tracel").join(BUNDLE))
}

fn llvm_config(argument: &str) -> Result<String> {
    let output = Command::new(LLVM_CONFIG)
        .arg(argument)
        .output()
        .with_context(|| {
            format!(
                "running {LLVM_CONFIG} (apt-get install {}, or drop --no-apt)",
                PACKAGES[0]
            )
        })?;
    if !output.status.success() {
        bail!(
            "{LLVM_CONFIG} {argument} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The `libz3.so` that `llvm-config --system-libs` names.
fn z3_library() -> Result<PathBuf> {
    let libs = llvm_config("--system-libs")?;
    let named = libs
        .split_whitespace()
        .map(PathBuf::from)
        .find(|p| p.file_name().is_some_and(|n| n == "libz3.so"));
    let fallback = PathBuf::from("/usr/lib/x86_64-linux-gnu/libz3.so");
    match named {
        Some(path) if path.is_file() => Ok(path),
        _ if fallback.is_file() => Ok(fallback),
        _ => bail!("libz3.so not found (apt-get install libz3-dev)"),
    }
}

fn remove(path: &Path) -> Result<()> {
    let meta = path.symlink_metadata()?;
    if meta.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    }
    .with_context(|| format!("removing {}", path.display()))
}

fn replace_with_link(target: &Path, link: &Path) -> Result<()> {
    if link.symlink_metadata().is_ok() {
        remove(link)?;
    }
    std::os::unix::fs::symlink(target, link)
        .with_context(|| format!("linking {} -> {}", link.display(), target.display()))
}
