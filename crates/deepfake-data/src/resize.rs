//! Antialiased bilinear resizing equal to PIL's `Image.resize(size, BILINEAR)` (what
//! torchvision's `Resize` does on PIL images), on fast_image_resize's SIMD kernels.

use std::cell::RefCell;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::error::{DataError, Result};
use crate::scratch;
use crate::transpose::transpose_rgb;

thread_local! {
    /// One resizer and two scratch images per thread, kept between images (up to
    /// [`scratch::KEEP_BYTES`] each).
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Resizes `image` to exactly `width x height` (aspect ratio not kept, as `Resize((h, w))`).
///
/// PIL's order: along x, rounded to 8 bits, then along y. fast_image_resize's pass along
/// y runs a whole row per vector step and is several times faster per pixel on RGB than
/// its pass along x, so x is resized as y of the transposed image (the same coefficients
/// and rounding as its pass along x, the same bytes).
pub fn resize_rgb(image: &RgbImage, width: u32, height: u32) -> Result<RgbImage> {
    if image.dimensions() == (width, height) {
        return Ok(image.clone());
    }
    if width == 0 || height == 0 {
        return Err(DataError::InvalidParameter(format!(
            "cannot resize to {width}x{height}"
        )));
    }
    let mut out = vec![0u8; width as usize * height as usize * 3];
    SCRATCH.with_borrow_mut(|scratch| {
        let resized = scratch.resize(image, width, height, &mut out);
        scratch::trim(&mut scratch.transposed);
        scratch::trim(&mut scratch.resized);
        resized
    })?;
    RgbImage::from_raw(width, height, out)
        .ok_or_else(|| DataError::InvalidParameter(format!("cannot resize to {width}x{height}")))
}

/// A resizer and the intermediate images of [`resize_rgb`], reused between images.
#[derive(Default)]
struct Scratch {
    resizer: Resizer,
    /// A transposed image (the input, then the result along x).
    transposed: Vec<u8>,
    /// The transposed input resized along its y.
    resized: Vec<u8>,
}

impl Scratch {
    /// Writes `image` resized to `width x height` to `out` (`width * height * 3` bytes).
    fn resize(&mut self, image: &RgbImage, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        let Self {
            resizer,
            transposed,
            resized,
        } = self;
        let (from_width, from_height) = image.dimensions();
        if from_width == width {
            return resize_columns(resizer, image.as_raw(), width, from_height, height, out);
        }
        let (w, h, to_w) = (from_width as usize, from_height as usize, width as usize);
        // Along x: the transpose (`from_height` wide, `from_width` tall) resized to `width`
        // rows, then transposed back.
        transposed.resize(w * h * 3, 0);
        transpose_rgb(image.as_raw(), w, h, transposed);
        resized.resize(to_w * h * 3, 0);
        resize_columns(resizer, transposed, from_height, from_width, width, resized)?;
        if from_height == height {
            transpose_rgb(resized, h, to_w, out);
            return Ok(());
        }
        transposed.resize(to_w * h * 3, 0);
        transpose_rgb(resized, h, to_w, transposed);
        resize_columns(resizer, transposed, width, from_height, height, out)
    }
}

/// Resizes the `width x height` RGB image `pixels` to `to_height` rows, its width kept
/// (PIL's pass along y), into `out` (`width * to_height * 3` bytes).
fn resize_columns(
    resizer: &mut Resizer,
    pixels: &[u8],
    width: u32,
    height: u32,
    to_height: u32,
    out: &mut [u8],
) -> Result<()> {
    let failed =
        |e: &dyn std::fmt::Display| DataError::InvalidParameter(format!("resize failed: {e}"));
    let source = ImageRef::new(width, height, pixels, PixelType::U8x3).map_err(|e| failed(&e))?;
    let mut target =
        Image::from_slice_u8(width, to_height, out, PixelType::U8x3).map_err(|e| failed(&e))?;
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
    resizer
        .resize(&source, &mut target, &options)
        .map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fast_image_resize's own resize of one side at a time: its pass along x (width
    /// only), then its pass along y (height only), which is PIL's order.
    fn resized_by_the_library(image: &RgbImage, width: u32, height: u32) -> RgbImage {
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        let mut resizer = Resizer::new();
        let mut along_x = RgbImage::new(width, image.height());
        resizer.resize(image, &mut along_x, &options).unwrap();
        let mut out = RgbImage::new(width, height);
        resizer.resize(&along_x, &mut out, &options).unwrap();
        out
    }

    /// A zero width or a zero height, each alone, is refused with the size named.
    #[test]
    fn a_zero_side_is_refused() {
        let image = RgbImage::new(8, 6);
        for (width, height) in [(0, 4), (4, 0), (0, 0)] {
            match resize_rgb(&image, width, height) {
                Err(DataError::InvalidParameter(message)) => {
                    assert!(message.contains(&format!("{width}x{height}")), "{message}")
                }
                other => panic!("{width}x{height}: expected a refusal, got {other:?}"),
            }
        }
    }

    /// The pass along x run down the columns of the transposed image gives the library's
    /// own pass along x, byte for byte: shrinking and enlarging, one side at a time or
    /// both, sizes around its vector steps.
    #[test]
    fn transposed_passes_give_the_librarys_bytes() {
        let image = RgbImage::from_fn(45, 37, |x, y| {
            let v = |k: u32| ((x * 37 + y * 91 + k * 53).wrapping_mul(2_654_435_761) >> 24) as u8;
            image::Rgb([v(0), v(1), v(2)])
        });
        for (width, height) in [
            (11, 37),
            (45, 13),
            (224, 224),
            (16, 9),
            (1, 1),
            (90, 20),
            (7, 80),
        ] {
            let ours = resize_rgb(&image, width, height).unwrap();
            let library = resized_by_the_library(&image, width, height);
            assert_eq!(ours.dimensions(), (width, height));
            let differing = ours
                .iter()
                .zip(library.iter())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(differing, 0, "{width}x{height}: {differing} bytes differ");
        }
    }
}
