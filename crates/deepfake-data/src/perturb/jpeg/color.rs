//! RGB <-> YCbCr in libjpeg's 16-bit fixed point (`jccolor.c`'s `rgb_ycc_convert`,
//! `jdcolor.c`'s `ycc_rgb_convert`): JFIF's full-range BT.601 matrix, with libjpeg's own
//! rounding.

const SCALEBITS: u32 = 16;
const ONE_HALF: i32 = 1 << (SCALEBITS - 1);
const CBCR_OFFSET: i32 = 128 << SCALEBITS;

/// `x` in 16-bit fixed point, rounded (libjpeg's `FIX`).
const fn fix(x: f64) -> i32 {
    (x * 65536.0 + 0.5) as i32
}

/// One pixel to `[Y, Cb, Cr]`.
#[inline(always)]
pub fn rgb_to_ycc([r, g, b]: [u8; 3]) -> [u8; 3] {
    let (r, g, b) = (i32::from(r), i32::from(g), i32::from(b));
    let y = (fix(0.29900) * r + fix(0.58700) * g + fix(0.11400) * b + ONE_HALF) >> SCALEBITS;
    // libjpeg rounds Cb and Cr with 0.5 - epsilon so that 255 cannot overflow.
    let cb = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.50000) * b + CBCR_OFFSET + ONE_HALF - 1)
        >> SCALEBITS;
    let cr = (fix(0.50000) * r - fix(0.41869) * g - fix(0.08131) * b + CBCR_OFFSET + ONE_HALF - 1)
        >> SCALEBITS;
    [y as u8, cb as u8, cr as u8]
}

/// One pixel of `[Y, Cb, Cr]` back to RGB, clamped to 0..=255.
#[inline(always)]
pub fn ycc_to_rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
    let y = i32::from(y);
    let cb = i32::from(cb) - 128;
    let cr = i32::from(cr) - 128;
    let red = (fix(1.40200) * cr + ONE_HALF) >> SCALEBITS;
    let green = (-fix(0.34414) * cb + ONE_HALF - fix(0.71414) * cr) >> SCALEBITS;
    let blue = (fix(1.77200) * cb + ONE_HALF) >> SCALEBITS;
    [y + red, y + green, y + blue].map(|v| v.clamp(0, 255) as u8)
}
