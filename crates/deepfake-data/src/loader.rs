//! The batch loader: seeded shuffling, parallel decode + augment + normalise (rayon), and a
//! bounded prefetch queue filled by a background thread, so the device rarely waits.
//! Unreadable files are skipped and reported, never fatal.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use burn::tensor::{Device, Int, Tensor, TensorData};
use crossbeam_channel::{Receiver, bounded};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::augment::{AugmentConfig, IDENTITY, augment_deferred, item_rng};
use crate::decode::{DecodeLimits, decode_file};
use crate::error::Result;
use crate::layout::{Sample, Skipped};
use crate::normalize::normalize_mapped_into;
use crate::resize::resize_rgb;

/// How batches are made.
#[derive(Debug, Clone, PartialEq)]
pub struct LoaderConfig {
    /// Images per batch.
    pub batch_size: usize,
    /// Side of the square model input, in pixels.
    pub image_size: u32,
    /// Shuffle the order each epoch (seeded by `seed` and the epoch).
    pub shuffle: bool,
    /// Drop a last batch smaller than `batch_size`.
    pub drop_last: bool,
    /// Seed of the shuffle and the augmentation.
    pub seed: u64,
    /// Training augmentation; `None` for evaluation (resize + normalise only).
    pub augment: Option<AugmentConfig>,
    /// Batches prepared ahead of the consumer.
    pub prefetch: usize,
    /// Decode limits.
    pub limits: DecodeLimits,
}

impl LoaderConfig {
    /// Evaluation batches: in order, all samples, no augmentation.
    pub fn eval(batch_size: usize, image_size: u32) -> Self {
        Self {
            batch_size,
            image_size,
            shuffle: false,
            drop_last: false,
            seed: 0,
            augment: None,
            prefetch: 2,
            limits: DecodeLimits::default(),
        }
    }

    /// Training batches: shuffled, augmented with the seed's recipe.
    pub fn train(batch_size: usize, image_size: u32, seed: u64) -> Self {
        Self {
            shuffle: true,
            seed,
            augment: Some(AugmentConfig::default()),
            ..Self::eval(batch_size, image_size)
        }
    }
}

/// One batch on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `[B, 3, S, S]` normalised pixels, row-major.
    pub images: Vec<f32>,
    /// Class index per image (0 = Real, 1 = Fake).
    pub labels: Vec<i64>,
    /// Source file per image.
    pub paths: Vec<PathBuf>,
    /// Side of the images.
    pub image_size: usize,
}

impl Batch {
    /// Images in the batch.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when every image of the batch was skipped.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `images [B, 3, S, S]` and `labels [B]` on `device`.
    pub fn to_tensors(&self, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let s = self.image_size;
        let images = Tensor::from_data(
            TensorData::new(self.images.clone(), [self.len(), 3, s, s]),
            device,
        );
        let labels = Tensor::from_data(TensorData::new(self.labels.clone(), [self.len()]), device);
        (images, labels)
    }
}

/// Loads, augments and normalises one sample: `[3, S, S]` values.
pub fn load_sample(
    sample: &Sample,
    config: &LoaderConfig,
    epoch: u64,
    index: u64,
) -> Result<Vec<f32>> {
    let image = decode_file(&sample.path, config.limits)?;
    let resized = resize_rgb(&image, config.image_size, config.image_size)?;
    let (ready, values) = match &config.augment {
        Some(recipe) => {
            augment_deferred(&resized, recipe, &mut item_rng(config.seed, epoch, index))?
        }
        None => (resized, IDENTITY),
    };
    let mut out = Vec::with_capacity(3 * (config.image_size * config.image_size) as usize);
    normalize_mapped_into(&ready, &values, &mut out);
    Ok(out)
}

/// The order of sample indices in `epoch`.
pub fn epoch_order(n: usize, config: &LoaderConfig, epoch: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if config.shuffle {
        let mut rng = ChaCha8Rng::seed_from_u64(
            config
                .seed
                .wrapping_add(epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        );
        order.shuffle(&mut rng);
    }
    order
}

/// Number of batches an epoch over `n` samples yields (before any file is skipped).
pub fn batches_per_epoch(n: usize, config: &LoaderConfig) -> usize {
    let b = config.batch_size.max(1);
    if config.drop_last {
        n / b
    } else {
        n.div_ceil(b)
    }
}

/// Makes the batch of the given sample indices; failures go to `skipped`.
pub fn make_batch(
    samples: &[Sample],
    indices: &[usize],
    config: &LoaderConfig,
    epoch: u64,
    skipped: &Mutex<Vec<Skipped>>,
) -> Batch {
    let loaded: Vec<(usize, Result<Vec<f32>>)> = indices
        .par_iter()
        .map(|&i| (i, load_sample(&samples[i], config, epoch, i as u64)))
        .collect();
    let size = config.image_size as usize;
    let mut batch = Batch {
        images: Vec::with_capacity(indices.len() * 3 * size * size),
        labels: Vec::with_capacity(indices.len()),
        paths: Vec::with_capacity(indices.len()),
        image_size: size,
    };
    for (i, result) in loaded {
        match result {
            Ok(pixels) => {
                batch.images.extend_from_slice(&pixels);
                batch.labels.push(samples[i].label.index() as i64);
                batch.paths.push(samples[i].path.clone());
            }
            Err(error) => {
                if let Ok(mut list) = skipped.lock() {
                    list.push(Skipped {
                        path: samples[i].path.clone(),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }
    batch
}

/// How fast the loader prepares batches when nobody waits for it: what it could deliver.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoaderStats {
    /// Images prepared so far.
    pub images: usize,
    /// Wall time spent preparing them (decode, augment, normalise), in seconds; time blocked
    /// on a full prefetch queue is not counted.
    pub busy_seconds: f64,
}

impl LoaderStats {
    /// Images per second the loader can deliver (0 before the first batch).
    pub fn images_per_second(&self) -> f64 {
        if self.busy_seconds > 0.0 {
            self.images as f64 / self.busy_seconds
        } else {
            0.0
        }
    }
}

/// An epoch in progress: iterate it for batches, then read [`skipped`](Self::skipped).
pub struct EpochLoader {
    receiver: Receiver<Batch>,
    worker: Option<JoinHandle<()>>,
    skipped: Arc<Mutex<Vec<Skipped>>>,
    stats: Arc<Mutex<LoaderStats>>,
    batches: usize,
}

impl EpochLoader {
    /// Starts preparing the batches of `epoch` over `samples` in the background.
    pub fn start(samples: Arc<Vec<Sample>>, config: LoaderConfig, epoch: u64) -> EpochLoader {
        let (sender, receiver) = bounded(config.prefetch.max(1));
        let skipped = Arc::new(Mutex::new(Vec::new()));
        let batches = batches_per_epoch(samples.len(), &config);
        let stats = Arc::new(Mutex::new(LoaderStats::default()));
        let worker_skipped = Arc::clone(&skipped);
        let worker_stats = Arc::clone(&stats);
        let worker = std::thread::spawn(move || {
            let order = epoch_order(samples.len(), &config, epoch);
            for chunk in order.chunks(config.batch_size.max(1)).take(batches) {
                let started = Instant::now();
                let batch = make_batch(&samples, chunk, &config, epoch, &worker_skipped);
                if let Ok(mut stats) = worker_stats.lock() {
                    stats.images += batch.len();
                    stats.busy_seconds += started.elapsed().as_secs_f64();
                }
                if batch.is_empty() {
                    continue;
                }
                if sender.send(batch).is_err() {
                    return; // the consumer stopped early
                }
            }
        });
        EpochLoader {
            receiver,
            worker: Some(worker),
            skipped,
            stats,
            batches,
        }
    }

    /// The loader's throughput so far this epoch.
    pub fn stats(&self) -> LoaderStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Batches this epoch will yield at most.
    pub fn len(&self) -> usize {
        self.batches
    }

    /// True when the epoch has no batch at all.
    pub fn is_empty(&self) -> bool {
        self.batches == 0
    }

    /// Files skipped so far (all of them once the iteration has ended).
    pub fn skipped(&self) -> Vec<Skipped> {
        self.skipped.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Iterator for EpochLoader {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        match self.receiver.recv() {
            Ok(batch) => Some(batch),
            Err(_) => {
                if let Some(worker) = self.worker.take() {
                    let _ = worker.join();
                }
                None
            }
        }
    }
}
