//! The training loop: epochs of train steps, validation, the LR schedule, checkpoints,
//! early stopping, NaN detection and resume.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::tensor::Device;
use deepfake_data::{Dataset, EpochLoader, LoaderConfig, Sample, Skipped};
use deepfake_model::Detector;

use crate::checkpoint::{RunState, find_last, load_last, save_best, save_last};
use crate::config::TrainConfig;
use crate::error::{Result, TrainError};
use crate::evaluate::evaluate;
use crate::plateau::ReduceLrOnPlateau;
use crate::step::{QueuedStep, torch_adam, train_step};
use deepfake_formats::{EpochRecord, RunDir, StopReason, TrainingResults, read_json, write_json};

/// Hooks for progress display; every method has a do-nothing default.
pub trait TrainObserver {
    /// A training epoch starts with `batches` batches.
    fn epoch_started(&mut self, _epoch: usize, _epochs: usize, _batches: usize) {}
    /// A training step of `images` images finished (told when it is read back from the device,
    /// while the next step runs): running mean loss and accuracy of the epoch so far.
    fn batch_done(&mut self, _images: usize, _loss: f64, _accuracy: f64) {}
    /// The epoch's throughput so far, after each step: images per second of the training steps
    /// alone (the host's time on them, outside its waits for the loader), and what the loader
    /// could deliver (the GPU is starved when the second is lower).
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
    let (mut run, mut model) = Run::set_up(config, run_dir, device, resume, observer)?;
    let mut stopped = StopReason::Completed;
    for epoch in run.state.epochs_done..run.config.epochs {
        let trained;
        (model, trained) = run.train_epoch(model, epoch, observer)?;
        let record = run.validate_and_checkpoint(&model, epoch, trained, observer)?;
        if let Some(reason) = run.stop_reason(&record) {
            stopped = reason;
            break;
        }
    }
    run.finish(stopped)
}

/// A run in progress: its settings, data, optimizer and state (the model moves through the
/// training steps, so the loop holds it).
struct Run {
    config: TrainConfig,
    dir: RunDir,
    /// The plain device (validation runs there).
    device: Device,
    /// Its autodiff twin (training runs there).
    train_device: Device,
    dataset: Dataset,
    train_samples: Arc<Vec<Sample>>,
    optimizer: ModuleOptimizer,
    state: RunState,
}

/// A training step queued on the device and not yet read back.
struct InFlight {
    /// Step within the epoch (0-based).
    step: usize,
    /// Images in its batch.
    images: usize,
    queued: QueuedStep,
}

/// The running sums of an epoch's training steps, as they are read back, and its clock.
struct StepTotals {
    loss_sum: f64,
    correct: usize,
    seen: usize,
    /// When the epoch's first batch was asked for.
    started: Instant,
    /// Seconds spent waiting for the loader's batches.
    waiting_seconds: f64,
}

impl StepTotals {
    /// Empty sums; the epoch's clock starts now.
    fn new() -> Self {
        Self {
            loss_sum: 0.0,
            correct: 0,
            seen: 0,
            started: Instant::now(),
            waiting_seconds: 0.0,
        }
    }

    /// Reads `step` back from the device (epoch `epoch`, 0-based), adds it to the sums and
    /// tells `observer`. A NaN or infinite loss is an error naming the step.
    fn record(
        &mut self,
        step: InFlight,
        epoch: usize,
        observer: &mut dyn TrainObserver,
        loader: &EpochLoader,
    ) -> Result<()> {
        let out = step.queued.read()?;
        if !out.loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch: epoch + 1,
                step: step.step + 1,
                loss: out.loss,
            });
        }
        self.add(out.loss, out.correct, step.images);
        observer.batch_done(step.images, self.mean_loss(), self.accuracy());
        observer.throughput(
            self.step_images_per_second(self.started.elapsed().as_secs_f64()),
            loader.stats().images_per_second(),
        );
        Ok(())
    }

    /// Adds a step of `images` images, its mean `loss` and its `correct` predictions.
    fn add(&mut self, loss: f32, correct: usize, images: usize) {
        self.loss_sum += f64::from(loss) * images as f64;
        self.correct += correct;
        self.seen += images;
    }

    /// The mean loss per image so far (0 before any image).
    fn mean_loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }

    /// The fraction of images predicted correctly so far (0 before any image).
    fn accuracy(&self) -> f64 {
        self.correct as f64 / self.seen.max(1) as f64
    }

    /// Images per second of the host's busy time when the epoch has run `elapsed` seconds:
    /// the time outside its waits for the loader, spent queueing steps and waiting for the
    /// device to finish them.
    fn step_images_per_second(&self, elapsed: f64) -> f64 {
        self.seen as f64 / (elapsed - self.waiting_seconds).max(1e-9)
    }
}

/// What one epoch of training steps measured.
struct EpochTraining {
    /// Mean training loss and argmax accuracy.
    loss: f64,
    accuracy: f64,
    /// Learning rate of the epoch.
    lr: f64,
    /// When the epoch started.
    started: Instant,
    /// Images per second: wall time, the steps alone, and what the loader could deliver.
    images_per_second: f64,
    step_images_per_second: f64,
    loader_images_per_second: f64,
    /// Files the loader skipped.
    skipped: Vec<Skipped>,
}

impl Run {
    /// Reads (or, with `resume`, re-reads) the config, opens the data set, writes the run's
    /// config and model_info, and builds the run and its model (from `last/` when resuming a
    /// run that has one).
    fn set_up(
        config: &TrainConfig,
        run_dir: &Path,
        device: &Device,
        resume: bool,
        observer: &mut dyn TrainObserver,
    ) -> Result<(Self, Detector)> {
        let dir = RunDir::new(run_dir);
        let config = if resume {
            let saved: TrainConfig = read_json(&dir.config())?;
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
        write_json(&dir.config(), &config)?;

        let train_device = device.clone().autodiff();
        train_device.seed(config.seed);
        let mut model = config.model.init(&train_device)?;
        if let Some(pretrained) = &config.pretrained {
            model = model.load_pretrained_backbone(pretrained, &config.model, &train_device)?;
            observer.message(&format!("backbone from {}", pretrained.display()));
        }
        write_json(&dir.model_info(), &model.model_info(&config.model))?;
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
            skipped_paths: Default::default(),
        };
        if resume {
            match find_last(run_dir) {
                Some(last) => (model, optimizer, state) = load_last(&last, model, optimizer)?,
                // Killed before its first checkpoint: nothing to continue but the saved
                // config, and the fresh model above is the one that run started from.
                None => observer.message(&format!(
                    "{} has no checkpoint yet (stopped during its first epoch): starting it \
                     over from its saved config",
                    run_dir.display()
                )),
            }
        }
        let train_samples = Arc::new(dataset.train.clone());
        let run = Self {
            config,
            dir,
            device: device.clone(),
            train_device,
            dataset,
            train_samples,
            optimizer,
            state,
        };
        Ok((run, model))
    }

    /// One epoch of training steps (0-based `epoch`): the model after them, and what they
    /// measured.
    fn train_epoch(
        &mut self,
        mut model: Detector,
        epoch: usize,
        observer: &mut dyn TrainObserver,
    ) -> Result<(Detector, EpochTraining)> {
        let config = &self.config;
        let frozen = epoch < config.freeze_backbone_epochs;
        model.backbone = model.backbone.set_require_grad(!frozen);
        self.train_device.seed(epoch_seed(config.seed, epoch));
        let loader_config = LoaderConfig {
            augment: config.augment.clone(),
            ..LoaderConfig::train(
                config.batch_size,
                config.model.image_size as u32,
                config.seed,
            )
        };
        let mut loader =
            EpochLoader::start(Arc::clone(&self.train_samples), loader_config, epoch as u64);
        let batches = config
            .max_batches_per_epoch
            .map_or(loader.len(), |m| m.min(loader.len()));
        observer.epoch_started(epoch + 1, config.epochs, batches);
        let lr = self.state.scheduler.lr;
        let mut totals = StepTotals::new();
        // Each step is read back after the next one is queued (see `step`): the device works
        // on step n while the host prepares step n + 1.
        let mut in_flight: Option<InFlight> = None;
        for step in 0..batches {
            let waiting = Instant::now();
            let Some(batch) = loader.next() else { break };
            totals.waiting_seconds += waiting.elapsed().as_secs_f64();
            let (images, labels) = batch.to_tensors(&self.train_device);
            let (next, queued) = train_step(
                model,
                &mut self.optimizer,
                images,
                labels,
                lr,
                config.clip_grad_norm,
            );
            model = next;
            let previous = in_flight.replace(InFlight {
                step,
                images: batch.len(),
                queued,
            });
            if let Some(previous) = previous {
                totals.record(previous, epoch, observer, &loader)?;
            }
        }
        if let Some(last) = in_flight.take() {
            totals.record(last, epoch, observer, &loader)?;
        }
        let train_seconds = totals.started.elapsed().as_secs_f64();
        let loader_images_per_second = loader.stats().images_per_second();
        let skipped = loader.skipped();
        // Dropping the loader closes its queue: a worker still preparing batches beyond the
        // cap stops at its next send instead of decoding the rest of the epoch.
        drop(loader);
        let trained = EpochTraining {
            loss: totals.mean_loss(),
            accuracy: totals.accuracy(),
            lr,
            started: totals.started,
            images_per_second: totals.seen as f64 / train_seconds.max(1e-9),
            step_images_per_second: totals.step_images_per_second(train_seconds),
            loader_images_per_second,
            skipped,
        };
        Ok((model, trained))
    }

    /// Validates the model after `epoch`, steps the LR schedule, saves `best/` (when better)
    /// and `last/`, appends the epoch to `history.json`, and tells the observer.
    fn validate_and_checkpoint(
        &mut self,
        model: &Detector,
        epoch: usize,
        trained: EpochTraining,
        observer: &mut dyn TrainObserver,
    ) -> Result<EpochRecord> {
        let valid = model.valid();
        observer.validation_started(self.dataset.valid.len());
        let evaluation = evaluate(
            &valid,
            &self.dataset.valid,
            self.config.model.image_size,
            self.config.batch_size,
            &self.device,
            |n| observer.validation_progress(n),
        )?;
        if !evaluation.loss.is_finite() {
            return Err(TrainError::NonFiniteLoss {
                epoch: epoch + 1,
                step: 0,
                loss: evaluation.loss as f32,
            });
        }
        let mut skipped = trained.skipped;
        skipped.extend(evaluation.skipped.iter().cloned());
        let state = &mut self.state;
        state
            .skipped_paths
            .extend(skipped.iter().map(|s| s.path.clone()));
        state.scheduler.step(evaluation.loss);
        let record = EpochRecord {
            epoch: epoch + 1,
            train_loss: trained.loss,
            train_accuracy: trained.accuracy,
            val_loss: evaluation.loss,
            val_accuracy: evaluation.accuracy,
            lr: trained.lr,
            seconds: trained.started.elapsed().as_secs_f64(),
            images_per_second: trained.images_per_second,
            step_images_per_second: trained.step_images_per_second,
            loader_images_per_second: trained.loader_images_per_second,
        };
        let improved = record.val_accuracy > state.best_val_accuracy;
        if improved {
            state.best_val_accuracy = record.val_accuracy;
            state.best_epoch = record.epoch;
            state.epochs_without_improvement = 0;
            save_best(&self.dir.best(), &valid, &self.config.model)?;
        } else {
            state.epochs_without_improvement += 1;
        }
        state.history.push(record.clone());
        state.epochs_done = epoch + 1;
        save_last(&self.dir.last(), model, &self.optimizer, state)?;
        write_json(&self.dir.history(), &state.history)?;
        observer.epoch_done(&record, improved, &skipped);
        Ok(record)
    }

    /// Why the run stops after `record`, if it does.
    fn stop_reason(&self, record: &EpochRecord) -> Option<StopReason> {
        let config = &self.config;
        if config
            .target_accuracy
            .is_some_and(|target| record.val_accuracy >= target)
        {
            return Some(StopReason::TargetAccuracyReached);
        }
        config
            .early_stopping_patience
            .is_some_and(|patience| self.state.epochs_without_improvement >= patience)
            .then_some(StopReason::NoImprovement)
    }

    /// Writes and returns `training_results.json`.
    fn finish(self, stopped: StopReason) -> Result<TrainingResults> {
        let state = &self.state;
        let best = state.history.iter().find(|r| r.epoch == state.best_epoch);
        let results = TrainingResults {
            best_epoch: state.best_epoch,
            best_val_accuracy: best.map_or(0.0, |r| r.val_accuracy),
            best_val_loss: best.map_or(0.0, |r| r.val_loss),
            epochs_run: state.epochs_done,
            stopped,
            skipped_files: state.skipped_paths.len(),
        };
        write_json(&self.dir.results(), &results)?;
        Ok(results)
    }
}

/// The device seed of epoch `epoch` (0-based) of a run seeded `seed`. Dropout draws from the
/// device's generator, seeded per epoch so that a resumed run repeats the epoch's masks; each
/// epoch's seed differs from every other epoch's and from `seed` itself (the initialisation's).
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed.wrapping_add((epoch as u64 + 1).wrapping_mul(0x9E37_79B9))
}

/// Loads the best model of a finished (or running) run directory.
pub fn load_best(
    run_dir: &Path,
    device: &Device,
) -> Result<(Detector, deepfake_model::DetectorConfig)> {
    Ok(Detector::load_dir(RunDir::new(run_dir).best(), device)?)
}

#[cfg(test)]
mod tests {
    use super::{StepTotals, epoch_seed};

    #[test]
    fn each_epoch_draws_its_own_dropout_seed() {
        for seed in [0, 42, u64::MAX] {
            let mut seeds: Vec<u64> = (0..1000).map(|epoch| epoch_seed(seed, epoch)).collect();
            assert!(
                !seeds.contains(&seed),
                "an epoch reuses the initialisation's seed"
            );
            seeds.sort_unstable();
            seeds.dedup();
            assert_eq!(
                seeds.len(),
                1000,
                "two epochs share a seed (run seed {seed})"
            );
        }
    }

    /// Steps of different sizes weigh by their images: means over images, not over steps.
    #[test]
    fn step_totals_weigh_each_step_by_its_images() {
        let mut totals = StepTotals::new();
        assert_eq!((totals.mean_loss(), totals.accuracy()), (0.0, 0.0));
        totals.add(1.0, 12, 16);
        totals.add(2.0, 1, 4);
        assert_eq!(totals.seen, 20);
        assert!(
            (totals.mean_loss() - 1.2).abs() < 1e-12,
            "{}",
            totals.mean_loss()
        );
        assert!((totals.accuracy() - 13.0 / 20.0).abs() < 1e-12);
        // 0.5 of 2 seconds spent waiting for the loader: 20 images in 1.5 busy seconds.
        totals.waiting_seconds = 0.5;
        assert!((totals.step_images_per_second(2.0) - 20.0 / 1.5).abs() < 1e-9);
    }
}
