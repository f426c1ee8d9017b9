//! Transposing RGB images. The separable image passes (resize, blur) are fast down the
//! columns, where one vector instruction covers many columns of a row; a pass along the
//! rows runs down the columns of the transposed image instead.

/// Writes the `width x height` RGB image `pixels` (rows of `width * 3` bytes) to `out` as
/// its `height x width` transpose: output row `x` is input column `x`, top to bottom.
///
/// # Panics
/// If `pixels` or `out` is not `width * height * 3` bytes long.
pub fn transpose_rgb(pixels: &[u8], width: usize, height: usize, out: &mut [u8]) {
    assert_eq!(
        pixels.len(),
        width * height * 3,
        "input is not {width}x{height} RGB"
    );
    assert_eq!(
        out.len(),
        pixels.len(),
        "output is not {height}x{width} RGB"
    );
    let (mut blocks_width, mut blocks_height) = (0, 0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        (blocks_width, blocks_height) = (width / 8 * 8, height / 8 * 8);
        // SAFETY: the CPU supports AVX2, checked just above.
        unsafe { avx2::transpose_blocks(pixels, width, height, blocks_width, blocks_height, out) };
    }
    // What the 8x8 blocks left: the columns right of them, then the rows below them.
    transpose_region(pixels, width, height, blocks_width..width, 0..height, out);
    transpose_region(
        pixels,
        width,
        height,
        0..blocks_width,
        blocks_height..height,
        out,
    );
}

/// [`transpose_rgb`] for the input columns `xs` and rows `ys` only, pixel by pixel.
fn transpose_region(
    pixels: &[u8],
    width: usize,
    height: usize,
    xs: std::ops::Range<usize>,
    ys: std::ops::Range<usize>,
    out: &mut [u8],
) {
    for x in xs {
        for y in ys.clone() {
            let from = (y * width + x) * 3;
            let to = (x * height + y) * 3;
            out[to..to + 3].copy_from_slice(&pixels[from..from + 3]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2 {
    use std::arch::x86_64::*;

    /// The transpose of eight vectors of eight 32-bit lanes seen as an 8x8 matrix
    /// (`out[r]` lane `c` = `rows[c]` lane `r`): 24 shuffles.
    #[inline(always)]
    pub fn transpose_8x8(rows: [__m256i; 8]) -> [__m256i; 8] {
        let [r0, r1, r2, r3, r4, r5, r6, r7] = rows;
        // SAFETY: callers run inside an AVX2 build (`#[target_feature(enable = "avx2")]`
        // after a CPU check); the intrinsics touch registers only.
        unsafe {
            // Rows interleaved by 32-bit lanes, then by 64-bit pairs (within each 128-bit
            // half), then the halves exchanged.
            let t0 = _mm256_unpacklo_epi32(r0, r1);
            let t1 = _mm256_unpackhi_epi32(r0, r1);
            let t2 = _mm256_unpacklo_epi32(r2, r3);
            let t3 = _mm256_unpackhi_epi32(r2, r3);
            let t4 = _mm256_unpacklo_epi32(r4, r5);
            let t5 = _mm256_unpackhi_epi32(r4, r5);
            let t6 = _mm256_unpacklo_epi32(r6, r7);
            let t7 = _mm256_unpackhi_epi32(r6, r7);
            let u0 = _mm256_unpacklo_epi64(t0, t2);
            let u1 = _mm256_unpackhi_epi64(t0, t2);
            let u2 = _mm256_unpacklo_epi64(t1, t3);
            let u3 = _mm256_unpackhi_epi64(t1, t3);
            let u4 = _mm256_unpacklo_epi64(t4, t6);
            let u5 = _mm256_unpackhi_epi64(t4, t6);
            let u6 = _mm256_unpacklo_epi64(t5, t7);
            let u7 = _mm256_unpackhi_epi64(t5, t7);
            [
                _mm256_permute2x128_si256::<0x20>(u0, u4),
                _mm256_permute2x128_si256::<0x20>(u1, u5),
                _mm256_permute2x128_si256::<0x20>(u2, u6),
                _mm256_permute2x128_si256::<0x20>(u3, u7),
                _mm256_permute2x128_si256::<0x31>(u0, u4),
                _mm256_permute2x128_si256::<0x31>(u1, u5),
                _mm256_permute2x128_si256::<0x31>(u2, u6),
                _mm256_permute2x128_si256::<0x31>(u3, u7),
            ]
        }
    }

    /// [`super::transpose_rgb`] for the 8x8-pixel blocks of the input's top-left
    /// `blocks_width x blocks_height` pixels (multiples of 8): each block's rows spread to
    /// one 32-bit lane per pixel ([`load_rgb8`]), transposed as 32-bit lanes, packed back to
    /// 24 bytes ([`store_rgb8`]).
    #[target_feature(enable = "avx2")]
    pub fn transpose_blocks(
        pixels: &[u8],
        width: usize,
        height: usize,
        blocks_width: usize,
        blocks_height: usize,
        out: &mut [u8],
    ) {
        for x in (0..blocks_width).step_by(8) {
            for y in (0..blocks_height).step_by(8) {
                let mut rows = [_mm256_setzero_si256(); 8];
                for (i, row) in rows.iter_mut().enumerate() {
                    let from = ((y + i) * width + x) * 3;
                    *row = load_rgb8(&pixels[from..]);
                }
                for (j, column) in transpose_8x8(rows).into_iter().enumerate() {
                    let to = ((x + j) * height + y) * 3;
                    store_rgb8(column, &mut out[to..]);
                }
            }
        }
    }

    /// The eight RGB pixels in `bytes[..24]`, one per 32-bit lane (red in the low byte,
    /// the top byte zero).
    #[inline(always)]
    pub fn load_rgb8(bytes: &[u8]) -> __m256i {
        let bytes = &bytes[..24];
        // SAFETY: inside AVX2 builds (see `transpose_8x8`); `bytes` holds the 24 bytes
        // read (0-15 and 8-23).
        unsafe {
            let low = _mm_loadu_si128(bytes.as_ptr().cast());
            let high = _mm_loadu_si128(bytes[8..].as_ptr().cast());
            // Bytes 0-11 of the low half and 4-15 of the high half (loaded from byte 8, so
            // that no load reads past the 24 bytes) to four pixels each.
            #[rustfmt::skip]
            let spread = _mm256_setr_epi8(
                0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11, -1,
                4, 5, 6, -1, 7, 8, 9, -1, 10, 11, 12, -1, 13, 14, 15, -1,
            );
            _mm256_shuffle_epi8(_mm256_set_m128i(high, low), spread)
        }
    }

    /// Eight pixels, one per 32-bit lane (red in the low byte, the top byte ignored), to
    /// the RGB bytes `bytes[..24]`.
    #[inline(always)]
    pub fn store_rgb8(pixels: __m256i, bytes: &mut [u8]) {
        let bytes = &mut bytes[..24];
        // SAFETY: inside AVX2 builds (see `transpose_8x8`); `bytes` holds the 24 bytes
        // written (0-15 and 16-23).
        unsafe {
            // Four pixels to bytes 0-11 of each half, then the halves' 12 bytes joined.
            #[rustfmt::skip]
            let pack = _mm256_setr_epi8(
                0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
                0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,
            );
            let packed = _mm256_shuffle_epi8(pixels, pack);
            let joined =
                _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
            _mm_storeu_si128(bytes.as_mut_ptr().cast(), _mm256_castsi256_si128(joined));
            _mm_storel_epi64(
                bytes[16..].as_mut_ptr().cast(),
                _mm256_extracti128_si256::<1>(joined),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `width x height` RGB image whose every byte differs from its neighbours.
    fn pattern(width: usize, height: usize) -> Vec<u8> {
        (0..width * height * 3)
            .map(|i| ((i as u32).wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect()
    }

    /// Every size around the 8-pixel blocks, checked pixel by pixel against the definition
    /// (the AVX2 blocks where the CPU has them, the pixel loop for the rest).
    #[test]
    fn output_row_x_is_input_column_x() {
        for (width, height) in [
            (1, 1),
            (8, 8),
            (9, 17),
            (16, 8),
            (23, 5),
            (3, 40),
            (224, 224),
        ] {
            let pixels = pattern(width, height);
            let mut out = vec![0u8; pixels.len()];
            transpose_rgb(&pixels, width, height, &mut out);
            for y in 0..height {
                for x in 0..width {
                    let from = (y * width + x) * 3;
                    let to = (x * height + y) * 3;
                    assert_eq!(
                        out[to..to + 3],
                        pixels[from..from + 3],
                        "{width}x{height} at ({x}, {y})"
                    );
                }
            }
            let mut back = vec![0u8; pixels.len()];
            transpose_rgb(&out, height, width, &mut back);
            assert_eq!(back, pixels, "{width}x{height} transposed twice");
        }
    }
}
