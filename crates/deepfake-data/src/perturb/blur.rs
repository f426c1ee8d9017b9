//! Gaussian blur with PIL's semantics: `ImageFilter.GaussianBlur(radius)` is three passes of
//! an "extended" box blur (Gwosdek et al., SSVM 2011) whose fractional radius gives the
//! variance `radius²`, each pass rounding to 8 bits, horizontal passes first, edges
//! extended. The same fixed-point arithmetic as PIL's, so the result is PIL's bit for bit.

use std::cell::RefCell;

use image::RgbImage;

use crate::scratch;
use crate::transpose::transpose_rgb;

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
    let mut out = vec![0u8; image.as_raw().len()];
    WORK.with_borrow_mut(|(pixels, other)| {
        pixels.resize(out.len(), 0);
        other.resize(out.len(), 0);
        // PIL blurs along x first. A pass over whole rows at a time (down the columns)
        // runs as wide vector operations, so x is blurred as y of the transposed image.
        // Each pass reads one buffer and writes the other; the last writes `out`.
        transpose_rgb(image.as_raw(), width, height, pixels);
        for _ in 0..PASSES {
            box_pass(pixels, other, height * 3, &weights);
            std::mem::swap(pixels, other);
        }
        transpose_rgb(pixels, height, width, other);
        std::mem::swap(pixels, other);
        for _ in 1..PASSES {
            box_pass(pixels, other, width * 3, &weights);
            std::mem::swap(pixels, other);
        }
        box_pass(pixels, &mut out, width * 3, &weights);
        scratch::trim(pixels);
        scratch::trim(other);
    });
    RgbImage::from_raw(image.width(), image.height(), out).unwrap_or_else(|| image.clone())
}

thread_local! {
    /// Two work images per thread, kept between images (up to [`scratch::KEEP_BYTES`]
    /// each): allocated anew for each image, their page faults took ~10% of a 224x224 blur.
    static WORK: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The rows of an image buffer, indices clamped to the image (PIL extends the edges).
struct Rows<'a> {
    values: &'a [u8],
    row_len: usize,
    last: isize,
}

impl<'a> Rows<'a> {
    fn new(values: &'a [u8], row_len: usize) -> Self {
        let last = (values.len() / row_len) as isize - 1;
        Self {
            values,
            row_len,
            last,
        }
    }

    /// Row `i`, clamped to the first and last.
    fn get(&self, i: isize) -> &'a [u8] {
        let i = i.clamp(0, self.last) as usize;
        &self.values[i * self.row_len..][..self.row_len]
    }

    /// The running sums of the `2r + 1` inner rows around row -1, where a pass starts.
    fn initial_sums<S: Copy + Default + From<u8> + std::ops::AddAssign>(&self, r: usize) -> Vec<S> {
        let r = r as isize;
        let mut sums = vec![S::default(); self.row_len];
        for i in -r - 1..r {
            for (sum, &v) in sums.iter_mut().zip(self.get(i)) {
                *sum += S::from(v);
            }
        }
        sums
    }

    /// The rows output row `y` of a radius-`r` pass needs: `[entering, gone, far]` (the
    /// inner window gains row `y + r` and loses row `y - r - 1`; the outer pair is
    /// `y - r - 1` and `y + r + 1`).
    fn around(&self, y: usize, r: usize) -> [&'a [u8]; 3] {
        let (y, r) = (y as isize, r as isize);
        [self.get(y + r), self.get(y - r - 1), self.get(y + r + 1)]
    }
}

/// One box pass down the columns of `values` (rows of `row_len` values) into `out`, edges
/// extended: row `y` becomes the weighted sum of rows `y - r - 1 ..= y + r + 1` (the outer
/// two at `fraction`). Exactly PIL's fixed-point arithmetic; 16 columns at a time in AVX2
/// where the CPU has it (and the window fits its 16-bit sums).
fn box_pass(values: &[u8], out: &mut [u8], row_len: usize, weights: &BoxWeights) {
    let rows = Rows::new(values, row_len);
    let r = weights.radius;
    #[cfg(target_arch = "x86_64")]
    if r <= avx2::MAX_RADIUS && std::arch::is_x86_feature_detected!("avx2") {
        let mut sums = rows.initial_sums::<u16>(r);
        for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { avx2::row_step(&mut sums, out_row, rows.around(y, r), weights) };
        }
        return;
    }
    let mut sums = rows.initial_sums::<u32>(r);
    for (y, out_row) in out.chunks_exact_mut(row_len).enumerate() {
        row_step(&mut sums, out_row, rows.around(y, r), weights);
    }
}

/// The arithmetic of one output row, exactly PIL's: `out = (inner * whole + (gone + far) *
/// fraction + 2^23) >> 24` after `inner += entering - gone`.
fn row_step(
    inner: &mut [u32],
    out: &mut [u8],
    [entering, gone, far]: [&[u8]; 3],
    weights: &BoxWeights,
) {
    let columns = inner.iter_mut().zip(out).zip(entering).zip(gone).zip(far);
    for ((((sum, out), &entering), &gone), &far) in columns {
        *sum = *sum + u32::from(entering) - u32::from(gone);
        *out = weights.weigh(*sum, u32::from(gone) + u32::from(far));
    }
}

/// [`row_step`] in AVX2, 16 columns per step.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::BoxWeights;

    /// The largest radius whose running sums (`2r + 1` rows of 8-bit values, at most
    /// 32,640) fit the signed 16 bits `vpmaddwd` multiplies.
    pub const MAX_RADIUS: usize = 63;

    /// Sixteen 8-bit values from `row[at..]`, widened to 16 bits.
    #[target_feature(enable = "avx2")]
    fn load16(row: &[u8], at: usize) -> __m256i {
        let bytes = &row[at..at + 16];
        // SAFETY: `bytes` holds the 16 bytes read.
        _mm256_cvtepu8_epi16(unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) })
    }

    /// `(pairs.sum * whole + pairs.outer * fraction + 2^23) >> 24` for eight interleaved
    /// 16-bit (sum, outer) pairs: the weights split into 12-bit halves, each half one
    /// `vpmaddwd` (products below 2^28), recombined exactly in 32 bits.
    #[target_feature(enable = "avx2")]
    fn weigh(pairs: __m256i, high: __m256i, low: __m256i) -> __m256i {
        let upper = _mm256_slli_epi32::<12>(_mm256_madd_epi16(pairs, high));
        let weighted = _mm256_add_epi32(upper, _mm256_madd_epi16(pairs, low));
        _mm256_srli_epi32::<24>(_mm256_add_epi32(weighted, _mm256_set1_epi32(1 << 23)))
    }

    /// [`super::row_step`] with 16-bit running sums (the box radius at most
    /// [`MAX_RADIUS`]); the same numbers.
    #[target_feature(enable = "avx2")]
    pub fn row_step(
        sums: &mut [u16],
        out: &mut [u8],
        [entering, gone, far]: [&[u8]; 3],
        weights: &BoxWeights,
    ) {
        let (whole, fraction) = (weights.whole, weights.fraction);
        // Each lane pair is (sum weight, outer weight): 12-bit halves of whole and fraction.
        let pair = |sum_weight: u32, outer_weight: u32| {
            _mm256_set1_epi32(((outer_weight << 16) | sum_weight) as i32)
        };
        let high = pair(whole >> 12, fraction >> 12);
        let low = pair(whole & 0xfff, fraction & 0xfff);
        let columns = sums.len().min(out.len());
        let vectorised = columns / 16 * 16;
        for at in (0..vectorised).step_by(16) {
            let sum_slot = &mut sums[at..at + 16];
            // SAFETY: `sum_slot` holds the 16 sums read and written.
            let sum = unsafe { _mm256_loadu_si256(sum_slot.as_ptr().cast()) };
            let (entering, gone) = (load16(entering, at), load16(gone, at));
            let sum = _mm256_sub_epi16(_mm256_add_epi16(sum, entering), gone);
            unsafe { _mm256_storeu_si256(sum_slot.as_mut_ptr().cast(), sum) };
            let outer = _mm256_add_epi16(gone, load16(far, at));
            // Columns 0-3 and 8-11, then 4-7 and 12-15 (unpacking works per 128-bit half);
            // the 32-bit pack puts them back in order, the 16-bit pack leaves the bytes in
            // quadwords 0 and 2.
            let first = weigh(_mm256_unpacklo_epi16(sum, outer), high, low);
            let second = weigh(_mm256_unpackhi_epi16(sum, outer), high, low);
            let words = _mm256_packus_epi32(first, second);
            let bytes = _mm256_packus_epi16(words, words);
            let bytes = _mm256_permute4x64_epi64::<0b00_00_10_00>(bytes);
            let out_slot = &mut out[at..at + 16];
            // SAFETY: `out_slot` holds the 16 bytes written.
            unsafe {
                _mm_storeu_si128(out_slot.as_mut_ptr().cast(), _mm256_castsi256_si128(bytes))
            };
        }
        for at in vectorised..columns {
            let sum = u32::from(sums[at]) + u32::from(entering[at]) - u32::from(gone[at]);
            sums[at] = sum as u16;
            out[at] = weights.weigh(sum, u32::from(gone[at]) + u32::from(far[at]));
        }
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

    /// One output value, PIL's fixed point: `(sum * whole + outer * fraction + 2^23) >> 24`
    /// for the running sum of the inner pixels and the sum of the two outer ones.
    #[inline(always)]
    fn weigh(&self, sum: u32, outer: u32) -> u8 {
        ((sum * self.whole + outer * self.fraction + (1 << 23)) >> 24) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AVX2 pass (16-bit sums, split weights) gives the portable pass's bytes, for
    /// rows of every length around its 16-column steps and radii up to its limit.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_pass_equals_the_portable_one() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for (row_len, rows, sigma) in [
            (48, 9, 0.5f32),
            (37, 30, 2.0),
            (100, 5, 9.0),
            (21, 70, 60.0),
        ] {
            let values: Vec<u8> = (0..row_len * rows)
                .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8)
                .collect();
            let weights = BoxWeights::new(box_radius(sigma, PASSES));
            assert!(weights.radius <= avx2::MAX_RADIUS, "sigma {sigma}");
            let source = Rows::new(&values, row_len);
            let (mut sums16, mut sums32) = (
                source.initial_sums::<u16>(weights.radius),
                source.initial_sums::<u32>(weights.radius),
            );
            let (mut fast, mut portable) = (vec![0u8; row_len], vec![0u8; row_len]);
            for y in 0..rows {
                let around = source.around(y, weights.radius);
                // SAFETY: AVX2 checked above.
                unsafe { avx2::row_step(&mut sums16, &mut fast, around, &weights) };
                row_step(&mut sums32, &mut portable, around, &weights);
                assert_eq!(fast, portable, "sigma {sigma}, row {y}");
            }
        }
    }

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

    #[test]
    fn no_blur_at_sigma_zero_negative_or_not_finite_nor_of_an_empty_image() {
        let image = RgbImage::from_fn(9, 7, |x, y| image::Rgb([(x * 28) as u8, (y * 36) as u8, 5]));
        for sigma in [0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert_eq!(gaussian_blur(&image, sigma), image, "sigma {sigma}");
        }
        assert_ne!(gaussian_blur(&image, 1.0), image);
        for (width, height) in [(0, 4), (4, 0), (0, 0)] {
            let empty = RgbImage::new(width, height);
            assert_eq!(gaussian_blur(&empty, 2.0), empty, "{width}x{height}");
        }
    }

    /// Past the AVX2 pass's largest radius the running sums of a white image (up to
    /// `(2r + 1) * 255`) no longer fit its signed 16 bits; the portable pass takes over.
    #[test]
    fn a_white_image_stays_white_at_radii_past_the_avx2_limit() {
        let sigma = 80.0;
        assert!(BoxWeights::new(box_radius(sigma, PASSES)).radius > 63);
        let white = RgbImage::from_pixel(150, 4, image::Rgb([255; 3]));
        assert_eq!(gaussian_blur(&white, sigma), white);
    }
}
