//! JPEG re-encoding and Gaussian blur against PIL (fixtures from
//! `fixtures/gen_perturb_fixtures.py`), and the check that each reference differs from its
//! source by far more than the tolerance (so the comparison cannot pass on a no-op).

use deepfake_data::perturb::{gaussian_blur, jpeg_roundtrip};
use image::RgbImage;

use crate::fixtures::load;

/// Textured, smooth and noisy sources with sides that are not multiples of 16, and three
/// smaller than one 8x8 block: a 5x3, a 2x9 (its chroma one sample wide) and a single pixel.
const SOURCES: [&str; 6] = [
    "100x80",
    "smooth_99x75",
    "noise_37x29",
    "noise_5x3",
    "noise_2x9",
    "noise_1x1",
];

/// The single pixel is one flat block: every blur and the high JPEG qualities keep it
/// exactly, so only its harsher qualities must differ from it.
const ONE_PIXEL: &str = "noise_1x1";

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
            // Every blur moves the textured sources by levels; the smooth one barely at 0.5,
            // the single pixel not at all.
            if !["smooth_99x75", ONE_PIXEL].contains(&source_name) {
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
fn jpeg_is_pil_bit_for_bit() {
    for source_name in SOURCES {
        let source = load(&format!("src_{source_name}.png"));
        for quality in [100u8, 95, 90, 75, 50, 30, 10, 1] {
            let pil = load(&format!("jpeg_{source_name}_q{quality}.png"));
            let ours = jpeg_roundtrip(&source, quality).unwrap();
            let (mean, max) = diff(&ours, &pil);
            let (change, _) = diff(&source, &pil);
            println!(
                "JPEG {source_name} q{quality}: mean {mean:.4}, max {max}; PIL changed the source by {change:.2} on average"
            );
            if source_name != ONE_PIXEL || quality <= 50 {
                assert!(change > 0.5, "the reference barely differs from its source");
            }
            // Every source has a side that is not a multiple of 16 (three are smaller than one
            // block), so the edge padding of the partial blocks and the chroma upsampling at
            // the borders are compared too; the noise drives the DCTs' intermediates to their
            // extremes.
            assert_eq!(
                max, 0,
                "JPEG {source_name} q{quality}: mean {mean}, max {max}"
            );
        }
    }
}
