//! `bench_model --parts train-epoch` on a CPU: the `train` command's loop on synthetic JPEGs,
//! the record the GPU benchmark's report reads, and the data it leaves for the PyTorch peer.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::example;
use serde_json::Value;

/// Runs the training-loop part of `bench_model` (tiny preset, batch 8, 2 batches per epoch)
/// with its data in `data`; its one JSON record.
fn training_loop_record(data: &Path) -> Value {
    let output = Command::new(example("bench_model"))
        .args(["--preset", "tiny", "--parts", "train-epoch"])
        .args(["--batch-sizes", "8", "--iters", "2", "--data-dir"])
        .arg(data)
        .output()
        .expect("bench_model runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "bench_model failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records: Vec<Value> = stdout
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).expect("a JSON record"))
        .collect();
    assert_eq!(records.len(), 1, "{stdout}");
    records.into_iter().next().unwrap_or_default()
}

fn rate(record: &Value, key: &str) -> f64 {
    let value = record[key].as_f64().unwrap_or(f64::NAN);
    assert!(
        value.is_finite() && value > 0.0,
        "{key} = {value}: {record}"
    );
    value
}

#[test]
fn the_training_loop_reports_the_loader_beside_the_steps_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let record = training_loop_record(&data);
    assert_eq!(record["part"], "train_epoch");
    assert_eq!(record["batch"], 8);
    assert_eq!(record["image_size"], 64);
    // The tiny preset's 64-pixel input gets 74-pixel files: the 140k faces' 256 for 224.
    assert_eq!(record["data_image_size"], 74);
    let wall = rate(&record, "images_per_second");
    let steps = rate(&record, "step_images_per_second");
    rate(&record, "loader_images_per_second");
    assert!(record["loader_threads"].as_u64().is_some_and(|n| n >= 1));
    // The epoch's wall time holds its steps' time: the steps alone are at least as fast.
    assert!(steps >= wall * (1.0 - 1e-9), "steps {steps} < wall {wall}");
    let seconds = rate(&record, "seconds_per_pass");
    assert!(
        (seconds * wall - 8.0).abs() < 1e-6,
        "{seconds} s per batch of 8 at {wall}/s"
    );

    // Two batches of 8 per epoch: 8 training images per class, a fifth of that for valid.
    let train = data.join("real_vs_fake/real-vs-fake/train");
    let jpegs = |class: &str| std::fs::read_dir(train.join(class)).unwrap().count();
    assert_eq!((jpegs("real"), jpegs("fake")), (8, 8));
    let file = train.join("real/00000.jpg");
    let written = std::fs::metadata(&file).unwrap().modified().unwrap();
    let size = image::image_dimensions(&file).unwrap();
    assert_eq!(size, (74, 74));

    // A rerun (the PyTorch peer's turn reads the same folder) trains on the same files.
    training_loop_record(&data);
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        written
    );
}
