//! Smooth 1/f-like noise: the texture of the synthetic scenes' backgrounds, skin and hair.

use rand::Rng;

/// Fractal noise over a `size` x `size` image, row-major, values within
/// ±(2 - 2^(1 - octaves)) (about [-1, 1]).
///
/// Octave `o` (from 0) is a grid of `(cells + 1)^2` values uniform in [-1, 1), drawn from `rng`
/// row by row, with `cells = base_cells << o` cells across the image; pixel `(x, y)` sits at
/// grid position `(x, y) * cells / size` and takes the bilinear interpolation of the four
/// grid values around it. Octave `o` is weighted `2^-o`: the amplitude halves as the
/// frequency doubles.
pub(super) fn fractal_noise(
    size: usize,
    base_cells: usize,
    octaves: usize,
    rng: &mut impl Rng,
) -> Vec<f32> {
    let mut out = vec![0.0f32; size * size];
    let mut amplitude = 1.0f32;
    let mut cells = base_cells.max(1);
    for _ in 0..octaves {
        let grid: Vec<f32> = (0..(cells + 1) * (cells + 1))
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        for y in 0..size {
            let gy = y as f32 / size as f32 * cells as f32;
            let (y0, ty) = (gy.floor() as usize, gy.fract());
            for x in 0..size {
                let gx = x as f32 / size as f32 * cells as f32;
                let (x0, tx) = (gx.floor() as usize, gx.fract());
                let at = |i: usize, j: usize| grid[j * (cells + 1) + i];
                let top = at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx;
                let bottom = at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx;
                out[y * size + x] += amplitude * (top * (1.0 - ty) + bottom * ty);
            }
        }
        amplitude *= 0.5;
        cells *= 2;
    }
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    /// Bilinear interpolation written as a sum of tent functions: the weight of grid node
    /// `(i, j)` at grid position `(gx, gy)` is `max(0, 1 - |gx - i|) * max(0, 1 - |gy - j|)`.
    fn tent_sum(grid: &[f32], cells: usize, gx: f64, gy: f64) -> f64 {
        let tent = |d: f64| (1.0 - d.abs()).max(0.0);
        let mut sum = 0.0;
        for j in 0..=cells {
            for i in 0..=cells {
                let weight = tent(gx - i as f64) * tent(gy - j as f64);
                sum += weight * f64::from(grid[j * (cells + 1) + i]);
            }
        }
        sum
    }

    #[test]
    fn each_octave_interpolates_its_grid_at_half_the_amplitude_of_the_last() {
        // 3 octaves of 3, 6 and 12 cells over 24 pixels: whole and fractional grid positions.
        let (size, base, octaves) = (24, 3, 3);
        let noise = fractal_noise(size, base, octaves, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(noise.len(), size * size);
        // The same draws, grid by grid, row by row.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let grids: Vec<(usize, Vec<f32>)> = (0..octaves)
            .map(|o| {
                let cells = base << o;
                let grid = (0..(cells + 1) * (cells + 1))
                    .map(|_| rng.random_range(-1.0f32..1.0))
                    .collect();
                (cells, grid)
            })
            .collect();
        // Nothing else was drawn.
        let mut after = ChaCha8Rng::seed_from_u64(7);
        let _ = fractal_noise(size, base, octaves, &mut after);
        assert_eq!(after.random::<u64>(), rng.random::<u64>());
        let mut spread = 0.0f64;
        for y in 0..size {
            for x in 0..size {
                let expected: f64 = grids
                    .iter()
                    .enumerate()
                    .map(|(o, (cells, grid))| {
                        let scale = *cells as f64 / size as f64;
                        0.5f64.powi(o as i32)
                            * tent_sum(grid, *cells, x as f64 * scale, y as f64 * scale)
                    })
                    .sum();
                let got = f64::from(noise[y * size + x]);
                assert!(
                    (got - expected).abs() < 1e-5,
                    "({x}, {y}): {got} != {expected}"
                );
                spread = spread.max((got - f64::from(noise[0])).abs());
            }
        }
        assert!(spread > 0.1, "the noise is flat: {spread}");
    }

    #[test]
    fn values_stay_within_the_sum_of_the_amplitudes() {
        let noise = fractal_noise(64, 4, 5, &mut ChaCha8Rng::seed_from_u64(3));
        let bound = 2.0 - 2.0f32.powi(1 - 5);
        let largest = noise.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(largest <= bound && largest > 0.5, "largest {largest}");
    }
}
