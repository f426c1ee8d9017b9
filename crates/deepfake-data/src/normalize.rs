//! From RGB8 pixels to the model's input: CHW f32, scaled to [0, 1], ImageNet-normalised.

use deepfake_formats::{IMAGENET_MEAN, IMAGENET_STD};
use image::RgbImage;

use crate::augment::{IDENTITY, ValueTable};

use crate::error::Result;
use crate::resize::resize_rgb;

/// `[3, H, W]` row-major f32 values `(pixel / 255 - mean[c]) / std[c]` (torchvision's
/// `ToTensor` then `Normalize`), appended to `out`.
pub fn normalize_into(image: &RgbImage, out: &mut Vec<f32>) {
    normalize_mapped_into(image, &IDENTITY, out);
}

/// [`normalize_into`] of the image whose 8-bit values are first mapped through `values`
/// (the colour jitter of [`crate::augment::augment_deferred`]).
pub fn normalize_mapped_into(image: &RgbImage, values: &ValueTable, out: &mut Vec<f32>) {
    let (width, height) = image.dimensions();
    let plane = (width * height) as usize;
    let start = out.len();
    out.resize(start + 3 * plane, 0.0);
    let planes = &mut out[start..];
    // One table per channel: 256 values each, computed as the formula above.
    let table: [[f32; 256]; 3] = std::array::from_fn(|c| {
        let scale = 1.0 / (255.0 * IMAGENET_STD[c]);
        let offset = IMAGENET_MEAN[c] / IMAGENET_STD[c];
        std::array::from_fn(|v| f32::from(values[v]) * scale - offset)
    });
    let (red, rest) = planes.split_at_mut(plane);
    let (green, blue) = rest.split_at_mut(plane);
    let pixels = image.as_raw().chunks_exact(3);
    for (((pixel, r), g), b) in pixels.zip(red).zip(green).zip(blue) {
        *r = table[0][usize::from(pixel[0])];
        *g = table[1][usize::from(pixel[1])];
        *b = table[2][usize::from(pixel[2])];
    }
}

/// The evaluation preprocessing shared by evaluation and prediction: resize to
/// `size x size` (PIL bilinear), then normalise. Returns `[3, size, size]` values.
pub fn preprocess_eval(image: &RgbImage, size: u32) -> Result<Vec<f32>> {
    let resized = resize_rgb(image, size, size)?;
    let mut out = Vec::with_capacity(3 * (size * size) as usize);
    normalize_into(&resized, &mut out);
    Ok(out)
}
