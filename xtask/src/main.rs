//! Project tasks: `cargo xtask <command>` (alias in .cargo/config.toml). `cargo xtask --help` lists them.

mod backends;
mod bench;
mod bench_docs;
mod bench_faces;
mod bench_gpu;
mod bench_model;
mod bench_output;
mod bench_serve;
mod cli;
mod cuda_toolchain;
mod demo;
mod eval;
mod fuzz;
mod heatmap_check;
mod parity;
mod plugin;
mod python;
mod stats;
mod test_model;
mod verify_onnx;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Project tasks for the deepfake detector workspace"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole product on CPU in a few minutes: synthetic data, train the tiny preset,
    /// evaluate (HTML report), export ONNX, predict; reuses what exists unless --fresh.
    Demo(demo::Args),
    /// Full-size parity with PyTorch: writes ResNeXt-50 32x4d and seed-detector references with
    /// torch into target/parity and checks Burn's logits against them (max |diff| <= 1e-4).
    Parity(parity::Args),
    /// Runs the tiny detector on the wgpu backend (Mesa's software Vulkan on a CPU-only machine)
    /// and checks it against flex (max |diff| <= 1e-4).
    Backends(backends::Args),
    /// Summarise a data set folder: layout, counts per split and class, image sizes, skipped
    /// files; writes dataset_info.json.
    DataInfo(deepfake_cli::data_info::Args),
    /// Write synthetic proxy data in the 140k-faces layout.
    Synth(deepfake_cli::synth::Args),
    /// Evaluate the newest run (or --checkpoint) on its test split, or score a
    /// path,label,p_fake CSV (--scores): report.json, scores.csv, figures and index.html
    /// (`deepfake eval`).
    Eval(deepfake_cli::eval::Args),
    /// Benchmarks side by side with the Python peers: `bench model`, `bench train`, `bench predict`,
    /// `bench data`, `bench metrics`, `bench gpu`; `bench docs` writes docs/benchmarks.md.
    Bench(bench::Args),
    /// On synthetic data with confined fake traces (`synth --trace-region`), the mean Grad-CAM
    /// heatmap inside the trace patches vs outside, over a split's fakes.
    HeatmapCheck(heatmap_check::Args),
    /// Run an exported .onnx in ONNX Runtime (installed into target/venv on first use) and
    /// compare with Burn on random and real inputs (max |diff| <= 1e-4); times both.
    VerifyOnnx(verify_onnx::Args),
    /// Build the browser extension in plugin/: export the model into plugin/model/, install
    /// the npm dependencies and copy ONNX Runtime Web's WASM files; prints how to load it.
    Plugin(plugin::PluginArgs),
    /// Make `--features cuda` build offline: apt-installs Debian's LLVM 22 and lays it out
    /// where cubecl's LLVM bundler looks, so it skips its download.
    CudaToolchain(cuda_toolchain::Args),
    /// Save a random preset whose last layer is scaled so P(fake) follows the input (~0.1 to
    /// ~0.9 over graded images): the input-sensitive full-size model `verify-onnx` needs in CI.
    TestModel(test_model::Args),
    /// Test the extension's page in headless Chromium against the Rust predict output
    /// (|p_fake difference| <= 1e-3) and screenshot it (target/plugin-test/).
    PluginTest(plugin::PluginTestArgs),
    /// Fuzz every parser a user or a file can reach (installs nightly and cargo-fuzz when
    /// missing); records executions and findings per target in docs/reliability.md.
    Fuzz(fuzz::Args),
}

/// Runs this same command line again from the release build (`cargo run --release`), for
/// the commands whose numbers mean something only there; returns its exit status.
fn rerun_in_release() -> Result<std::process::ExitStatus> {
    let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .args(["run", "--quiet", "--release", "--package", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .current_dir(python::repo_root())
        .status()?;
    Ok(status)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // `cargo xtask` runs the dev build (shared with `cargo test`); timings need release.
    if cfg!(debug_assertions) && matches!(cli.command, Command::Bench(_)) {
        eprintln!("benchmarks time the release build: building and running it");
        let status = rerun_in_release()?;
        std::process::exit(status.code().unwrap_or(1));
    }
    match cli.command {
        Command::Demo(args) => demo::run(args),
        Command::Parity(args) => parity::run(args),
        Command::Backends(args) => backends::run(args),
        Command::DataInfo(args) => deepfake_cli::data_info::run(args),
        Command::Synth(args) => deepfake_cli::synth::run(args),
        Command::Eval(args) => eval::run(args),
        Command::Bench(args) => bench::run(args),
        Command::HeatmapCheck(args) => heatmap_check::run(args),
        Command::VerifyOnnx(args) => verify_onnx::run(args),
        Command::Plugin(args) => plugin::run_plugin(args),
        Command::PluginTest(args) => plugin::run_plugin_test(args),
        Command::CudaToolchain(args) => cuda_toolchain::run(args),
        Command::TestModel(args) => test_model::run(args),
        Command::Fuzz(args) => fuzz::run(args),
    }
}
