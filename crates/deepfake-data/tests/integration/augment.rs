//! The fused fast paths of augmentation equal the step-by-step recipe.

use deepfake_data::augment::{
    AugmentConfig, adjust_brightness, adjust_contrast, augment, augment_deferred, item_rng,
};
use deepfake_data::degrade::{Degradations, JpegAugment};
use deepfake_data::normalize::{normalize_into, normalize_mapped_into};
use deepfake_data::rotate::{rotate_nearest, rotate_nearest_mirrored};
use image::{Rgb, RgbImage};
use rand::Rng;

fn test_image() -> RgbImage {
    RgbImage::from_fn(61, 47, |x, y| {
        Rgb([(x * 4 + y) as u8, (y * 5) as u8, ((x * y) % 251) as u8])
    })
}

#[test]
fn mirrored_rotation_equals_flip_then_rotate() {
    let image = test_image();
    for angle in [-9.7, 0.0, 4.2] {
        let flipped = image::imageops::flip_horizontal(&image);
        assert_eq!(
            rotate_nearest_mirrored(&image, angle, true),
            rotate_nearest(&flipped, angle)
        );
    }
}

#[test]
fn deferred_colour_jitter_equals_applying_it() {
    let image = test_image();
    let config = AugmentConfig::default();
    for index in 0..40 {
        let whole = augment(&image, &config, &mut item_rng(7, 1, index)).unwrap();
        let (geometry, values) =
            augment_deferred(&image, &config, &mut item_rng(7, 1, index)).unwrap();
        let mapped = RgbImage::from_fn(geometry.width(), geometry.height(), |x, y| {
            Rgb(geometry.get_pixel(x, y).0.map(|v| values[usize::from(v)]))
        });
        assert_eq!(whole, mapped, "item {index}");
        let (mut direct, mut fused) = (Vec::new(), Vec::new());
        normalize_into(&whole, &mut direct);
        normalize_mapped_into(&geometry, &values, &mut fused);
        assert_eq!(direct, fused, "item {index}");
    }
}

#[test]
fn composed_jitter_equals_the_two_steps_in_turn() {
    // Brightness then contrast, as two separate passes, against the one-table recipe with
    // only those two steps (no geometry): factors and order come from the same draws.
    let image = test_image();
    let config = AugmentConfig {
        hflip: 0.0,
        rotation: 0.0,
        ..AugmentConfig::default()
    };
    let mut seen_both_orders = [false; 2];
    for index in 0..40 {
        let ours = augment(&image, &config, &mut item_rng(3, 0, index)).unwrap();
        // Re-draw the factors the way `augment` does and apply them step by step.
        use rand::Rng;
        use rand::seq::SliceRandom;
        let mut rng = item_rng(3, 0, index);
        let brightness = rng.random_range(0.8..=1.2f64) as f32;
        let contrast = rng.random_range(0.8..=1.2f64) as f32;
        let mut order = [0u8, 1];
        order.shuffle(&mut rng);
        seen_both_orders[usize::from(order[0])] = true;
        let mut expected = image.clone();
        for step in order {
            if step == 0 {
                adjust_brightness(&mut expected, brightness);
            } else {
                adjust_contrast(&mut expected, contrast);
            }
        }
        assert_eq!(ours, expected, "item {index}");
    }
    assert_eq!(seen_both_orders, [true, true]);
}

/// Mean |a - b| over all channels, in 8-bit levels.
fn mean_level_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let total: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// JPEG re-encoding (as an augmentation with probability 1) loses more the lower the
/// quality; without it the image is untouched.
#[test]
fn jpeg_recompression_loses_detail_by_quality() {
    let image = test_image();
    let at = |quality: u8| {
        let config = AugmentConfig {
            degrade: Degradations {
                jpeg: Some(JpegAugment {
                    p: 1.0,
                    quality_min: quality,
                    quality_max: quality,
                }),
                ..Degradations::default()
            },
            ..AugmentConfig::none()
        };
        augment(&image, &config, &mut item_rng(1, 0, 0)).unwrap()
    };
    let losses: Vec<f64> = [95u8, 50, 15]
        .iter()
        .map(|&q| mean_level_diff(&at(q), &image))
        .collect();
    println!("mean |diff| at quality 95, 50, 15: {losses:.2?} levels");
    assert!(losses[0] > 0.0, "quality 95 left the image bit-identical");
    assert!(
        losses[0] < losses[1] && losses[1] < losses[2],
        "loss does not grow as quality falls: {losses:?}"
    );
    assert!(losses[2] > losses[0] + 5.0, "{losses:?}");
    let untouched = augment(&image, &AugmentConfig::none(), &mut item_rng(1, 0, 0)).unwrap();
    assert_eq!(untouched, image);
}

/// Only the flip: `hflip` 1 flips every item, 0 none, 0.5 about half of them.
#[test]
fn flip_probability_is_the_share_of_flipped_items() {
    let image = test_image();
    let flipped = image::imageops::flip_horizontal(&image);
    let flipped_items = |hflip: f64| {
        let config = AugmentConfig {
            hflip,
            ..AugmentConfig::none()
        };
        (0..400u64)
            .filter(|&i| {
                let out = augment(&image, &config, &mut item_rng(5, 0, i)).unwrap();
                assert!(out == image || out == flipped, "hflip {hflip}, item {i}");
                out == flipped
            })
            .count()
    };
    assert_eq!(flipped_items(1.0), 400);
    assert_eq!(flipped_items(0.0), 0);
    // Binomial(400, 0.5): mean 200, standard deviation 10; the bounds are 4 deviations.
    let half = flipped_items(0.5);
    assert!((160..=240).contains(&half), "{half} of 400 flipped at 0.5");
}

/// Only the rotation: each item is the image rotated by its RNG's first draw, uniform in
/// `[-rotation, rotation]` degrees (angles under about half a degree move no pixel of this
/// small image, so only most items differ from it).
#[test]
fn rotation_angle_is_drawn_from_the_whole_range() {
    let image = test_image();
    let config = AugmentConfig {
        rotation: 10.0,
        ..AugmentConfig::none()
    };
    let mut changed = 0;
    for i in 0..50u64 {
        let angle = item_rng(5, 0, i).random_range(-10.0..=10.0);
        let out = augment(&image, &config, &mut item_rng(5, 0, i)).unwrap();
        assert!(
            out == rotate_nearest(&image, angle),
            "item {i}: not the image rotated by {angle}"
        );
        changed += usize::from(out != image);
    }
    // A sanity bound, not a reference: it keeps the equality above from holding only
    // because nothing rotated (with these 50 draws, 3 angles move no pixel).
    assert!(changed >= 45, "only {changed} of 50 items rotated");
}
