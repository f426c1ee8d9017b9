//! `deepfake synth` and `deepfake data-info`.

use std::path::Path;

use deepfake::data::synth::{REGIONS_FILE, SYNTHETIC_MARKER, SynthConfig};

use crate::{corrupt_a_test_image, deepfake, stdout_of, synthetic};

/// `synth` writes a data set whose counts and sizes follow from its options (valid and test
/// get a fifth of the training count, rounded up); `data-info` finds exactly those.
#[test]
fn synth_then_data_info_count_what_was_asked_for() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = synthetic(dir.path(), 6, 24);
    let info_path = dir.path().join("info.json");
    let json = stdout_of(&deepfake(&[
        &"data-info",
        &data,
        &"--json",
        &"--out",
        &info_path,
    ]));
    let info: serde_json::Value = serde_json::from_str(&json).expect("JSON on stdout");
    for (split, per_class) in [("train", 6), ("valid", 2), ("test", 2)] {
        for class in ["real", "fake"] {
            assert_eq!(
                info["splits"][split][class], per_class,
                "{split}/{class} in {json}"
            );
        }
    }
    assert_eq!(info["image_sizes"]["24x24"], 20, "{json}");
    assert_eq!(info["skipped"].as_array().map(Vec::len), Some(0), "{json}");
    let written = std::fs::read_to_string(&info_path).expect("dataset info file");
    assert_eq!(written.trim(), json.trim());
}

/// The table form: counts per split (of the files listed), the sizes of the images read
/// (19: one of the 20 is unreadable), the unreadable file named, and where the JSON went.
#[test]
fn data_info_table_counts_sizes_and_names_skipped_files() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = synthetic(dir.path(), 6, 24);
    let corrupt = corrupt_a_test_image(&data, "fake");
    let info = dir.path().join("info.json");
    let table = stdout_of(&deepfake(&[&"data-info", &data, &"--out", &info]));
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|line| line.split_whitespace().collect())
        .collect();
    for expected in [
        vec!["split", "real", "fake", "total"],
        vec!["train", "6", "6", "12"],
        vec!["valid", "2", "2", "4"],
        vec!["test", "2", "2", "4"],
    ] {
        assert!(rows.contains(&expected), "no row {expected:?} in\n{table}");
    }
    assert!(table.contains("image sizes: 24x24 (19)\n"), "{table}");
    assert!(table.contains("skipped: 1\n"), "{table}");
    assert!(
        table.contains(&format!("  {}: ", corrupt.display())),
        "{table}"
    );
    assert!(
        table
            .trim_end()
            .ends_with(&format!("wrote {}", info.display())),
        "{table}"
    );
    assert!(info.is_file());

    // Without decoding, no sizes are known and none is printed.
    let undecoded = stdout_of(&deepfake(&[
        &"data-info",
        &data,
        &"--no-decode",
        &"--out",
        &info,
    ]));
    assert!(!undecoded.contains("image sizes"), "{undecoded}");
}

/// `synth`'s options all reach the data: the marker file records them, the trace regions
/// are listed when asked for, and another seed gives other images.
#[test]
fn synth_records_its_options_and_the_seed_changes_the_images() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let write = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        stdout_of(&deepfake(&[
            &"synth",
            &"--out",
            &out,
            &"--per-class",
            &"2",
            &"--size",
            &"32",
            &"--seed",
            &seed,
            &"--difficulty",
            &"0.9",
            &"--trace-region",
            &"0.4",
        ]));
        out
    };
    let first = write("first", "3");
    let marker: SynthConfig = serde_json::from_str(
        &std::fs::read_to_string(first.join(SYNTHETIC_MARKER)).expect("the synthetic marker"),
    )
    .expect("a synthetic-data configuration");
    let expected = SynthConfig {
        per_class: 2,
        size: 32,
        seed: 3,
        difficulty: 0.9,
        trace_region: Some(0.4),
        ..SynthConfig::default()
    };
    assert_eq!(marker, expected);
    assert!(first.join(REGIONS_FILE).is_file());

    let image = "real_vs_fake/real-vs-fake/train/fake/00000.jpg";
    let read = |root: &Path| std::fs::read(root.join(image)).expect("a synthetic image");
    assert_eq!(read(&first), read(&write("again", "3")), "same seed");
    assert_ne!(read(&first), read(&write("other", "4")), "another seed");
}
