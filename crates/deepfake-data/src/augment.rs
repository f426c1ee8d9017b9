//! Training augmentation, torchvision semantics on PIL images: `RandomHorizontalFlip(0.5)`,
//! `RandomRotation(10)` (nearest, fill 0), `ColorJitter(brightness=0.2, contrast=0.2)`
//! (factors uniform in [0.8, 1.2], applied in random order), after the optional
//! degradations of [`crate::degrade`] (rescale, blur, JPEG; off by default).
//! Every random choice comes from an RNG seeded by (seed, epoch, index) only.

use image::RgbImage;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::degrade::Degradations;
use crate::error::Result;
use crate::rotate::rotate_nearest_mirrored;

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
    /// Rescaling, blur and JPEG re-encoding, applied first (all off by default).
    #[serde(default)]
    pub degrade: Degradations,
}

impl Default for AugmentConfig {
    fn default() -> Self {
        Self {
            hflip: 0.5,
            rotation: 10.0,
            brightness: 0.2,
            contrast: 0.2,
            degrade: Degradations::default(),
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
            degrade: Degradations::default(),
        }
    }
}

/// The RNG of one item in one epoch: the same triple gives the same draws on any machine
/// and any thread.
pub fn item_rng(seed: u64, epoch: u64, index: u64) -> ChaCha8Rng {
    // SplitMix64's mix over the triple, so nearby triples give unrelated streams.
    let z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(epoch.wrapping_mul(0xBF58_476D_1CE4_E5B9))
        .wrapping_add(index.wrapping_mul(0x94D0_49BB_1331_11EB));
    ChaCha8Rng::seed_from_u64(splitmix64_mix(z))
}

/// SplitMix64's output function (Steele, Lea and Flood 2014; Vigna's `splitmix64.c`): a
/// bijection of `u64` that sends nearby inputs to unrelated outputs.
fn splitmix64_mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A map from one 8-bit value to another, applied to every channel of every pixel.
pub type ValueTable = [u8; 256];
type Table = ValueTable;

/// The table that changes nothing.
pub const IDENTITY: ValueTable = {
    let mut table = [0u8; 256];
    let mut v = 0;
    while v < 256 {
        table[v] = v as u8;
        v += 1;
    }
    table
};

/// PIL's `Image.blend(degenerate, image, factor)` on 8-bit values, `d + f * (v - d)`
/// truncated and clipped to [0, 255], tabulated for every `v`.
fn blend_table(degenerate: f32, factor: f32) -> Table {
    std::array::from_fn(|v| (degenerate + factor * (v as f32 - degenerate)).clamp(0.0, 255.0) as u8)
}

/// `second` applied after `first`.
fn compose(first: &Table, second: &Table) -> Table {
    std::array::from_fn(|v| second[usize::from(first[v])])
}

fn apply_table(image: &mut RgbImage, table: &Table) {
    for v in image.iter_mut() {
        *v = table[usize::from(*v)];
    }
}

/// The rounded mean of PIL's luma `L = (19595 R + 38470 G + 7471 B + 32768) >> 16` over the
/// image as it would be after `table`.
fn luma_mean(image: &RgbImage, table: &Table) -> f32 {
    let luma = |p: &[u8]| {
        let [r, g, b] = [p[0], p[1], p[2]].map(|v| u32::from(table[usize::from(v)]));
        (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
    };
    let total: u64 = image
        .as_raw()
        .chunks(3 * 1024)
        .map(|run| run.chunks_exact(3).map(luma).sum::<u32>() as u64)
        .sum();
    let n = u64::from(image.width()) * u64::from(image.height());
    (total as f64 / n.max(1) as f64 + 0.5).floor() as f32
}

/// PIL `ImageEnhance.Brightness(image).enhance(factor)`: blend with black.
pub fn adjust_brightness(image: &mut RgbImage, factor: f32) {
    apply_table(image, &blend_table(0.0, factor));
}

/// PIL `ImageEnhance.Contrast(image).enhance(factor)`: blend with the rounded mean of the
/// image's luma.
pub fn adjust_contrast(image: &mut RgbImage, factor: f32) {
    let mean = luma_mean(image, &IDENTITY);
    apply_table(image, &blend_table(mean, factor));
}

/// Applies the recipe to an already-resized image with draws from `rng`.
pub fn augment(image: &RgbImage, config: &AugmentConfig, rng: &mut impl Rng) -> Result<RgbImage> {
    let (mut out, values) = augment_deferred(image, config, rng)?;
    if values != IDENTITY {
        apply_table(&mut out, &values);
    }
    Ok(out)
}

/// [`augment`] with the colour jitter left as a value table for the caller to apply (the
/// loader folds it into normalisation, saving a pass over the pixels): returns the
/// geometrically transformed image and the table that maps its 8-bit values to the
/// augmented ones. Same draws, same result as [`augment`].
pub fn augment_deferred(
    image: &RgbImage,
    config: &AugmentConfig,
    rng: &mut impl Rng,
) -> Result<(RgbImage, ValueTable)> {
    let image = config.degrade.apply(image, rng)?;
    let flip = config.hflip > 0.0 && rng.random::<f64>() < config.hflip;
    let out = if config.rotation > 0.0 {
        let angle = rng.random_range(-config.rotation..=config.rotation);
        // Flip then rotate, in one pass.
        rotate_nearest_mirrored(&image, angle, flip)
    } else {
        let mut out = image.into_owned();
        if flip {
            image::imageops::flip_horizontal_in_place(&mut out);
        }
        out
    };
    // ColorJitter: draw both factors, then apply them in a random order. Both steps map
    // values through a table, so they compose into one (contrast's mean is taken over the
    // image as the earlier step leaves it).
    let brightness = (config.brightness > 0.0)
        .then(|| rng.random_range(1.0 - config.brightness..=1.0 + config.brightness) as f32);
    let contrast = (config.contrast > 0.0)
        .then(|| rng.random_range(1.0 - config.contrast..=1.0 + config.contrast) as f32);
    let mut order = [0u8, 1];
    order.shuffle(rng);
    let mut values = IDENTITY;
    for step in order {
        match (step, brightness, contrast) {
            (0, Some(f), _) => values = compose(&values, &blend_table(0.0, f)),
            (1, _, Some(f)) => {
                let mean = luma_mean(&out, &values);
                values = compose(&values, &blend_table(mean, f));
            }
            _ => {}
        }
    }
    Ok((out, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_is_splitmix64s() {
        // The first three outputs of Vigna's splitmix64.c seeded with 1234567 (each output
        // is the mix of the state after adding the golden gamma).
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
        ];
        let mut state = 1_234_567u64;
        for value in expected {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            assert_eq!(splitmix64_mix(state), value);
        }
    }
}
