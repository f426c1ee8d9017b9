//! `deepfake eval`: of a scores file and of a model on a data set's split.

use std::path::Path;

use serde_json::Value;

use crate::{corrupt_a_test_image, deepfake, stdout_of, synthetic, tiny_model};

fn report_json(out: &Path) -> Value {
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// `eval --scores`: the metrics at the threshold given, against values worked out by hand
/// (positives score 0.9, 0.7 and 0.15, negatives 0.2 and 0.1: at 0.8 one positive is
/// found and both negatives are right, accuracy 3/5; at the default 0.5 it would be 4/5),
/// bootstrap intervals only when asked for, and where the report went.
#[test]
fn eval_of_a_scores_file_uses_the_threshold_and_bootstrap_given() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let scores = dir.path().join("scores.csv");
    std::fs::write(
        &scores,
        "path,label,p_fake\na.png,fake,0.9\nb.png,fake,0.7\nc.png,fake,0.15\nd.png,real,0.2\ne.png,real,0.1\n",
    )
    .expect("scores written");
    let out = dir.path().join("eval");
    let stdout = stdout_of(&deepfake(&[
        &"eval",
        &"--scores",
        &scores,
        &"--out",
        &out,
        &"--threshold",
        &"0.8",
        &"--bootstrap",
        &"0",
    ]));
    assert!(stdout.contains("n = 5 images, threshold 0.8\n"), "{stdout}");
    let accuracy: Vec<&str> = stdout
        .lines()
        .find(|line| line.starts_with("Accuracy "))
        .expect("an accuracy row")
        .split_whitespace()
        .collect();
    assert_eq!(accuracy[1], "0.6000", "{stdout}");
    assert!(
        stdout.contains(&format!("report: {}\n", out.join("index.html").display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("json:   {}\n", out.join("report.json").display())),
        "{stdout}"
    );
    let report = report_json(&out);
    assert_eq!(report["threshold"], 0.8);
    assert_eq!(report["accuracy"], 0.6);
    assert_eq!(report["bootstrap"], Value::Null, "--bootstrap 0 skips it");

    let resampled = dir.path().join("resampled");
    stdout_of(&deepfake(&[
        &"eval",
        &"--scores",
        &scores,
        &"--out",
        &resampled,
        &"--bootstrap",
        &"20",
    ]));
    let report = report_json(&resampled);
    assert_eq!(report["threshold"], 0.5);
    assert_eq!(report["accuracy"], 0.8);
    assert!(report["bootstrap"].is_object(), "{}", report["bootstrap"]);
}

/// `eval` of a model on a split: what it scores (on standard error when not on a
/// terminal), the temperature it fits unless told not to, the robustness table and its
/// weakest row, and the file it could not read, by name.
#[test]
fn eval_of_a_model_prints_calibration_robustness_and_skipped_files() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model = tiny_model(dir.path());
    let data = synthetic(dir.path(), 10, 32);
    let corrupt = corrupt_a_test_image(&data, "real");
    let out = dir.path().join("eval");
    let output = deepfake(&[
        &"eval",
        &"--checkpoint",
        &model,
        &"--data",
        &data,
        &"--out",
        &out,
        &"--bootstrap",
        &"0",
        &"--robustness",
    ]);
    let stdout = stdout_of(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("scoring the test split: 4 images"),
        "{stderr}"
    );
    assert!(
        stdout.starts_with(&format!("model: {}\n", model.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("data:  {}\n", data.display())),
        "{stdout}"
    );
    assert!(stdout.contains("n = 3 images, threshold 0.5\n"), "{stdout}");
    assert!(
        stdout.contains("\ntemperature ") && stdout.contains("(fitted on valid)"),
        "{stdout}"
    );

    // The robustness table: one printed row per row of the report, then the weakest.
    let report = report_json(&out);
    let rows = report["robustness"].as_array().expect("robustness rows");
    assert!(rows.len() > 20, "{} rows", rows.len());
    let lines: Vec<&str> = stdout.lines().collect();
    let header = lines
        .iter()
        .position(|line| line.starts_with("robustness "))
        .expect("a robustness header");
    for (row, line) in rows.iter().zip(&lines[header + 1..]) {
        let label = row["label"].as_str().expect("row label");
        assert!(line.starts_with(label), "{line} is not row {label}");
    }
    let weakest = lines[header + 1 + rows.len()];
    let weakest_label = weakest.strip_prefix("weakest: ").expect("the weakest row");
    assert!(
        rows.iter()
            .any(|row| row["label"] == weakest_label && !row["level"].is_null()),
        "{weakest} is not a perturbed row"
    );

    assert!(stdout.contains("\n1 files not scored:\n"), "{stdout}");
    assert!(
        stdout.contains(&format!("  {}: ", corrupt.display())),
        "{stdout}"
    );
    for (what, file) in [
        ("report: ", "index.html"),
        ("json:   ", "report.json"),
        ("scores: ", "scores.csv"),
    ] {
        assert!(
            stdout.contains(&format!("{what}{}\n", out.join(file).display())),
            "{stdout}"
        );
    }

    // --no-calibrate fits no temperature.
    let uncalibrated = dir.path().join("uncalibrated");
    let stdout = stdout_of(&deepfake(&[
        &"eval",
        &"--checkpoint",
        &model,
        &"--data",
        &data,
        &"--out",
        &uncalibrated,
        &"--bootstrap",
        &"0",
        &"--no-calibrate",
    ]));
    assert!(stdout.contains("n = 3 images"), "{stdout}");
    assert!(!stdout.contains("temperature"), "{stdout}");
    assert!(!stdout.contains("robustness"), "{stdout}");
}
