//! Videos in the CLI: the sequence verdict and per-frame scores of `predict clip.mp4` equal to
//! the model on the frames ffmpeg alone decodes at the sampled indices, and a clear error
//! record for every bad video. (Which frames are sampled, rotation and the limits are
//! deepfake-data's tests.) The clips are made here with `ffmpeg -f lavfi` (none are
//! committed); `.ci/run` installs ffmpeg.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::{Device, Tensor, TensorData};
use deepfake::data::normalize::preprocess_eval;
use deepfake::data::sequence::sample_frame_indices;
use deepfake::model::Detector as Model;
use deepfake::predict::{Detector, Prediction};
use image::{DynamicImage, RgbImage};

use crate::common::{self, ffmpeg};

/// A 2 s, 25 frames/s, 320x240 clip of lavfi's moving test pattern.
fn test_clip(dir: &Path) -> PathBuf {
    let path = dir.join("testsrc2.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=25:duration=2",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

/// Every frame of `clip` as ffmpeg alone decodes it (PNG, RGB), in order.
fn every_frame(clip: &Path, dir: &Path) -> Vec<RgbImage> {
    let frames = dir.join("frames");
    std::fs::create_dir_all(&frames).unwrap();
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-fps_mode",
        "passthrough",
        frames.join("%04d.png").to_str().unwrap(),
    ]);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&frames)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| image::open(f).unwrap().to_rgb8())
        .collect()
}

fn json(stdout: &[u8]) -> Vec<serde_json::Value> {
    serde_json::from_slice::<Vec<serde_json::Value>>(stdout).unwrap()
}

#[test]
fn the_cli_scores_videos_as_sequences_with_per_frame_scores() {
    let binary = common::example("predict");
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    let clip = test_clip(dir.path());
    let reference = every_frame(&clip, dir.path());
    let mut shades = Vec::new();
    for (name, colour) in [("dark.mkv", "0x181818"), ("bright.webm", "0xE8E8E8")] {
        let path = dir.path().join(name);
        let source = format!("color=c={colour}:size=160x120:rate=10:duration=1");
        ffmpeg(&["-f", "lavfi", "-i", &source, path.to_str().unwrap()]);
        shades.push(path);
    }
    // Whole frames: the test pattern and the flat colours hold no faces.
    let output = Command::new(&binary)
        .args(["--faces", "off", "--format", "json", "--checkpoint"])
        .arg(&model)
        .arg(&clip)
        .args(&shades)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let records = json(&output.stdout);
    assert_eq!(records.len(), 3);

    // The verdict: the model's sequence forward on ffmpeg's own frames at the 16 indices.
    let (reference_model, config) = Model::load_dir(&model, &Device::flex()).unwrap();
    let size = config.image_size;
    let indices = sample_frame_indices(50, 16);
    let values: Vec<f32> = indices
        .iter()
        .flat_map(|&i| preprocess_eval(&reference[i], size as u32).unwrap())
        .collect();
    let input = Tensor::<5>::from_data(
        TensorData::new(values, [1, indices.len(), 3, size, size]),
        &Device::flex(),
    );
    let logits: Vec<f32> = reference_model
        .forward_sequence(input)
        .into_data()
        .try_to_vec()
        .unwrap();
    let expected = Prediction::from_logits([logits[0], logits[1]], 1.0, 0.5).p_fake;
    let record = &records[0];
    assert_eq!(record["path"], clip.display().to_string());
    let cli = record["p_fake"].as_f64().unwrap() as f32;
    assert!((cli - expected).abs() <= 1e-5, "video: {cli} vs {expected}");

    // Each frame's own score: the image path on the same frame.
    let detector = Detector::load(&model, &Device::flex()).unwrap();
    let images: Vec<DynamicImage> = indices
        .iter()
        .map(|&i| DynamicImage::ImageRgb8(reference[i].clone()))
        .collect();
    let singles = detector.predict(&images).unwrap();
    let frames = record["frames"].as_array().expect("per-frame scores");
    assert_eq!(frames.len(), 16);
    for ((frame, &index), single) in frames.iter().zip(&indices).zip(&singles) {
        assert_eq!(frame["index"].as_u64(), Some(index as u64));
        let seconds = frame["seconds"].as_f64().unwrap();
        assert!((seconds - index as f64 / 25.0).abs() < 1e-9);
        let p = frame["p_fake"].as_f64().unwrap() as f32;
        assert!(
            (p - single.p_fake).abs() <= 1e-5,
            "frame {index}: {p} vs {}",
            single.p_fake
        );
    }

    // The verdicts follow the input: dark and bright clips differ by 100x the tolerance above.
    let dark = records[1]["p_fake"].as_f64().unwrap();
    let bright = records[2]["p_fake"].as_f64().unwrap();
    assert!(
        (dark - bright).abs() >= 1e-3,
        "dark {dark}, bright {bright}"
    );
    assert_eq!(
        records[1]["frames"].as_array().unwrap().len(),
        10,
        "1 s at 10 frames/s"
    );
}

#[test]
fn every_bad_video_gets_an_error_record_naming_it() {
    let binary = common::example("predict");
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    let clip = test_clip(dir.path());
    let bytes = std::fs::read(&clip).unwrap();
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(&corrupt, b"not a video at all, just text with an .mp4 name").unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let empty = dir.path().join("empty.mkv");
    std::fs::write(&empty, b"").unwrap();
    let image = dir.path().join("fine.png");
    RgbImage::from_pixel(40, 40, image::Rgb([90, 90, 90]))
        .save(&image)
        .unwrap();

    let run = |extra: &[&str], path_env: Option<&Path>, inputs: &[&Path]| {
        let mut command = Command::new(&binary);
        command
            .args(["--format", "json", "--checkpoint"])
            .arg(&model)
            .args(extra)
            .args(inputs);
        if let Some(path_env) = path_env {
            command.env("PATH", path_env);
        }
        let output = command.output().unwrap();
        (output.status.code(), json(&output.stdout))
    };

    let (code, records) = run(&[], None, &[&corrupt, &truncated, &empty, &image]);
    assert_eq!(code, Some(1), "some inputs failed");
    assert_eq!(records.len(), 4);
    for (record, name) in records
        .iter()
        .zip(["corrupt.mp4", "truncated.mp4", "empty.mkv"])
    {
        let error = record["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{record}"));
        assert!(error.contains(name), "{error}");
    }
    assert!(
        records[3].get("error").is_none(),
        "the image is still scored"
    );

    let (code, records) = run(&["--max-video-seconds", "1.5"], None, &[&clip]);
    assert_eq!(code, Some(1));
    let error = records[0]["error"].as_str().unwrap();
    assert!(
        error.contains("2.0 s long, over the limit of 1.5 s"),
        "{error}"
    );
    assert!(error.contains("testsrc2.mp4"), "{error}");

    // No ffmpeg on PATH: the record says what to install.
    let no_tools = tempfile::tempdir().unwrap();
    let (code, records) = run(&[], Some(no_tools.path()), &[&clip]);
    assert_eq!(code, Some(1));
    let error = records[0]["error"].as_str().unwrap();
    assert!(error.contains("apt-get install ffmpeg"), "{error}");
}
