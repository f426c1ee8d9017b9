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
    if sigma <= 0.0 || !sigma.is_finite() || image.width() == 0 || image.height() == 0 {
        return image.clone();
    }
    let weights = BoxWeights::new(box_radius(sigma, PASSES));
    let (width, height) = (image.width() as usize, image.height() as usize);
    // PIL blurs along x first. A pass over whole rows at a time (down the columns) runs as
    // wide vector operations, so x is blurred as y of the transposed image.
    let mut transposed = transpose(image.as_raw(), width, height);
    for _ in 0..PASSES {
        vertical_pass(&mut transposed, width, height * 3, &weights);
    }
    let mut pixels = transpose(&transposed, height, width);
    for _ in 0..PASSES {
        vertical_pass(&mut pixels, height, width * 3, &weights);
    }
    RgbImage::from_raw(image.width(), image.height(), pixels).unwrap_or_else(|| image.clone())
}

/// RGB pixels of a `width x height` image laid out as the `height x width` transpose.
fn transpose(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let mut out = vec![0u8; pixels.len()];
    for y in 0..height {
        for x in 0..width {
            let from = (y * width + x) * 3;
            let to = (x * height + y) * 3;
            out[to..to + 3].copy_from_slice(&pixels[from..from + 3]);
        }
    }
    out
}

/// One box pass down the columns of `rows` rows of `row_len` values, edges extended: row
/// `y` becomes the weighted sum of rows `y - r - 1 ..= y + r + 1` (the outer two at
/// `fraction`), row indices clamped to the image. Exactly PIL's fixed-point arithmetic.
fn vertical_pass(values: &mut [u8], rows: usize, row_len: usize, weights: &BoxWeights) {
    let last = rows as isize - 1;
    let r = weights.radius as isize;
    let row = |i: isize| {
        let i = i.clamp(0, last) as usize;
        &values[i * row_len..(i + 1) * row_len]
    };
    // The running sums of the 2r + 1 inner rows around y, starting at y = -1.
    let mut inner = vec![0u32; row_len];
    for i in -r - 1..r {
        for (sum, &v) in inner.iter_mut().zip(row(i)) {
            *sum += u32::from(v);
        }
    }
    let mut out = vec![0u8; values.len()];
    for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        let y = y as isize;
        let (gone, entering) = (row(y - r - 1), row(y + r));
        let far = row(y + r + 1);
        row_step(&mut inner, out_row, [entering, gone, far], weights);
    }
    values.copy_from_slice(&out);
}

/// One output row of a pass: the running sums move down one row (`entering` in, `gone` out)
/// and `out` gets the weighted, rounded values. Runs the AVX2 build of [`row_step_portable`]
/// where the CPU has it (8 lanes of 32-bit multiplies; the baseline x86-64 target has none).
fn row_step(inner: &mut [u32], out: &mut [u8], rows: [&[u8]; 3], weights: &BoxWeights) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { row_step_avx2(inner, out, rows, weights) };
        return;
    }
    row_step_portable(inner, out, rows, weights);
}

/// [`row_step_portable`] compiled for AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn row_step_avx2(inner: &mut [u32], out: &mut [u8], rows: [&[u8]; 3], weights: &BoxWeights) {
    row_step_portable(inner, out, rows, weights);
}

/// The arithmetic of one output row, exactly PIL's: `out = (inner * whole + (gone + far) *
/// fraction + 2^23) >> 24` after `inner += entering - gone`.
#[inline(always)]
fn row_step_portable(
    inner: &mut [u32],
    out: &mut [u8],
    [entering, gone, far]: [&[u8]; 3],
    weights: &BoxWeights,
) {
    let (whole, fraction) = (weights.whole, weights.fraction);
    let columns = inner.iter_mut().zip(out).zip(entering).zip(gone).zip(far);
    for ((((sum, out), &entering), &gone), &far) in columns {
        *sum = *sum + u32::from(entering) - u32::from(gone);
        let outer = u32::from(gone) + u32::from(far);
        let weighted = *sum * whole + outer * fraction;
        *out = ((weighted + (1 << 23)) >> 24) as u8;
    }
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
