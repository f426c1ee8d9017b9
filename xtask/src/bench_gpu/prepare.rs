//! `prepare`: the Burn binaries, the scripts and the Vulkan loader's packages into
//! `gpu-bench/`, checked to fit in one device call.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::python::{output_checked, repo_root, run_checked};

/// `gpu-bench/` in the repository (ignored by git; carried to the GPU machine).
fn bundle_dir() -> PathBuf {
    repo_root().join("gpu-bench")
}

/// The CUDA version the cuda binary is built against (cudarc's `CUDARC_CUDA_VERSION`): the GPU
/// machine's (NVIDIA driver 580 with CUDA 13.0, as the lent H200 machines were read in
/// 2026-11). Without it cudarc, finding no nvcc here, assumes the newest CUDA it knows (13.4).
const CUDA_VERSION: &str = "13000";

/// What the device tool carries in one call: the working tree and the carried paths together.
const CARRY_LIMIT_BYTES: u64 = 64 << 20;

/// Debian's Vulkan loader and the GLVND libraries NVIDIA's Vulkan ICD loads, for a GPU machine
/// whose image lacks them (the device tool's README lists these packages).
const VULKAN_PACKAGES: [&str; 7] = [
    "libvulkan1",
    "libegl1",
    "libglvnd0",
    "libopengl0",
    "libgl1",
    "libglx0",
    "libgles2",
];

pub(super) fn prepare(no_cuda: bool) -> Result<()> {
    let root = repo_root();
    let dir = bundle_dir();
    if std::env::consts::ARCH != "x86_64" {
        bail!(
            "the GPU machine is x86-64 and this one is {}: the binaries built here would not run there",
            std::env::consts::ARCH
        );
    }
    // Nothing stale travels: the bundle is made afresh.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    let gl = dir.join("gl");
    std::fs::create_dir_all(&gl).with_context(|| format!("creating {}", gl.display()))?;
    // The tree the binaries are built from, for the run's log: a later session can tell
    // whether a bundle left in gpu-bench/ still matches its checkout.
    let built_from = built_from(&root)?;
    let mut builds = vec![("vulkan", "vulkan")];
    if no_cuda {
        println!("CUDA binary skipped (--no-cuda)");
    } else if crate::cuda_toolchain::is_installed() {
        builds.push(("cuda,wgpu", "cuda"));
    } else {
        println!(
            "CUDA binary skipped: `cargo xtask cuda-toolchain` has not been run on this machine \
             (cubecl's LLVM would be downloaded)"
        );
    }
    for (features, name) in builds {
        println!("building bench_model --features {features}");
        run_checked(
            Command::new(env!("CARGO"))
                .args([
                    "build",
                    "--release",
                    "--example",
                    "bench_model",
                    "--features",
                ])
                .arg(features)
                .env("CUDARC_CUDA_VERSION", CUDA_VERSION)
                .current_dir(&root),
        )?;
        let binary = dir.join(format!("bench_model-{name}"));
        std::fs::copy(root.join("target/release/examples/bench_model"), &binary)
            .with_context(|| format!("copying the binary to {}", binary.display()))?;
        // Without its symbol table: a quarter smaller (the vulkan binary 17.5 -> 13.9 MB
        // compressed), and a panic's message still names the file and line.
        run_checked(Command::new("strip").arg(&binary))
            .context("strip (apt-get install binutils)")?;
        // xz, not zstd: the GPU machine may have no zstd, and Python's lzma reads xz.
        run_checked(Command::new("xz").args(["-f", "-9", "-T0"]).arg(&binary))
            .context("compressing with xz (apt-get install xz-utils)")?;
        let packed = binary.with_extension("xz");
        let bytes = std::fs::metadata(&packed)
            .with_context(|| format!("reading {}", packed.display()))?
            .len();
        println!("  {} ({:.1} MiB)", packed.display(), mib(bytes));
    }
    println!(
        "downloading the Vulkan loader's packages into {}",
        gl.display()
    );
    run_checked(
        Command::new("apt-get")
            .arg("download")
            .args(VULKAN_PACKAGES)
            .current_dir(&gl),
    )
    .context("apt-get download (Debian's package archive must be reachable)")?;
    for script in ["bench_gpu.sh", "bench_model_torch.py", "reference_model.py"] {
        std::fs::copy(root.join("scripts").join(script), dir.join(script))
            .with_context(|| format!("copying scripts/{script}"))?;
    }
    std::fs::write(dir.join("BUILT_FROM"), format!("{built_from}\n"))
        .context("writing gpu-bench/BUILT_FROM")?;
    println!("built from {built_from}");
    let tree = working_tree_bytes(&root)?;
    let bundle = dir_bytes(&dir)?;
    println!(
        "the device call carries {:.1} MiB (working tree {:.1} + gpu-bench {:.1}) of its {:.0} MiB",
        mib(tree + bundle),
        mib(tree),
        mib(bundle),
        mib(CARRY_LIMIT_BYTES)
    );
    if tree + bundle > CARRY_LIMIT_BYTES {
        bail!(
            "too large for one device call: leave the CUDA binary out (--no-cuda) or shrink the tree"
        );
    }
    println!(
        "ready: carry gpu-bench/ to the GPU machine and run `bash gpu-bench/bench_gpu.sh \"$OUT\"`, \
         then `cargo xtask bench gpu report OUT/gpu.jsonl && cargo xtask bench docs` here"
    );
    Ok(())
}

/// The checkout's commit, with `-dirty` when tracked files differ from it.
fn built_from(root: &Path) -> Result<String> {
    let output = output_checked(
        Command::new("git")
            .args(["describe", "--always", "--dirty", "--abbrev=12"])
            .current_dir(root),
        "git describe",
    )?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// Bytes in MiB, the unit of the device tool's limit.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 20) as f64
}

/// The bytes of the files the device tool sends from the checkout: tracked, and untracked
/// but not ignored.
fn working_tree_bytes(root: &Path) -> Result<u64> {
    let output = output_checked(
        Command::new("git")
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root),
        "git ls-files",
    )?;
    let mut total = 0;
    for name in output.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let path = root.join(String::from_utf8_lossy(name).as_ref());
        // A tracked file deleted in the work tree is not sent.
        total += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    Ok(total)
}

/// The bytes of the files under `dir`.
fn dir_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
