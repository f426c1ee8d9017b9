//! From RGB8 pixels to the model's input: CHW f32, scaled to [0, 1], ImageNet-normalised.

use deepfake_model::preprocess::{IMAGENET_MEAN, IMAGENET_STD};
use image::RgbImage;

use crate::error::Result;
use crate::resize::resize_rgb;

/// `[3, H, W]` row-major f32 values `(pixel / 255 - mean[c]) / std[c]` (torchvision's
/// `ToTensor` then `Normalize`), appended to `out`.
pub fn normalize_into(image: &RgbImage, out: &mut Vec<f32>) {
    let (width, height) = image.dimensions();
    let plane = (width * height) as usize;
    let start = out.len();
    out.resize(start + 3 * plane, 0.0);
    let planes = &mut out[start..];
    let scale: [f32; 3] = std::array::from_fn(|c| 1.0 / (255.0 * IMAGENET_STD[c]));
    let offset: [f32; 3] = std::array::from_fn(|c| IMAGENET_MEAN[c] / IMAGENET_STD[c]);
    for (i, pixel) in image.pixels().enumerate() {
        for c in 0..3 {
            planes[c * plane + i] = f32::from(pixel.0[c]) * scale[c] - offset[c];
        }
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
