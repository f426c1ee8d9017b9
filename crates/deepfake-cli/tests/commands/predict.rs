//! `deepfake predict`: options that cannot work are refused before anything is scored; the
//! closing summary counts the records printed; the exit status says whether all were scored.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{deep_model, deepfake, deepfake_in, stderr_of_failure, tiny_model};

/// A photo of `crates/deepfake-faces/tests/fixtures` (scikit-image's sample photos).
fn face_photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-faces/tests/fixtures")
        .join(name)
}

#[test]
fn predict_refuses_options_that_cannot_work_with_exit_status_2() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model = tiny_model(dir.path());
    let image = dir.path().join("grey.png");
    image::RgbImage::from_pixel(40, 40, image::Rgb([90, 90, 90]))
        .save(&image)
        .expect("image written");
    for (flags, named) in [
        (
            &["--max-megapixels", "0"][..],
            "--max-megapixels must be positive",
        ),
        (
            &["--max-megapixels=-2"][..],
            "--max-megapixels must be positive",
        ),
        (
            &["--max-megapixels", "NaN"][..],
            "--max-megapixels must be positive",
        ),
        (
            &["--max-video-seconds", "0"][..],
            "--max-video-seconds must be positive",
        ),
        (
            &["--max-video-seconds", "NaN"][..],
            "--max-video-seconds must be positive",
        ),
        (&["--frames", "0"][..], "--frames must be at least 1"),
        (
            &["--heatmap", "maps", "--frames", "2"][..],
            "--heatmap explains images; it does not work with --frames",
        ),
        (
            &["--heatmap", "maps", "--faces", "auto"][..],
            "--heatmap explains whole images; pass --faces off with it",
        ),
        (
            &["--save-crops", "crops", "--faces", "off"][..],
            "--save-crops writes the face crops of --faces auto or only",
        ),
    ] {
        let mut args: Vec<&dyn AsRef<OsStr>> = vec![&"predict", &"--checkpoint", &model];
        args.extend(flags.iter().map(|option| option as &dyn AsRef<OsStr>));
        args.push(&image);
        // In the scratch folder: a wrongly accepted `maps` or `crops` lands there.
        let stderr = stderr_of_failure(&deepfake_in(dir.path(), &args), 2);
        assert!(
            stderr.starts_with(&format!("error: {named}")),
            "{flags:?}: {stderr}"
        );
    }
}

/// Two photos with faces (scored at a threshold between their scores: one fake, one
/// real), one without a face and one unreadable file: the summary counts each kind, and
/// the exit status is 1 for the failed file.
#[test]
fn predict_summary_counts_each_kind_of_record() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let model = deep_model(dir.path());
    let broken = dir.path().join("broken.png");
    std::fs::write(&broken, b"not an image").expect("file written");
    let faces = [face_photo("two_faces.png"), face_photo("tilted_face.png")];
    let no_face = face_photo("no_face.png");
    let run = |threshold: &str| {
        let output = deepfake(&[
            &"predict",
            &"--format",
            &"json",
            &"--threshold",
            &threshold,
            &"--checkpoint",
            &model,
            &faces[0],
            &faces[1],
            &no_face,
            &broken,
        ]);
        let records: Vec<Value> =
            serde_json::from_slice(&output.stdout).expect("a JSON array of records");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), records, stderr)
    };
    let (_, records, _) = run("0.5");
    let p: Vec<f64> = records[..2]
        .iter()
        .map(|r| r["p_fake"].as_f64().expect("a score"))
        .collect();
    assert!((p[0] - p[1]).abs() > 1e-4, "both faces score {p:?}");
    let between = (p[0] + p[1]) / 2.0;

    let (code, records, stderr) = run(&between.to_string());
    assert_eq!(code, Some(1), "one input failed: {stderr}");
    let labels: Vec<&str> = records
        .iter()
        .map(|r| r["label"].as_str().unwrap_or("-"))
        .collect();
    let higher = if p[0] > p[1] { 0 } else { 1 };
    assert_eq!(labels[higher], "fake");
    assert_eq!(labels[1 - higher], "real");
    assert_eq!(records[2]["note"], "no face found");
    assert!(records[3]["error"].is_string(), "{}", records[3]);
    assert!(
        stderr.contains("4 inputs: 1 fake, 1 real, 1 without a face, 1 failed; "),
        "{stderr}"
    );

    // Without a faceless input, no such count.
    let output = deepfake(&[&"predict", &"--checkpoint", &model, &faces[0]]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("1 inputs: ") && stderr.contains(" real, 0 failed; "),
        "{stderr}"
    );
    assert!(!stderr.contains("without a face"), "{stderr}");
}
