//! The synthetic data: fakes carry the generator traces their difficulty asks for (a
//! checkerboard, smooth blocks with little sensor noise), inside their trace region when
//! there is one, and no trivial global statistic separates the classes.

use deepfake_data::synth::{SynthConfig, TraceRegion, render, render_with_region, trace_strength};
use deepfake_formats::Label;
use image::RgbImage;

fn mean_intensity(image: &RgbImage) -> f64 {
    image.iter().map(|&v| f64::from(v)).sum::<f64>() / image.len() as f64
}

fn mean_saturation(image: &RgbImage) -> f64 {
    let total: f64 = image
        .pixels()
        .map(|p| {
            let max = f64::from(*p.0.iter().max().unwrap());
            let min = f64::from(*p.0.iter().min().unwrap());
            if max > 0.0 { (max - min) / max } else { 0.0 }
        })
        .sum();
    total / f64::from(image.width() * image.height())
}

/// Best accuracy of any threshold (either direction) on a scalar statistic.
fn best_threshold_accuracy(values: &[(f64, bool)]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len() as f64;
    let total_fake = sorted.iter().filter(|v| v.1).count() as f64;
    let mut best: f64 = 0.0;
    let mut fake_below = 0.0;
    for (i, (_, fake)) in sorted.iter().enumerate() {
        if *fake {
            fake_below += 1.0;
        }
        let below = (i + 1) as f64;
        // Predict fake above the threshold: correct = real below + fake above.
        let acc = ((below - fake_below) + (total_fake - fake_below)) / n;
        best = best.max(acc).max(1.0 - acc);
    }
    best
}

#[test]
fn mean_intensity_and_saturation_do_not_separate_the_classes() {
    let config = SynthConfig {
        size: 64,
        seed: 42,
        ..SynthConfig::default()
    };
    let mut intensity = Vec::new();
    let mut saturation = Vec::new();
    for i in 0..200 {
        for label in [Label::Real, Label::Fake] {
            let image = render(label, i, &config);
            intensity.push((mean_intensity(&image), label.is_fake()));
            saturation.push((mean_saturation(&image), label.is_fake()));
        }
    }
    let by_intensity = best_threshold_accuracy(&intensity);
    let by_saturation = best_threshold_accuracy(&saturation);
    println!("best threshold accuracy: intensity {by_intensity:.3}, saturation {by_saturation:.3}");
    assert!(by_intensity < 0.65, "intensity separates: {by_intensity}");
    assert!(
        by_saturation < 0.65,
        "saturation separates: {by_saturation}"
    );
}

#[test]
fn rendering_is_deterministic() {
    let config = SynthConfig::default();
    assert_eq!(
        render(Label::Fake, 3, &config),
        render(Label::Fake, 3, &config)
    );
    assert_ne!(
        render(Label::Fake, 3, &config),
        render(Label::Fake, 4, &config)
    );
}

/// Relative amplitude of the fakes' checkerboard at strength 1, as documented.
const CHECKERBOARD: f64 = 0.06;

/// The fakes' checkerboard: over the 2k x 2k cells of the image (k = side / 32) whose pixels
/// all pass `keep`, the mean of (plus - minus) / (plus + minus), where plus sums the green
/// channel over the cell's two brightened blocks (one of x, y in the first half of the
/// period) and minus over the other two. About CHECKERBOARD x strength in a fake's traces,
/// about 0 elsewhere.
fn checkerboard_contrast(image: &RgbImage, keep: impl Fn(u32, u32) -> bool) -> f64 {
    let k = (image.width() / 32).max(1);
    let cell = 2 * k;
    let contrasts: Vec<f64> = tiles(image, cell, keep)
        .into_iter()
        .map(|pixels| {
            let (mut plus, mut minus) = (0.0, 0.0);
            for (x, y) in pixels {
                let g = f64::from(image.get_pixel(x, y).0[1]);
                if ((x % cell) < k) != ((y % cell) < k) {
                    plus += g;
                } else {
                    minus += g;
                }
            }
            (plus - minus) / (plus + minus)
        })
        .collect();
    assert!(!contrasts.is_empty(), "no whole cell kept");
    contrasts.iter().sum::<f64>() / contrasts.len() as f64
}

/// The pixels of each `side` x `side` tile of `image` (tiles from the top-left corner)
/// whose pixels all pass `keep`.
fn tiles(image: &RgbImage, side: u32, keep: impl Fn(u32, u32) -> bool) -> Vec<Vec<(u32, u32)>> {
    let mut kept = Vec::new();
    for ty in (0..image.height() / side).map(|t| t * side) {
        for tx in (0..image.width() / side).map(|t| t * side) {
            let pixels: Vec<(u32, u32)> = (ty..ty + side)
                .flat_map(|y| (tx..tx + side).map(move |x| (x, y)))
                .collect();
            if pixels.iter().all(|&(x, y)| keep(x, y)) {
                kept.push(pixels);
            }
        }
    }
    kept
}

/// The green channel's spread within the k x k blocks whose pixels all pass `keep` (a
/// fake's blocks are flat but for sensor noise): the root of the squared deviations from
/// each block's mean over the degrees of freedom, levels.
fn within_block_spread(image: &RgbImage, keep: impl Fn(u32, u32) -> bool) -> f64 {
    let k = (image.width() / 32).max(1);
    let (mut squares, mut freedom) = (0.0, 0.0);
    for pixels in tiles(image, k, keep) {
        let block: Vec<f64> = pixels
            .iter()
            .map(|&(x, y)| f64::from(image.get_pixel(x, y).0[1]))
            .collect();
        let mean = block.iter().sum::<f64>() / block.len() as f64;
        squares += block.iter().map(|g| (g - mean).powi(2)).sum::<f64>();
        freedom += (block.len() - 1) as f64;
    }
    (squares / freedom).sqrt()
}

fn everywhere(_: u32, _: u32) -> bool {
    true
}

#[test]
fn trace_strength_falls_from_one_to_a_quarter_with_difficulty() {
    for (difficulty, strength) in [
        (-1.0, 1.0),
        (0.0, 1.0),
        (0.5, 0.625),
        (1.0, 0.25),
        (2.0, 0.25),
    ] {
        assert_eq!(
            trace_strength(difficulty),
            strength,
            "difficulty {difficulty}"
        );
    }
}

#[test]
fn fakes_carry_a_checkerboard_and_little_noise_as_strong_as_their_difficulty_asks() {
    for difficulty in [0.0, 0.5, 1.0] {
        let config = SynthConfig {
            size: 64,
            seed: 1,
            difficulty,
            ..SynthConfig::default()
        };
        let strength = f64::from(trace_strength(difficulty));
        // The fakes' sensor noise: sigma in [2, 5) levels times 1 - 0.8 strength, plus
        // rounding to whole levels.
        let quiet = 1.0 - 0.8 * strength;
        for i in 0..20 {
            let fake = render(Label::Fake, i, &config);
            let contrast = checkerboard_contrast(&fake, everywhere);
            assert!(
                (contrast - CHECKERBOARD * strength).abs() < 0.005,
                "difficulty {difficulty}, fake {i}: contrast {contrast}"
            );
            let spread = within_block_spread(&fake, everywhere);
            assert!(
                (2.0 * quiet - 0.2..5.0 * quiet + 0.3).contains(&spread),
                "difficulty {difficulty}, fake {i}: spread {spread}"
            );
        }
    }
    // Reals do not depend on the difficulty: checked once.
    let config = SynthConfig {
        size: 64,
        seed: 1,
        ..SynthConfig::default()
    };
    for i in 0..20 {
        let real = render(Label::Real, i, &config);
        let contrast = checkerboard_contrast(&real, everywhere);
        assert!(contrast.abs() < 0.005, "real {i}: contrast {contrast}");
        let spread = within_block_spread(&real, everywhere);
        assert!(spread > 5.0, "real {i}: spread {spread}");
    }
}

#[test]
fn confined_traces_stay_in_their_patch_and_the_rest_looks_real() {
    let whole = SynthConfig {
        size: 64,
        seed: 2,
        difficulty: 0.0,
        ..SynthConfig::default()
    };
    let confined = SynthConfig {
        trace_region: Some(0.5),
        ..whole.clone()
    };
    let mut places = std::collections::HashSet::new();
    for i in 0..20 {
        let (image, region) = render_with_region(Label::Fake, i, &confined);
        let region = region.expect("a fake has a region");
        assert_eq!(region.side, 32);
        assert!(
            region.x + region.side <= 64 && region.y + region.side <= 64,
            "{region:?}"
        );
        places.insert((region.x, region.y));
        // Inside: the same pixels as the unconfined fake.
        let traced = render(Label::Fake, i, &whole);
        let (mut inside, mut outside_same) = (0, 0);
        for (x, y, pixel) in image.enumerate_pixels() {
            if region.contains(x, y) {
                assert_eq!(
                    pixel,
                    traced.get_pixel(x, y),
                    "fake {i} ({x}, {y}) in {region:?}"
                );
                inside += 1;
            } else if pixel == traced.get_pixel(x, y) {
                outside_same += 1;
            }
        }
        assert_eq!(inside, 32 * 32);
        assert!(
            outside_same < 64 * 64 / 4,
            "fake {i}: {outside_same} outside unchanged"
        );
        // Outside: no checkerboard, a real camera's noise.
        let out = |x, y| !region.contains(x, y);
        let contrast = checkerboard_contrast(&image, out);
        assert!(
            contrast.abs() < 0.005,
            "fake {i} outside: contrast {contrast}"
        );
        let (quiet, noisy) = (
            within_block_spread(&image, |x, y| region.contains(x, y)),
            within_block_spread(&image, out),
        );
        assert!(
            quiet < 1.2 && noisy > 2.0,
            "fake {i}: spread {quiet} in, {noisy} out"
        );
    }
    assert!(places.len() > 15, "patches in {} places", places.len());
}

#[test]
fn trace_patches_are_the_asked_fraction_of_the_side_and_only_on_fakes() {
    let config = |fraction| SynthConfig {
        size: 64,
        trace_region: fraction,
        ..SynthConfig::default()
    };
    let patch = |fraction| render_with_region(Label::Fake, 0, &config(Some(fraction))).1;
    // round(0.05 x 64) = 3 at the smallest.
    assert_eq!(patch(0.01).map(|r| r.side), Some(3));
    assert_eq!(patch(0.3).map(|r| r.side), Some(19));
    let full = Some(TraceRegion {
        x: 0,
        y: 0,
        side: 64,
    });
    assert_eq!(patch(1.0), full);
    assert_eq!(patch(3.0), full);
    assert_eq!(
        render_with_region(Label::Real, 0, &config(Some(0.5))).1,
        None
    );
    assert_eq!(render_with_region(Label::Fake, 0, &config(None)).1, None);
}
