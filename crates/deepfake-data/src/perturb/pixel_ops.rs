//! The per-pixel perturbations of the robustness study: rescaling, Gaussian noise, and
//! DeeperForensics-1.0's colour saturation and contrast changes.

use image::RgbImage;
use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::error::Result;
use crate::resize::resize_rgb;

/// Shrinks `image` by `factor` (sides rounded, at least 1 pixel) and enlarges it back to its
/// size, both with the PIL-equal bilinear resize: the detail lost by a low-resolution copy.
pub fn rescale(image: &RgbImage, factor: f32) -> Result<RgbImage> {
    let (width, height) = image.dimensions();
    let shrink = |side: u32| ((side as f32 / factor.max(1.0)).round() as u32).max(1);
    let small = resize_rgb(image, shrink(width), shrink(height))?;
    resize_rgb(&small, width, height)
}

/// Adds independent Gaussian noise of `variance` (on the [0, 1] scale of pixel values) to
/// every channel of every pixel, rounding and clipping to 8 bits.
pub fn gaussian_noise(image: &RgbImage, variance: f32, rng: &mut impl Rng) -> RgbImage {
    let mut out = image.clone();
    // A non-finite or negative variance adds nothing.
    let Ok(normal) = Normal::new(0.0f32, 255.0 * variance.max(0.0).sqrt()) else {
        return out;
    };
    for value in out.iter_mut() {
        let noisy = f32::from(*value) + normal.sample(rng);
        *value = noisy.round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// DeeperForensics-1.0's colour saturation change: in full-range BT.601 YCbCr, the chroma
/// channels are scaled towards grey by `factor` (1 keeps the image, 0 makes it grey).
pub fn scale_saturation(image: &RgbImage, factor: f32) -> RgbImage {
    let mut out = image.clone();
    for pixel in out.pixels_mut() {
        let [r, g, b] = pixel.0.map(f32::from);
        let y = 0.299 * r + 0.587 * g + 0.114 * b;
        let cb = (-0.168_736 * r - 0.331_264 * g + 0.5 * b) * factor;
        let cr = (0.5 * r - 0.418_688 * g - 0.081_312 * b) * factor;
        let to_u8 = |v: f32| v.round().clamp(0.0, 255.0) as u8;
        pixel.0 = [
            to_u8(y + 1.402 * cr),
            to_u8(y - 0.344_136 * cb - 0.714_136 * cr),
            to_u8(y + 1.772 * cb),
        ];
    }
    out
}

/// DeeperForensics-1.0's contrast change: every value multiplied by `factor` and truncated
/// (numpy's `astype(uint8)` after clipping).
pub fn scale_values(image: &RgbImage, factor: f32) -> RgbImage {
    let mut out = image.clone();
    for value in out.iter_mut() {
        *value = (f32::from(*value) * factor).clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn gradient() -> RgbImage {
        RgbImage::from_fn(32, 24, |x, y| {
            image::Rgb([(x * 8) as u8, (y * 10) as u8, 128])
        })
    }

    #[test]
    fn saturation_one_keeps_and_zero_greys() {
        let image = gradient();
        let kept = scale_saturation(&image, 1.0);
        let most = image
            .iter()
            .zip(kept.iter())
            .map(|(a, b)| a.abs_diff(*b))
            .max();
        assert!(most <= Some(1), "{most:?}");
        assert!(
            scale_saturation(&image, 0.0)
                .pixels()
                .all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2])
        );
    }

    #[test]
    fn contrast_scales_and_truncates() {
        let image = RgbImage::from_pixel(2, 2, image::Rgb([255, 101, 3]));
        assert_eq!(scale_values(&image, 0.5).get_pixel(0, 0).0, [127, 50, 1]);
    }

    #[test]
    fn noise_has_the_asked_variance() {
        let image = RgbImage::from_pixel(100, 100, image::Rgb([128; 3]));
        let noisy = gaussian_noise(&image, 0.01, &mut rand_chacha::ChaCha8Rng::seed_from_u64(1));
        let n = noisy.len() as f64;
        let variance = noisy
            .iter()
            .map(|&v| (f64::from(v) / 255.0 - 128.0 / 255.0).powi(2))
            .sum::<f64>()
            / n;
        assert!((variance - 0.01).abs() < 0.001, "{variance}");
    }

    #[test]
    fn rescaling_keeps_the_size_and_loses_detail() {
        let image = RgbImage::from_fn(40, 30, |x, y| image::Rgb([((x + y) % 2 * 255) as u8; 3]));
        let rescaled = rescale(&image, 4.0).unwrap();
        assert_eq!(rescaled.dimensions(), (40, 30));
        let spread = |img: &RgbImage| img.iter().map(|&v| v.abs_diff(128) as u32).sum::<u32>();
        assert!(spread(&rescaled) * 4 < spread(&image));
    }

    #[test]
    fn rescaling_goes_through_the_rounded_smaller_size() {
        let image = RgbImage::from_fn(40, 30, |x, y| {
            image::Rgb([(x * 6) as u8, (y * 8) as u8, ((x * y) % 256) as u8])
        });
        // 40 / 3 = 13.3 and 30 / 3 = 10; 40 / 2.5 = 16 and 30 / 2.5 = 12; 40 / 80 rounds
        // to 1 pixel and 30 / 80 to 0, kept at 1.
        for (factor, small) in [(3.0, (13, 10)), (2.5, (16, 12)), (80.0, (1, 1))] {
            let through = resize_rgb(&image, small.0, small.1).unwrap();
            let expected = resize_rgb(&through, 40, 30).unwrap();
            assert_eq!(
                rescale(&image, factor).unwrap(),
                expected,
                "factor {factor}"
            );
        }
        // A factor of 1 or less shrinks nothing.
        for factor in [1.0, 0.5] {
            assert_eq!(rescale(&image, factor).unwrap(), image, "factor {factor}");
        }
    }
}
