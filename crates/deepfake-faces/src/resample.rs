//! The image as summed-area tables, and PyTorch's `interpolate(mode="area")` on windows of it:
//! how MTCNN shrinks the image for each pyramid scale and each candidate to its network's input.

use image::RgbImage;

/// An RGB image as the summed-area table of each channel: every area average MTCNN takes of
/// it (each pyramid level, each candidate's crop) is four lookups per output value.
#[derive(Debug, Clone)]
pub struct Planes {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `[3, height + 1, width + 1]`: `sums[c][y][x]` is the sum of channel `c` over rows
    /// `0..y` and columns `0..x`, modulo 2^32 (wrapping): the differences taken from it are
    /// exact for every window of under 16.8 million pixels, far above any pooling window.
    pub sums: Vec<u32>,
}

impl Planes {
    /// The summed-area tables of `image`.
    pub fn from_rgb(image: &RgbImage) -> Self {
        let (width, height) = (image.width() as usize, image.height() as usize);
        let stride = width + 1;
        let table = stride * (height + 1);
        let mut sums = vec![0u32; 3 * table];
        for (y, row) in image.as_raw().chunks_exact(3 * width.max(1)).enumerate() {
            for c in 0..3 {
                let (above, current) =
                    sums[c * table..(c + 1) * table].split_at_mut((y + 1) * stride);
                let above = &above[y * stride..];
                let current = &mut current[..stride];
                let mut total = 0u32;
                for x in 0..width {
                    total = total.wrapping_add(u32::from(row[3 * x + c]));
                    current[x + 1] = above[x + 1].wrapping_add(total);
                }
            }
        }
        Self {
            width,
            height,
            sums,
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
    let stride = planes.width + 1;
    let table = stride * (planes.height + 1);
    let first = out.len();
    let out_plane = out_height * out_width;
    out.resize(first + 3 * out_plane, 0.0);
    // Pixel values are integers, so the window sums from the table are exact; the mean is
    // the sum divided by the window's height and width in turn, as PyTorch does.
    for (c, dst) in out[first..].chunks_exact_mut(out_plane).enumerate() {
        let sums = &planes.sums[c * table..(c + 1) * table];
        for (&(r0, r1), dst_row) in rows.iter().zip(dst.chunks_exact_mut(out_width)) {
            let top = &sums[(window.top + r0) * stride + window.left..];
            let bottom = &sums[(window.top + r1) * stride + window.left..];
            for (d, &(c0, c1)) in dst_row.iter_mut().zip(&cols) {
                // Rows r0..r1 over columns ..c1, minus the same over ..c0 (exact modulo 2^32).
                let sum = (bottom[c1].wrapping_sub(top[c1]))
                    .wrapping_sub(bottom[c0].wrapping_sub(top[c0]));
                let mean = (f64::from(sum) / (r1 - r0) as f64 / (c1 - c0) as f64) as f32;
                *d = (mean - 127.5) * 0.0078125;
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
        // Channel c's pixel at (x, y) is 8c + 4y + x.
        let image = RgbImage::from_fn(4, 2, |x, y| {
            image::Rgb(std::array::from_fn(|c| (8 * c as u32 + 4 * y + x) as u8))
        });
        let planes = Planes::from_rgb(&image);
        let mut out = Vec::new();
        area_resize_normalised(&planes, Window::whole(&planes), 1, 2, &mut out);
        // Channel 0: left half {0,1,4,5} mean 2.5, right half {2,3,6,7} mean 4.5.
        let expected = [2.5f32, 4.5, 10.5, 12.5, 18.5, 20.5].map(|m| (m - 127.5) / 128.0);
        assert_eq!(out, expected);
    }
}
