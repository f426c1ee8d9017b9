//! `deepfake eval`: evaluate a trained detector on a split, or score any detector's
//! `path,label,p_fake` CSV, and write `report.json`, `scores.csv`, figures (PNG + SVG) and a
//! self-contained `index.html`. Without options it evaluates the newest run in `runs/` on its
//! test split.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use clap::Parser;
use deepfake::data::Split;
use deepfake::eval::{
    Checkpoint, EvalOptions, EvalOutcome, EvalProgress, SCORES_FILE, evaluate_checkpoint,
    evaluate_inputs, evaluate_scores, headline_table,
};
use deepfake::metrics::{ReportOptions, RobustnessRow, weakest};
use deepfake::predict::{Detector, FileOptions, SavedModel};
use indicatif::ProgressBar;

use crate::faces_flag::FacesFlag;
use crate::{DeviceFlag, VerifyFlag, progress};

/// Evaluate a deepfake detector and write the report (report.json, figures/, index.html).
#[derive(Parser)]
#[command(name = "eval")]
pub struct Args {
    /// Training run (uses its best/ checkpoint) or saved model folder [default: newest run in --runs].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Where to look for the newest run.
    #[arg(long, default_value = "runs")]
    runs: PathBuf,
    /// Data set folder [default: the run's training data].
    #[arg(long)]
    data: Option<PathBuf>,
    /// Split to evaluate: train, valid or test.
    #[arg(long, default_value = "test")]
    split: String,
    /// Output folder [default: <run>/eval-<split>, <run>/eval-inputs for --inputs, or
    /// eval-scores for --scores].
    #[arg(long)]
    out: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Images per forward pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Decision threshold on P(fake).
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Bootstrap resamples for the 95% intervals (0 to skip).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Do not fit a temperature on the validation split.
    #[arg(long)]
    no_calibrate: bool,
    #[command(flatten)]
    verify: VerifyFlag,
    /// Also measure robustness: score the split again under JPEG (quality 95..30), blur
    /// (sigma 0.5..3), down-then-up rescaling (x2..x4), Gaussian noise and colour saturation /
    /// contrast changes; adds a robustness table and figures to the report (about one clean
    /// evaluation of time per level, 26 levels).
    #[arg(long)]
    robustness: bool,
    /// Score any detector: a CSV with header path,label,p_fake (label real/fake or 0/1).
    #[arg(long, conflicts_with_all = ["checkpoint", "data", "device", "robustness"])]
    scores: Option<PathBuf>,
    /// Evaluate on labelled photos and videos instead of a data set split: DIR/real/ and
    /// DIR/fake/ hold any images and videos, each scored exactly as `predict` scores it
    /// (faces found and aligned per --faces, videos as --frames-frame sequences). Files that
    /// fail, and photos without a face, are listed in skipped.json.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["data", "scores", "robustness"])]
    inputs: Option<PathBuf>,
    /// Faces, with --inputs (as in predict).
    #[arg(
        long,
        value_enum,
        default_value = "auto",
        value_name = "MODE",
        requires = "inputs"
    )]
    faces: FacesFlag,
    /// Frames sampled per video, with --inputs.
    #[arg(long, default_value_t = 16, value_name = "T", requires = "inputs")]
    frames: usize,
}

struct Bar(Option<ProgressBar>);

impl EvalProgress for Bar {
    fn start(&mut self, split: &str, total: usize) {
        self.0 = progress::bar(total, format!("scoring {split}"));
        if self.0.is_none() {
            eprintln!("scoring the {split} split: {total} images");
        }
    }
    fn advance(&mut self, done: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(done as u64);
        }
    }
    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

fn print_outcome(outcome: &EvalOutcome) {
    let r = &outcome.report;
    if let Some(checkpoint) = &outcome.checkpoint {
        println!("model: {}", checkpoint.model_dir.display());
    }
    if let Some(data) = &outcome.data {
        println!("data:  {}", data.display());
    }
    println!("n = {} images, threshold {}\n", r.n, r.threshold);
    println!("{}", headline_table(r));
    if let Some(t) = outcome.temperature {
        println!(
            "\ntemperature {:.4} (fitted on valid): ECE {:.4} -> {:.4}; saved in model_info.json",
            t.temperature, t.ece_before, t.ece_after
        );
    }
    if let Some(rows) = &r.robustness {
        print_robustness(rows);
    }
    if !outcome.skipped.is_empty() {
        println!("\n{} files not scored:", outcome.skipped.len());
        for s in outcome.skipped.iter().take(10) {
            println!("  {}: {}", s.path.display(), s.reason);
        }
    }
    println!("\nreport: {}", outcome.files.index_html.display());
    println!("json:   {}", outcome.files.report_json.display());
    let scores = outcome.files.report_json.with_file_name(SCORES_FILE);
    if scores.is_file() {
        println!("scores: {}", scores.display());
    }
}

fn print_robustness(rows: &[RobustnessRow]) {
    println!(
        "\n{:<22} {:>8} {:>9} {:>8}",
        "robustness", "ROC AUC", "accuracy", "flipped"
    );
    for row in rows {
        let auc = row.roc_auc.map_or("n/a".into(), |v| format!("{v:.4}"));
        println!(
            "{:<22} {auc:>8} {:>9.4} {:>7.1}%",
            row.label,
            row.accuracy,
            100.0 * row.flipped
        );
    }
    if let Some(worst) = weakest(rows) {
        println!("weakest: {}", worst.label);
    }
}

/// `eval --inputs DIR`: the model (as predict loads it) on DIR/real/ and DIR/fake/.
fn evaluate_labelled(args: &Args, dir: &Path, report: &ReportOptions) -> Result<EvalOutcome> {
    if args.frames == 0 {
        anyhow::bail!("--frames must be at least 1");
    }
    let device = args.device.device();
    let checkpoint = match &args.checkpoint {
        Some(path) => Checkpoint::resolve(path)?,
        None => Checkpoint::newest_run(&args.runs)?,
    };
    let saved = SavedModel::open(&checkpoint.model_dir, &device, args.verify.check())
        .with_context(|| format!("loading the model from {}", checkpoint.model_dir.display()))?;
    let detector = Detector::from_saved(saved, &device).with_batch_size(args.batch_size);
    let out = args.out.clone().unwrap_or_else(|| {
        let home = checkpoint.run_dir.as_ref().unwrap_or(&checkpoint.model_dir);
        home.join("eval-inputs")
    });
    let options = FileOptions {
        faces: args.faces.into(),
        frames: args.frames,
        ..FileOptions::default()
    };
    let outcome = evaluate_inputs(&detector, dir, &options, &out, report, &mut Bar(None))
        .context("evaluation failed")?;
    println!("model: {}", checkpoint.model_dir.display());
    Ok(outcome)
}

/// Evaluates and prints the headline metrics and where the report is.
pub fn run(args: Args) -> Result<()> {
    let split = Split::from_name(&args.split)
        .ok_or_else(|| anyhow!("unknown split `{}`: use train, valid or test", args.split))?;
    let report = ReportOptions {
        threshold: args.threshold,
        bootstrap_resamples: args.bootstrap,
        ..ReportOptions::default()
    };
    let outcome = if let Some(scores) = &args.scores {
        let out = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("eval-scores"));
        evaluate_scores(scores, &out, &report)?
    } else if let Some(dir) = &args.inputs {
        evaluate_labelled(&args, dir, &report)?
    } else {
        let device = args.device.device();
        let options = EvalOptions {
            checkpoint: args.checkpoint.clone(),
            runs_dir: args.runs.clone(),
            data: args.data.clone(),
            split,
            out: args.out.clone(),
            batch_size: args.batch_size.max(1),
            report,
            calibrate: !args.no_calibrate,
            weights: args.verify.check(),
            robustness: args.robustness,
        };
        evaluate_checkpoint(&options, &device, &mut Bar(None)).context("evaluation failed")?
    };
    print_outcome(&outcome);
    Ok(())
}
