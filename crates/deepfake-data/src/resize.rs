//! Antialiased bilinear resizing equal to PIL's `Image.resize(size, BILINEAR)` (what
//! torchvision's `Resize` does on PIL images), on fast_image_resize's SIMD kernels.

use std::cell::RefCell;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::error::{DataError, Result};

thread_local! {
    /// One resizer per thread keeps its scratch buffers between images.
    static RESIZER: RefCell<Resizer> = RefCell::new(Resizer::new());
}

/// Resizes `image` to exactly `width x height` (aspect ratio not kept, as `Resize((h, w))`).
pub fn resize_rgb(image: &RgbImage, width: u32, height: u32) -> Result<RgbImage> {
    if image.dimensions() == (width, height) {
        return Ok(image.clone());
    }
    if width == 0 || height == 0 {
        return Err(DataError::InvalidParameter(format!(
            "cannot resize to {width}x{height}"
        )));
    }
    let mut out = RgbImage::new(width, height);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    RESIZER
        .with_borrow_mut(|resizer| resizer.resize(image, &mut out, &options))
        .map_err(|e| DataError::InvalidParameter(format!("resize failed: {e}")))?;
    Ok(out)
}
