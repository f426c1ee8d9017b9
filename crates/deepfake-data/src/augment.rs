//! Training augmentation, torchvision semantics on PIL images: `RandomHorizontalFlip(0.5)`,
//! `RandomRotation(10)` (nearest, fill 0), `ColorJitter(brightness=0.2, contrast=0.2)`
//! (factors uniform in [0.8, 1.2], applied in random order), optional JPEG re-compression.
//! Every random choice comes from an RNG seeded by (seed, epoch, index) only.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::rotate::rotate_nearest;

/// The augmentation recipe. [`Default`] is the seed's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Probability of a horizontal flip.
    pub hflip: f64,
    /// Rotation uniform in `[-rotation, rotation]` degrees (0 disables).
    pub rotation: f64,
    /// Brightness factor uniform in `[1 - brightness, 1 + brightness]` (0 disables).
    pub brightness: f64,
    /// Contrast factor uniform in `[1 - contrast, 1 + contrast]` (0 disables).
    pub contrast: f64,
    /// JPEG re-compression with a quality uniform in this inclusive range (`None` disables).
    pub jpeg_quality: Option<(u8, u8)>,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            hflip: 0.5,
            rotation: 10.0,
            brightness: 0.2,
            contrast: 0.2,
            jpeg_quality: None,
        }
    }
}

impl AugmentConfig {
    /// No augmentation at all.
    pub fn none() -> Self {
        Self {
            hflip: 0.0,
            rotation: 0.0,
            brightness: 0.0,
            contrast: 0.0,
            jpeg_quality: None,
        }
    }
}

/// The RNG of one item in one epoch: the same triple gives the same draws on any machine
/// and any thread.
pub fn item_rng(seed: u64, epoch: u64, index: u64) -> ChaCha8Rng {
    // SplitMix64 over the triple, so nearby triples give unrelated streams.
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(epoch.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(index.wrapping_mul(0x94D0_49BB_1331_11EB));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

/// PIL's `Image.blend(degenerate, image, factor)` on 8-bit values: `d + f * (v - d)`,
/// truncated and clipped to [0, 255].
fn blend(degenerate: f32, value: u8, factor: f32) -> u8 {
    (degenerate + factor * (f32::from(value) - degenerate)).clamp(0.0, 255.0) as u8
}

/// PIL `ImageEnhance.Brightness(image).enhance(factor)`: blend with black.
pub fn adjust_brightness(image: &mut RgbImage, factor: f32) {
    for v in image.iter_mut() {
        *v = blend(0.0, *v, factor);
    }
}

/// PIL `ImageEnhance.Contrast(image).enhance(factor)`: blend with the rounded mean of the
/// image's luma (`L = (19595 R + 38470 G + 7471 B + 32768) >> 16`).
pub fn adjust_contrast(image: &mut RgbImage, factor: f32) {
    let total: u64 = image
        .pixels()
        .map(|p| {
            let [r, g, b] = p.0.map(u64::from);
            (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
        })
        .sum();
    let n = u64::from(image.width()) * u64::from(image.height());
    let mean = (total as f64 / n.max(1) as f64 + 0.5).floor() as f32;
    for v in image.iter_mut() {
        *v = blend(mean, *v, factor);
    }
}

fn jpeg_roundtrip(image: &RgbImage, quality: u8) -> RgbImage {
    let mut bytes = Vec::new();
    let encoded = JpegEncoder::new_with_quality(&mut bytes, quality).encode_image(image);
    encoded
        .ok()
        .and_then(|_| image::load_from_memory(&bytes).ok())
        .map(|decoded| decoded.to_rgb8())
        .unwrap_or_else(|| image.clone())
}

/// Applies the recipe to an already-resized image with draws from `rng`.
pub fn augment(image: &RgbImage, config: &AugmentConfig, rng: &mut impl Rng) -> RgbImage {
    let mut out = image.clone();
    if config.hflip > 0.0 && rng.random::<f64>() < config.hflip {
        image::imageops::flip_horizontal_in_place(&mut out);
    }
    if config.rotation > 0.0 {
        let angle = rng.random_range(-config.rotation..=config.rotation);
        out = rotate_nearest(&out, angle);
    }
    // ColorJitter: draw both factors, then apply them in a random order.
    let brightness = (config.brightness > 0.0)
        .then(|| rng.random_range(1.0 - config.brightness..=1.0 + config.brightness) as f32);
    let contrast = (config.contrast > 0.0)
        .then(|| rng.random_range(1.0 - config.contrast..=1.0 + config.contrast) as f32);
    let mut order = [0u8, 1];
    order.shuffle(rng);
    for step in order {
        match (step, brightness, contrast) {
            (0, Some(f), _) => adjust_brightness(&mut out, f),
            (1, _, Some(f)) => adjust_contrast(&mut out, f),
            _ => {}
        }
    }
    if let Some((low, high)) = config.jpeg_quality {
        let quality = rng
            .random_range(low.min(high)..=high.max(low))
            .clamp(1, 100);
        out = jpeg_roundtrip(&out, quality);
    }
    out
}
