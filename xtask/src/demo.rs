//! `cargo xtask demo`: the whole product on an embedded default, on CPU, in a few minutes:
//! synthetic data -> train the tiny preset -> evaluate with the HTML report -> export ONNX ->
//! score a few images with `predict` -> a summary of where everything is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use deepfake_data::synth::{SynthConfig, write_dataset};

use crate::cli::run_command;
use crate::python::repo_root;

/// Options of `cargo xtask demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for everything the demo writes.
    #[arg(long, default_value = "demo")]
    out: PathBuf,
    /// Start over: delete the folder first instead of reusing what exists.
    #[arg(long)]
    fresh: bool,
    /// Training epochs.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Synthetic training images per class (valid and test get a fifth each).
    #[arg(long, default_value_t = 400)]
    per_class: usize,
}

fn os(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn with_path(mut args: Vec<OsString>, flag: &str, path: &Path) -> Vec<OsString> {
    args.push(flag.into());
    args.push(path.as_os_str().to_owned());
    args
}

fn step(number: usize, title: &str) {
    eprintln!("\n== {number}/5 {title}");
}

pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let out = if args.out.is_absolute() {
        args.out.clone()
    } else {
        repo_root().join(&args.out)
    };
    if args.fresh && out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    let data = out.join("data");
    let run = out.join("runs/tiny");
    let model = out.join("models/deepfake_detector.onnx");
    let report = run.join("eval-test/index.html");

    step(
        1,
        "synthetic data (a proxy of the 140k faces layout; no download)",
    );
    if data.join("test.csv").is_file() {
        eprintln!("reusing {}", data.display());
    } else {
        let config = SynthConfig {
            per_class: args.per_class,
            size: 64,
            ..SynthConfig::default()
        };
        let written = write_dataset(&data, &config)
            .with_context(|| format!("writing synthetic data to {}", data.display()))?;
        eprintln!("wrote {written} images to {}", data.display());
    }

    step(2, "train the tiny preset on CPU");
    if run.join("best/model.bpk").is_file() {
        eprintln!("reusing {} (pass --fresh to train again)", run.display());
    } else {
        let mut train = with_path(os(&["--preset", "tiny"]), "--data", &data);
        train = with_path(train, "--out", &run);
        train.extend(os(&[
            "--epochs",
            &args.epochs.to_string(),
            "--batch-size",
            "32",
        ]));
        run_command("train", &train)?;
    }

    step(
        3,
        "evaluate on the test split: metrics, calibration, HTML report",
    );
    if report.is_file() {
        eprintln!("reusing {}", report.display());
    } else {
        run_command("eval", &with_path(Vec::new(), "--checkpoint", &run))?;
    }

    step(4, "export to ONNX (opset 18) with model_info.json");
    if model.is_file() {
        eprintln!("reusing {}", model.display());
    } else {
        let export = with_path(Vec::new(), "--checkpoint", &run);
        run_command("export", &with_path(export, "--out", &model))?;
    }

    step(5, "score a few test images with predict");
    let test = data.join("real_vs_fake/real-vs-fake/test");
    // Whole images: the synthetic faces are procedural, not faces a face detector finds.
    let mut predict = with_path(vec!["--faces".into(), "off".into()], "--checkpoint", &run);
    for class in ["real", "fake"] {
        predict.extend(
            first_images(&test.join(class), 3)?
                .into_iter()
                .map(Into::into),
        );
    }
    run_command("predict", &predict)?;

    println!(
        "\nDone in {:.0} s. Everything is under {}:\n\
         \x20 data     {}  (SYNTHETIC: procedural face-like images with planted 'fake' traces,\n\
         \x20          not faces: the numbers above show the pipeline works, not how well it\n\
         \x20          detects deepfakes)\n\
         \x20 model    {}/best  (tiny preset: small ResNeXt + BiLSTM, 64x64 input)\n\
         \x20 report   {}  (open in a browser: accuracy, ROC/PR AUC, calibration, errors)\n\
         \x20 onnx     {}  (+ model_info.json; check it with: cargo xtask verify-onnx {})\n\
         Reading the report: accuracy and ROC AUC near 1 mean the model separates the two\n\
         synthetic classes; ECE near 0 means its probabilities can be taken at face value after\n\
         the temperature fitted on the validation split. For real use, train the seed preset on\n\
         the 140k faces (README, \"Train on the real data\").",
        started.elapsed().as_secs_f64(),
        out.display(),
        data.display(),
        run.display(),
        report.display(),
        model.display(),
        model.display()
    );
    Ok(())
}

/// The first `n` files of `dir` by name.
fn first_images(dir: &Path, n: usize) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.truncate(n);
    Ok(files)
}
