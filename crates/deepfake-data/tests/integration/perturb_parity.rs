//! JPEG re-encoding and Gaussian blur against PIL (fixtures from
//! `fixtures/gen_perturb_fixtures.py`), and the check that each reference differs from its
//! source by far more than the tolerance (so the comparison cannot pass on a no-op).

use deepfake_data::perturb::{gaussian_blur, jpeg_roundtrip};
use image::RgbImage;

use crate::fixtures::load;

const SOURCES: [&str; 2] = ["100x80", "smooth_99x75"];

/// Mean |a - b| over all values, in 8-bit levels, and the largest single difference.
fn diff(a: &RgbImage, b: &RgbImage) -> (f64, u8) {
    assert_eq!(a.dimensions(), b.dimensions(), "sizes differ");
    assert_eq!(a.len(), b.len());
    let (mut sum, mut max) = (0u64, 0u8);
    for (p, q) in a.iter().zip(b.iter()) {
        let d = p.abs_diff(*q);
        sum += u64::from(d);
        max = max.max(d);
    }
    (sum as f64 / a.len() as f64, max)
}

#[test]
fn blur_is_pil_gaussian_blur_bit_for_bit() {
    for source_name in SOURCES {
        let source = load(&format!("src_{source_name}.png"));
        for sigma in ["0.5", "1", "2", "3"] {
            let pil = load(&format!("blur_{source_name}_s{sigma}.png"));
            let ours = gaussian_blur(&source, sigma.parse().unwrap());
            let (mean, max) = diff(&ours, &pil);
            let (change, _) = diff(&source, &pil);
            println!(
                "blur {source_name} sigma {sigma}: mean {mean:.4}, max {max}; PIL changed the source by {change:.2} on average"
            );
            // Every blur moves the textured source by levels; the smooth one barely at 0.5.
            if source_name == "100x80" {
                assert!(change > 3.0, "the reference barely differs from its source");
            }
            assert_eq!(
                max, 0,
                "blur {source_name} sigma {sigma}: mean {mean}, max {max}"
            );
        }
    }
}

#[test]
fn jpeg_is_within_half_a_level_of_pil_on_average() {
    for source_name in SOURCES {
        let source = load(&format!("src_{source_name}.png"));
        for quality in [95u8, 75, 50, 30] {
            let pil = load(&format!("jpeg_{source_name}_q{quality}.png"));
            let ours = jpeg_roundtrip(&source, quality).unwrap();
            let (mean, max) = diff(&ours, &pil);
            let (change, _) = diff(&source, &pil);
            println!(
                "JPEG {source_name} q{quality}: mean {mean:.4}, max {max}; PIL changed the source by {change:.2} on average"
            );
            assert!(
                change > 3.0 * mean.max(0.1),
                "the reference barely differs from its source"
            );
            // Measured (2026-11-30): mean 0.11-0.31, max 3-11 levels. The encoders' forward
            // DCTs round a few coefficients the other way; at q30 one quantisation step of
            // a coefficient is worth ~10 levels in its 8x8 block. A wrong table, subsampling
            // or colour conversion costs >= 3 levels on average (see the fixture script).
            assert!(
                mean <= 0.5 && max <= 16,
                "JPEG {source_name} q{quality}: mean {mean}, max {max}"
            );
        }
    }
}
