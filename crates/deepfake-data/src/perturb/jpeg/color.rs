//! RGB <-> YCbCr in libjpeg's 16-bit fixed point (`jccolor.c`'s `rgb_ycc_convert`,
//! `jdcolor.c`'s `ycc_rgb_convert`): JFIF's full-range BT.601 matrix, with libjpeg's own
//! rounding.

/// Fractional bits of the fixed point.
pub const SCALEBITS: u32 = 16;
/// One half in the fixed point.
pub const ONE_HALF: i32 = 1 << (SCALEBITS - 1);
const CBCR_OFFSET: i32 = 128 << SCALEBITS;

/// `x` in 16-bit fixed point, rounded (libjpeg's `FIX`).
const fn fix(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

/// `rgb_to_ycc`'s fixed-point rows: each of Y, Cb and Cr is `(weights . [R, G, B] + offset)
/// >> SCALEBITS` (libjpeg rounds Cb and Cr with 0.5 - epsilon so that 255 cannot overflow).
pub const TO_YCC: [([i32; 3], i32); 3] = [
    ([fix(0.29900), fix(0.58700), fix(0.11400)], ONE_HALF),
    (
        [-fix(0.16874), -fix(0.33126), fix(0.50000)],
        CBCR_OFFSET + ONE_HALF - 1,
    ),
    (
        [fix(0.50000), -fix(0.41869), -fix(0.08131)],
        CBCR_OFFSET + ONE_HALF - 1,
    ),
];

/// One pixel to `[Y, Cb, Cr]`.
#[inline(always)]
pub fn rgb_to_ycc(rgb: [u8; 3]) -> [u8; 3] {
    let [r, g, b] = [0, 1, 2].map(|c| i32::from(rgb[c]));
    let mut out = [0u8; 3];
    for (sample, ([wr, wg, wb], offset)) in out.iter_mut().zip(TO_YCC) {
        *sample = ((wr * r + wg * g + wb * b + offset) >> SCALEBITS) as u8;
    }
    out
}

/// `ycc_to_rgb`'s weights: red += `RED_CR * Cr`, green += `GREEN_CB * Cb + GREEN_CR * Cr`,
/// blue += `BLUE_CB * Cb` (Cb, Cr centred on 0), each sum plus `ONE_HALF` shifted right by
/// `SCALEBITS`.
pub const RED_CR: i32 = fix(1.40200);
/// See [`RED_CR`].
pub const GREEN_CB: i32 = -fix(0.34414);
/// See [`RED_CR`].
pub const GREEN_CR: i32 = -fix(0.71414);
/// See [`RED_CR`].
pub const BLUE_CB: i32 = fix(1.77200);

/// One pixel of `[Y, Cb, Cr]` back to RGB, clamped to 0..=255.
#[inline(always)]
pub fn ycc_to_rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
    let y = i32::from(y);
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let red = (RED_CR * cr + ONE_HALF) >> SCALEBITS;
    let green = (GREEN_CB * cb + ONE_HALF + GREEN_CR * cr) >> SCALEBITS;
    let blue = (BLUE_CB * cb + ONE_HALF) >> SCALEBITS;
    [y + red, y + green, y + blue].map(|v| v.clamp(0, 255) as u8)
}
