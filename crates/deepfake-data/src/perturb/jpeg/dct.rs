//! libjpeg's "islow" integer DCTs (`jfdctint.c`, `jidctint.c`: Loeffler, Ligtenberg and
//! Moschytz's algorithm with 13-bit constants), with libjpeg-turbo's rounding, which PIL uses.
//!
//! Each 1-D pass runs on all eight rows or columns at once: a block is eight vectors of eight
//! lanes ([`Lanes`]), and a pass combines whole vectors.
//! The arithmetic is 32-bit like libjpeg-turbo's SIMD code; the values of any block of 8-bit
//! samples stay far inside that range (the transforms are orthogonal up to scale, so no
//! coefficient exceeds the block's energy).

use super::lanes::Lanes;

/// One 8x8 block: eight vectors (rows, or columns after a transpose).
pub type Block<L> = [L; 8];

const CONST_BITS: u32 = 13;
const PASS1_BITS: u32 = 2;

const FIX_0_298631336: i32 = 2446;
const FIX_0_390180644: i32 = 3196;
const FIX_0_541196100: i32 = 4433;
const FIX_0_765366865: i32 = 6270;
const FIX_0_899976223: i32 = 7373;
const FIX_1_175875602: i32 = 9633;
const FIX_1_501321110: i32 = 12299;
const FIX_1_847759065: i32 = 15137;
const FIX_1_961570560: i32 = 16069;
const FIX_2_053119869: i32 = 16819;
const FIX_2_562915447: i32 = 20995;
const FIX_3_072711026: i32 = 25172;

/// The odd half of both transforms (LL&M's figure 8): from the odd-index inputs
/// `(i7, i5, i3, i1)` to the products `[tmp0, tmp1, tmp2, tmp3]` libjpeg combines with the
/// even half.
#[inline(always)]
fn odd_part<L: Lanes>(i7: L, i5: L, i3: L, i1: L) -> [L; 4] {
    let z1 = i7.add(i1);
    let z2 = i5.add(i3);
    let z3 = i7.add(i3);
    let z4 = i5.add(i1);
    let z5 = z3.add(z4).mul(FIX_1_175875602);
    let z1 = z1.mul(-FIX_0_899976223);
    let z2 = z2.mul(-FIX_2_562915447);
    let z3 = z3.mul(-FIX_1_961570560).add(z5);
    let z4 = z4.mul(-FIX_0_390180644).add(z5);
    [
        i7.mul(FIX_0_298631336).add(z1.add(z3)),
        i5.mul(FIX_2_053119869).add(z2.add(z4)),
        i3.mul(FIX_3_072711026).add(z2.add(z3)),
        i1.mul(FIX_1_501321110).add(z1.add(z4)),
    ]
}

/// One forward pass along the vector index: `d[k]` holds sample `k` of eight transforms.
/// The first pass scales its outputs by `2^PASS1_BITS`, the second removes that and leaves
/// libjpeg's overall factor 8.
#[inline(always)]
fn forward_pass<L: Lanes>(d: &Block<L>, first: bool) -> Block<L> {
    let (tmp0, tmp7) = (d[0].add(d[7]), d[0].sub(d[7]));
    let (tmp1, tmp6) = (d[1].add(d[6]), d[1].sub(d[6]));
    let (tmp2, tmp5) = (d[2].add(d[5]), d[2].sub(d[5]));
    let (tmp3, tmp4) = (d[3].add(d[4]), d[3].sub(d[4]));
    let (tmp10, tmp13) = (tmp0.add(tmp3), tmp0.sub(tmp3));
    let (tmp11, tmp12) = (tmp1.add(tmp2), tmp1.sub(tmp2));
    let z1 = tmp12.add(tmp13).mul(FIX_0_541196100);
    let [o7, o5, o3, o1] = odd_part(tmp4, tmp5, tmp6, tmp7);
    let (dc0, dc4, shift) = if first {
        (
            tmp10.add(tmp11).shl(PASS1_BITS),
            tmp10.sub(tmp11).shl(PASS1_BITS),
            CONST_BITS - PASS1_BITS,
        )
    } else {
        (
            tmp10.add(tmp11).descale(PASS1_BITS),
            tmp10.sub(tmp11).descale(PASS1_BITS),
            CONST_BITS + PASS1_BITS,
        )
    };
    [
        dc0,
        o1.descale(shift),
        z1.add(tmp13.mul(FIX_0_765366865)).descale(shift),
        o3.descale(shift),
        dc4,
        o5.descale(shift),
        z1.add(tmp12.mul(-FIX_1_847759065)).descale(shift),
        o7.descale(shift),
    ]
}

/// Forward DCT of one block (`jpeg_fdct_islow`): rows of samples minus 128 in,
/// coefficients scaled up by 8 out (`[vertical frequency]` vectors of horizontal
/// frequencies).
#[inline(always)]
pub fn forward_dct<L: Lanes>(rows: &Block<L>) -> Block<L> {
    // Rows first, as libjpeg: transposed, each row's samples run along the vector index.
    let rows = forward_pass(&L::transpose(*rows), true);
    forward_pass(&L::transpose(rows), false)
}

/// One inverse pass along the vector index: the eight outputs, not yet descaled.
#[inline(always)]
fn inverse_pass<L: Lanes>(i: &Block<L>) -> Block<L> {
    let z1 = i[2].add(i[6]).mul(FIX_0_541196100);
    let tmp2 = z1.add(i[6].mul(-FIX_1_847759065));
    let tmp3 = z1.add(i[2].mul(FIX_0_765366865));
    let tmp0 = i[0].add(i[4]).shl(CONST_BITS);
    let tmp1 = i[0].sub(i[4]).shl(CONST_BITS);
    let (tmp10, tmp13) = (tmp0.add(tmp3), tmp0.sub(tmp3));
    let (tmp11, tmp12) = (tmp1.add(tmp2), tmp1.sub(tmp2));
    let [tmp0, tmp1, tmp2, tmp3] = odd_part(i[7], i[5], i[3], i[1]);
    [
        tmp10.add(tmp3),
        tmp11.add(tmp2),
        tmp12.add(tmp1),
        tmp13.add(tmp0),
        tmp13.sub(tmp0),
        tmp12.sub(tmp1),
        tmp11.sub(tmp2),
        tmp10.sub(tmp3),
    ]
}

/// Inverse DCT of one block of dequantised coefficients (`jpeg_idct_islow`), writing the
/// 8x8 samples (level shift and libjpeg's range limit included) to `out[row * stride + col]`.
/// (libjpeg's shortcuts for rows and columns without AC terms give the same numbers.)
#[inline(always)]
pub fn inverse_dct<L: Lanes>(coefficients: &Block<L>, out: &mut [u8], stride: usize) {
    // Columns first: the rows of coefficients are the vectors.
    let mut columns = inverse_pass(coefficients);
    for vector in &mut columns {
        *vector = vector.descale(CONST_BITS - PASS1_BITS);
    }
    let mut rows = inverse_pass(&L::transpose(columns));
    for vector in &mut rows {
        *vector = vector.descale(CONST_BITS + PASS1_BITS + 3);
    }
    for (row, values) in L::transpose(rows).into_iter().enumerate() {
        values.store_range_limited(&mut out[row * stride..]);
    }
}
