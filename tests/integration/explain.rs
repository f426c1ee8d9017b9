//! `Detector::explain`: the verdicts are `predict`'s, the maps follow the image, sequences get
//! one map per frame, and `predict --heatmap` writes a heatmap for each scored input only.
//! (The maps themselves equal PyTorch's Grad-CAM: crates/deepfake-model/tests/grad_cam.rs.)

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use burn::tensor::Device;
use deepfake::data::synth::{TraceRegion, read_regions};
use deepfake::model::{Detector as Model, DetectorConfig};
use deepfake::predict::Detector;
use deepfake_compare::{max_abs_diff_or_panic, spread};
use image::{DynamicImage, Rgb, RgbImage};

use common::example;

fn deep_model() -> (Model, DetectorConfig) {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let weights = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-model/tests/fixtures/deep_detector.pth");
    let model = Model::from_pytorch(weights, &config, &Device::flex()).unwrap();
    (model, config)
}

/// A grey image (the deep fixture's P(fake) follows brightness) with a bright square at
/// `(x, y)` (the maps follow it).
fn image(level: u8, x0: u32, y0: u32) -> RgbImage {
    RgbImage::from_fn(96, 80, |x, y| {
        let base = level.saturating_add(((x * 7 + y * 3) % 9) as u8);
        let v = if (x0..x0 + 30).contains(&x) && (y0..y0 + 30).contains(&y) {
            base.saturating_add(90)
        } else {
            base
        };
        Rgb([v, v, v])
    })
}

fn images() -> Vec<DynamicImage> {
    [(30, 0, 0), (90, 60, 40), (160, 0, 45), (220, 60, 0)]
        .into_iter()
        .map(|(l, x, y)| DynamicImage::ImageRgb8(image(l, x, y)))
        .collect()
}

#[test]
fn explanations_carry_predicts_verdicts_and_maps_that_follow_the_image() {
    let (model, config) = deep_model();
    let device = Device::flex();
    let detector = Detector::new(model, config, &device).with_batch_size(3);
    let images = images();
    let explanations = detector.explain(&images).unwrap();
    let predictions = detector.predict(&images).unwrap();
    assert_eq!(explanations.len(), images.len());
    let got: Vec<f32> = explanations.iter().map(|e| e.prediction.p_fake).collect();
    let want: Vec<f32> = predictions.iter().map(|p| p.p_fake).collect();
    assert!(spread(&want, 1) > 0.3, "{want:?}");
    let diff = max_abs_diff_or_panic(&got, &want);
    assert!(diff <= 1e-5, "explain vs predict P(fake): {diff}");
    let plane = explanations[0].map_size[0] * explanations[0].map_size[1];
    let maps: Vec<f32> = explanations.iter().flat_map(|e| e.map.clone()).collect();
    assert_eq!(maps.len(), images.len() * plane);
    assert!(maps.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(
        spread(&maps, plane) > 0.1,
        "the maps do not depend on the image"
    );
    let heatmap = explanations[0].heatmap(96, 80);
    assert_eq!(heatmap.len(), 96 * 80);
    assert!(heatmap.iter().all(|v| (0.0..=1.0).contains(v)));

    // A sequence: one map per frame, all with the sequence's verdict.
    let frames = &images[..3];
    let per_frame = detector.explain_sequence(frames).unwrap();
    assert_eq!(per_frame.len(), 3);
    let sequence = detector.predict_sequence(frames).unwrap();
    for explanation in &per_frame {
        assert!((explanation.prediction.p_fake - sequence.p_fake).abs() <= 1e-5);
    }
    assert!(detector.explain_sequence(&[]).is_err());
}

#[test]
fn predict_heatmap_writes_one_overlay_per_scored_input_and_none_for_a_failed_one() {
    let dir = tempfile::tempdir().unwrap();
    let (model, config) = deep_model();
    let saved = dir.path().join("model");
    model.save(&config, &saved).unwrap();
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("b")).unwrap();
    image(40, 0, 0).save(inputs.join("a.png")).unwrap();
    image(200, 50, 30).save(inputs.join("b/a.png")).unwrap();
    std::fs::write(inputs.join("broken.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let heatmaps = dir.path().join("heatmaps");
    let output = Command::new(example("predict"))
        .args(["--format", "jsonl", "--checkpoint"])
        .arg(&saved)
        .arg("--heatmap")
        .arg(&heatmaps)
        .arg(&inputs)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "one input fails");
    let records: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    let mut written = Vec::new();
    for record in &records {
        let path = record["path"].as_str().unwrap();
        if path.ends_with("broken.png") {
            assert!(
                record["error"].is_string() && record["heatmap"].is_null(),
                "{record}"
            );
            continue;
        }
        let heatmap = PathBuf::from(record["heatmap"].as_str().unwrap());
        let overlay = image::open(&heatmap).unwrap();
        // The image plus the colour bar strip.
        assert_eq!(overlay.height(), 80);
        assert!(overlay.width() > 96);
        written.push(heatmap.file_name().unwrap().to_string_lossy().into_owned());
    }
    written.sort();
    assert_eq!(written, ["a-2.heatmap.png", "a.heatmap.png"]);
    assert_eq!(std::fs::read_dir(&heatmaps).unwrap().count(), 2);
    // The same verdicts as without --heatmap.
    let plain = Command::new(example("predict"))
        .args(["--format", "jsonl", "--checkpoint"])
        .arg(&saved)
        .arg(&inputs)
        .output()
        .unwrap();
    let plain: Vec<serde_json::Value> = String::from_utf8_lossy(&plain.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (a, b) in records.iter().zip(&plain) {
        assert_eq!(a["path"], b["path"]);
        if let (Some(x), Some(y)) = (a["p_fake"].as_f64(), b["p_fake"].as_f64()) {
            assert!((x - y).abs() <= 1e-5, "{a} vs {b}");
        }
    }
}

/// A tiny detector trained on synthetic data whose fake traces sit in one known patch per
/// image, 0.4 of the side (`tests/fixtures/heatmap_sanity/make_fixture.sh`; on its whole test
/// split: 2.42x inside vs outside, 1.17x for another image's patch). On 24 held-out fakes, its
/// Fake heatmaps must be at least twice as dense inside their own patch as outside, and
/// clearly denser than inside another image's patch (a map that ignores where the traces are,
/// e.g. one flipped or transposed, scores alike on both).
#[test]
fn heatmaps_of_a_detector_trained_on_confined_traces_fall_on_the_traces() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/heatmap_sanity");
    let detector = Detector::load(fixture.join("model"), &Device::flex()).unwrap();
    let mut fakes: Vec<(PathBuf, TraceRegion)> = read_regions(&fixture)
        .unwrap()
        .into_iter()
        .map(|(name, region)| (fixture.join("images").join(name), region))
        .collect();
    fakes.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(fakes.len(), 24);
    let called_fake = fakes
        .iter()
        .filter(|(path, _)| {
            detector.predict_paths(&[path])[0]
                .as_ref()
                .unwrap()
                .label
                .is_fake()
        })
        .count();
    assert!(
        called_fake >= 20,
        "the fixture model calls only {called_fake} of 24 fakes fake"
    );
    let mass = detector.region_mass(&fakes).unwrap();
    assert_eq!(mass.images, 24);
    let (own_ratio, other_ratio) = (mass.ratio(), mass.control_ratio());
    println!("inside / outside: own patch {own_ratio:.2}x, another image's {other_ratio:.2}x");
    assert!(own_ratio >= 2.0, "own patch {own_ratio:.2}x < 2x");
    assert!(
        own_ratio >= 1.5 * other_ratio,
        "own patch {own_ratio:.2}x barely beats another image's {other_ratio:.2}x"
    );
}
