//! The loader: deterministic whatever the thread count, exact epoch length, and unreadable
//! files skipped and reported without stopping the epoch.

use std::path::Path;
use std::sync::Arc;

use deepfake_data::layout::{Dataset, Split};
use deepfake_data::loader::{EpochLoader, LoaderConfig};
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
