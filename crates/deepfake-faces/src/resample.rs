//! The image as float planes, and PyTorch's `interpolate(mode="area")` on windows of it: how
//! MTCNN shrinks the image for each pyramid scale and each candidate to its network's input.

use image::RgbImage;

/// An RGB image as three planes `[3, height, width]`, row-major.
#[derive(Debug, Clone)]
pub struct Planes {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `3 * height * width` values.
    pub values: Vec<u8>,
}

impl Planes {
    /// The planes of `image`.
    pub fn from_rgb(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let plane = width * height;
        let mut values = vec![0; 3 * plane];
        for (i, pixel) in image.pixels().enumerate() {
            for c in 0..3 {
                values[c * plane + i] = pixel.0[c];
            }
        }
        Self {
            width,
            height,
            values,
        }
    }
}

/// A rectangle of pixels: rows `top..bottom`, columns `left..right` (non-empty, inside the image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First column.
    pub left: usize,
    /// First row.
    pub top: usize,
    /// One past the last column.
    pub right: usize,
    /// One past the last row.
    pub bottom: usize,
}

impl Window {
    /// The whole of `planes`.
    pub fn whole(planes: &Planes) -> Self {
        Self {
            left: 0,
            top: 0,
            right: planes.width,
            bottom: planes.height,
        }
    }
}

/// Shrinks (or grows) `window` of `planes` to `out_height x out_width` by adaptive average
/// pooling (PyTorch's area interpolation: output cell `i` averages input cells
/// `floor(i * n / m)..ceil((i + 1) * n / m)`), normalises to `(v - 127.5) / 128` as MTCNN's
/// networks expect, and appends the result to `out` as `[3, out_height, out_width]`.
pub fn area_resize_normalised(
    planes: &Planes,
    window: Window,
    out_height: usize,
    out_width: usize,
    out: &mut Vec<f32>,
) {
    let in_height = window.bottom - window.top;
    let in_width = window.right - window.left;
    let rows: Vec<(usize, usize)> = (0..out_height)
        .map(|i| pool_range(i, in_height, out_height))
        .collect();
    let cols: Vec<(usize, usize)> = (0..out_width)
        .map(|j| pool_range(j, in_width, out_width))
        .collect();
    let plane = planes.width * planes.height;
    out.reserve(3 * out_height * out_width);
    // Pixel values are integers 0..=255, so window sums are exact in any order: sum each
    // output column's window along every input row first (one pass over the window), then
    // those partial sums down each output row's window. The mean is the exact sum divided
    // by the window's height and width in turn, as PyTorch does.
    let mut row_sums = vec![0u32; in_height * out_width];
    for c in 0..3 {
        let channel = &planes.values[c * plane..(c + 1) * plane];
        for y in 0..in_height {
            let row = &channel[(window.top + y) * planes.width + window.left..][..in_width];
            for (j, &(c0, c1)) in cols.iter().enumerate() {
                row_sums[y * out_width + j] = row[c0..c1].iter().map(|&v| u32::from(v)).sum();
            }
        }
        for &(r0, r1) in &rows {
            for (j, &(c0, c1)) in cols.iter().enumerate() {
                let sum: u32 = (r0..r1).map(|y| row_sums[y * out_width + j]).sum();
                let mean = (f64::from(sum) / (r1 - r0) as f64 / (c1 - c0) as f64) as f32;
                out.push((mean - 127.5) * 0.0078125);
            }
        }
    }
}

/// Input cells `start..end` pooled into output cell `i` of `m` from `n` inputs.
fn pool_range(i: usize, n: usize, m: usize) -> (usize, usize) {
    (i * n / m, ((i + 1) * n).div_ceil(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_ranges_cover_the_input_as_pytorch_does() {
        // 5 -> 3: PyTorch's adaptive_avg_pool1d windows are [0,2), [1,4), [3,5).
        let ranges: Vec<_> = (0..3).map(|i| pool_range(i, 5, 3)).collect();
        assert_eq!(ranges, vec![(0, 2), (1, 4), (3, 5)]);
        // 2 -> 4 (growing): each input cell is repeated.
        let ranges: Vec<_> = (0..4).map(|i| pool_range(i, 2, 4)).collect();
        assert_eq!(ranges, vec![(0, 1), (0, 1), (1, 2), (1, 2)]);
    }

    #[test]
    fn area_resize_averages_each_window() {
        let planes = Planes {
            width: 4,
            height: 2,
            values: (0..24).collect(),
        };
        let mut out = Vec::new();
        area_resize_normalised(&planes, Window::whole(&planes), 1, 2, &mut out);
        // Channel 0: left half {0,1,4,5} mean 2.5, right half {2,3,6,7} mean 4.5.
        let expected = [2.5f32, 4.5, 10.5, 12.5, 18.5, 20.5].map(|m| (m - 127.5) / 128.0);
        assert_eq!(out, expected);
    }
}
