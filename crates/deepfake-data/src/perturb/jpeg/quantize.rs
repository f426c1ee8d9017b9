//! Quantisation as libjpeg-turbo does it for PIL's `save(..., quality=q)`: the standard
//! tables of the JPEG specification (Annex K) scaled by `jpeg_set_quality(q, TRUE)`, and
//! rounding division by multiplication with the reciprocal (`jcdctmgr.c`'s
//! `compute_reciprocal` and `quantize` with 16-bit DCT elements, its SIMD build).

use super::dct::Block;
use super::lanes::Lanes;

/// The luminance table of Annex K (K.1), row-major.
const LUMINANCE: [u16; 64] = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113,
    92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/// The chrominance table of Annex K (K.2), row-major.
const CHROMINANCE: [u16; 64] = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
];

/// Which of the two tables a component uses.
#[derive(Debug, Clone, Copy)]
pub enum Component {
    /// Y.
    Luminance,
    /// Cb and Cr.
    Chrominance,
}

/// Rounding division of a forward-DCT output by `8 * quantval` as a multiplication:
/// `(|x| + correction) * reciprocal >> shift`, sign restored.
#[derive(Debug, Clone, Copy)]
struct Divisor {
    reciprocal: u32,
    correction: u32,
    shift: u32,
}

impl Divisor {
    /// libjpeg-turbo's `compute_reciprocal` for 16-bit DCT elements; `divisor` >= 2.
    fn new(divisor: u32) -> Self {
        let b = 31 - divisor.leading_zeros(); // floor(log2(divisor))
        let mut shift = 16 + b;
        let mut reciprocal = (1u32 << shift) / divisor;
        let remainder = (1u32 << shift) % divisor;
        let mut correction = divisor / 2;
        if remainder == 0 {
            // A power of two: the reciprocal would need 17 bits.
            reciprocal >>= 1;
            shift -= 1;
        } else if remainder <= divisor / 2 {
            correction += 1;
        } else {
            reciprocal += 1;
        }
        Self {
            reciprocal,
            correction,
            shift,
        }
    }
}

/// One component's quantisation at one quality.
#[derive(Debug, Clone)]
pub struct Quantizer {
    /// Per entry: libjpeg-turbo's correction, reciprocal and shift, and the entry itself
    /// (what the file's DQT segment holds, the dequantisation factor).
    correction: [[i32; 8]; 8],
    reciprocal: [[i32; 8]; 8],
    shift: [[i32; 8]; 8],
    factor: [[i32; 8]; 8],
}

impl Quantizer {
    /// The table PIL writes for `quality` (1..=100; clamped like libjpeg): Annex K's table
    /// times `5000 / q` (q < 50) or `200 - 2q` percent, rounded, within 1..=255 (baseline).
    pub fn new(component: Component, quality: u8) -> Self {
        let quality = u32::from(quality.clamp(1, 100));
        let scale = if quality < 50 {
            5000 / quality
        } else {
            200 - quality * 2
        };
        let basic = match component {
            Component::Luminance => &LUMINANCE,
            Component::Chrominance => &CHROMINANCE,
        };
        let table = basic.map(|q| ((u32::from(q) * scale + 50) / 100).clamp(1, 255) as u16);
        // The islow forward DCT leaves its outputs scaled by 8.
        let divisors = table.map(|q| Divisor::new(u32::from(q) << 3));
        let entries = |value: &dyn Fn(usize) -> i32| {
            std::array::from_fn(|r| std::array::from_fn(|c| value(r * 8 + c)))
        };
        Self {
            correction: entries(&|i| divisors[i].correction as i32),
            reciprocal: entries(&|i| divisors[i].reciprocal as i32),
            shift: entries(&|i| divisors[i].shift as i32),
            factor: entries(&|i| i32::from(table[i])),
        }
    }

    /// What a decoder reads back for forward-DCT outputs (rows of coefficients): each
    /// quantised (rounded to the nearest multiple, halves away from zero), then multiplied
    /// by its table entry (the inverse DCT's input).
    #[inline(always)]
    pub fn quantize_dequantize<L: Lanes>(&self, block: &Block<L>) -> Block<L> {
        let mut out = *block;
        for (r, vector) in out.iter_mut().enumerate() {
            *vector = vector.quantize_dequantize(
                L::from_array(self.correction[r]),
                L::from_array(self.reciprocal[r]),
                L::from_array(self.shift[r]),
                L::from_array(self.factor[r]),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::lanes::divide;
    use super::*;

    /// The reciprocal division (`lanes::divide`, what both lane forms compute) equals
    /// libjpeg's plain rounding division (`(|x| + d/2) / d`) on every value a forward DCT of
    /// 8-bit samples can produce.
    #[test]
    fn reciprocal_division_rounds_like_plain_division() {
        for q in 1..=255u32 {
            let d = q << 3;
            let divisor = Divisor::new(d);
            let [c, r, s] =
                [divisor.correction, divisor.reciprocal, divisor.shift].map(|v| v as i32);
            for x in -8192..=8192i32 {
                let plain = ((x.unsigned_abs() + d / 2) / d) as i32 * x.signum();
                assert_eq!(divide(x, c, r, s), plain, "x {x}, divisor {d}");
            }
        }
    }

    /// The table a quantizer dequantises with, row-major.
    fn table(component: Component, quality: u8) -> Vec<u16> {
        let factor = Quantizer::new(component, quality).factor;
        factor.iter().flatten().map(|&q| q as u16).collect()
    }

    #[test]
    fn quality_scaling_is_libjpegs() {
        // jpeg_set_quality(50) keeps Annex K; 100 gives all ones; 10 multiplies by 5.
        assert_eq!(table(Component::Luminance, 50), LUMINANCE);
        assert_eq!(table(Component::Chrominance, 100), [1; 64]);
        let q10 = table(Component::Luminance, 10);
        assert_eq!((q10[0], q10[63]), (80, 255));
    }
}
