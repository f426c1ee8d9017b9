//! The deepfake detector's command-line tools as a library: each module is one command (its
//! `Args` and its `run`), shared by the `deepfake` binary (`deepfake train ...`), the thin
//! `examples/*.rs` entry points (`cargo run --example train ...`) and `cargo xtask`.
//!
//! Every command takes its options as a clap `Args` struct and returns `anyhow::Result`; a
//! `--device` goes through [`DeviceFlag`], a model size through [`Preset`], a long job's
//! progress through [`progress`].

mod allocator;
pub mod bench_model;
pub mod data_info;
mod device_flag;
pub mod eval;
pub mod export;
mod faces_flag;
pub mod model_info;
pub mod predict;
mod predict_output;
mod preset;
pub mod profile_forward;
pub mod progress;
pub mod serve;
pub mod synth;
pub mod train;
mod verify_flag;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use allocator::keep_freed_memory;
pub use device_flag::DeviceFlag;
pub use preset::Preset;
pub use verify_flag::VerifyFlag;

/// `deepfake`: train, evaluate, run and export the ResNeXt + BiLSTM deepfake detector.
#[derive(Parser)]
#[command(name = "deepfake", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of the `deepfake` binary.
#[derive(Subcommand)]
pub enum Command {
    /// Train the detector with the seed's recipe; writes a run folder with best/ and last/
    /// checkpoints (resumable with --resume).
    Train(train::Args),
    /// Evaluate a trained detector on a split (or score a path,label,p_fake CSV): report.json,
    /// scores.csv, figures and index.html.
    Eval(eval::Args),
    /// Score images, folders or frame sequences: Real or Fake, P(fake), confidence.
    Predict(predict::Args),
    /// Export a trained detector to ONNX (with model_info.json) or a PyTorch state dict.
    Export(export::Args),
    /// Summarise a data set folder: layout, counts per split and class, image sizes, skipped
    /// files; writes dataset_info.json.
    DataInfo(data_info::Args),
    /// Write synthetic proxy data in the 140k-faces layout.
    Synth(synth::Args),
    /// Serve the detector over HTTP: POST /v1/predict, /healthz, /readyz, /metrics, an upload
    /// page; dynamic batching, graceful shutdown on Ctrl-C or SIGTERM.
    Serve(serve::Args),
    /// Show a preset's architecture and parameter count and time one forward pass.
    ModelInfo(model_info::Args),
}

impl Command {
    /// Runs the command; its exit status (0 success, 1 failure, 2 usage or set-up error).
    pub fn run(self) -> ExitCode {
        match self {
            Self::Train(args) => exit_status(train::run(args)),
            Self::Eval(args) => exit_status(eval::run(args)),
            Self::Predict(args) => predict::run(args),
            Self::Export(args) => exit_status(export::run(args)),
            Self::DataInfo(args) => exit_status(data_info::run(args)),
            Self::Synth(args) => exit_status(synth::run(args)),
            Self::ModelInfo(args) => exit_status(model_info::run(args)),
            Self::Serve(args) => exit_status(serve::run(args)),
        }
    }
}

/// Exit status 0 for `Ok`; for an error, prints it with its causes (`error: ...: ...`) and
/// returns 1.
pub fn exit_status(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
