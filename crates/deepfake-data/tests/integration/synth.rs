//! The synthetic fakes are not separable by a trivial global statistic.

use deepfake_data::synth::{SynthConfig, render};
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
