//! Gaussian blur with PIL's semantics: `ImageFilter.GaussianBlur(radius)` is three passes of
//! an "extended" box blur (Gwosdek et al., SSVM 2011) whose fractional radius gives the
//! variance `radius²`, each pass rounding to 8 bits, horizontal passes first, edges
//! extended. The same fixed-point arithmetic as PIL's, so the result is PIL's bit for bit.

use image::RgbImage;

/// Box-blur passes per axis (PIL's default for `GaussianBlur`).
const PASSES: u32 = 3;

/// Blurs `image` with standard deviation `sigma` pixels (PIL's `radius`); `sigma <= 0`
/// returns a copy.
pub fn gaussian_blur(image: &RgbImage, sigma: f32) -> RgbImage {
    let mut out = image.clone();
    if sigma <= 0.0 || !sigma.is_finite() {
        return out;
    }
    let radius = box_radius(sigma, PASSES);
    let (width, height) = (image.width() as usize, image.height() as usize);
    let weights = BoxWeights::new(radius);
    let pixels: &mut [u8] = &mut out;
    let mut line = vec![0u8; width.max(height)];
    let mut blurred = vec![0u8; width.max(height)];
    for channel in 0..3 {
        for y in 0..height {
            let at = |x: usize| (y * width + x) * 3 + channel;
            blur_line(pixels, at, width, &weights, &mut line, &mut blurred);
        }
        for x in 0..width {
            let at = |y: usize| (y * width + x) * 3 + channel;
            blur_line(pixels, at, height, &weights, &mut line, &mut blurred);
        }
    }
    out
}

/// PIL's box radius (integer part plus fraction) for `passes` boxes of total variance
/// `sigma²`, computed in the same float precisions as `ImagingGaussianBlur`.
fn box_radius(sigma: f32, passes: u32) -> f32 {
    let sigma2 = sigma * sigma / passes as f32;
    let box_length = (12.0 * f64::from(sigma2) + 1.0).sqrt() as f32;
    let l = ((f64::from(box_length) - 1.0) / 2.0).floor() as f32;
    let mut a = (2.0 * l + 1.0) * (l * (l + 1.0) - 3.0 * sigma2);
    a /= 6.0 * (sigma2 - (l + 1.0) * (l + 1.0));
    l + a
}

/// The fixed-point weights of one box pass: `whole` for each of the `2r + 1` inner pixels,
/// `fraction` for each of the two outer ones; they sum to 2^24.
struct BoxWeights {
    radius: usize,
    whole: u32,
    fraction: u32,
}

impl BoxWeights {
    fn new(radius: f32) -> Self {
        let whole_radius = radius as u32;
        let whole = ((1u32 << 24) as f32 / (radius * 2.0 + 1.0)) as u32;
        let fraction = ((1u32 << 24) - (whole_radius * 2 + 1) * whole) / 2;
        Self {
            radius: whole_radius as usize,
            whole,
            fraction,
        }
    }
}

/// Runs the passes over one line of `len` values at `at(i)` in `pixels`.
fn blur_line(
    pixels: &mut [u8],
    at: impl Fn(usize) -> usize,
    len: usize,
    weights: &BoxWeights,
    line: &mut [u8],
    blurred: &mut [u8],
) {
    if len == 0 {
        return;
    }
    for (i, value) in line[..len].iter_mut().enumerate() {
        *value = pixels[at(i)];
    }
    for _ in 0..PASSES {
        box_pass(&line[..len], &mut blurred[..len], weights);
        line[..len].copy_from_slice(&blurred[..len]);
    }
    for (i, value) in line[..len].iter().enumerate() {
        pixels[at(i)] = *value;
    }
}

/// One box pass with the edges extended: output `x` is the weighted sum of inputs
/// `x - r - 1 ..= x + r + 1` (outer two at `fraction`), indices clamped to the line.
fn box_pass(input: &[u8], output: &mut [u8], weights: &BoxWeights) {
    let last = input.len() as i64 - 1;
    let r = weights.radius as i64;
    let value = |i: i64| u32::from(input[i.clamp(0, last) as usize]);
    // The running sum of the 2r + 1 inner values around x, starting at x = -1.
    let mut inner: u32 = (-r - 1..=r - 1).map(value).sum();
    for (x, out) in output.iter_mut().enumerate() {
        let x = x as i64;
        inner = inner + value(x + r) - value(x - r - 1);
        let sum = inner * weights.whole + (value(x - r - 1) + value(x + r + 1)) * weights.fraction;
        *out = ((sum + (1 << 23)) >> 24) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for sigma in [0.5f32, 1.0, 2.0, 3.0, 7.5] {
            let w = BoxWeights::new(box_radius(sigma, PASSES));
            let total = (2 * w.radius as u32 + 1) * w.whole + 2 * w.fraction;
            assert!((1u32 << 24) - total <= 1, "sigma {sigma}: {total}");
        }
    }

    #[test]
    fn a_flat_image_stays_flat_and_an_edge_spreads() {
        let flat = RgbImage::from_pixel(9, 7, image::Rgb([10, 200, 77]));
        assert_eq!(gaussian_blur(&flat, 2.0), flat);
        let edge = RgbImage::from_fn(20, 3, |x, _| image::Rgb([if x < 10 { 0 } else { 255 }; 3]));
        let blurred = gaussian_blur(&edge, 2.0);
        let row: Vec<u8> = (0..20).map(|x| blurred.get_pixel(x, 1).0[0]).collect();
        assert!(row.windows(2).all(|w| w[0] <= w[1]), "{row:?}");
        assert!(row[9] > 0 && row[10] < 255, "{row:?}");
    }
}
