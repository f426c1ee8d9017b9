//! Faces in photos and videos: each face found, aligned and scored on its own; the image's
//! verdict the most suspicious face's; a photo without a face gets a note, not a verdict; a
//! saved crop is exactly what was scored; a video's largest face is tracked as it moves.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::Device;
use deepfake::face_detector_for;
use deepfake::faces::{ALIGNED_SIZE, align_face, iou};
use deepfake::predict::{Detector, FaceMode};
use image::DynamicImage;
use serde_json::Value;

use crate::common::{self, face_photo, ffmpeg};

fn json(stdout: &[u8]) -> Vec<Value> {
    serde_json::from_slice(stdout).expect("predict --format json prints a JSON array")
}

fn run_predict(args: &[&str], model: &Path, inputs: &[&Path]) -> (Option<i32>, Vec<Value>) {
    let output = Command::new(common::example("predict"))
        .args(args)
        .args(["--format", "json", "--checkpoint"])
        .arg(model)
        .args(inputs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.stdout.is_empty(), "{stderr}");
    (output.status.code(), json(&output.stdout))
}

#[test]
fn each_face_is_scored_on_its_aligned_crop_and_the_image_takes_the_most_suspicious() {
    let dir = tempfile::tempdir().unwrap();
    let detector = Detector::load(common::saved_deep(dir.path()), &Device::flex()).unwrap();
    let image = image::open(face_photo("two_faces.png")).unwrap().to_rgb8();
    let found = detector.predict_faces(&image, FaceMode::Auto).unwrap();
    assert!(!found.scored_whole);
    // The faces MTCNN (in the form predict uses on this device) finds, largest first.
    let detected = face_detector_for(&Device::flex())
        .unwrap()
        .detect(&image)
        .unwrap();
    assert_eq!(found.faces.len(), 2);
    for (verdict, face) in found.faces.iter().zip(&detected) {
        assert_eq!(verdict.face, *face);
        let crop = align_face(&image, face, ALIGNED_SIZE);
        assert_eq!(verdict.crop.as_ref(), Some(&crop));
        let alone = detector.predict(&[DynamicImage::ImageRgb8(crop)]).unwrap()[0];
        assert_eq!(verdict.prediction, alone);
    }
    let (a, b) = (
        found.faces[0].prediction.p_fake,
        found.faces[1].prediction.p_fake,
    );
    assert!(
        (a - b).abs() > 1e-4,
        "the two faces score {a} and {b}: test would be vacuous"
    );
    assert_eq!(found.prediction.unwrap().p_fake, a.max(b));
    // Off: the whole image, one verdict, no faces.
    let whole = detector.predict_faces(&image, FaceMode::Off).unwrap();
    assert!(whole.faces.is_empty() && whole.scored_whole);
    let direct = detector.predict(&[DynamicImage::ImageRgb8(image)]).unwrap()[0];
    assert_eq!(whole.prediction, Some(direct));
}

#[test]
fn the_cli_writes_crops_that_score_as_their_faces_and_notes_photos_without_faces() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    let crops = dir.path().join("crops");
    let two = face_photo("two_faces.png");
    let none = face_photo("no_face.png");
    let (code, records) = run_predict(
        &["--save-crops", crops.to_str().unwrap()],
        &model,
        &[&two, &none],
    );
    assert_eq!(
        code,
        Some(0),
        "a photo without a face is not a failure: {records:?}"
    );
    let faces = records[0]["faces"]
        .as_array()
        .expect("faces of two_faces.png");
    assert_eq!(faces.len(), 2);
    let most = faces
        .iter()
        .map(|f| f["p_fake"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(records[0]["p_fake"].as_f64().unwrap(), most);
    // No face: a note, no verdict, no error.
    assert_eq!(records[1]["note"], "no face found");
    assert!(records[1].get("label").is_none() && records[1].get("error").is_none());
    assert_eq!(records[1]["faces"].as_array().map(Vec::len), Some(0));

    // Each saved crop, scored whole, gives its face's verdict: the file is what was scored.
    let crop_paths: Vec<String> = faces
        .iter()
        .map(|f| f["crop"].as_str().expect("crop path").to_string())
        .collect();
    assert!(
        crop_paths[0].ends_with("two_faces.face1.png"),
        "{}",
        crop_paths[0]
    );
    let inputs: Vec<&Path> = crop_paths.iter().map(Path::new).collect();
    let (_, whole) = run_predict(&["--faces", "off"], &model, &inputs);
    for (face, scored) in faces.iter().zip(&whole) {
        let crop = image::open(scored["path"].as_str().unwrap()).unwrap();
        assert_eq!((crop.width(), crop.height()), (ALIGNED_SIZE, ALIGNED_SIZE));
        let diff = (face["p_fake"].as_f64().unwrap() - scored["p_fake"].as_f64().unwrap()).abs();
        assert!(diff <= 1e-6, "crop {}: {diff}", scored["path"]);
    }
    // An aligned crop is already one face: auto scores it whole (the same verdict as off).
    let (_, auto) = run_predict(&[], &model, &inputs[..1]);
    assert_eq!(
        auto[0]["faces"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        auto[0]
    );
    assert_eq!(auto[0]["p_fake"], whole[0]["p_fake"]);
    // Only: crops it again (a different picture of the same face, so another score).
    let (_, only) = run_predict(&["--faces", "only"], &model, &inputs[..1]);
    assert_eq!(only[0]["faces"].as_array().map(Vec::len), Some(1));
    assert_ne!(only[0]["p_fake"], whole[0]["p_fake"]);
}

#[test]
fn a_moving_face_is_tracked_through_a_video_and_a_faceless_video_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    // The astronaut's face (a 200x240 cut of the photo) sliding right across a grey frame
    // at 100 px/s for 2 s.
    let clip = dir.path().join("moving_face.mp4");
    let photo = face_photo("two_faces.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x5a6e82:size=480x360:rate=10:duration=2",
        "-i",
        photo.to_str().unwrap(),
        "-filter_complex",
        "[1]crop=200:240:0:60[face];[0][face]overlay=x='20+100*t':y=60",
        "-pix_fmt",
        "yuv420p",
        clip.to_str().unwrap(),
    ]);
    let faceless = dir.path().join("testsrc.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=10:duration=1",
        "-pix_fmt",
        "yuv420p",
        faceless.to_str().unwrap(),
    ]);
    let (code, records) = run_predict(&["--frames", "8"], &model, &[&clip, &faceless]);
    assert_eq!(code, Some(1), "the faceless video fails: {records:?}");
    let frames = records[0]["frames"].as_array().expect("per-frame scores");
    assert_eq!(frames.len(), 8);
    // The largest face's box in the photo, as facenet-pytorch found it (the fixture), cut at
    // (0, 60) and overlaid at (20 + 100 t, 60): shifted right by 20 + 100 t, vertically unchanged.
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(face_photo("mtcnn_expected.json")).unwrap())
            .unwrap();
    let in_photo: Vec<f32> = fixture["photos"]["two_faces.png"]["faces"][0]["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    for frame in frames {
        let b: Vec<f32> = frame["face_box"]
            .as_array()
            .expect("face box per frame")
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let t = frame["seconds"].as_f64().unwrap() as f32;
        let dx = 20.0 + 100.0 * t;
        let expected = [in_photo[0] + dx, in_photo[1], in_photo[2] + dx, in_photo[3]];
        let overlap = iou(&[b[0], b[1], b[2], b[3]], &expected);
        assert!(
            overlap > 0.7,
            "t={t}: box {b:?} vs {expected:?} (IoU {overlap})"
        );
    }
    assert!(records[0]["p_fake"].is_number());
    let error = records[1]["error"].as_str().expect("faceless video error");
    assert!(
        error.contains("no face found") && error.contains("--faces off"),
        "{error}"
    );
}

/// `eval --inputs data` of `model` into `out` (no bootstrap, no calibration), with `args`;
/// fails the test if it fails.
fn eval_inputs(args: &[&str], model: &Path, data: &Path, out: &Path) {
    let output = Command::new(common::example("eval"))
        .args(["--bootstrap", "0", "--no-calibrate"])
        .args(args)
        .arg("--checkpoint")
        .arg(model)
        .arg("--inputs")
        .arg(data)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn eval_inputs_scores_labelled_photos_and_videos_as_predict_does() {
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    let data = dir.path().join("labelled");
    let (real, fake) = (data.join("real"), data.join("fake"));
    std::fs::create_dir_all(&real).unwrap();
    std::fs::create_dir_all(&fake).unwrap();
    std::fs::copy(face_photo("two_faces.png"), real.join("two_faces.png")).unwrap();
    // A 1 s still video of the two faces.
    let video = real.join("still.mp4");
    ffmpeg(&[
        "-loop",
        "1",
        "-i",
        face_photo("two_faces.png").to_str().unwrap(),
        "-t",
        "1",
        "-r",
        "10",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ]);
    for name in ["tilted_face.png", "camera_grey.png", "no_face.png"] {
        std::fs::copy(face_photo(name), fake.join(name)).unwrap();
    }
    let out = dir.path().join("report");
    eval_inputs(&[], &model, &data, &out);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["n"], 4,
        "two real, two fake; the faceless photo is skipped"
    );
    let skipped: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("skipped.json")).unwrap()).unwrap();
    assert_eq!(skipped[0]["reason"], "no face found");
    assert!(
        skipped[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("no_face.png")
    );

    // Each score is predict's for the same file (faces on, 16 frames per video), and each
    // label is its folder's.
    let scores = std::fs::read_to_string(out.join("scores.csv")).unwrap();
    let rows: Vec<(String, String, f64)> = scores
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (f[0].to_string(), f[1].to_string(), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 4);
    let paths: Vec<PathBuf> = rows.iter().map(|r| PathBuf::from(&r.0)).collect();
    let inputs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let (_, predicted) = run_predict(&[], &model, &inputs);
    for ((path, label, p), record) in rows.iter().zip(&predicted) {
        let folder = Path::new(path).parent().unwrap().file_name().unwrap();
        let expected = if folder == "fake" {
            ["fake", "1"]
        } else {
            ["real", "0"]
        };
        assert!(expected.contains(&label.as_str()), "{path}: label {label}");
        let diff = (p - record["p_fake"].as_f64().unwrap()).abs();
        assert!(
            diff <= 1e-6,
            "{path}: eval {p} vs predict {}",
            record["p_fake"]
        );
    }

    // --faces off and --frames 4 reach the scoring: the faceless photo is scored too, each
    // photo as predict scores it whole, the video as predict scores 4 of its frames.
    let whole = dir.path().join("report-whole");
    eval_inputs(&["--faces", "off", "--frames", "4"], &model, &data, &whole);
    let scores = std::fs::read_to_string(whole.join("scores.csv")).unwrap();
    let rows: Vec<(PathBuf, f64)> = scores
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            (PathBuf::from(f[0]), f[2].parse().unwrap())
        })
        .collect();
    assert_eq!(rows.len(), 5, "{scores}");
    for (path, p) in &rows {
        let options: &[&str] = if path == &video {
            &["--faces", "off", "--frames", "4"]
        } else {
            &["--faces", "off"]
        };
        let (_, predicted) = run_predict(options, &model, &[path]);
        let expected = predicted[0]["p_fake"].as_f64().unwrap();
        assert!(
            (p - expected).abs() <= 1e-6,
            "{}: eval {p} vs predict {expected}",
            path.display()
        );
    }
    let sixteen = run_predict(&["--faces", "off"], &model, &[&video]).1[0]["p_fake"]
        .as_f64()
        .unwrap();
    let four = rows.iter().find(|(path, _)| path == &video).unwrap().1;
    assert!(
        (four - sixteen).abs() > 1e-5,
        "4 and 16 frames score alike ({four}): --frames would be untested"
    );
}
