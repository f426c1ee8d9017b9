//! Max pooling (PyTorch's rules: padding never wins, NaN propagates, `ceil_mode`) and global
//! average pooling.

use rayon::prelude::*;

use crate::window_count;

/// Positions of a pooling window (`[kernel, stride, padding]`) along an axis of `len` values:
/// rounded down, or up with `ceil_mode` (PyTorch's rule: a last, partial window counts when it
/// starts inside the input or its left padding).
fn pool_window_count(len: usize, window: [usize; 3], ceil_mode: bool) -> usize {
    let [kernel, stride, padding] = window;
    if !ceil_mode {
        return window_count(len, window);
    }
    let count = (len + 2 * padding - kernel).div_ceil(stride) + 1;
    if (count - 1) * stride >= len + padding {
        count - 1
    } else {
        count
    }
}

/// Max pooling with a square `kernel`, `stride` and `padding` (padded positions never win,
/// as in PyTorch), the output size rounded down or, with `ceil_mode`, up (windows cut at the
/// edge): `x` is `[C, H, W]`, `out` becomes `[C, H', W']`. Separable: the maximum over each
/// window's rows, then over each window's columns, both a tap at a time. `threads > 1`
/// spreads the planes over the rayon pool.
pub(crate) fn max_pool(
    x: &[f32],
    [c, h, w]: [usize; 3],
    [kernel, stride, padding]: [usize; 3],
    ceil_mode: bool,
    out: &mut Vec<f32>,
    threads: usize,
) -> [usize; 2] {
    let window = [kernel, stride, padding];
    let [oh, ow] = [
        pool_window_count(h, window, ceil_mode),
        pool_window_count(w, window, ceil_mode),
    ];
    out.resize(c * oh * ow, 0.0);
    if out.is_empty() {
        return [oh, ow];
    }
    // For each tap `t` of the window: the outputs whose tap `t` falls inside an axis of
    // `len` inputs (input `i * stride + t - padding`), as `first..end`.
    let tap_outputs = |t: usize, count: usize, len: usize| -> (usize, usize) {
        let first = padding.saturating_sub(t).div_ceil(stride);
        let end = if len + padding > t {
            ((len + padding - t - 1) / stride + 1).min(count)
        } else {
            0
        };
        (first, end.max(first))
    };
    let col_taps: Vec<(usize, usize)> = (0..kernel).map(|t| tap_outputs(t, ow, w)).collect();
    let row_taps: Vec<(usize, usize)> = (0..kernel).map(|t| tap_outputs(t, oh, h)).collect();
    let pool_plane = |channel: usize, dst: &mut [f32], row_max: &mut [f32]| {
        let plane = &x[channel * h * w..(channel + 1) * h * w];
        // [H', W] maxima over the row windows: whole input rows at a time (contiguous).
        row_max.fill(f32::NEG_INFINITY);
        for (t, &(first, end)) in row_taps.iter().enumerate() {
            for i in first..end {
                let y = i * stride + t - padding;
                let src = &plane[y * w..(y + 1) * w];
                for (m, &v) in row_max[i * w..(i + 1) * w].iter_mut().zip(src) {
                    *m = max_propagating_nan(*m, v);
                }
            }
        }
        // Then over the column windows of those H' rows, a tap at a time.
        dst.fill(f32::NEG_INFINITY);
        for (row, maxima) in row_max.chunks_exact(w).zip(dst.chunks_exact_mut(ow)) {
            for (t, &(first, end)) in col_taps.iter().enumerate() {
                let inputs = row[first * stride + t - padding..].iter().step_by(stride);
                for (m, &v) in maxima[first..end].iter_mut().zip(inputs) {
                    *m = max_propagating_nan(*m, v);
                }
            }
        }
    };
    let planes_per_task = pool_planes_per_task(c, threads);
    let task = |(task, dst): (usize, &mut [f32])| {
        let mut row_max = vec![0.0; oh * w];
        for (k, dst) in dst.chunks_exact_mut(oh * ow).enumerate() {
            pool_plane(task * planes_per_task + k, dst, &mut row_max);
        }
    };
    if threads > 1 {
        out.par_chunks_mut(planes_per_task * oh * ow)
            .enumerate()
            .for_each(task);
    } else {
        out.chunks_mut(planes_per_task * oh * ow)
            .enumerate()
            .for_each(task);
    }
    [oh, ow]
}

/// Planes of `c` that one task of [`max_pool`] pools: all of them on one thread, else about 4
/// tasks per thread (one row buffer per task, and few enough tasks for the pool's overhead to
/// stay small when the planes are tiny: MTCNN's crops).
fn pool_planes_per_task(c: usize, threads: usize) -> usize {
    if threads > 1 {
        c.div_ceil(4 * threads).max(1)
    } else {
        c.max(1)
    }
}

/// PyTorch's max-pool step: `v` replaces the running maximum `m` when larger or NaN (so a NaN
/// in a window gives NaN, unlike `f32::max`; also fewer instructions).
#[inline(always)]
fn max_propagating_nan(m: f32, v: f32) -> f32 {
    if v > m || v.is_nan() { v } else { m }
}

/// The mean of each plane of `x` (`[C, B, plane]`) into `out` (`[B, C]`).
pub(crate) fn mean_pool(x: &[f32], [channels, batch, plane]: [usize; 3], out: &mut [f32]) {
    assert_eq!(x.len(), channels * batch * plane, "mean pool input");
    assert_eq!(out.len(), batch * channels, "mean pool output");
    for (i, values) in x.chunks_exact(plane).enumerate() {
        let (c, b) = (i / batch, i % batch);
        out[b * channels + c] = values.iter().sum::<f32>() / plane as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host, max_diff};
    use burn::nn::PaddingConfig2d;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn max_pool_equals_burn_max_pool2d() {
        let device = Device::flex();
        // The backbone's pool (padded, floor), MTCNN's (unpadded, ceil: 3/2 and 2/2), and
        // padded ones with ceil (a last window starting in the right padding is dropped: 7
        // values, 2/2 padded 1, give 4 windows, not 5).
        for ([kernel, stride, padding], ceil_mode) in [
            ([3, 2, 1], false),
            ([3, 2, 0], true),
            ([2, 2, 0], true),
            ([2, 2, 1], true),
            ([3, 2, 1], true),
        ] {
            let pool = MaxPool2dConfig::new([kernel, kernel])
                .with_strides([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(
                    padding, padding, padding, padding,
                ))
                .with_ceil_mode(ceil_mode)
                .init();
            // Images smaller than a window too where the padding makes room for one (1 x 2,
            // 2 x 3: some taps reach no input).
            let sizes = [(8, 8), (7, 10), (9, 5), (1, 2), (2, 3)];
            for (h, w) in sizes
                .into_iter()
                .filter(|&(h, w)| h.min(w) + 2 * padding >= kernel)
            {
                // Negative values too: padding must not win.
                let x = Tensor::<4>::random([1, 3, h, w], Distribution::Normal(-1.0, 1.0), &device);
                let expected = host(pool.forward(x.clone()));
                let mut out = Vec::new();
                let window = [kernel, stride, padding];
                let [oh, ow] = max_pool(&host(x), [3, h, w], window, ceil_mode, &mut out, 2);
                assert_eq!(3 * oh * ow, expected.len(), "{window:?} ceil {ceil_mode}");
                assert_eq!(
                    max_diff(&out, &expected),
                    0.0,
                    "{window:?} ceil {ceil_mode}"
                );
            }
        }
    }

    #[test]
    fn pool_window_counts_follow_pytorch() {
        // floor((len + 2p - k) / s) + 1, or with ceil_mode ceil(...) + 1 less a last window
        // that would start at or past len + p (in the right padding).
        assert_eq!(pool_window_count(7, [2, 2, 1], false), 4);
        assert_eq!(pool_window_count(7, [2, 2, 1], true), 4); // 5 dropped to 4
        assert_eq!(pool_window_count(8, [2, 2, 1], true), 5);
        assert_eq!(pool_window_count(10, [3, 2, 1], true), 6); // 5.5 -> 6, starts at 10 - 1
        assert_eq!(pool_window_count(10, [3, 2, 0], true), 5); // 4.5 -> 5
        assert_eq!(pool_window_count(10, [3, 2, 0], false), 4);
        assert_eq!(pool_window_count(1, [3, 2, 1], true), 1);
    }

    #[test]
    fn max_pool_tasks_are_about_4_per_thread() {
        assert_eq!(pool_planes_per_task(64, 1), 64);
        assert_eq!(pool_planes_per_task(64, 2), 8);
        assert_eq!(pool_planes_per_task(64, 3), 6); // ceil(64 / 12)
        assert_eq!(pool_planes_per_task(3, 4), 1);
        assert_eq!(pool_planes_per_task(0, 1), 1);
        assert_eq!(pool_planes_per_task(0, 2), 1);
    }

    #[test]
    fn max_pool_propagates_nan_as_pytorch_does() {
        // 1 x 4 x 4, 2x2 windows: a NaN makes its window's maximum NaN, wherever it falls.
        let mut x: Vec<f32> = (0..16).map(|v| v as f32).collect();
        x[0] = f32::NAN;
        x[15] = f32::NAN;
        let mut out = Vec::new();
        max_pool(&x, [1, 4, 4], [2, 2, 0], false, &mut out, 1);
        assert!(out[0].is_nan() && out[3].is_nan(), "{out:?}");
        assert_eq!(&out[1..3], &[7.0, 13.0]);
    }

    #[test]
    fn max_pool_keeps_the_first_of_equal_values_as_pytorch_does() {
        // PyTorch replaces the running maximum only with a larger value: -0.0 first in its
        // window stays -0.0 against +0.0 (equal, but not the same bits).
        let x = [-0.0, 0.0, 0.0, 0.0];
        let mut out = Vec::new();
        max_pool(&x, [1, 2, 2], [2, 2, 0], false, &mut out, 1);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].to_bits(), (-0.0f32).to_bits(), "{out:?}");
    }

    #[test]
    fn mean_pool_averages_each_plane() {
        let mut out = [0.0; 2];
        mean_pool(&[1.0, 2.0, 3.0, 4.0, -1.0, -3.0], [2, 1, 3], &mut out);
        assert_eq!(out, [2.0, 0.0]);
        // [C = 2, B = 2, plane = 2] -> [B, C].
        let mut out = [0.0; 4];
        mean_pool(
            &[1.0, 3.0, 10.0, 20.0, -1.0, -3.0, 0.5, 1.5],
            [2, 2, 2],
            &mut out,
        );
        assert_eq!(out, [2.0, -2.0, 15.0, 1.0]);
    }
}
