//! Image perturbations for the robustness study (`eval --robustness`) and the matching
//! training augmentations: JPEG re-encoding and Gaussian blur with PIL's semantics,
//! down-then-up rescaling, Gaussian noise, and DeeperForensics-1.0's colour saturation and
//! contrast changes. Each is applied to the decoded image at its own size, before the
//! model's preprocessing, and is deterministic (noise is seeded per image).

pub mod blur;
pub mod jpeg;
pub mod pixel_ops;

use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use blur::gaussian_blur;
pub use jpeg::jpeg_roundtrip;
pub use pixel_ops::{gaussian_noise, rescale, scale_saturation, scale_values};

use crate::augment::item_rng;
use crate::error::Result;

/// One perturbation at one level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Perturbation {
    /// JPEG re-encoding at `quality` (1..=100), PIL's way.
    Jpeg {
        /// Encoder quality.
        quality: u8,
    },
    /// Gaussian blur of standard deviation `sigma` pixels (PIL's `GaussianBlur(radius)`).
    Blur {
        /// Standard deviation, pixels.
        sigma: f32,
    },
    /// Shrinking by `factor`, then enlarging back (bilinear both ways).
    Rescale {
        /// Shrink factor (>= 1).
        factor: f32,
    },
    /// Additive Gaussian noise of `variance` on the [0, 1] pixel scale.
    Noise {
        /// Variance of the noise.
        variance: f32,
    },
    /// Chroma scaled by `factor` in YCbCr (DeeperForensics' colour saturation change).
    Saturation {
        /// 1 keeps, 0 greys.
        factor: f32,
    },
    /// Values multiplied by `factor` (DeeperForensics' colour contrast change).
    Contrast {
        /// 1 keeps.
        factor: f32,
    },
}

/// The study `eval --robustness` runs: each kind at its levels, mildest first
/// (JPEG and blur as in CNNDetection's ranges, noise, saturation and contrast at
/// DeeperForensics-1.0's levels).
pub const STUDY: [Perturbation; 26] = {
    use Perturbation::*;
    [
        Jpeg { quality: 95 },
        Jpeg { quality: 90 },
        Jpeg { quality: 75 },
        Jpeg { quality: 50 },
        Jpeg { quality: 30 },
        Blur { sigma: 0.5 },
        Blur { sigma: 1.0 },
        Blur { sigma: 2.0 },
        Blur { sigma: 3.0 },
        Rescale { factor: 2.0 },
        Rescale { factor: 3.0 },
        Rescale { factor: 4.0 },
        Noise { variance: 0.001 },
        Noise { variance: 0.005 },
        Noise { variance: 0.01 },
        Noise { variance: 0.05 },
        Saturation { factor: 0.4 },
        Saturation { factor: 0.3 },
        Saturation { factor: 0.2 },
        Saturation { factor: 0.1 },
        Saturation { factor: 0.0 },
        Contrast { factor: 0.85 },
        Contrast { factor: 0.725 },
        Contrast { factor: 0.6 },
        Contrast { factor: 0.475 },
        Contrast { factor: 0.35 },
    ]
};

impl Perturbation {
    /// The kind's name: `jpeg`, `blur`, `rescale`, `noise`, `saturation` or `contrast`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Jpeg { .. } => "jpeg",
            Self::Blur { .. } => "blur",
            Self::Rescale { .. } => "rescale",
            Self::Noise { .. } => "noise",
            Self::Saturation { .. } => "saturation",
            Self::Contrast { .. } => "contrast",
        }
    }

    /// The level as a number in the kind's own unit (quality, sigma, factor, variance).
    pub fn level(&self) -> f64 {
        match *self {
            Self::Jpeg { quality } => f64::from(quality),
            Self::Blur { sigma } => f64::from(sigma),
            Self::Rescale { factor } => f64::from(factor),
            Self::Noise { variance } => f64::from(variance),
            Self::Saturation { factor } => f64::from(factor),
            Self::Contrast { factor } => f64::from(factor),
        }
    }

    /// A short human name, e.g. `JPEG q50`, `blur σ2`.
    pub fn label(&self) -> String {
        match *self {
            Self::Jpeg { quality } => format!("JPEG q{quality}"),
            Self::Blur { sigma } => format!("blur σ{sigma}"),
            Self::Rescale { factor } => format!("rescale ÷{factor}"),
            Self::Noise { variance } => format!("noise var {variance}"),
            Self::Saturation { factor } => format!("saturation ×{factor}"),
            Self::Contrast { factor } => format!("contrast ×{factor}"),
        }
    }

    /// Applies the perturbation to `image`; `seed` and `index` (the image's place in its
    /// split) seed the noise, so a run is repeatable.
    pub fn apply(&self, image: &RgbImage, seed: u64, index: u64) -> Result<RgbImage> {
        Ok(match *self {
            Self::Jpeg { quality } => jpeg_roundtrip(image, quality)?,
            Self::Blur { sigma } => gaussian_blur(image, sigma),
            Self::Rescale { factor } => rescale(image, factor)?,
            Self::Noise { variance } => {
                let stream = u64::from(variance.to_bits());
                gaussian_noise(image, variance, &mut item_rng(seed, stream, index))
            }
            Self::Saturation { factor } => scale_saturation(image, factor),
            Self::Contrast { factor } => scale_values(image, factor),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_study_level_changes_a_textured_image_and_keeps_its_size() {
        let image = RgbImage::from_fn(48, 40, |x, y| {
            image::Rgb([(x * 5) as u8, (y * 6) as u8, ((x * y) % 251) as u8])
        });
        for perturbation in STUDY {
            let out = perturbation.apply(&image, 3, 7).unwrap();
            assert_eq!(out.dimensions(), image.dimensions(), "{perturbation:?}");
            assert_ne!(out, image, "{perturbation:?} changed nothing");
            assert_eq!(
                out,
                perturbation.apply(&image, 3, 7).unwrap(),
                "{perturbation:?}"
            );
        }
    }

    #[test]
    fn levels_are_listed_by_kind_mildest_first() {
        let kinds: Vec<&str> = STUDY.iter().map(Perturbation::kind).collect();
        let mut seen: Vec<&str> = Vec::new();
        for kind in &kinds {
            if seen.last() != Some(kind) {
                assert!(!seen.contains(kind), "{kind} listed twice apart");
                seen.push(kind);
            }
        }
        assert_eq!(
            seen,
            ["jpeg", "blur", "rescale", "noise", "saturation", "contrast"]
        );
        // Lower JPEG quality, saturation and contrast are harsher; higher blur, rescale
        // and noise levels are.
        for pair in STUDY.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if a.kind() != b.kind() {
                continue;
            }
            let harsher_is_lower = matches!(a.kind(), "jpeg" | "saturation" | "contrast");
            let harsher = if harsher_is_lower {
                b.level() < a.level()
            } else {
                b.level() > a.level()
            };
            assert!(harsher, "{a:?} then {b:?} is not mildest first");
        }
    }

    #[test]
    fn level_and_label_give_the_setting_in_its_own_unit() {
        use Perturbation::*;
        let cases = [
            (Jpeg { quality: 50 }, 50.0, "JPEG q50"),
            (Blur { sigma: 2.0 }, 2.0, "blur σ2"),
            (Rescale { factor: 3.0 }, 3.0, "rescale ÷3"),
            (Noise { variance: 0.5 }, 0.5, "noise var 0.5"),
            (Saturation { factor: 0.25 }, 0.25, "saturation ×0.25"),
            (Contrast { factor: 0.75 }, 0.75, "contrast ×0.75"),
        ];
        for (perturbation, level, label) in cases {
            assert_eq!(perturbation.level(), level, "{perturbation:?}");
            assert_eq!(perturbation.label(), label, "{perturbation:?}");
        }
    }
}
