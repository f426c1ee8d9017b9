//! Decoding any image file into RGB8, safely.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::error::{DataError, Result};

/// Default largest image accepted, in pixels (64 megapixels).
pub const DEFAULT_MAX_PIXELS: u64 = 64 * 1024 * 1024;

/// Limits that guard decoding against decompression bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest `width * height` accepted.
    pub max_pixels: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_pixels: DEFAULT_MAX_PIXELS,
        }
    }
}

/// Reads and decodes the image at `path` (format from the content, not the name).
pub fn decode_file(path: &Path, limits: DecodeLimits) -> Result<RgbImage> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    decode_bytes(&bytes, path, limits)
}

/// Decodes an encoded image (JPEG, PNG, WebP, BMP, GIF's first frame) to RGB8: the EXIF
/// orientation is applied; grayscale, alpha (dropped, not composited), 16-bit and CMYK
/// become RGB8. The declared size is checked against `limits` before any pixel is
/// allocated. `path` only names the image in errors.
pub fn decode_bytes(bytes: &[u8], path: &Path, limits: DecodeLimits) -> Result<RgbImage> {
    let error = |reason: String| DataError::Decode {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.is_empty() {
        return Err(error("the file is empty".into()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| error(e.to_string()))?;
    if reader.format().is_none() {
        return Err(error("not a recognised image format".into()));
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && !has_jpeg_end_marker(bytes) {
        // zune-jpeg fills a cut-off scan with grey instead of failing: catch truncation here.
        return Err(error("truncated JPEG (no end-of-image marker)".into()));
    }
    let mut decoder_limits = Limits::default();
    // Room for the decoded pixels at up to 16 bits x 4 channels, plus decoder scratch.
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(16));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(|e| error(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(DataError::TooLarge {
            path: path.to_path_buf(),
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    if pixels == 0 {
        return Err(error("the image has no pixels".into()));
    }
    let orientation = decoder.orientation().map_err(|e| error(e.to_string()))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| error(e.to_string()))?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// Whether a JPEG stream holds its end-of-image marker (`FF D9`) near its end. Inside
/// entropy-coded data `FF` is always followed by `00` or a restart marker, so `FF D9` there
/// can only be the real end (trailing bytes after it are allowed).
fn has_jpeg_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}
