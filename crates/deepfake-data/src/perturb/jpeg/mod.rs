//! JPEG re-encoding as PIL does it: `Image.open(BytesIO(save(JPEG, quality=q)))` with PIL's
//! defaults (libjpeg-turbo, 4:2:0 chroma, islow DCTs, fancy upsampling), computed without
//! the bit stream: colour conversion, subsampling, forward DCT and quantisation, then
//! dequantisation, inverse DCT, upsampling and colour conversion back, each step ported
//! from libjpeg-turbo 3.1 with its rounding. Entropy coding is lossless, so the pixels are
//! the ones PIL decodes (tests/integration/perturb_parity.rs compares them bit for bit).

mod color;
mod dct;
mod lanes;
mod quantize;
mod sampling;

use image::RgbImage;

use crate::error::{DataError, Result};
use dct::Block;
use lanes::{Lanes, Portable};
use quantize::{Component, Quantizer};
use sampling::Plane;

/// JPEG's largest side, pixels.
const MAX_SIDE: u32 = 65_535;

/// `n` rounded up to a multiple of `m`.
fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// Encodes `image` as a JPEG of `quality` (1..=100; clamped) and decodes it again.
///
/// # Errors
/// [`DataError::InvalidParameter`] for a side over JPEG's 65535 pixels (PIL fails too).
pub fn jpeg_roundtrip(image: &RgbImage, quality: u8) -> Result<RgbImage> {
    let (width, height) = image.dimensions();
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(DataError::InvalidParameter(format!(
            "JPEG round trip: {width}x{height} is over JPEG's 65535 pixels a side"
        )));
    }
    if width == 0 || height == 0 {
        return Ok(image.clone());
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return Ok(unsafe { roundtrip_avx2(image, quality) });
    }
    Ok(roundtrip::<Portable>(image, quality))
}

/// [`roundtrip`] compiled for AVX2, its blocks in AVX2 registers ([`lanes::Avx2`]; the
/// baseline x86-64 target has no 8-lane 32-bit multiplies).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn roundtrip_avx2(image: &RgbImage, quality: u8) -> RgbImage {
    roundtrip::<lanes::Avx2>(image, quality)
}

/// The round trip of a non-empty image, its 8x8 blocks computed in `L` (everything it calls
/// is inlined, so that it compiles for the caller's target features).
#[inline(always)]
fn roundtrip<L: Lanes>(image: &RgbImage, quality: u8) -> RgbImage {
    let (width, height) = image.dimensions();
    let (w, h) = (width as usize, height as usize);
    let [y, cb, cr] = split_ycc::<L>(image);

    // Luma at full resolution, padded to whole blocks.
    let luma = Quantizer::new(Component::Luminance, quality);
    let y = roundtrip_blocks::<L>(
        &y.replicate_edges(w, h, round_up(w, 8), round_up(h, 8)),
        &luma,
    );

    let chroma = Quantizer::new(Component::Chrominance, quality);
    let (cb, cr) = (
        chroma_roundtrip::<L>(&cb, &chroma),
        chroma_roundtrip::<L>(&cr, &chroma),
    );

    let mut out = RgbImage::new(width, height);
    let vectorised = w / 8 * 8;
    for (row, pixels) in out.chunks_exact_mut(3 * w).enumerate() {
        let (y, cb, cr) = (y.row(row), cb.row(row), cr.row(row));
        for x in (0..vectorised).step_by(8) {
            L::ycc_to_rgb(&y[x..], &cb[x..], &cr[x..], &mut pixels[3 * x..]);
        }
        for x in vectorised..w {
            let pixel = color::ycc_to_rgb([y[x], cb[x], cr[x]]);
            pixels[3 * x..3 * x + 3].copy_from_slice(&pixel);
        }
    }
    out
}

/// A full-resolution chroma plane through the codec: padded to whole 16x16 units, averaged
/// 2x2, padded down to whole blocks, coded, and upsampled back from its real
/// ceil(w/2) x ceil(h/2) samples.
#[inline(always)]
fn chroma_roundtrip<L: Lanes>(plane: &Plane, quantizer: &Quantizer) -> Plane {
    let (w, h) = (plane.width, plane.height);
    let (small_w, small_h) = (w.div_ceil(2), h.div_ceil(2));
    let padded_w = round_up(w, 16);
    let small = plane
        .replicate_edges(w, h, padded_w, 2 * small_h)
        .downsample_2x2();
    let blocks = small.replicate_edges(padded_w / 2, small_h, padded_w / 2, round_up(small_h, 8));
    roundtrip_blocks::<L>(&blocks, quantizer).upsample_2x2_fancy(small_w, small_h, w, h)
}

/// The image's Y, Cb and Cr planes at full resolution, eight pixels at a time in `L`.
#[inline(always)]
fn split_ycc<L: Lanes>(image: &RgbImage) -> [Plane; 3] {
    let (width, height) = (image.width() as usize, image.height() as usize);
    let count = width * height;
    let (mut y, mut cb, mut cr) = (vec![0u8; count], vec![0u8; count], vec![0u8; count]);
    let pixels = image.as_raw();
    let vectorised = count / 8 * 8;
    for i in (0..vectorised).step_by(8) {
        L::rgb_to_ycc(&pixels[3 * i..], [&mut y[i..], &mut cb[i..], &mut cr[i..]]);
    }
    for i in vectorised..count {
        let pixel = [pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]];
        [y[i], cb[i], cr[i]] = color::rgb_to_ycc(pixel);
    }
    [y, cb, cr].map(|samples| Plane {
        width,
        height,
        samples,
    })
}

/// Every 8x8 block of `plane` (sides multiples of 8) through the forward DCT,
/// quantisation, dequantisation and inverse DCT.
#[inline(always)]
fn roundtrip_blocks<L: Lanes>(plane: &Plane, quantizer: &Quantizer) -> Plane {
    let mut out = Plane {
        width: plane.width,
        height: plane.height,
        samples: vec![0; plane.samples.len()],
    };
    for top in (0..plane.height).step_by(8) {
        for left in (0..plane.width).step_by(8) {
            let mut block: Block<L> = [L::load_centred(&plane.row(top)[left..]); 8];
            for (r, vector) in block.iter_mut().enumerate().skip(1) {
                *vector = L::load_centred(&plane.row(top + r)[left..]);
            }
            let coefficients = quantizer.quantize_dequantize(&dct::forward_dct(&block));
            let start = top * plane.width + left;
            dct::inverse_dct(&coefficients, &mut out.samples[start..], plane.width);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The portable build and the one the CPU gets (AVX2 where it has it; the parity test
    /// against PIL runs that one) give the same pixels.
    #[test]
    fn portable_build_equals_the_dispatched_one() {
        let image = RgbImage::from_fn(45, 31, |x, y| {
            let v = |k: u32| ((x * 37 + y * 91 + k * 53).wrapping_mul(2_654_435_761) >> 24) as u8;
            image::Rgb([v(0), v(1), v(2)])
        });
        for quality in [1, 30, 75, 100] {
            let dispatched = jpeg_roundtrip(&image, quality).unwrap();
            let portable = roundtrip::<Portable>(&image, quality);
            assert_eq!(portable, dispatched, "quality {quality}");
            assert_ne!(dispatched, image);
        }
    }

    #[test]
    fn a_side_over_65535_is_refused_and_65535_is_not() {
        for (width, height) in [(65_536, 1), (1, 65_536)] {
            let error = jpeg_roundtrip(&RgbImage::new(width, height), 75).unwrap_err();
            assert!(
                error.to_string().contains(&format!("{width}x{height}")),
                "{error}"
            );
        }
        for (width, height) in [(65_535, 1), (1, 65_535)] {
            let out = jpeg_roundtrip(&RgbImage::new(width, height), 75).unwrap();
            assert_eq!(out.dimensions(), (width, height));
        }
    }

    #[test]
    fn an_empty_image_comes_back_as_it_was() {
        for (width, height) in [(0, 5), (5, 0), (0, 0)] {
            let image = RgbImage::new(width, height);
            assert_eq!(jpeg_roundtrip(&image, 75).unwrap(), image);
        }
    }
}
