//! Resizing, rotation and colour jitter against PIL (fixtures from
//! `fixtures/gen_pil_fixtures.py`).

use deepfake_data::augment::{adjust_brightness, adjust_contrast};
use deepfake_data::resize::resize_rgb;
use deepfake_data::rotate::rotate_nearest;
use image::RgbImage;

use crate::fixtures::load;

/// Mean |a - b| per channel, in 8-bit levels, and the largest single difference.
fn diff(a: &RgbImage, b: &RgbImage) -> ([f64; 3], u8) {
    assert_eq!(a.dimensions(), b.dimensions());
    let mut sum = [0.0f64; 3];
    let mut max = 0u8;
    for (p, q) in a.pixels().zip(b.pixels()) {
        for (c, total) in sum.iter_mut().enumerate() {
            let d = p.0[c].abs_diff(q.0[c]);
            *total += f64::from(d);
            max = max.max(d);
        }
    }
    let n = f64::from(a.width() * a.height());
    (sum.map(|s| s / n), max)
}

#[test]
fn resize_matches_pil_bilinear_within_one_level_and_a_twentieth_on_average() {
    for (src, sizes) in [
        ("256x256", &[224u32, 64][..]),
        ("300x200", &[224][..]),
        ("100x80", &[224, 64][..]),
    ] {
        let source = load(&format!("src_{src}.png"));
        for &size in sizes {
            let ours = resize_rgb(&source, size, size).unwrap();
            let pil = load(&format!("resized_{src}_to_{size}.png"));
            let (mean, max) = diff(&ours, &pil);
            println!("{src} -> {size}: mean |diff| {mean:?} levels, max {max}");
            // The same passes in the same order (x, then y, each rounded to 8 bits); PIL's
            // weights have 22 fractional bits, ours up to 15, so a sum that falls within
            // a rounding step of .5 can round the other way: a rare step of 1.
            assert!(max <= 1, "{src} -> {size}: max |diff| {max} levels");
            assert!(
                mean.iter().all(|&m| m <= 0.05),
                "{src} -> {size}: mean {mean:?}"
            );
        }
    }
}

#[test]
fn rotation_matches_pil_nearest() {
    let cases = [
        ("src_100x80.png", 7.3, "rotated_7.3.png"),
        ("src_100x80.png", -9.9, "rotated_-9.9.png"),
        ("src_256x256.png", 3.21, "rotated_256_3.21.png"),
        ("src_256x256.png", -0.5, "rotated_256_-0.5.png"),
    ];
    for (source, angle, expected) in cases {
        let ours = rotate_nearest(&load(source), angle);
        let pil = load(expected);
        let differing = ours
            .pixels()
            .zip(pil.pixels())
            .filter(|(a, b)| a != b)
            .count();
        let share = differing as f64 / f64::from(ours.width() * ours.height());
        println!("rotate {angle}: {differing} pixels differ ({share:.4})");
        // The same 16.16 fixed-point walk as PIL: bit-exact.
        assert_eq!(differing, 0, "rotate {angle}: {share}");
    }
}

#[test]
fn brightness_and_contrast_match_pil_image_enhance() {
    let source = load("src_100x80.png");
    for factor in [0.83f32, 1.17] {
        let mut ours = source.clone();
        adjust_brightness(&mut ours, factor);
        let (_, max) = diff(&ours, &load(&format!("brightness_{factor}.png")));
        assert_eq!(max, 0, "brightness {factor}: max diff {max}");
        let mut ours = source.clone();
        adjust_contrast(&mut ours, factor);
        let (_, max) = diff(&ours, &load(&format!("contrast_{factor}.png")));
        assert_eq!(max, 0, "contrast {factor}: max diff {max}");
    }
}
