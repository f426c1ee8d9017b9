//! The traces a generator leaves, painted over a scene to make a "fake" image.

use rand::Rng;

use super::canvas::Canvas;

/// Relative amplitude of the checkerboard at strength 1: each block is its mean times
/// `1 ± CHECKERBOARD * strength`.
pub(super) const CHECKERBOARD: f32 = 0.06;
/// Largest colour-balance shift at strength 1, as a fraction of the red channel.
pub(super) const COLOUR_SHIFT: f32 = 0.04;

/// Side of the blocks the traces work in: `size / 32`, at least 1 pixel.
pub(super) fn block_side(size: usize) -> usize {
    (size / 32).max(1)
}

/// Paints the generator traces over `canvas`, `strength` in [0, 1]:
/// - average pooling over `k` x `k` blocks (`k` = [`block_side`]), upsampled back by
///   repetition: the texture within a block is gone;
/// - a checkerboard of period `2k` on the blocks, the footprint of a stride-2 transposed
///   convolution: a block is its mean times `1 + CHECKERBOARD * strength` where
///   `(x mod 2k < k) != (y mod 2k < k)`, times `1 - CHECKERBOARD * strength` elsewhere;
/// - a colour-balance shift that keeps luma: red times `1 + shift`, blue lowered by
///   `0.299 / 0.114` of what red gained, `shift` uniform in
///   `[-COLOUR_SHIFT, COLOUR_SHIFT) * strength` (one draw from `rng`).
pub(super) fn add_generator_traces(canvas: &mut Canvas, strength: f32, rng: &mut impl Rng) {
    let size = canvas.size;
    let k = block_side(size);
    let cell = 2 * k;
    let mut out = canvas.pixels.clone();
    for by in (0..size).step_by(k) {
        for bx in (0..size).step_by(k) {
            let mut mean = [0.0f32; 3];
            let mut count = 0.0;
            for y in by..(by + k).min(size) {
                for x in bx..(bx + k).min(size) {
                    let p = canvas.pixels[y * size + x];
                    for c in 0..3 {
                        mean[c] += p[c];
                    }
                    count += 1.0;
                }
            }
            for y in by..(by + k).min(size) {
                for x in bx..(bx + k).min(size) {
                    let sign = if ((x % cell) < k) ^ ((y % cell) < k) {
                        1.0
                    } else {
                        -1.0
                    };
                    out[y * size + x] =
                        mean.map(|m| m / count * (1.0 + sign * CHECKERBOARD * strength));
                }
            }
        }
    }
    let shift = rng.random_range(-COLOUR_SHIFT..COLOUR_SHIFT) * strength;
    for p in &mut out {
        let dr = p[0] * shift;
        p[0] += dr;
        p[2] -= dr * 0.299 / 0.114;
    }
    canvas.pixels = out;
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    fn luma(p: [f32; 3]) -> f32 {
        0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
    }

    #[test]
    fn blocks_are_a_thirty_second_of_the_side() {
        for (size, k) in [(16, 1), (32, 1), (63, 1), (64, 2), (100, 3), (224, 7)] {
            assert_eq!(block_side(size), k, "size {size}");
        }
    }

    #[test]
    fn each_block_is_its_mean_on_a_checkerboard_with_the_colour_shifted_at_constant_luma() {
        // 100 pixels: blocks of 3, the last row and column of blocks 1 pixel wide.
        let size = 100;
        let scene = |x: usize, y: usize| [(x + 2 * y) as f32, 3.0 * x as f32, 50.0 + y as f32];
        let mut canvas = Canvas {
            size,
            pixels: (0..size * size)
                .map(|i| scene(i % size, i / size))
                .collect(),
        };
        let strength = 0.5;
        add_generator_traces(&mut canvas, strength, &mut ChaCha8Rng::seed_from_u64(12));
        let shift =
            ChaCha8Rng::seed_from_u64(12).random_range(-COLOUR_SHIFT..COLOUR_SHIFT) * strength;
        assert!(shift.abs() > 1e-3, "shift {shift}");
        let mut brighter = 0;
        for y in 0..size {
            for x in 0..size {
                // The block's mean, over the pixels it has.
                let (bx, by) = (x / 3 * 3, y / 3 * 3);
                let members: Vec<[f32; 3]> = (by..(by + 3).min(size))
                    .flat_map(|yy| (bx..(bx + 3).min(size)).map(move |xx| scene(xx, yy)))
                    .collect();
                let mean = [0, 1, 2]
                    .map(|c| members.iter().map(|p| p[c]).sum::<f32>() / members.len() as f32);
                // Period 6: + where exactly one of x, y is in the first half of its period.
                let up = ((x % 6) < 3) != ((y % 6) < 3);
                brighter += usize::from(up);
                let factor = if up { 1.0 + 0.03 } else { 1.0 - 0.03 };
                let checkered = mean.map(|m| m * factor);
                let got = canvas.pixels[y * size + x];
                let what = format!("({x}, {y})");
                assert!(
                    (got[1] - checkered[1]).abs() < 1e-3,
                    "{what} green: {got:?} {checkered:?}"
                );
                assert!(
                    (got[0] - checkered[0] * (1.0 + shift)).abs() < 1e-3,
                    "{what} red: {got:?} {checkered:?}"
                );
                assert!(
                    (luma(got) - luma(checkered)).abs() < 1e-3,
                    "{what} luma: {got:?} {checkered:?}"
                );
            }
        }
        // 51 of the 100 columns (and rows) are in the first half of their period.
        assert_eq!(brighter, 2 * 51 * 49);
    }
}
