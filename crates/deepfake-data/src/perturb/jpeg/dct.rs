//! libjpeg's "islow" integer DCTs (`jfdctint.c`, `jidctint.c`: Loeffler, Ligtenberg and
//! Moschytz's algorithm with 13-bit constants), with libjpeg-turbo's rounding, which PIL uses.
//!
//! Each 1-D pass runs on all eight rows or columns at once: a block is eight vectors of eight
//! lanes, and a pass combines whole vectors (the compiler turns the lane loops into SIMD).
//! The arithmetic is 32-bit like libjpeg-turbo's SIMD code; the values of any block of 8-bit
//! samples stay far inside that range (the transforms are orthogonal up to scale, so no
//! coefficient exceeds the block's energy).

/// One 8x8 block: `block[row][col]`.
pub type Block = [[i32; 8]; 8];

/// Eight lanes, one per row or column of a block.
type Lanes = [i32; 8];

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

/// A vector from its lanes (a plain loop: `array::from_fn` does not always inline).
#[inline(always)]
fn lanewise(f: impl Fn(usize) -> i32) -> Lanes {
    let mut out = [0; 8];
    for (i, value) in out.iter_mut().enumerate() {
        *value = f(i);
    }
    out
}

#[inline(always)]
fn add(a: Lanes, b: Lanes) -> Lanes {
    lanewise(|i| a[i] + b[i])
}

#[inline(always)]
fn sub(a: Lanes, b: Lanes) -> Lanes {
    lanewise(|i| a[i] - b[i])
}

#[inline(always)]
fn mul(a: Lanes, constant: i32) -> Lanes {
    lanewise(|i| a[i] * constant)
}

#[inline(always)]
fn shl(a: Lanes, n: u32) -> Lanes {
    lanewise(|i| a[i] << n)
}

/// `x / 2^n` rounded half up (libjpeg's `DESCALE`).
#[inline(always)]
fn descale(a: Lanes, n: u32) -> Lanes {
    lanewise(|i| (a[i] + (1 << (n - 1))) >> n)
}

#[inline(always)]
fn transpose(block: &Block) -> Block {
    let mut out = [[0; 8]; 8];
    for (r, row) in out.iter_mut().enumerate() {
        for (c, value) in row.iter_mut().enumerate() {
            *value = block[c][r];
        }
    }
    out
}

/// The odd half of both transforms (LL&M's figure 8): from the odd-index inputs
/// `(i7, i5, i3, i1)` to the products `[tmp0, tmp1, tmp2, tmp3]` libjpeg combines with the
/// even half.
#[inline(always)]
fn odd_part(i7: Lanes, i5: Lanes, i3: Lanes, i1: Lanes) -> [Lanes; 4] {
    let z1 = add(i7, i1);
    let z2 = add(i5, i3);
    let z3 = add(i7, i3);
    let z4 = add(i5, i1);
    let z5 = mul(add(z3, z4), FIX_1_175875602);
    let z1 = mul(z1, -FIX_0_899976223);
    let z2 = mul(z2, -FIX_2_562915447);
    let z3 = add(mul(z3, -FIX_1_961570560), z5);
    let z4 = add(mul(z4, -FIX_0_390180644), z5);
    [
        add(mul(i7, FIX_0_298631336), add(z1, z3)),
        add(mul(i5, FIX_2_053119869), add(z2, z4)),
        add(mul(i3, FIX_3_072711026), add(z2, z3)),
        add(mul(i1, FIX_1_501321110), add(z1, z4)),
    ]
}

/// One forward pass along the vector index: `d[k]` holds sample `k` of eight transforms.
/// The first pass scales its outputs by `2^PASS1_BITS`, the second removes that and leaves
/// libjpeg's overall factor 8.
#[inline(always)]
fn forward_pass(d: &Block, first: bool) -> Block {
    let (tmp0, tmp7) = (add(d[0], d[7]), sub(d[0], d[7]));
    let (tmp1, tmp6) = (add(d[1], d[6]), sub(d[1], d[6]));
    let (tmp2, tmp5) = (add(d[2], d[5]), sub(d[2], d[5]));
    let (tmp3, tmp4) = (add(d[3], d[4]), sub(d[3], d[4]));
    let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
    let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
    let z1 = mul(add(tmp12, tmp13), FIX_0_541196100);
    let [o7, o5, o3, o1] = odd_part(tmp4, tmp5, tmp6, tmp7);
    let (dc0, dc4, shift) = if first {
        (
            shl(add(tmp10, tmp11), PASS1_BITS),
            shl(sub(tmp10, tmp11), PASS1_BITS),
            CONST_BITS - PASS1_BITS,
        )
    } else {
        (
            descale(add(tmp10, tmp11), PASS1_BITS),
            descale(sub(tmp10, tmp11), PASS1_BITS),
            CONST_BITS + PASS1_BITS,
        )
    };
    [
        dc0,
        descale(o1, shift),
        descale(add(z1, mul(tmp13, FIX_0_765366865)), shift),
        descale(o3, shift),
        dc4,
        descale(o5, shift),
        descale(add(z1, mul(tmp12, -FIX_1_847759065)), shift),
        descale(o7, shift),
    ]
}

/// Forward DCT of one block (`jpeg_fdct_islow`): samples minus 128 in, coefficients scaled
/// up by 8 out (`[vertical frequency][horizontal frequency]`).
#[inline(always)]
pub fn forward_dct(block: &Block) -> Block {
    // Rows first, as libjpeg: transposed, each row's samples run along the vector index.
    let rows = forward_pass(&transpose(block), true);
    forward_pass(&transpose(&rows), false)
}

/// One inverse pass along the vector index: the eight outputs, not yet descaled.
#[inline(always)]
fn inverse_pass(i: &Block) -> Block {
    let z1 = mul(add(i[2], i[6]), FIX_0_541196100);
    let tmp2 = add(z1, mul(i[6], -FIX_1_847759065));
    let tmp3 = add(z1, mul(i[2], FIX_0_765366865));
    let tmp0 = shl(add(i[0], i[4]), CONST_BITS);
    let tmp1 = shl(sub(i[0], i[4]), CONST_BITS);
    let (tmp10, tmp13) = (add(tmp0, tmp3), sub(tmp0, tmp3));
    let (tmp11, tmp12) = (add(tmp1, tmp2), sub(tmp1, tmp2));
    let [tmp0, tmp1, tmp2, tmp3] = odd_part(i[7], i[5], i[3], i[1]);
    [
        add(tmp10, tmp3),
        add(tmp11, tmp2),
        add(tmp12, tmp1),
        add(tmp13, tmp0),
        sub(tmp13, tmp0),
        sub(tmp12, tmp1),
        sub(tmp11, tmp2),
        sub(tmp10, tmp3),
    ]
}

/// libjpeg's post-IDCT range limit (`range_limit[x & RANGE_MASK]`): `x + 128` clamped to
/// 0..=255 for `x` in -512..512, wrapping outside as libjpeg's table does.
#[inline(always)]
fn range_limit(x: i32) -> u8 {
    let index = x & 1023;
    let centred = if index < 512 { index } else { index - 1024 };
    (centred + 128).clamp(0, 255) as u8
}

/// Inverse DCT of one block of dequantised coefficients (`jpeg_idct_islow`), writing the
/// 8x8 samples (level shift and clamping included) to `out[row * stride + col]`.
/// (libjpeg's shortcuts for rows and columns without AC terms give the same numbers.)
#[inline(always)]
pub fn inverse_dct(coefficients: &Block, out: &mut [u8], stride: usize) {
    // Columns first: the rows of coefficients are the vectors.
    let mut columns = inverse_pass(coefficients);
    for vector in &mut columns {
        *vector = descale(*vector, CONST_BITS - PASS1_BITS);
    }
    let mut rows = inverse_pass(&transpose(&columns));
    for vector in &mut rows {
        *vector = descale(*vector, CONST_BITS + PASS1_BITS + 3);
    }
    let samples = transpose(&rows);
    for (row, values) in samples.iter().enumerate() {
        for (sample, &value) in out[row * stride..][..8].iter_mut().zip(values) {
            *sample = range_limit(value);
        }
    }
}
