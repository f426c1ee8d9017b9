//! JPEG re-encoding as PIL does it: `image.save(f, "JPEG", quality=q)` (libjpeg's quality
//! scaling of the standard tables, 4:2:0 chroma subsampling by 2x2 averages at every
//! quality, the integer forward DCT), then decoding with libjpeg's "fancy" chroma
//! upsampling (jpeg-decoder; image's own decoder upsamples differently, 3x further from PIL).
//! Encoder and decoder differ from libjpeg's in rounding only: tests/integration/perturb_parity.rs
//! measures the distance to PIL.

use image::RgbImage;
use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, Encoder, SamplingFactor};

use crate::error::{DataError, Result};

/// Encodes `image` as a JPEG of `quality` (1..=100) and decodes it again.
pub fn jpeg_roundtrip(image: &RgbImage, quality: u8) -> Result<RgbImage> {
    let (width, height) = image.dimensions();
    let failed = |reason: String| DataError::InvalidParameter(format!("JPEG round trip: {reason}"));
    let width16 = u16::try_from(width).map_err(|_| {
        failed(format!(
            "{width}x{height} is over JPEG's 65535 pixels a side"
        ))
    })?;
    let height16 = u16::try_from(height).map_err(|_| {
        failed(format!(
            "{width}x{height} is over JPEG's 65535 pixels a side"
        ))
    })?;
    let mut bytes = Vec::new();
    let mut encoder = Encoder::new(&mut bytes, quality.clamp(1, 100));
    encoder.set_sampling_factor(SamplingFactor::F_2_2);
    // libjpeg averages each 2x2 block of chroma (the crate's default takes one pixel).
    encoder.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    encoder
        .encode(image.as_raw(), width16, height16, ColorType::Rgb)
        .map_err(|e| failed(e.to_string()))?;
    let mut decoder = jpeg_decoder::Decoder::new(bytes.as_slice());
    let pixels = decoder.decode().map_err(|e| failed(e.to_string()))?;
    RgbImage::from_raw(width, height, pixels)
        .ok_or_else(|| failed("the decoder returned another size".into()))
}
