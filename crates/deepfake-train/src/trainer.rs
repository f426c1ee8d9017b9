//! The training loop: epochs of train steps, validation, the LR schedule, checkpoints,
//! early stopping, NaN detection and resume.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use deepfake_data::{Dataset, EpochLoader, LoaderConfig, Sample, Skipped};
use deepfake_model::Detector;

use crate::checkpoint::{RunState, find_last, load_last, save_best, save_last};
use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::evaluate::evaluate;
use crate::plateau::ReduceLrOnPlateau;
use crate::step::{torch_adam, train_step};
use deepfake_formats::{EpochRecord, RunDir, StopReason, TrainingResults, read_json, write_json};

/// Hooks for progress display; every method has a do-nothing default.
pub trait TrainObserver {
    /// A training epoch starts with `batches` batches.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A training step finished: running mean loss and accuracy of the epoch so far.
    fn batch_done(&mut self, _images: usize, _loss: f64, _accuracy: f64) {}
    /// The epoch's throughput so far, after each step: images per second of the training steps
    /// alone, and what the loader could deliver (the GPU is starved when the second is lower).
    fn throughput(&mut self, _step_images_per_second: f64, _loader_images_per_second: f64) {}
    /// Validation starts over `images` images.
    fn validation_started(&mut self, _images: usize) {}
    /// Validation scored `images` more images.
    fn validation_progress(&mut self, _images: usize) {}
    /// An epoch ended (`improved`: new best validation accuracy, saved to `best/`).
    fn epoch_done(&mut self, _record: &EpochRecord, _improved: bool, _skipped: &[Skipped]) {}
    /// Something worth telling the user.
    fn message(&mut self, _text: &str) {}
}

/// An observer that shows nothing.
pub struct Silent;
impl TrainObserver for Silent {}

/// Trains per `config` into `run_dir` on `device` (a plain device; training runs on its
/// autodiff twin). With `resume`, continues from `run_dir/last` using the saved config.
pub fn train(
    config: &TrainConfig,
    run_dir: &Path,
    device: &Device,
    resume: bool,
    observer: &mut dyn TrainObserver,
) -> Result<TrainingResults> {
    let config = if resume {
        let saved: TrainConfig = read_json(&RunDir::new(run_dir).config())?;
        observer.message(&format!("resuming {}", run_dir.display()));
        saved
    } else {
        if find_last(run_dir).is_some() {
            return Err(TrainError::Config(format!(
                "{} already holds a run: pass --resume to continue it, or choose another --out",
                run_dir.display()
            )));
        }
        config.clone()
    };
    config.validate()?;
    let dataset = Dataset::open(&config.data, config.seed)?;
    observer.message(&format!(
        "{}: {} ({} train, {} valid, {} test)",
        config.data.display(),
        dataset.layout.describe(),
        dataset.train.len(),
        dataset.valid.len(),
        dataset.test.len()
    ));
    if dataset.train.is_empty() || dataset.valid.is_empty() {
        return Err(TrainError::Config(format!(
            "{} has no training or no validation images",
            config.data.display()
        )));
    }
    std::fs::create_dir_all(run_dir).map_err(|e| TrainError::File {
        action: "create",
        path: run_dir.to_path_buf(),
        reason: e.to_string(),
    })?;
    let run = RunDir::new(run_dir);
    write_json(&run.config(), &config)?;

    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let mut model = config.model.init(&train_device)?;
    if let Some(pretrained) = &config.pretrained {
        model = model.load_pretrained_backbone(pretrained, &config.model, &train_device)?;
        observer.message(&format!("backbone from {}", pretrained.display()));
    }
    write_json(&run.model_info(), &model.model_info(&config.model))?;
    let mut optimizer = torch_adam(config.weight_decay);
    let mut state = RunState {
        epochs_done: 0,
        scheduler: ReduceLrOnPlateau::new(
            config.lr,
            config.plateau_factor,
            config.plateau_patience,
        ),
        best_val_accuracy: f64::NEG_INFINITY,
        best_epoch: 0,
        epochs_without_improvement: 0,
        history: Vec::new(),
        skipped_files: 0,
    };
    if resume {
        match find_last(run_dir) {
            Some(last) => (model, optimizer, state) = load_last(&last, model, optimizer)?,
            // Killed before its first checkpoint: nothing to continue but the saved config,
            // and the fresh model above is the one that run started from (same seed).
            None => observer.message(&format!(
                "{} has no checkpoint yet (stopped during its first epoch): starting it over \
                 from its saved config",
                run_dir.display()
            )),
        }
    }

    let train_samples: Arc<Vec<Sample>> = Arc::new(dataset.train.clone());
    let mut stopped = StopReason::Completed;
    for epoch in state.epochs_done..config.epochs {
        let frozen = epoch < config.freeze_backbone_epochs;
        model.backbone = model.backbone.set_require_grad(!frozen);
        // Dropout draws from the device RNG: seed it per epoch so a resumed run repeats it.
        train_device.seed(config.seed.wrapping_add((epoch as u64 + 1) * 0x9E37_79B9));
        let loader_config = LoaderConfig {
            augment: config.augment.clone(),
            ..LoaderConfig::train(
                config.batch_size,
                config.model.image_size as u32,
                config.seed,
            )
        };
        let loader = EpochLoader::start(Arc::clone(&train_samples), loader_config, epoch as u64);
        let batches = config
            .max_batches_per_epoch
            .map_or(loader.len(), |m| m.min(loader.len()));
        observer.epoch_started(epoch + 1, config.epochs, batches);
        let lr = state.scheduler.lr;
        let started = Instant::now();
        let (mut loss_sum, mut correct, mut seen) = (0.0f64, 0usize, 0usize);
        let mut step_seconds = 0.0f64;
        let mut loader = loader;
        for step in 0..batches {
            let Some(batch) = loader.next() else { break };
            let step_started = Instant::now();
            let (images, labels) = batch.to_tensors(&train_device);
            let (next, out) = train_step(
                model,
                &mut optimizer,
                images,
                labels,
                lr,
                config.clip_grad_norm,
            );
            if !out.loss.is_finite() {
                return Err(TrainError::NonFiniteLoss {
                    epoch: epoch + 1,
                    step: step + 1,
                    loss: out.loss,
                });
            }
            model = next;
            // The loss was read back, so the device has finished the step.
            step_seconds += step_started.elapsed().as_secs_f64();
            loss_sum += f64::from(out.loss) * batch.len() as f64;
            correct += out.correct;
            seen += batch.len();
            observer.batch_done(
                batch.len(),
                loss_sum / seen as f64,
                correct as f64 / seen as f64,
            );
            observer.throughput(
                seen as f64 / step_seconds.max(1e-9),
                loader.stats().images_per_second(),
            );
        }
        let train_seconds = started.elapsed().as_secs_f64();
        let loader_images_per_second = loader.stats().images_per_second();
        let mut skipped = loader.skipped();
        // Dropping the loader closes its queue: a worker still preparing batches beyond the
        // cap stops at its next send instead of decoding the rest of the epoch.
        drop(loader);

        let valid = model.valid();
        observer.validation_started(dataset.valid.len());
        let evaluation = evaluate(
            &valid,
            &dataset.valid,
            config.model.image_size,
            config.batch_size,
            device,
            |n| observer.validation_progress(n),
        );
        if !evaluation.loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch: epoch + 1,
                step: 0,
                loss: evaluation.loss as f32,
            });
        }
        skipped.extend(evaluation.skipped.iter().cloned());
        state.skipped_files += skipped.len();
        state.scheduler.step(evaluation.loss);
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: correct as f64 / seen.max(1) as f64,
            val_loss: evaluation.loss,
            val_accuracy: evaluation.accuracy,
            lr,
            seconds: started.elapsed().as_secs_f64(),
            images_per_second: seen as f64 / train_seconds.max(1e-9),
            step_images_per_second: seen as f64 / step_seconds.max(1e-9),
            loader_images_per_second,
        };
        let improved = record.val_accuracy > state.best_val_accuracy;
        if improved {
            state.best_val_accuracy = record.val_accuracy;
            state.best_epoch = record.epoch;
            state.epochs_without_improvement = 0;
            save_best(&run.best(), &valid, &config.model)?;
        } else {
            state.epochs_without_improvement += 1;
        }
        state.history.push(record.clone());
        state.epochs_done = epoch + 1;
        save_last(&run.last(), &model, &optimizer, &state)?;
        write_json(&run.history(), &state.history)?;
        observer.epoch_done(&record, improved, &skipped);

        if config
            .target_accuracy
            .is_some_and(|target| record.val_accuracy >= target)
        {
            stopped = StopReason::TargetAccuracyReached;
            break;
        }
        if config
            .early_stopping_patience
            .is_some_and(|patience| state.epochs_without_improvement >= patience)
        {
            stopped = StopReason::NoImprovement;
            break;
        }
    }
    let best = state
        .history
        .iter()
        .find(|r| r.epoch == state.best_epoch)
        .cloned();
    let results = TrainingResults {
        best_epoch: state.best_epoch,
        best_val_accuracy: best.as_ref().map_or(0.0, |r| r.val_accuracy),
        best_val_loss: best.as_ref().map_or(0.0, |r| r.val_loss),
        epochs_run: state.epochs_done,
        stopped,
        skipped_files: state.skipped_files,
    };
    write_json(&run.results(), &results)?;
    Ok(results)
}

/// Loads the best model of a finished (or running) run directory.
pub fn load_best(
    run_dir: &Path,
    device: &Device,
) -> Result<(Detector, deepfake_model::DetectorConfig)> {
    Ok(Detector::load_dir(RunDir::new(run_dir).best(), device)?)
}
