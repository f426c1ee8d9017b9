//! Rotation about the centre with nearest-neighbour sampling and black fill, as PIL's
//! `Image.rotate(angle, NEAREST, expand=False)` (torchvision `RandomRotation`'s default).

use image::RgbImage;

/// Rotates `image` counter-clockwise by `degrees`, keeping its size; uncovered pixels are 0.
pub fn rotate_nearest(image: &RgbImage, degrees: f64) -> RgbImage {
    let (width, height) = image.dimensions();
    let (w, h) = (f64::from(width), f64::from(height));
    // PIL builds the inverse affine map (output -> input), rounding the matrix to 15 digits.
    let angle = -degrees.to_radians();
    let round15 = |v: f64| (v * 1e15).round() / 1e15;
    let (a, b) = (round15(angle.cos()), round15(angle.sin()));
    let (d, e) = (round15(-angle.sin()), round15(angle.cos()));
    let (cx, cy) = (w / 2.0, h / 2.0);
    let c = a * -cx + b * -cy + cx;
    let f = d * -cx + e * -cy + cy;
    let mut out = RgbImage::new(width, height);
    for y in 0..height {
        let yo = f64::from(y) + 0.5;
        for x in 0..width {
            let xo = f64::from(x) + 0.5;
            let xin = a * xo + b * yo + c;
            let yin = d * xo + e * yo + f;
            // PIL's nearest: truncate toward -inf for the inside test.
            if xin >= 0.0 && yin >= 0.0 && xin < w && yin < h {
                out.put_pixel(x, y, *image.get_pixel(xin as u32, yin as u32));
            }
        }
    }
    out
}
