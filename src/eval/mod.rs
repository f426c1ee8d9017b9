//! Evaluation of a trained detector (or of any detector's scores) into a full report:
//! `report.json`, figures and `index.html`. Shared by `cargo xtask eval` and the `eval`
//! example.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake_data::synth::synthetic_config;
use deepfake_data::{Dataset, Sample, Skipped, Split};
use deepfake_formats::{MODEL_INFO_FILE, ModelInfo, RunDir, write_atomic, write_json};
use deepfake_metrics::{
    Calibration, Report, ReportOptions, Scored, apply_temperature, fit_temperature, p_fake,
    read_scores_csv, scores_csv,
};
use deepfake_report::{ReportFiles, ReportInputs, TemperatureSummary, read_history, write_report};

use crate::predict::{Detector, SavedModel, WeightsCheck};

mod checkpoint;
mod error;
mod inputs;
mod robustness;

pub use checkpoint::Checkpoint;
pub use error::{EvalError, Result};
pub use inputs::{evaluate_inputs, labelled_inputs};

/// The per-image scores `eval` writes beside its report (`path,label,p_fake`, the format
/// `--scores` reads).
pub const SCORES_FILE: &str = "scores.csv";

/// The files an evaluation could not score, with the reason (JSON list).
pub const SKIPPED_FILE: &str = "skipped.json";

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The model; `None` picks the newest run under `runs_dir`.
    pub checkpoint: Option<PathBuf>,
    /// Where runs are looked for.
    pub runs_dir: PathBuf,
    /// The data set; `None` uses the run's.
    pub data: Option<PathBuf>,
    /// The split to score.
    pub split: Split,
    /// Output folder; `None` is `<run or model>/eval-<split>`.
    pub out: Option<PathBuf>,
    /// Images per forward pass.
    pub batch_size: usize,
    /// Metric settings (threshold, bootstrap, ...).
    pub report: ReportOptions,
    /// Fit a temperature on the validation split, report ECE before and after, and save it
    /// in `model_info.json`.
    pub calibrate: bool,
    /// Check the weights against the SHA-256 recorded in `model_info.json`.
    pub weights: WeightsCheck,
    /// Also score the split under every perturbation of [`deepfake_data::STUDY`] (JPEG,
    /// blur, rescaling, noise, saturation, contrast) into `report.json`'s `robustness`
    /// table and the page's robustness figures; costs about one clean evaluation per level.
    pub robustness: bool,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self {
            checkpoint: None,
            runs_dir: PathBuf::from("runs"),
            data: None,
            split: Split::Test,
            out: None,
            batch_size: 32,
            report: ReportOptions::default(),
            calibrate: true,
            weights: WeightsCheck::Verify,
            robustness: false,
        }
    }
}

/// Progress of a long evaluation.
pub trait EvalProgress {
    /// Scoring of `split` starts; `total` images.
    fn start(&mut self, split: &str, total: usize);
    /// `done` more images scored.
    fn advance(&mut self, done: usize);
    /// The split is scored.
    fn finish(&mut self);
}

/// Progress that reports nothing.
pub struct Quiet;

impl EvalProgress for Quiet {
    fn start(&mut self, _: &str, _: usize) {}
    fn advance(&mut self, _: usize) {}
    fn finish(&mut self) {}
}

/// The outcome of an evaluation.
#[derive(Debug, Clone)]
pub struct EvalOutcome {
    /// The metrics.
    pub report: Report,
    /// The files written.
    pub files: ReportFiles,
    /// The model evaluated (absent for scores files).
    pub checkpoint: Option<Checkpoint>,
    /// The data set scored (absent for scores files).
    pub data: Option<PathBuf>,
    /// Images that could not be read, with the reason.
    pub skipped: Vec<Skipped>,
    /// Temperature scaling, when fitted.
    pub temperature: Option<TemperatureSummary>,
}

/// One split scored through the inference path `predict` uses ([`Detector::score_paths`]:
/// the same decoding, preprocessing, inference form and temperature), so the report measures
/// what users run.
#[derive(Debug, Clone, Default)]
struct SplitScores {
    /// Scored files, in sample order.
    paths: Vec<PathBuf>,
    /// True for Fake, per scored file.
    labels: Vec<bool>,
    /// Logits `[real, fake]` per scored file.
    logits: Vec<[f32; 2]>,
    /// P(Fake) per scored file at the model's temperature, as `predict` reports it.
    p_fake: Vec<f64>,
    /// Files that could not be scored.
    skipped: Vec<Skipped>,
}

fn score_split(
    detector: &Detector,
    samples: &[Sample],
    split: &str,
    progress: &mut dyn EvalProgress,
) -> SplitScores {
    progress.start(split, samples.len());
    let paths: Vec<&Path> = samples.iter().map(|s| s.path.as_path()).collect();
    let results = detector.score_paths(&paths, |n| progress.advance(n));
    progress.finish();
    let mut scores = SplitScores::default();
    for (sample, result) in samples.iter().zip(results) {
        match result {
            Ok(logits) => {
                scores.paths.push(sample.path.clone());
                scores.labels.push(sample.label.is_fake());
                scores.logits.push(logits);
                scores.p_fake.push(p_fake(logits, detector.temperature()));
            }
            Err(error) => scores.skipped.push(Skipped {
                path: sample.path.clone(),
                reason: error.to_string(),
            }),
        }
    }
    scores
}

/// Evaluates a checkpoint on a split of a data set and writes the report.
pub fn evaluate_checkpoint(
    options: &EvalOptions,
    device: &Device,
    progress: &mut dyn EvalProgress,
) -> Result<EvalOutcome> {
    let checkpoint = match &options.checkpoint {
        Some(path) => Checkpoint::resolve(path)?,
        None => Checkpoint::newest_run(&options.runs_dir)?,
    };
    let train_config = checkpoint.train_config();
    let data = options
        .data
        .clone()
        .or_else(|| train_config.as_ref().map(|c| c.data.clone()))
        .ok_or_else(|| EvalError::NoData(checkpoint.model_dir.clone()))?;
    let seed = train_config.as_ref().map_or(0, |c| c.seed);
    let dataset = Dataset::open(&data, seed)?;
    let samples = dataset.split(options.split);
    if samples.is_empty() {
        return Err(EvalError::EmptySplit {
            split: options.split.name(),
            data,
        });
    }
    let saved = SavedModel::open(&checkpoint.model_dir, device, options.weights)?;
    let detector = Detector::from_saved(saved, device).with_batch_size(options.batch_size);
    let evaluation = score_split(&detector, samples, options.split.name(), progress);
    if evaluation.labels.is_empty() {
        return Err(EvalError::EmptySplit {
            split: options.split.name(),
            data,
        });
    }
    let labels = evaluation.labels.clone();
    let scored = Scored::new(labels.clone(), evaluation.p_fake.clone())?;

    let mut temperature = None;
    if options.calibrate && !dataset.valid.is_empty() {
        let valid = if options.split == Split::Valid {
            evaluation.clone()
        } else {
            score_split(&detector, &dataset.valid, "valid", progress)
        };
        let fitted = fit_temperature(&valid.logits, &valid.labels)?;
        let calibrated = Scored::new(labels, apply_temperature(&evaluation.logits, fitted))?;
        let bins = options.report.calibration_bins;
        let summary = TemperatureSummary {
            temperature: fitted,
            ece_before: Calibration::compute(&scored, bins).ece,
            ece_after: Calibration::compute(&calibrated, bins).ece,
        };
        save_temperature(&checkpoint, fitted)?;
        temperature = Some(summary);
    }

    let names: Vec<String> = evaluation
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let mut report = Report::compute(&scored, Some(&names), &options.report)?;
    if options.robustness {
        report.robustness = Some(robustness::robustness_rows(
            &detector,
            &evaluation.paths,
            &evaluation.labels,
            &evaluation.p_fake,
            seed,
            &options.report,
            progress,
        )?);
    }
    let base = checkpoint.run_dir.as_ref().unwrap_or(&checkpoint.model_dir);
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| base.join(format!("eval-{}", options.split.name())));
    let mut inputs = ReportInputs::new(
        format!(
            "{} on {} ({} split, {} layout)",
            checkpoint.model_dir.display(),
            data.display(),
            options.split.name(),
            dataset.layout.describe()
        ),
        &report,
        &scored,
    );
    inputs.names = Some(&names);
    let heatmaps = |path: &Path, width: u32, height: u32| -> Option<Vec<f32>> {
        let image = detector.decode_file(path).ok()?;
        let prepared = detector.prepare_image(&image).ok()?;
        let explanation = detector
            .explain_prepared(&[prepared], deepfake_formats::Label::Fake)
            .pop()?;
        Some(explanation.heatmap(width, height))
    };
    inputs.heatmaps = Some(&heatmaps);
    inputs.temperature = temperature;
    inputs.history = checkpoint
        .run_dir
        .as_ref()
        .map(|run| RunDir::new(run).history())
        .filter(|path| path.is_file())
        .map(|path| read_history(&path))
        .transpose()?;
    if synthetic_config(&data).is_some() {
        inputs.notes.push(
            "These data are synthetic (generated by deepfake-data's synth module), not real \
             faces: the numbers show that the pipeline works, not how well the detector finds \
             real deepfakes."
                .into(),
        );
    }
    if !evaluation.skipped.is_empty() {
        inputs.notes.push(format!(
            "{} unreadable files were skipped (listed in skipped.json).",
            evaluation.skipped.len()
        ));
    }
    let files = write_report(&out, &inputs)?;
    write_scores(&out, &names, &scored, &evaluation.skipped)?;
    Ok(EvalOutcome {
        report,
        files,
        checkpoint: Some(checkpoint),
        data: Some(data),
        skipped: evaluation.skipped,
        temperature,
    })
}

/// Records the fitted temperature in `model_info.json` of the model folder and of its run.
fn save_temperature(checkpoint: &Checkpoint, temperature: f64) -> Result<()> {
    let dirs = std::iter::once(&checkpoint.model_dir).chain(checkpoint.run_dir.as_ref());
    for dir in dirs {
        let path = dir.join(MODEL_INFO_FILE);
        if let Ok(mut info) = ModelInfo::read(&path) {
            info.temperature = Some(temperature);
            info.write(&path)?;
        }
    }
    Ok(())
}

/// Writes `scores.csv` (`path,label,p_fake` per scored file: `names` with `scored`'s labels and
/// scores) and, when files were not scored, `skipped.json` into `out`.
fn write_scores(out: &Path, names: &[String], scored: &Scored, skipped: &[Skipped]) -> Result<()> {
    let rows = names
        .iter()
        .zip(scored.labels())
        .zip(scored.scores())
        .map(|((name, &fake), &p)| (name.as_str(), fake, p));
    write_atomic(&out.join(SCORES_FILE), scores_csv(rows).as_bytes())?;
    if !skipped.is_empty() {
        write_json(&out.join(SKIPPED_FILE), &skipped)?;
    }
    Ok(())
}

/// Writes the report for any detector's scores (`path,label,p_fake` CSV) into `out`.
pub fn evaluate_scores(
    scores_csv: &Path,
    out: &Path,
    options: &ReportOptions,
) -> Result<EvalOutcome> {
    let (scored, names) = read_scores_csv(scores_csv)?;
    let report = Report::compute(&scored, Some(&names), options)?;
    let mut inputs = ReportInputs::new(
        format!("scores from {}", scores_csv.display()),
        &report,
        &scored,
    );
    // Thumbnails only when the paths point at images on this machine.
    let readable = names.iter().take(4).all(|n| Path::new(n).is_file());
    if readable {
        inputs.names = Some(&names);
    }
    let files = write_report(out, &inputs)?;
    Ok(EvalOutcome {
        report,
        files,
        checkpoint: None,
        data: None,
        skipped: Vec::new(),
        temperature: None,
    })
}

/// The headline table printed at the end of an evaluation.
pub fn headline_table(report: &Report) -> String {
    let mut lines = vec![format!(
        "{:<18} {:>8}  {:>8}  status",
        "metric", "value", "target"
    )];
    for target in &deepfake_report::HEADLINE_TARGETS {
        let value = (target.value)(report);
        let status = target.status(report);
        lines.push(format!(
            "{:<18} {:>8}  {:>8}  {status}",
            target.name,
            value.map_or("n/a".into(), |v| format!("{v:.4}")),
            format!(">= {:.2}", target.at_least)
        ));
    }
    let extra = [
        ("average precision", report.average_precision),
        ("ECE", Some(report.ece)),
        ("Brier", Some(report.brier)),
        ("EER", report.eer),
        ("Youden threshold", report.youden_threshold),
    ];
    for (name, value) in extra {
        lines.push(format!(
            "{name:<18} {:>8}",
            value.map_or("n/a".into(), |v| format!("{v:.4}"))
        ));
    }
    lines.join("\n")
}
