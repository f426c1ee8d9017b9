//! The loader: deterministic whatever the thread count, exact epoch length, unreadable files
//! skipped and reported without stopping the epoch (a batch of nothing but them is left out),
//! training batches shuffled by their seed and augmented, and the throughput it reports.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deepfake_data::layout::{Dataset, Split};
use deepfake_data::loader::{EpochLoader, LoaderConfig, LoaderStats, batches_per_epoch};
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_data::{Batch, Sample};
use deepfake_formats::Label;

fn synth(dir: &Path, per_class: usize) -> Dataset {
    let config = SynthConfig {
        per_class,
        size: 48,
        seed: 3,
        ..SynthConfig::default()
    };
    write_dataset(dir, &config).unwrap();
    Dataset::open(dir, 0).unwrap()
}

fn run_epoch(samples: &[Sample], config: &LoaderConfig, epoch: u64) -> Vec<Batch> {
    EpochLoader::start(Arc::new(samples.to_vec()), config.clone(), epoch).collect()
}

#[test]
fn batches_are_identical_with_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 12);
    let config = LoaderConfig::train(5, 32, 11);
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_epoch(&dataset.train, &config, 2))
    };
    let one = in_pool(1);
    let two = in_pool(2);
    assert_eq!(one, two);
    // Another epoch reshuffles and re-augments.
    let other_epoch = run_epoch(&dataset.train, &config, 3);
    assert_ne!(one[0].images, other_epoch[0].images);
}

#[test]
fn epoch_length_is_exact_and_drop_last_works() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 12); // 24 training images
    let mut config = LoaderConfig::eval(5, 32);
    let batches = run_epoch(&dataset.train, &config, 0);
    assert_eq!(
        batches.iter().map(Batch::len).collect::<Vec<_>>(),
        [5, 5, 5, 5, 4]
    );
    assert_eq!(batches[0].images.len(), 5 * 3 * 32 * 32);
    config.drop_last = true;
    assert_eq!(run_epoch(&dataset.train, &config, 0).len(), 4);
    // Evaluation order is the sample order, labels follow the samples.
    let labels: Vec<i64> = batches.iter().flat_map(|b| b.labels.clone()).collect();
    let expected: Vec<i64> = dataset
        .train
        .iter()
        .map(|s| s.label.index() as i64)
        .collect();
    assert_eq!(labels, expected);
}

#[test]
fn corrupt_files_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 4);
    let mut samples = dataset.train.clone();
    let bad = [
        ("empty.jpg", Vec::new()),
        ("text.jpg", b"not an image at all".to_vec()),
        (
            "truncated.jpg",
            std::fs::read(&samples[0].path).unwrap()[..200].to_vec(),
        ),
    ];
    for (name, bytes) in &bad {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        samples.push(Sample {
            path,
            label: Label::Fake,
        });
    }
    let mut loader = EpochLoader::start(Arc::new(samples.clone()), LoaderConfig::eval(4, 32), 0);
    let images: usize = loader.by_ref().map(|b| b.len()).sum();
    assert_eq!(images, samples.len() - bad.len());
    let skipped = loader.skipped();
    assert_eq!(skipped.len(), bad.len(), "{skipped:?}");
    for (name, _) in &bad {
        assert!(
            skipped
                .iter()
                .any(|s| s.path.ends_with(name) && !s.reason.is_empty()),
            "{name} not reported: {skipped:?}"
        );
    }
    let _ = Split::Train;
}

/// The files of an epoch's batches, in the order they came.
fn paths(batches: &[Batch]) -> Vec<PathBuf> {
    batches.iter().flat_map(|b| b.paths.clone()).collect()
}

/// Each image of an epoch's batches (`[3, S, S]` values) by its file.
fn images_by_path(batches: &[Batch]) -> HashMap<PathBuf, Vec<f32>> {
    let mut images = HashMap::new();
    for batch in batches {
        let per_image = batch.images.len() / batch.len();
        for (path, image) in batch.paths.iter().zip(batch.images.chunks(per_image)) {
            images.insert(path.clone(), image.to_vec());
        }
    }
    images
}

#[test]
fn training_batches_are_shuffled_by_their_seed_and_augmented() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 12);
    let samples = &dataset.train;
    let eval = LoaderConfig::eval(4, 32);
    let train = LoaderConfig::train(4, 32, 9);
    assert_eq!(
        LoaderConfig {
            shuffle: false,
            seed: 0,
            augment: None,
            ..train.clone()
        },
        eval,
        "the rest of the training config is the evaluation one"
    );
    let in_order: Vec<PathBuf> = samples.iter().map(|s| s.path.clone()).collect();
    let training_epoch = run_epoch(samples, &train, 0);
    let shuffled = paths(&training_epoch);
    assert_ne!(shuffled, in_order, "shuffled");
    let mut sorted = shuffled.clone();
    sorted.sort();
    let mut expected = in_order.clone();
    expected.sort();
    assert_eq!(sorted, expected, "every sample once");
    let other_seed = paths(&run_epoch(samples, &LoaderConfig::train(4, 32, 10), 0));
    assert_ne!(other_seed, shuffled, "the seed drives the order");

    // Each image differs from its evaluation preprocessing (flip, rotation, colour jitter);
    // a brightness and contrast factor within a hair of 1 and no flip could leave one as is.
    let plain = images_by_path(&run_epoch(samples, &eval, 0));
    let augmented = images_by_path(&training_epoch);
    assert_eq!(augmented.len(), samples.len());
    let changed = augmented
        .iter()
        .filter(|(path, image)| plain[*path] != **image)
        .count();
    assert!(
        changed >= samples.len() - 1,
        "{changed} of {} augmented",
        samples.len()
    );
}

#[test]
fn a_batch_of_only_unreadable_files_is_not_yielded() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 4);
    let mut samples = Vec::new();
    for name in ["a.jpg", "b.jpg", "c.jpg"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"not an image").unwrap();
        samples.push(Sample {
            path,
            label: Label::Real,
        });
    }
    samples.extend(dataset.train.iter().cloned());
    let good = dataset.train.len();
    let loader = EpochLoader::start(Arc::new(samples.clone()), LoaderConfig::eval(3, 32), 0);
    assert_eq!(loader.len(), samples.len().div_ceil(3));
    assert!(!loader.is_empty());
    let batches: Vec<Batch> = loader.collect();
    assert_eq!(
        batches.len(),
        good.div_ceil(3),
        "the first batch, all unreadable, is left out"
    );
    assert!(batches.iter().all(|b| !b.is_empty()));
    assert_eq!(batches.iter().map(Batch::len).sum::<usize>(), good);
    let empty = Batch {
        images: Vec::new(),
        labels: Vec::new(),
        paths: Vec::new(),
        image_size: 32,
    };
    assert!(empty.is_empty());
}

#[test]
fn an_epoch_counts_its_batches_and_its_throughput() {
    let dir = tempfile::tempdir().unwrap();
    let dataset = synth(dir.path(), 12); // 24 training images
    let samples = Arc::new(dataset.train.clone());
    let mut config = LoaderConfig::eval(10, 32);
    assert_eq!(batches_per_epoch(24, &config), 3);
    config.drop_last = true;
    assert_eq!(batches_per_epoch(24, &config), 2);
    assert_eq!(batches_per_epoch(9, &config), 0);
    let empty = EpochLoader::start(Arc::new(Vec::new()), config.clone(), 0);
    assert_eq!((empty.len(), empty.is_empty()), (0, true));

    let mut loader = EpochLoader::start(samples, config, 0);
    assert_eq!(loader.len(), 2);
    let images: usize = loader.by_ref().map(|b| b.len()).sum();
    assert_eq!(images, 20);
    let stats = loader.stats();
    assert_eq!(stats.images, 20);
    assert!(
        stats.busy_seconds > 0.0 && stats.busy_seconds < 60.0,
        "{stats:?}"
    );
    assert_eq!(stats.images_per_second(), 20.0 / stats.busy_seconds);
    // Nothing prepared yet: no rate rather than a division by zero.
    assert_eq!(LoaderStats::default().images_per_second(), 0.0);
}
