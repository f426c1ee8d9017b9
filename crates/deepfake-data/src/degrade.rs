//! Training degradations in the style of CNNDetection (Wang et al., CVPR 2020): each
//! applied with its own probability, in the order rescale, blur, JPEG, to the resized image
//! before the seed's flip, rotation and colour jitter; the same operations as the
//! robustness study ([`crate::perturb`]), so a model can be trained for what it is
//! measured on. Off by default.

use std::borrow::Cow;
use std::str::FromStr;

use image::RgbImage;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::perturb::{gaussian_blur, jpeg_roundtrip, rescale};

/// JPEG re-encoding with probability `p` at a quality uniform in
/// `quality_min..=quality_max` (`--augment-jpeg P,QMIN,QMAX`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JpegAugment {
    /// Probability of re-encoding an image.
    pub p: f64,
    /// Lowest quality drawn.
    pub quality_min: u8,
    /// Highest quality drawn.
    pub quality_max: u8,
}

/// Gaussian blur with probability `p` at a sigma uniform in `[0, sigma_max]` pixels
/// (`--augment-blur P,SIGMA_MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BlurAugment {
    /// Probability of blurring an image.
    pub p: f64,
    /// Largest standard deviation, pixels.
    pub sigma_max: f32,
}

/// Down-then-up rescaling with probability `p` by a factor uniform in `[1, factor_max]`
/// (`--augment-rescale P,MAX`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RescaleAugment {
    /// Probability of rescaling an image.
    pub p: f64,
    /// Largest shrink factor.
    pub factor_max: f32,
}

/// The three degradations; each `None` is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Degradations {
    /// Rescaling (applied first).
    #[serde(default)]
    pub rescale: Option<RescaleAugment>,
    /// Blur (second).
    #[serde(default)]
    pub blur: Option<BlurAugment>,
    /// JPEG (last, as an image is re-encoded after editing).
    #[serde(default)]
    pub jpeg: Option<JpegAugment>,
}

impl Degradations {
    /// True when none is on.
    pub fn is_off(&self) -> bool {
        self.rescale.is_none() && self.blur.is_none() && self.jpeg.is_none()
    }

    /// Applies the enabled degradations with draws from `rng` (nothing is drawn for one
    /// that is off, so enabling none keeps every other draw as it was). The image is
    /// borrowed back unchanged, without a copy, when no degradation fires.
    pub fn apply<'a>(&self, image: &'a RgbImage, rng: &mut impl Rng) -> Result<Cow<'a, RgbImage>> {
        let mut out = Cow::Borrowed(image);
        if let Some(rescaling) = self.rescale
            && rng.random::<f64>() < rescaling.p
        {
            let factor = rng.random_range(1.0..=rescaling.factor_max.max(1.0));
            out = Cow::Owned(rescale(&out, factor)?);
        }
        if let Some(blur) = self.blur
            && rng.random::<f64>() < blur.p
        {
            let sigma = rng.random_range(0.0..=blur.sigma_max.max(0.0));
            out = Cow::Owned(gaussian_blur(&out, sigma));
        }
        if let Some(jpeg) = self.jpeg
            && rng.random::<f64>() < jpeg.p
        {
            let (low, high) = (jpeg.quality_min, jpeg.quality_max);
            let quality = rng.random_range(low.min(high)..=high.max(low));
            out = Cow::Owned(jpeg_roundtrip(&out, quality)?);
        }
        Ok(out)
    }
}

/// Splits `P,A[,B]` into numbers, checking the probability.
fn numbers(text: &str, flag: &str, usage: &str, count: usize) -> Result<Vec<f64>> {
    let bad = |why: String| {
        DataError::InvalidParameter(format!("{flag} {text}: {why}; expected {usage}"))
    };
    let values = text
        .split(',')
        .map(|part| {
            part.trim()
                .parse::<f64>()
                .map_err(|e| bad(format!("{part:?}: {e}")))
        })
        .collect::<Result<Vec<f64>>>()?;
    if values.len() != count {
        return Err(bad(format!("{} numbers", values.len())));
    }
    if !(0.0..=1.0).contains(&values[0]) {
        return Err(bad(format!("probability {} is not in [0, 1]", values[0])));
    }
    if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(bad("values must be finite and >= 0".into()));
    }
    Ok(values)
}

impl FromStr for JpegAugment {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self> {
        let usage = "P,QMIN,QMAX with qualities in 1..=100, e.g. 0.5,30,100";
        let v = numbers(text, "--augment-jpeg", usage, 3)?;
        let quality = |q: f64| {
            (1.0..=100.0)
                .contains(&q)
                .then_some(q as u8)
                .ok_or_else(|| {
                    DataError::InvalidParameter(format!(
                        "--augment-jpeg {text}: quality {q} is not in 1..=100"
                    ))
                })
        };
        Ok(Self {
            p: v[0],
            quality_min: quality(v[1])?,
            quality_max: quality(v[2])?,
        })
    }
}

impl FromStr for BlurAugment {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self> {
        let v = numbers(text, "--augment-blur", "P,SIGMA_MAX, e.g. 0.5,3", 2)?;
        Ok(Self {
            p: v[0],
            sigma_max: v[1] as f32,
        })
    }
}

impl FromStr for RescaleAugment {
    type Err = DataError;

    fn from_str(text: &str) -> Result<Self> {
        let v = numbers(
            text,
            "--augment-rescale",
            "P,MAX with MAX >= 1, e.g. 0.5,4",
            2,
        )?;
        if v[1] < 1.0 {
            return Err(DataError::InvalidParameter(format!(
                "--augment-rescale {text}: the largest factor must be >= 1"
            )));
        }
        Ok(Self {
            p: v[0],
            factor_max: v[1] as f32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::item_rng;

    #[test]
    fn flags_parse_and_bad_ones_say_what_is_expected() {
        let jpeg: JpegAugment = "0.5,30,100".parse().unwrap();
        assert_eq!((jpeg.p, jpeg.quality_min, jpeg.quality_max), (0.5, 30, 100));
        let blur: BlurAugment = "0.25, 3".parse().unwrap();
        assert_eq!((blur.p, blur.sigma_max), (0.25, 3.0));
        let rescale: RescaleAugment = "1,4".parse().unwrap();
        assert_eq!((rescale.p, rescale.factor_max), (1.0, 4.0));
        for (bad, needle) in [
            ("1.5,30,100", "probability"),
            ("0.5,0,100", "1..=100"),
            ("0.5,30", "expected P,QMIN,QMAX"),
            ("x,1,2", "expected"),
        ] {
            let error = bad.parse::<JpegAugment>().unwrap_err().to_string();
            assert!(error.contains(needle), "{bad}: {error}");
        }
        assert!("0.5,0.5".parse::<RescaleAugment>().is_err());
        assert!("0.5,-1".parse::<BlurAugment>().is_err());
        // The bounds themselves are allowed: a largest factor of 1, a largest sigma of 0.
        assert_eq!("0.5,1".parse::<RescaleAugment>().unwrap().factor_max, 1.0);
        assert_eq!("0.5,0".parse::<BlurAugment>().unwrap().sigma_max, 0.0);
    }

    /// Each degradation alone (together, one firing would hide the others): applied at
    /// probability 1, skipped (the input borrowed back) at 0; `is_off` only when none is set.
    #[test]
    fn each_degradation_alone_fires_at_p_1_and_never_at_p_0() {
        let image = RgbImage::from_fn(61, 47, |x, y| {
            image::Rgb([(x * 4 + y) as u8, (y * 5) as u8, ((x * y) % 251) as u8])
        });
        let only = |p: f64, which: usize| {
            let mut degradations = Degradations::default();
            match which {
                0 => degradations.rescale = Some(RescaleAugment { p, factor_max: 4.0 }),
                1 => degradations.blur = Some(BlurAugment { p, sigma_max: 3.0 }),
                _ => {
                    degradations.jpeg = Some(JpegAugment {
                        p,
                        quality_min: 40,
                        quality_max: 60,
                    })
                }
            }
            degradations
        };
        assert!(Degradations::default().is_off());
        for (which, name) in ["rescale", "blur", "jpeg"].iter().enumerate() {
            assert!(!only(1.0, which).is_off(), "{name}");
            let applied = only(1.0, which)
                .apply(&image, &mut item_rng(3, 0, 0))
                .unwrap();
            assert!(
                matches!(applied, Cow::Owned(_)),
                "{name} at p = 1 did not run"
            );
            assert_eq!(applied.dimensions(), image.dimensions(), "{name}");
            assert_ne!(*applied, image, "{name} at p = 1 left the image as it was");
            let skipped = only(0.0, which)
                .apply(&image, &mut item_rng(3, 0, 0))
                .unwrap();
            assert!(matches!(skipped, Cow::Borrowed(_)), "{name} at p = 0 ran");
        }
    }

    #[test]
    fn probability_one_always_and_zero_never_degrades() {
        let image = RgbImage::from_fn(32, 32, |x, y| {
            image::Rgb([(x * 8) as u8, (y * 8) as u8, ((x ^ y) * 8) as u8])
        });
        let always = Degradations {
            rescale: Some(RescaleAugment {
                p: 1.0,
                factor_max: 3.0,
            }),
            blur: Some(BlurAugment {
                p: 1.0,
                sigma_max: 2.0,
            }),
            jpeg: Some(JpegAugment {
                p: 1.0,
                quality_min: 30,
                quality_max: 30,
            }),
        };
        let never = Degradations {
            rescale: Some(RescaleAugment {
                p: 0.0,
                factor_max: 3.0,
            }),
            blur: Some(BlurAugment {
                p: 0.0,
                sigma_max: 2.0,
            }),
            jpeg: Some(JpegAugment {
                p: 0.0,
                quality_min: 30,
                quality_max: 30,
            }),
        };
        for index in 0..8 {
            let degraded = always
                .apply(&image, &mut item_rng(1, 0, index))
                .unwrap()
                .into_owned();
            assert_ne!(degraded, image);
            let again = always
                .apply(&image, &mut item_rng(1, 0, index))
                .unwrap()
                .into_owned();
            assert_eq!(degraded, again, "not deterministic in (seed, epoch, index)");
            assert_eq!(
                never
                    .apply(&image, &mut item_rng(1, 0, index))
                    .unwrap()
                    .into_owned(),
                image
            );
        }
    }
}
