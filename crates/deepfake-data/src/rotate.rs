//! Rotation about the centre with nearest-neighbour sampling and black fill, as PIL's
//! `Image.rotate(angle, NEAREST, expand=False)` (torchvision `RandomRotation`'s default).

use image::RgbImage;

/// PIL's `FIX`: a value in 16.16 fixed point, rounded half up.
fn fixed(v: f64) -> i64 {
    (v * 65536.0 + 0.5).floor() as i64
}

/// Rotates `image` counter-clockwise by `degrees`, keeping its size; uncovered pixels are 0.
///
/// Bit-exact with PIL: the inverse map (output -> input) is built as `Image.rotate` builds it
/// (matrix rounded to 15 digits) and walked in 16.16 fixed point as PIL's `affine_fixed`.
pub fn rotate_nearest(image: &RgbImage, degrees: f64) -> RgbImage {
    rotate_nearest_mirrored(image, degrees, false)
}

/// [`rotate_nearest`] of `image` flipped left-right when `mirror` is set (the flip and the
/// rotation in one pass, identical to flipping first).
pub fn rotate_nearest_mirrored(image: &RgbImage, degrees: f64, mirror: bool) -> RgbImage {
    let (width, height) = image.dimensions();
    let (w, h) = (f64::from(width), f64::from(height));
    let angle = -degrees.to_radians();
    let round15 = |v: f64| (v * 1e15).round() / 1e15;
    let (a, b) = (round15(angle.cos()), round15(angle.sin()));
    let (d, e) = (round15(-angle.sin()), round15(angle.cos()));
    let (cx, cy) = (w / 2.0, h / 2.0);
    let c = a * -cx + b * -cy + cx;
    let f = d * -cx + e * -cy + cy;
    let (a0, a1, a3, a4) = (fixed(a), fixed(b), fixed(d), fixed(e));
    let mut row_x = fixed(c + a * 0.5 + b * 0.5);
    let mut row_y = fixed(f + d * 0.5 + e * 0.5);
    let (xsize, ysize) = (i64::from(width), i64::from(height));
    let src = image.as_raw();
    let stride = 3 * width as usize;
    let mut out = RgbImage::new(width, height);
    for out_row in out.chunks_exact_mut(stride.max(1)) {
        let (mut xx, mut yy) = (row_x, row_y);
        for out_pixel in out_row.chunks_exact_mut(3) {
            let (xin, yin) = (xx >> 16, yy >> 16);
            if (0..xsize).contains(&xin) && (0..ysize).contains(&yin) {
                let column = if mirror { xsize - 1 - xin } else { xin };
                let at = yin as usize * stride + 3 * column as usize;
                out_pixel.copy_from_slice(&src[at..at + 3]);
            }
            xx += a0;
            yy += a3;
        }
        row_x += a1;
        row_y += a4;
    }
    out
}
