//! The synthetic data set on disk: the 140k layout's CSVs and folders, the regions file, the
//! marker that says a folder is synthetic, and the refused settings.

use std::collections::HashMap;
use std::path::Path;

use deepfake_data::DataError;
use deepfake_data::synth::{
    REGIONS_FILE, SynthConfig, read_regions, render_with_region, synthetic_config, write_dataset,
};
use deepfake_formats::Label;

/// The rows of `root/{split}.csv` after its header, as their six fields.
fn csv_rows(root: &Path, split: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root.join(format!("{split}.csv"))).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(",original_path,id,label,label_str,path"));
    lines
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_csvs_list_every_image_once_with_the_original_label_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        per_class: 7,
        size: 16,
        ..SynthConfig::default()
    };
    // 7 per class in train, ceil(7 / 5) = 2 in valid and test: 2 x (7 + 2 + 2).
    assert_eq!(write_dataset(dir.path(), &config).unwrap(), 22);
    for (split, n, offset) in [
        ("train", 7, 0),
        ("valid", 2, 1_000_000),
        ("test", 2, 2_000_000),
    ] {
        let rows = csv_rows(dir.path(), split);
        assert_eq!(rows.len(), 2 * n, "{split}");
        let mut seen = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row.len(), 6, "{split} row {i}: {row:?}");
            assert_eq!(row[0], i.to_string());
            // As in the original: label 1 = real, 0 = fake.
            let number = if row[4] == "real" { "1" } else { "0" };
            assert!(row[4] == "real" || row[4] == "fake", "{row:?}");
            assert_eq!(row[3], number, "{split} row {i}: {row:?}");
            let id: u64 = row[2].parse().unwrap();
            assert!((offset..offset + n as u64).contains(&id), "{row:?}");
            assert_eq!(row[1], format!("synthetic/{id}.jpg"));
            assert_eq!(row[5], format!("{split}/{}/{id:05}.jpg", row[4]));
            let file = dir.path().join("real_vs_fake/real-vs-fake").join(&row[5]);
            let image = image::open(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert_eq!((image.width(), image.height()), (16, 16));
            seen.push((row[4].clone(), id));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 2 * n, "{split}: an image listed twice");
    }
    // The CSVs and the marker were written through temporary files, all renamed into place.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "real_vs_fake",
            "synthetic.json",
            "test.csv",
            "train.csv",
            "valid.csv"
        ]
    );
    // The classes are interleaved, not listed one after the other.
    let labels: Vec<String> = csv_rows(dir.path(), "train")
        .into_iter()
        .map(|r| r[4].clone())
        .collect();
    assert!(
        labels.windows(2).filter(|w| w[0] != w[1]).count() > 2,
        "{labels:?}"
    );
}

#[test]
fn the_marker_holds_the_settings_and_is_found_from_the_inner_folders() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        per_class: 1,
        size: 16,
        seed: 9,
        difficulty: 0.7,
        trace_region: Some(0.4),
        ..SynthConfig::default()
    };
    write_dataset(dir.path(), &config).unwrap();
    let root = dir.path();
    for folder in [
        root.to_path_buf(),
        root.join("real_vs_fake"),
        root.join("real_vs_fake/real-vs-fake"),
        root.join("real_vs_fake/real-vs-fake/train"),
    ] {
        assert_eq!(
            synthetic_config(&folder),
            Some(config.clone()),
            "{}",
            folder.display()
        );
    }
    // Four levels down is past the search; a folder of real data has no marker.
    assert_eq!(
        synthetic_config(&root.join("real_vs_fake/real-vs-fake/train/fake")),
        None
    );
    let plain = tempfile::tempdir().unwrap();
    assert_eq!(synthetic_config(plain.path()), None);
}

#[test]
fn the_regions_file_lists_every_fake_with_its_patch() {
    let dir = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        per_class: 3,
        size: 32,
        trace_region: Some(0.5),
        ..SynthConfig::default()
    };
    write_dataset(dir.path(), &config).unwrap();
    let regions = read_regions(dir.path()).unwrap();
    let mut expected = HashMap::new();
    for (split, n, offset) in [
        ("train", 3, 0),
        ("valid", 1, 1_000_000),
        ("test", 1, 2_000_000),
    ] {
        for id in offset..offset + n {
            let region = render_with_region(Label::Fake, id, &config).1.unwrap();
            expected.insert(format!("{split}/fake/{id:05}.jpg"), region);
        }
    }
    assert_eq!(regions, expected);
    // Without confinement there is no regions file.
    let plain = tempfile::tempdir().unwrap();
    write_dataset(
        plain.path(),
        &SynthConfig {
            trace_region: None,
            ..config
        },
    )
    .unwrap();
    assert!(!plain.path().join(REGIONS_FILE).exists());
}

#[test]
fn a_bad_regions_line_names_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(REGIONS_FILE);
    for (text, line) in [
        ("path,x,y,side\na.jpg,1,2,3\nb.jpg,1,2\n", 3),
        ("path,x,y,side\na.jpg,1,x,3\n", 2),
        ("path,x,y,side\na.jpg,-1,2,3\n", 2),
    ] {
        std::fs::write(&file, text).unwrap();
        let error = read_regions(dir.path()).unwrap_err().to_string();
        assert_eq!(
            error,
            format!(
                "{}, line {line}: expected path,x,y,side (x, y, side whole pixels)",
                file.display()
            ),
            "{text:?}"
        );
    }
    std::fs::write(&file, "path,x,y,side\na.jpg, 1,2 ,3\n").unwrap();
    let regions = read_regions(dir.path()).unwrap();
    assert_eq!(regions.len(), 1);
    assert!(regions["a.jpg"].contains(1, 2) && regions["a.jpg"].contains(3, 4));
    assert!(!regions["a.jpg"].contains(4, 2) && !regions["a.jpg"].contains(1, 5));
    assert!(!regions["a.jpg"].contains(0, 2) && !regions["a.jpg"].contains(1, 1));
}

#[test]
fn too_few_images_or_too_small_a_side_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for config in [
        SynthConfig {
            per_class: 0,
            size: 16,
            ..SynthConfig::default()
        },
        SynthConfig {
            per_class: 1,
            size: 15,
            ..SynthConfig::default()
        },
    ] {
        match write_dataset(dir.path(), &config) {
            Err(DataError::InvalidParameter(message)) => assert_eq!(
                message,
                "synthetic data needs per_class >= 1 and size >= 16"
            ),
            other => panic!("{config:?}: {other:?}"),
        }
    }
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "something was written"
    );
}

#[test]
fn an_output_folder_that_cannot_be_made_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let config = SynthConfig {
        per_class: 1,
        size: 16,
        ..SynthConfig::default()
    };
    let error = write_dataset(&file.join("data"), &config).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, DataError::Write { .. })
            && message.starts_with(&format!("cannot write {}", file.display())),
        "{message}"
    );
}
