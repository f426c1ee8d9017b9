//! Eight 32-bit lanes, the vector the DCTs and the quantisation compute with, in two forms
//! with the same arithmetic: [`Portable`], an array (the reference, and the build for CPUs
//! without AVX2), and on x86-64 [`Avx2`], one AVX2 register. The compiler vectorised the
//! array form only in places: its block transposes became 128 lane extracts and inserts and
//! half the inverse DCT ran lane by lane; the register form is the same algorithm in explicit
//! shuffles and 8-lane multiplies (the whole round trip of a 224x224 image: 0.60 -> ~0.33 ms).

use super::color;

/// The operations of the JPEG block round trip on eight 32-bit lanes.
///
/// Code generic over `Lanes` must not pass them through closures that are not inlined
/// (`array::map`, `array::from_fn`): a closure compiles as its own function, without the
/// AVX2 build's target features, and the intrinsics inside become calls (2x slower than
/// the portable form). Loops over arrays keep everything in the caller.
pub trait Lanes: Copy {
    /// The first eight samples of `samples` minus 128 (JPEG's level shift).
    fn load_centred(samples: &[u8]) -> Self;
    /// The lanes holding `values`.
    fn from_array(values: [i32; 8]) -> Self;
    /// Lane-wise `self + other` (wrapping).
    fn add(self, other: Self) -> Self;
    /// Lane-wise `self - other` (wrapping).
    fn sub(self, other: Self) -> Self;
    /// Lane-wise `self * constant` (wrapping).
    fn mul(self, constant: i32) -> Self;
    /// Lane-wise `self << n`.
    fn shl(self, n: u32) -> Self;
    /// Lane-wise `self / 2^n` rounded half up (libjpeg's `DESCALE`), `n >= 1`.
    fn descale(self, n: u32) -> Self;
    /// Lane-wise quantisation and dequantisation of forward-DCT outputs (`|x| <= 8192`):
    /// `sign(x) * ((|x| + correction) * reciprocal >> shift) * factor`.
    fn quantize_dequantize(
        self,
        correction: Self,
        reciprocal: Self,
        shift: Self,
        factor: Self,
    ) -> Self;
    /// Writes the lanes as samples to `out[..8]`: plus 128, clamped to 0..=255, values
    /// outside -512..512 wrapped first as libjpeg's range-limit table does.
    fn store_range_limited(self, out: &mut [u8]);
    /// The transpose of eight vectors seen as an 8x8 matrix (`out[r][c] = block[c][r]`).
    fn transpose(block: [Self; 8]) -> [Self; 8];
    /// Eight pixels' Y, Cb and Cr samples (the first 8 of each slice) to RGB in the first
    /// 24 bytes of `out`: [`color::ycc_to_rgb`] on each.
    fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]);
    /// Eight RGB pixels (the first 24 bytes of `pixels`) to Y, Cb and Cr samples (the
    /// first 8 of each of `out`): [`color::rgb_to_ycc`] on each.
    fn rgb_to_ycc(pixels: &[u8], out: [&mut [u8]; 3]);
}

/// libjpeg's post-IDCT range limit (`range_limit[x & RANGE_MASK]`): `x + 128` clamped to
/// 0..=255 for `x` in -512..512, wrapping outside as libjpeg's table does.
#[inline(always)]
fn range_limit(x: i32) -> u8 {
    // `x & 1023` read as a 10-bit two's-complement number.
    let centred = ((x & 1023) ^ 512) - 512;
    (centred + 128).clamp(0, 255) as u8
}

/// `x` quantised with a divisor's correction, reciprocal and shift (libjpeg-turbo's SIMD
/// quantisation), branch-free. For `|x| <= 8192` (see [`Lanes::quantize_dequantize`]) the
/// product stays below `(8192 + 1024) * 2^17 < 2^31`.
#[inline(always)]
pub fn divide(x: i32, correction: i32, reciprocal: i32, shift: i32) -> i32 {
    let sign = x >> 31; // 0 or -1
    let magnitude = ((x ^ sign) - sign) + correction;
    let quotient = ((magnitude.wrapping_mul(reciprocal) as u32) >> shift) as i32;
    (quotient ^ sign) - sign
}

/// Eight lanes as an array: the reference arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Portable(pub [i32; 8]);

impl Portable {
    /// A vector from its lanes (a plain loop: `array::from_fn` does not always inline).
    #[inline(always)]
    fn lanewise(f: impl Fn(usize) -> i32) -> Self {
        let mut out = [0; 8];
        for (i, value) in out.iter_mut().enumerate() {
            *value = f(i);
        }
        Self(out)
    }
}

impl Lanes for Portable {
    #[inline(always)]
    fn load_centred(samples: &[u8]) -> Self {
        let samples = &samples[..8];
        Self::lanewise(|i| i32::from(samples[i]) - 128)
    }

    #[inline(always)]
    fn from_array(values: [i32; 8]) -> Self {
        Self(values)
    }

    #[inline(always)]
    fn add(self, other: Self) -> Self {
        Self::lanewise(|i| self.0[i].wrapping_add(other.0[i]))
    }

    #[inline(always)]
    fn sub(self, other: Self) -> Self {
        Self::lanewise(|i| self.0[i].wrapping_sub(other.0[i]))
    }

    #[inline(always)]
    fn mul(self, constant: i32) -> Self {
        Self::lanewise(|i| self.0[i].wrapping_mul(constant))
    }

    #[inline(always)]
    fn shl(self, n: u32) -> Self {
        Self::lanewise(|i| self.0[i] << n)
    }

    #[inline(always)]
    fn descale(self, n: u32) -> Self {
        Self::lanewise(|i| self.0[i].wrapping_add(1 << (n - 1)) >> n)
    }

    #[inline(always)]
    fn quantize_dequantize(
        self,
        correction: Self,
        reciprocal: Self,
        shift: Self,
        factor: Self,
    ) -> Self {
        Self::lanewise(|i| {
            let quotient = divide(self.0[i], correction.0[i], reciprocal.0[i], shift.0[i]);
            quotient.wrapping_mul(factor.0[i])
        })
    }

    #[inline(always)]
    fn store_range_limited(self, out: &mut [u8]) {
        for (sample, &value) in out[..8].iter_mut().zip(&self.0) {
            *sample = range_limit(value);
        }
    }

    #[inline(always)]
    fn transpose(block: [Self; 8]) -> [Self; 8] {
        let mut out = block;
        for (r, row) in out.iter_mut().enumerate() {
            *row = Self::lanewise(|c| block[c].0[r]);
        }
        out
    }

    #[inline(always)]
    fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
        let samples = y[..8].iter().zip(&cb[..8]).zip(&cr[..8]);
        for (pixel, ((&y, &cb), &cr)) in out[..24].chunks_exact_mut(3).zip(samples) {
            pixel.copy_from_slice(&color::ycc_to_rgb([y, cb, cr]));
        }
    }

    #[inline(always)]
    fn rgb_to_ycc(pixels: &[u8], [y, cb, cr]: [&mut [u8]; 3]) {
        let samples = y[..8].iter_mut().zip(&mut cb[..8]).zip(&mut cr[..8]);
        for (pixel, ((y, cb), cr)) in pixels[..24].chunks_exact(3).zip(samples) {
            [*y, *cb, *cr] = color::rgb_to_ycc([pixel[0], pixel[1], pixel[2]]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use avx2::Avx2;

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// Eight lanes in one AVX2 register.
    ///
    /// Sound only where the CPU has AVX2: the JPEG round trip uses it only inside its AVX2
    /// build, which runs after `is_x86_feature_detected!("avx2")`. Its methods are
    /// `#[inline(always)]` so that they compile inside that build (the intrinsics then
    /// inline as single instructions).
    #[derive(Clone, Copy)]
    pub struct Avx2(__m256i);

    // SAFETY (every `unsafe` block below): the intrinsics need AVX2, which the CPU has
    // wherever an `Avx2` is used (see the type's documentation); the loads and stores touch
    // slices whose lengths were checked by indexing just before.
    impl Lanes for Avx2 {
        #[inline(always)]
        fn load_centred(samples: &[u8]) -> Self {
            let samples = &samples[..8];
            Self(unsafe {
                let bytes = _mm_loadl_epi64(samples.as_ptr().cast());
                _mm256_sub_epi32(_mm256_cvtepu8_epi32(bytes), _mm256_set1_epi32(128))
            })
        }

        #[inline(always)]
        fn from_array(values: [i32; 8]) -> Self {
            Self(unsafe { _mm256_loadu_si256(values.as_ptr().cast()) })
        }

        #[inline(always)]
        fn add(self, other: Self) -> Self {
            Self(unsafe { _mm256_add_epi32(self.0, other.0) })
        }

        #[inline(always)]
        fn sub(self, other: Self) -> Self {
            Self(unsafe { _mm256_sub_epi32(self.0, other.0) })
        }

        #[inline(always)]
        fn mul(self, constant: i32) -> Self {
            Self(unsafe { _mm256_mullo_epi32(self.0, _mm256_set1_epi32(constant)) })
        }

        #[inline(always)]
        fn shl(self, n: u32) -> Self {
            Self(unsafe { _mm256_sll_epi32(self.0, _mm_cvtsi32_si128(n as i32)) })
        }

        #[inline(always)]
        fn descale(self, n: u32) -> Self {
            Self(unsafe {
                let rounded = _mm256_add_epi32(self.0, _mm256_set1_epi32(1 << (n - 1)));
                _mm256_sra_epi32(rounded, _mm_cvtsi32_si128(n as i32))
            })
        }

        #[inline(always)]
        fn quantize_dequantize(
            self,
            correction: Self,
            reciprocal: Self,
            shift: Self,
            factor: Self,
        ) -> Self {
            Self(unsafe {
                let sign = _mm256_srai_epi32::<31>(self.0);
                let magnitude = _mm256_sub_epi32(_mm256_xor_si256(self.0, sign), sign);
                let magnitude = _mm256_add_epi32(magnitude, correction.0);
                let product = _mm256_mullo_epi32(magnitude, reciprocal.0);
                let quotient = _mm256_srlv_epi32(product, shift.0);
                let quotient = _mm256_sub_epi32(_mm256_xor_si256(quotient, sign), sign);
                _mm256_mullo_epi32(quotient, factor.0)
            })
        }

        #[inline(always)]
        fn store_range_limited(self, out: &mut [u8]) {
            let out = &mut out[..8];
            unsafe {
                // ((x & 1023) ^ 512) - 512 + 128: the wrapped value plus the level shift.
                let wrapped = _mm256_xor_si256(
                    _mm256_and_si256(self.0, _mm256_set1_epi32(1023)),
                    _mm256_set1_epi32(512),
                );
                let shifted = _mm256_add_epi32(wrapped, _mm256_set1_epi32(128 - 512));
                store8(shifted, out);
            }
        }

        #[inline(always)]
        fn transpose(block: [Self; 8]) -> [Self; 8] {
            let [r0, r1, r2, r3, r4, r5, r6, r7] = block;
            let rows = [r0.0, r1.0, r2.0, r3.0, r4.0, r5.0, r6.0, r7.0];
            let [c0, c1, c2, c3, c4, c5, c6, c7] = crate::transpose::avx2::transpose_8x8(rows);
            [
                Self(c0),
                Self(c1),
                Self(c2),
                Self(c3),
                Self(c4),
                Self(c5),
                Self(c6),
                Self(c7),
            ]
        }

        #[inline(always)]
        fn ycc_to_rgb(y: &[u8], cb: &[u8], cr: &[u8], out: &mut [u8]) {
            use crate::perturb::jpeg::color::{BLUE_CB, GREEN_CB, GREEN_CR, ONE_HALF, RED_CR};
            let (cb, cr) = (Self::load_centred(cb), Self::load_centred(cr));
            let half = Self::from_array([ONE_HALF; 8]);
            let red = cr.mul(RED_CR).add(half);
            let green = cb.mul(GREEN_CB).add(half).add(cr.mul(GREEN_CR));
            let blue = cb.mul(BLUE_CB).add(half);
            let luma = load8(y);
            unsafe {
                let pixels = _mm256_or_si256(
                    _mm256_or_si256(
                        channel(luma, red.0),
                        _mm256_slli_epi32::<8>(channel(luma, green.0)),
                    ),
                    _mm256_slli_epi32::<16>(channel(luma, blue.0)),
                );
                crate::transpose::avx2::store_rgb8(pixels, out);
            }
        }

        #[inline(always)]
        fn rgb_to_ycc(pixels: &[u8], out: [&mut [u8]; 3]) {
            use crate::perturb::jpeg::color::{SCALEBITS, TO_YCC};
            let pixels = crate::transpose::avx2::load_rgb8(pixels);
            let [red, green, blue] = unsafe {
                let byte = _mm256_set1_epi32(0xff);
                [
                    Self(_mm256_and_si256(pixels, byte)),
                    Self(_mm256_and_si256(_mm256_srli_epi32::<8>(pixels), byte)),
                    Self(_mm256_srli_epi32::<16>(pixels)),
                ]
            };
            for (samples, ([wr, wg, wb], offset)) in out.into_iter().zip(TO_YCC) {
                let sum = red.mul(wr).add(green.mul(wg)).add(blue.mul(wb));
                let sum = sum.add(Self::from_array([offset; 8]));
                let shift = unsafe { _mm_cvtsi32_si128(SCALEBITS as i32) };
                store8(unsafe { _mm256_sra_epi32(sum.0, shift) }, samples);
            }
        }
    }

    /// Eight 32-bit lanes clamped to 0..=255 as the bytes `out[..8]`.
    #[inline(always)]
    fn store8(values: __m256i, out: &mut [u8]) {
        let out = &mut out[..8];
        unsafe {
            // Saturating packs clamp to 0..=255: [x0..x3, x0..x3 | x4..x7, x4..x7] as 16
            // bits, quadwords 0 and 2 to the low half, then 8 bytes.
            let words = _mm256_packus_epi32(values, values);
            let words = _mm256_permute4x64_epi64::<0b00_00_10_00>(words);
            let low = _mm256_castsi256_si128(words);
            _mm_storel_epi64(out.as_mut_ptr().cast(), _mm_packus_epi16(low, low));
        }
    }

    /// The first 8 of `samples`, one per 32-bit lane.
    #[inline(always)]
    fn load8(samples: &[u8]) -> __m256i {
        let samples = &samples[..8];
        unsafe { _mm256_cvtepu8_epi32(_mm_loadl_epi64(samples.as_ptr().cast())) }
    }

    /// `luma + (offset >> SCALEBITS)` clamped to 0..=255, lane-wise.
    #[inline(always)]
    fn channel(luma: __m256i, offset: __m256i) -> __m256i {
        use crate::perturb::jpeg::color::SCALEBITS;
        unsafe {
            let shifted = _mm256_sra_epi32(offset, _mm_cvtsi32_si128(SCALEBITS as i32));
            let value = _mm256_add_epi32(luma, shifted);
            let floor = _mm256_max_epi32(value, _mm256_setzero_si256());
            _mm256_min_epi32(floor, _mm256_set1_epi32(255))
        }
    }

    impl Avx2 {
        /// The lanes as an array (tests).
        #[cfg(test)]
        pub fn to_array(self) -> [i32; 8] {
            let mut out = [0; 8];
            // SAFETY: see the impl above; `out` holds 8 lanes.
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), self.0) };
            out
        }
    }
}

#[cfg(test)]
#[cfg(target_arch = "x86_64")]
mod tests {
    use super::*;

    /// Deterministic values spread over `-range..range`.
    fn values(seed: u32, range: i32) -> [i32; 8] {
        std::array::from_fn(|i| {
            let hash = (seed * 8 + i as u32).wrapping_mul(2_654_435_761) >> 8;
            (hash % (2 * range as u32)) as i32 - range
        })
    }

    /// Every operation of the AVX2 form gives the portable form's lanes.
    #[test]
    fn avx2_lanes_compute_what_the_portable_ones_do() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        for seed in 0..200 {
            let (a, b) = (values(seed, 1 << 20), values(seed + 1000, 1 << 20));
            let (pa, pb) = (Portable(a), Portable(b));
            let (va, vb) = (Avx2::from_array(a), Avx2::from_array(b));
            assert_eq!(va.add(vb).to_array(), pa.add(pb).0);
            assert_eq!(va.sub(vb).to_array(), pa.sub(pb).0);
            assert_eq!(va.mul(4433).to_array(), pa.mul(4433).0);
            assert_eq!(va.shl(2).to_array(), pa.shl(2).0);
            assert_eq!(va.descale(11).to_array(), pa.descale(11).0);
            let x = values(seed, 8192);
            let correction = values(seed + 1, 500).map(|v| v.abs() + 1);
            let reciprocal = values(seed + 2, 1 << 16).map(|v| v.abs() + 1);
            let shift = values(seed + 3, 5).map(|v| v.abs() + 18);
            let factor = values(seed + 4, 255).map(|v| v.abs() + 1);
            let [c, r, s, f] = [correction, reciprocal, shift, factor];
            let portable =
                Portable(x).quantize_dequantize(Portable(c), Portable(r), Portable(s), Portable(f));
            let avx2 = Avx2::from_array(x).quantize_dequantize(
                Avx2::from_array(c),
                Avx2::from_array(r),
                Avx2::from_array(s),
                Avx2::from_array(f),
            );
            assert_eq!(avx2.to_array(), portable.0, "quantise {x:?}");
            let (mut from_avx2, mut from_portable) = ([0u8; 8], [0u8; 8]);
            let wide = values(seed, 3000);
            Avx2::from_array(wide).store_range_limited(&mut from_avx2);
            Portable(wide).store_range_limited(&mut from_portable);
            assert_eq!(from_avx2, from_portable, "range limit {wide:?}");
            let bytes: Vec<u8> = values(seed, 128).iter().map(|&v| (v + 128) as u8).collect();
            assert_eq!(
                Avx2::load_centred(&bytes).to_array(),
                Portable::load_centred(&bytes).0
            );
            let rows: [[i32; 8]; 8] = std::array::from_fn(|i| values(seed * 8 + i as u32, 99));
            let transposed = Avx2::transpose(rows.map(Avx2::from_array)).map(Avx2::to_array);
            assert_eq!(
                transposed,
                Portable::transpose(rows.map(Portable)).map(|v| v.0)
            );
            // Colour conversions: hashed bytes, and the extremes (all 0, all 255).
            let samples: Vec<u8> = match seed {
                0 => vec![0; 24],
                1 => vec![255; 24],
                _ => (0..24u32)
                    .map(|i| ((seed * 24 + i).wrapping_mul(2_654_435_761) >> 24) as u8)
                    .collect(),
            };
            let (mut from_avx2, mut from_portable) = ([0u8; 24], [0u8; 24]);
            let [y, cb, cr] = [&samples[..8], &samples[8..16], &samples[16..]];
            Avx2::ycc_to_rgb(y, cb, cr, &mut from_avx2);
            Portable::ycc_to_rgb(y, cb, cr, &mut from_portable);
            assert_eq!(from_avx2, from_portable, "YCbCr -> RGB {samples:?}");
            let (mut avx2_planes, mut portable_planes) = ([[0u8; 8]; 3], [[0u8; 8]; 3]);
            let [a, b, c] = &mut avx2_planes;
            Avx2::rgb_to_ycc(&samples, [a, b, c]);
            let [a, b, c] = &mut portable_planes;
            Portable::rgb_to_ycc(&samples, [a, b, c]);
            assert_eq!(avx2_planes, portable_planes, "RGB -> YCbCr {samples:?}");
        }
    }

    /// The range limit is libjpeg's table: clamped inside -512..512, wrapped outside.
    #[test]
    fn range_limit_is_libjpegs_table() {
        let cases = [(-129, 0), (-128, 0), (0, 128), (127, 255), (511, 255)];
        for (x, expected) in cases {
            assert_eq!(range_limit(x), expected, "x {x}");
        }
        // 512 wraps to -512 (clamped to 0), 1024 to 0.
        assert_eq!((range_limit(512), range_limit(1024)), (0, 128));
        assert_eq!(range_limit(-513), 255);
    }
}
