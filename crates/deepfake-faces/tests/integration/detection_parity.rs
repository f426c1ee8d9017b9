//! Whole-image detection, in every form (Burn flex and the host CPU engine), against
//! facenet-pytorch 2.6.0's `MTCNN.detect` on the same photos:
//! the same faces, boxes with IoU >= 0.995, landmarks within 0.05 px, probabilities within
//! 1e-4 (the issue asked for 0.99 and 1 px; we measure IoU 1.00000 and < 1e-4 px, and
//! regressing boxes by their width without the +1 gives IoU 0.981 and 0.13 px).

use burn::tensor::Device;
use deepfake_faces::{Face, Mtcnn, MtcnnConfig, iou};
use serde_json::Value;

use crate::common::{expected, floats, mtcnn, mtcnn_forms, photo};

/// Every form of the detector ([`mtcnn_forms`]) on photo `name`.
fn check_photo(name: &str) {
    for (form, mtcnn) in mtcnn_forms() {
        check_photo_with(&format!("{name} ({form})"), name, mtcnn);
    }
}

fn check_photo_with(label: &str, name: &str, mtcnn: &Mtcnn) {
    let want = &expected()["photos"][name];
    let image = photo(name);
    assert_eq!(image.width() as u64, want["width"].as_u64().unwrap());
    let got: Vec<Face> = mtcnn.detect(&image).unwrap();
    let name = label;
    let want_faces = want["faces"].as_array().unwrap();
    assert_eq!(got.len(), want_faces.len(), "{name}: faces found {got:?}");
    for (i, (g, w)) in got.iter().zip(want_faces).enumerate() {
        let want_box: [f32; 4] = floats(&w["box"]).try_into().unwrap();
        let overlap = iou(&g.bbox, &want_box);
        assert!(
            overlap >= 0.995,
            "{name} face {i}: IoU {overlap} ({:?} vs {want_box:?})",
            g.bbox
        );
        let p = w["probability"].as_f64().unwrap() as f32;
        assert!(
            (g.probability - p).abs() <= 1e-4,
            "{name} face {i}: p {} vs {p}",
            g.probability
        );
        let want_points: Vec<f32> = w["landmarks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|pt: &Value| floats(pt))
            .collect();
        let got_points: Vec<f32> = g.landmarks.iter().flatten().copied().collect();
        let diff = deepfake_compare::max_abs_diff_or_panic(&got_points, &want_points);
        assert!(diff <= 0.05, "{name} face {i}: landmarks off by {diff} px");
        eprintln!(
            "{name} face {i}: IoU {overlap:.5}, |dp| {:.1e}, landmarks off by {diff:.2e} px",
            (g.probability - p).abs()
        );
    }
}

#[test]
fn two_faces_of_different_sizes() {
    check_photo("two_faces.png");
}

#[test]
fn a_rolled_face() {
    check_photo("tilted_face.png");
}

#[test]
fn a_grey_photo() {
    check_photo("camera_grey.png");
}

#[test]
fn no_face_in_a_photo_of_coffee() {
    check_photo("no_face.png");
}

#[test]
fn the_pyramid_is_facenet_pytorchs() {
    // 640x480, min face 20: scales 0.6 * 0.709^k while 480 * 0.6 * 0.709^k >= 12.
    let scales = mtcnn().pyramid_scales(640, 480);
    assert_eq!(scales.len(), 10);
    assert!((scales[0] - 0.6).abs() < 1e-12);
    assert!((scales[9] - 0.6 * 0.709f64.powi(9)).abs() < 1e-12);
    assert!(mtcnn().pyramid_scales(11, 400).is_empty());
}

#[test]
fn the_settings_given_are_the_settings_used() {
    let config = MtcnnConfig {
        min_face_size: 40.0,
        ..MtcnnConfig::default()
    };
    let mtcnn = Mtcnn::new(&Device::flex())
        .expect("bundled weights load")
        .with_config(config);
    assert_eq!(mtcnn.config(), &config);
    // A minimum face of 40 pixels: the first scale maps it to P-Net's 12, 0.3 (not 0.6).
    assert!((mtcnn.pyramid_scales(640, 480)[0] - 0.3).abs() < 1e-12);
}
