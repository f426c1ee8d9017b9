//! `deepfake train`: train the detector with the seed's recipe.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use deepfake::data::degrade::{BlurAugment, Degradations, JpegAugment, RescaleAugment};
use deepfake::data::{AugmentConfig, Skipped};
use deepfake::model::{GroupedConvMeasurement, GroupedConvMethod, grouped_conv_measurements};
use deepfake::train::{EpochRecord, TrainConfig, TrainObserver, train};
use indicatif::ProgressBar;

use crate::{DeviceFlag, Preset, progress};

/// Train the ResNeXt + BiLSTM deepfake detector with the seed's recipe (Adam lr 1e-3, weight
/// decay 1e-4, ReduceLROnPlateau patience 3 factor 0.5, cross-entropy, 12 epochs, batch 64).
/// Writes config.json, history.json, training_results.json and best/ and last/ checkpoints.
#[derive(Parser)]
#[command(name = "train")]
pub struct Args {
    /// Data set folder: the Kaggle 140k root, its real-vs-fake folder, or real/ + fake/ folders.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Run directory to create (or, with --resume, to continue).
    #[arg(long, default_value = "runs/detector")]
    out: PathBuf,
    /// Continue the run in this directory from its last/ checkpoint (uses its saved config).
    #[arg(long)]
    resume: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Model size.
    #[arg(long, value_enum, default_value = "seed")]
    preset: Preset,
    /// torchvision ImageNet weights for the backbone (resnext50_32x4d-7cdf4587.pth).
    #[arg(long)]
    pretrained: Option<PathBuf>,
    /// Epochs.
    #[arg(long, default_value_t = 12)]
    epochs: usize,
    /// Images per batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Initial learning rate.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// L2 weight decay (torch Adam semantics).
    #[arg(long, default_value_t = 1e-4)]
    weight_decay: f64,
    /// Input size in pixels [default: 224 for seed, 64 for tiny].
    #[arg(long)]
    image_size: Option<usize>,
    /// Seed of initialisation, shuffling, augmentation and dropout.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train without augmentation.
    #[arg(long, conflicts_with_all = ["augment_jpeg", "augment_blur", "augment_rescale"])]
    no_augment: bool,
    /// Also re-encode training images as JPEG: probability, lowest and highest quality
    /// (CNNDetection: 0.5,30,100). Off by default.
    #[arg(long, value_name = "P,QMIN,QMAX")]
    augment_jpeg: Option<JpegAugment>,
    /// Also blur training images: probability and largest sigma in pixels, drawn uniformly
    /// from [0, SIGMA_MAX] (CNNDetection: 0.5,3). Off by default.
    #[arg(long, value_name = "P,SIGMA_MAX")]
    augment_blur: Option<BlurAugment>,
    /// Also shrink training images by a factor drawn from [1, MAX] and enlarge them back:
    /// probability and MAX (e.g. 0.5,4). Off by default.
    #[arg(long, value_name = "P,MAX")]
    augment_rescale: Option<RescaleAugment>,
    /// Epochs with the backbone frozen before training all layers.
    #[arg(long, default_value_t = 0)]
    freeze_backbone_epochs: usize,
    /// Stop once validation accuracy reaches this (the seed used 0.93).
    #[arg(long)]
    target_accuracy: Option<f64>,
    /// Stop after this many epochs without a better validation accuracy.
    #[arg(long)]
    early_stopping_patience: Option<usize>,
    /// Clip the global gradient norm to this (torch clip_grad_norm_).
    #[arg(long)]
    clip_grad_norm: Option<f64>,
    /// At most this many training batches per epoch (quick trials).
    #[arg(long)]
    max_batches: Option<usize>,
    /// No progress bars, one line per epoch.
    #[arg(long)]
    quiet: bool,
}

struct Progress {
    bar: Option<ProgressBar>,
    quiet: bool,
    /// The epoch's running loss and accuracy, then step and loader images/s.
    stats: (f64, f64, f64, f64),
    /// Grouped-convolution measurements already reported.
    measurements_reported: usize,
}

/// One line on the grouped-convolution formulations a GPU device measured and chose per layer
/// shape (`None` when nothing new was measured: CPU devices, or a pinned method).
fn grouped_conv_line(new: &[GroupedConvMeasurement]) -> Option<String> {
    if new.is_empty() {
        return None;
    }
    let chosen: Vec<String> = GroupedConvMethod::ALL
        .iter()
        .map(|&method| (method, new.iter().filter(|m| m.chosen() == method).count()))
        .filter(|(_, count)| *count > 0)
        .map(|(method, count)| format!("{} for {count}", method.name()))
        .collect();
    Some(format!(
        "  grouped 3x3 convolutions, measured on the device per layer shape: {} of {} \
         (DEEPFAKE_GROUPED_CONV=direct|im2col|shifted pins one)",
        chosen.join(", "),
        new.len()
    ))
}

/// An epoch's summary line: losses, accuracies, learning rate, throughput (overall, of the
/// steps and of the loader, images/s) and time; `* best` when the checkpoint improved.
fn epoch_line(r: &EpochRecord, improved: bool) -> String {
    format!(
        "epoch {:>3}  train loss {:.4} acc {:.4}  val loss {:.4} acc {:.4}  lr {:.2e}  {} img/s (steps {}, loader {})  {:.0} s{}",
        r.epoch,
        r.train_loss,
        r.train_accuracy,
        r.val_loss,
        r.val_accuracy,
        r.lr,
        progress::rate(r.images_per_second),
        progress::rate(r.step_images_per_second),
        progress::rate(r.loader_images_per_second),
        r.seconds,
        if improved { "  * best" } else { "" }
    )
}

/// What to do when the loader decoded more slowly than the steps consumed (by more than
/// 10%): the GPU (or CPU) waited for images.
fn loader_hint(r: &EpochRecord) -> Option<String> {
    (r.loader_images_per_second < 0.9 * r.step_images_per_second).then(|| {
        format!(
            "  the loader is the bottleneck ({:.0} < {:.0} img/s): give it more cores \
             (RAYON_NUM_THREADS) or pre-resize the images",
            r.loader_images_per_second, r.step_images_per_second
        )
    })
}

/// The epoch's skipped files, the first 10 by name and then how many more.
fn skipped_lines(skipped: &[Skipped]) -> Vec<String> {
    let mut lines: Vec<String> = skipped
        .iter()
        .take(10)
        .map(|s| format!("  skipped {}: {}", s.path.display(), s.reason))
        .collect();
    if skipped.len() > 10 {
        lines.push(format!(
            "  ... and {} more skipped files",
            skipped.len() - 10
        ));
    }
    lines
}

impl Progress {
    fn bar(&mut self, len: usize, prefix: String) {
        if !self.quiet {
            self.bar = progress::bar(len, prefix);
        }
    }
}

impl TrainObserver for Progress {
    fn epoch_started(&mut self, epoch: usize, epochs: usize, batches: usize) {
        self.bar(batches, format!("epoch {epoch}/{epochs} train"));
    }
    fn batch_done(&mut self, _images: usize, loss: f64, accuracy: f64) {
        self.stats.0 = loss;
        self.stats.1 = accuracy;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }
    fn throughput(&mut self, step: f64, loader: f64) {
        self.stats.2 = step;
        self.stats.3 = loader;
        let (loss, accuracy, step, loader) = self.stats;
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "loss {loss:.4} acc {accuracy:.3} | steps {} img/s, loader {} img/s",
                progress::rate(step),
                progress::rate(loader)
            ));
        }
    }
    fn validation_started(&mut self, images: usize) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        self.bar(images, "  validating".into());
    }
    fn validation_progress(&mut self, images: usize) {
        if let Some(bar) = &self.bar {
            bar.inc(images as u64);
        }
    }
    fn epoch_done(&mut self, r: &EpochRecord, improved: bool, skipped: &[Skipped]) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        eprintln!("{}", epoch_line(r, improved));
        let measured = grouped_conv_measurements();
        if let Some(line) =
            grouped_conv_line(&measured[self.measurements_reported.min(measured.len())..])
        {
            eprintln!("{line}");
        }
        self.measurements_reported = measured.len();
        if let Some(hint) = loader_hint(r) {
            eprintln!("{hint}");
        }
        for line in skipped_lines(skipped) {
            eprintln!("{line}");
        }
    }
    fn message(&mut self, text: &str) {
        eprintln!("{text}");
    }
}

/// Trains (or, with `--resume`, continues) a run; prints one line per epoch and the best
/// checkpoint's place at the end.
pub fn run(args: Args) -> Result<()> {
    let device = args.device.device();
    let (run_dir, resume) = match &args.resume {
        Some(dir) => (dir.clone(), true),
        None => (args.out.clone(), false),
    };
    let model = args.preset.config();
    let model = match args.image_size {
        Some(size) => model.with_image_size(size),
        None => model,
    };
    let data = match (&args.data, resume) {
        (Some(data), _) => data.clone(),
        (None, true) => PathBuf::new(),
        (None, false) => anyhow::bail!(
            "--data is required: a data set folder (try `cargo xtask synth --out data/synth` for synthetic data)"
        ),
    };
    let mut config = TrainConfig::seed_recipe(model, data);
    config.epochs = args.epochs;
    config.batch_size = args.batch_size;
    config.lr = args.lr;
    config.weight_decay = args.weight_decay;
    config.seed = args.seed;
    config.augment = (!args.no_augment).then(|| AugmentConfig {
        degrade: Degradations {
            rescale: args.augment_rescale,
            blur: args.augment_blur,
            jpeg: args.augment_jpeg,
        },
        ..AugmentConfig::default()
    });
    config.freeze_backbone_epochs = args.freeze_backbone_epochs;
    config.pretrained = args.pretrained.clone();
    config.target_accuracy = args.target_accuracy;
    config.early_stopping_patience = args.early_stopping_patience;
    config.clip_grad_norm = args.clip_grad_norm;
    config.max_batches_per_epoch = args.max_batches;
    let mut progress = Progress {
        bar: None,
        quiet: args.quiet,
        stats: (0.0, 0.0, 0.0, 0.0),
        measurements_reported: 0,
    };
    let results = train(&config, &run_dir, &device, resume, &mut progress)
        .with_context(|| format!("training into {}", run_dir.display()))?;
    eprintln!(
        "done ({}): best validation accuracy {:.4} at epoch {}; model in {}",
        results.stopped,
        results.best_val_accuracy,
        results.best_epoch,
        run_dir.join("best").display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A measurement whose fastest formulation is `fastest` (one second against two).
    fn measured(fastest: GroupedConvMethod) -> GroupedConvMeasurement {
        GroupedConvMeasurement {
            device: "Cube(Cuda(0))".into(),
            training: true,
            batch: 64,
            shape: "batch 64: 128x56x56 -> 128x56x56, 3x3, 32 groups, stride 1x1".into(),
            seconds: GroupedConvMethod::ALL.map(|m| if m == fastest { 1.0 } else { 2.0 }),
        }
    }

    #[test]
    fn grouped_conv_line_counts_the_chosen_formulations() {
        assert_eq!(grouped_conv_line(&[]), None);
        let line = grouped_conv_line(&[
            measured(GroupedConvMethod::Im2col),
            measured(GroupedConvMethod::Direct),
            measured(GroupedConvMethod::Im2col),
        ])
        .unwrap();
        assert!(
            line.contains("per layer shape: direct for 1, im2col for 2 of 3 "),
            "{line}"
        );
    }

    /// An epoch at `step` and `loader` images/s.
    fn epoch(step: f64, loader: f64) -> EpochRecord {
        EpochRecord {
            epoch: 3,
            train_loss: 0.5,
            train_accuracy: 0.75,
            val_loss: 0.625,
            val_accuracy: 0.8125,
            lr: 0.00025,
            seconds: 61.4,
            images_per_second: 42.54,
            step_images_per_second: step,
            loader_images_per_second: loader,
        }
    }

    #[test]
    fn epoch_line_gives_every_figure_and_marks_the_best() {
        assert_eq!(
            epoch_line(&epoch(50.0, 1714.4), true),
            "epoch   3  train loss 0.5000 acc 0.7500  val loss 0.6250 acc 0.8125  lr 2.50e-4  \
             42.5 img/s (steps 50.0, loader 1714)  61 s  * best"
        );
        assert!(epoch_line(&epoch(50.0, 60.0), false).ends_with("  61 s"));
    }

    #[test]
    fn the_loader_is_named_when_it_is_over_10_percent_slower_than_the_steps() {
        let hint = loader_hint(&epoch(100.0, 89.0)).expect("a hint");
        assert!(hint.contains("(89 < 100 img/s)"), "{hint}");
        assert_eq!(loader_hint(&epoch(100.0, 90.0)), None);
        assert_eq!(loader_hint(&epoch(100.0, 250.0)), None);
    }

    #[test]
    fn skipped_files_are_listed_up_to_10_then_counted() {
        let skipped = |n: usize| -> Vec<Skipped> {
            (0..n)
                .map(|i| Skipped {
                    path: format!("data/{i}.jpg").into(),
                    reason: "truncated".into(),
                })
                .collect()
        };
        assert_eq!(skipped_lines(&[]), Vec::<String>::new());
        let ten = skipped_lines(&skipped(10));
        assert_eq!(ten.len(), 10);
        assert_eq!(ten[9], "  skipped data/9.jpg: truncated");
        let twelve = skipped_lines(&skipped(12));
        assert_eq!(twelve.len(), 11);
        assert_eq!(twelve[10], "  ... and 2 more skipped files");
    }
}
