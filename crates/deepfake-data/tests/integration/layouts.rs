//! Layout detection: the 140k layout (CSVs mapped by `label_str`), its inner folder, plain
//! real/ fake/ folders with a reproducible stratified split, and clear CSV errors.

use std::path::Path;

use deepfake_data::layout::{Dataset, Layout, Split, read_kaggle_csv};
use deepfake_data::sequence::sample_frame_indices;
use deepfake_data::synth::{SynthConfig, write_dataset};
use deepfake_data::{DataError, DatasetInfo, Sample};
use deepfake_formats::Label;

fn small_synth(dir: &Path) {
    let config = SynthConfig {
        per_class: 10,
        size: 32,
        ..SynthConfig::default()
    };
    write_dataset(dir, &config).unwrap();
}

#[test]
fn kaggle_root_and_inner_folder_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    small_synth(dir.path());
    let root = Dataset::open(dir.path(), 0).unwrap();
    assert_eq!(root.layout, Layout::Kaggle140k);
    let info = DatasetInfo::compute(&root, true);
    assert_eq!(info.splits["train"].real, 10);
    assert_eq!(info.splits["train"].fake, 10);
    assert_eq!(info.splits["valid"].real, 2);
    assert_eq!(info.splits["test"].fake, 2);
    assert_eq!(info.image_sizes["32x32"], 28);
    assert!(info.skipped.is_empty());

    let inner = Dataset::open(dir.path().join("real_vs_fake/real-vs-fake"), 0).unwrap();
    assert_eq!(inner.layout, Layout::SplitFolders);
    assert_eq!(inner.train.len(), 20);
    // Both views agree on every file's class.
    let mut a: Vec<_> = root
        .train
        .iter()
        .map(|s| (s.path.clone(), s.label))
        .collect();
    let mut b: Vec<_> = inner
        .train
        .iter()
        .map(|s| (s.path.clone(), s.label))
        .collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn csv_label_comes_from_label_str_and_missing_files_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(base.join("train/real")).unwrap();
    std::fs::write(base.join("train/real/1.jpg"), b"x").unwrap();
    let csv = dir.path().join("train.csv");
    // In the real data set `label` 1 means real: it must not decide the class.
    std::fs::write(
        &csv,
        ",original_path,id,label,label_str,path\n0,a,1,1,real,train/real/1.jpg\n1,b,2,0,fake,train/fake/2.jpg\n",
    )
    .unwrap();
    let (samples, skipped) = read_kaggle_csv(&csv, &base).unwrap();
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].label, Label::Real);
    assert_eq!(skipped.len(), 1);

    std::fs::write(
        &csv,
        ",original_path,id,label,label_str,path\n0,a,1,1,real,train/real/1.jpg\n1,b,2,0,maybe,x.jpg\n",
    )
    .unwrap();
    match read_kaggle_csv(&csv, &base) {
        Err(DataError::Csv { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected a CSV error, got {other:?}"),
    }
}

#[test]
fn real_fake_folders_are_split_70_15_15_reproducibly() {
    let dir = tempfile::tempdir().unwrap();
    for (class, n) in [("Real", 40), ("FAKE", 20)] {
        let nested = dir.path().join(class).join("nested");
        std::fs::create_dir_all(&nested).unwrap();
        for i in 0..n {
            std::fs::write(nested.join(format!("{i}.png")), b"x").unwrap();
        }
    }
    let a = Dataset::open(dir.path(), 5).unwrap();
    assert_eq!(a.layout, Layout::RealFakeFolders);
    let count =
        |split: Split, label: Label| a.split(split).iter().filter(|s| s.label == label).count();
    assert_eq!(
        (
            count(Split::Train, Label::Real),
            count(Split::Train, Label::Fake)
        ),
        (28, 14)
    );
    assert_eq!(
        (
            count(Split::Valid, Label::Real),
            count(Split::Valid, Label::Fake)
        ),
        (6, 3)
    );
    assert_eq!(
        (
            count(Split::Test, Label::Real),
            count(Split::Test, Label::Fake)
        ),
        (6, 3)
    );
    assert_eq!(a, Dataset::open(dir.path(), 5).unwrap());
    assert_ne!(a.train, Dataset::open(dir.path(), 6).unwrap().train);
    // Every seed its own split of each class: seeds 0-15 differ in each of the low bits,
    // where a mix that dropped seed bits (an OR or AND with the class constant) would merge
    // two of them.
    let trains: Vec<Vec<Sample>> = (0..16)
        .map(|seed| Dataset::open(dir.path(), seed).unwrap().train)
        .collect();
    for label in [Label::Real, Label::Fake] {
        let splits: Vec<Vec<&Sample>> = trains
            .iter()
            .map(|train| train.iter().filter(|s| s.label == label).collect())
            .collect();
        for (i, one) in splits.iter().enumerate() {
            for (j, other) in splits.iter().enumerate().skip(i + 1) {
                assert_ne!(
                    one, other,
                    "{label:?}: seeds {i} and {j} give the same split"
                );
            }
        }
    }
    // The summary counts the same classes (without decoding: the files are not images).
    let info = DatasetInfo::compute(&a, false);
    assert_eq!(
        (info.splits["train"].real, info.splits["train"].fake),
        (28, 14)
    );
    assert_eq!(
        (info.splits["valid"].real, info.splits["valid"].fake),
        (6, 3)
    );
    assert_eq!((info.splits["test"].real, info.splits["test"].fake), (6, 3));
}

#[test]
fn split_names_parse_with_their_aliases() {
    for (name, split) in [
        ("train", Split::Train),
        ("TRAIN", Split::Train),
        ("valid", Split::Valid),
        ("val", Split::Valid),
        ("Validation", Split::Valid),
        ("test", Split::Test),
    ] {
        assert_eq!(Split::from_name(name), Some(split), "{name}");
    }
    for split in Split::ALL {
        assert_eq!(Split::from_name(split.name()), Some(split));
    }
    for name in ["", "training", "testing", "dev"] {
        assert_eq!(Split::from_name(name), None, "{name}");
    }
}

#[test]
fn unknown_layout_explains_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let err = Dataset::open(dir.path(), 0).unwrap_err().to_string();
    assert!(err.contains("train.csv") && err.contains("real/"), "{err}");
}

#[test]
fn frames_are_sampled_evenly() {
    assert_eq!(sample_frame_indices(10, 4), [1, 3, 6, 8]);
    assert_eq!(sample_frame_indices(3, 1), [1]);
    assert_eq!(sample_frame_indices(2, 4), [0, 0, 1, 1]);
}

/// A data set CSV over the byte limit (sparse: no disk) is refused with the file named before
/// it is read (the row limit is checked in the module's own tests, with a small limit).
#[test]
fn csvs_over_the_size_limit_are_refused() {
    use deepfake_formats::MAX_CSV_BYTES;
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("train.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_CSV_BYTES + 1)
        .unwrap();
    let error = read_kaggle_csv(&huge, dir.path()).unwrap_err().to_string();
    assert!(
        error.contains("train.csv") && error.contains("over the limit"),
        "{error}"
    );
}
