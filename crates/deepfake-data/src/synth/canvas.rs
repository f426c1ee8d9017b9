//! The float RGB canvas the synthetic images are painted on, and a camera's sensor noise.

use image::RgbImage;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// A square float RGB canvas, row-major: pixel `(x, y)` is `pixels[y * size + x]`, channel
/// values in levels (about [0, 255]; rounded and clamped only by [`Canvas::to_image`]).
pub(super) struct Canvas {
    /// Side, in pixels.
    pub size: usize,
    /// `size * size` RGB pixels.
    pub pixels: Vec<[f32; 3]>,
}

impl Canvas {
    /// The 8-bit image: each value rounded to the nearest level and clamped to [0, 255].
    pub fn to_image(&self) -> RgbImage {
        let s = self.size as u32;
        RgbImage::from_fn(s, s, |x, y| {
            let p = self.pixels[y as usize * self.size + x as usize];
            image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }
}

/// Adds a camera's sensor noise: independent Gaussian noise of standard deviation `sigma`
/// levels on every channel of every pixel. A `sigma` that is not positive leaves the canvas
/// as it is and draws nothing from `rng`.
pub(super) fn add_sensor_noise(canvas: &mut Canvas, sigma: f32, rng: &mut impl Rng) {
    let normal = match Normal::new(0.0f32, sigma) {
        Ok(normal) if sigma > 0.0 => normal,
        _ => return,
    };
    for p in &mut canvas.pixels {
        for c in p.iter_mut() {
            *c += normal.sample(rng);
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn the_image_holds_each_pixel_at_its_place_rounded_and_clamped() {
        // 4 x 4, every pixel different: (x, y) holds (10 x + y, 2.5 + y, x - 1.6).
        let size = 4;
        let pixels = (0..size * size)
            .map(|i| {
                let (x, y) = ((i % size) as f32, (i / size) as f32);
                [10.0 * x + y, 2.5 + y, x - 1.6]
            })
            .collect();
        let image = Canvas { size, pixels }.to_image();
        assert_eq!(image.dimensions(), (4, 4));
        // Rounded half away from zero; below 0 clamps to 0.
        assert_eq!(image.get_pixel(3, 1).0, [31, 4, 1]);
        assert_eq!(image.get_pixel(1, 3).0, [13, 6, 0]);
        assert_eq!(image.get_pixel(0, 0).0, [0, 3, 0]);
        assert_eq!(image.get_pixel(2, 2).0, [22, 5, 0]);
        let bright = Canvas {
            size: 1,
            pixels: vec![[255.4, 255.6, 1e6]],
        };
        assert_eq!(bright.to_image().get_pixel(0, 0).0, [255, 255, 255]);
    }

    #[test]
    fn sensor_noise_has_the_asked_deviation_on_every_channel() {
        let size = 64;
        let flat = [100.0, 50.0, 200.0];
        let mut canvas = Canvas {
            size,
            pixels: vec![flat; size * size],
        };
        add_sensor_noise(&mut canvas, 3.0, &mut ChaCha8Rng::seed_from_u64(1));
        for c in 0..3 {
            let deltas: Vec<f64> = canvas
                .pixels
                .iter()
                .map(|p| f64::from(p[c] - flat[c]))
                .collect();
            let n = deltas.len() as f64;
            let mean = deltas.iter().sum::<f64>() / n;
            let sd = (deltas.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
            // Standard errors: 0.05 for the mean, 0.033 for the deviation.
            assert!(mean.abs() < 0.2, "channel {c}: mean {mean}");
            assert!((sd - 3.0).abs() < 0.15, "channel {c}: deviation {sd}");
        }
        // The channels are drawn independently.
        let (r, g): (Vec<f32>, Vec<f32>) = canvas
            .pixels
            .iter()
            .map(|p| (p[0] - 100.0, p[1] - 50.0))
            .unzip();
        let covariance = r.iter().zip(&g).map(|(a, b)| a * b).sum::<f32>() / r.len() as f32;
        assert!(
            covariance.abs() / 9.0 < 0.05,
            "correlation {}",
            covariance / 9.0
        );
    }

    #[test]
    fn no_noise_below_a_positive_sigma_and_no_draw() {
        for sigma in [0.0, -1.0, f32::NAN] {
            let mut canvas = Canvas {
                size: 2,
                pixels: vec![[1.0, 2.0, 3.0]; 4],
            };
            let mut rng = ChaCha8Rng::seed_from_u64(5);
            add_sensor_noise(&mut canvas, sigma, &mut rng);
            assert_eq!(canvas.pixels, vec![[1.0, 2.0, 3.0]; 4], "sigma {sigma}");
            let untouched: u64 = ChaCha8Rng::seed_from_u64(5).random();
            assert_eq!(rng.random::<u64>(), untouched, "sigma {sigma} drew");
        }
    }
}
