//! The host backbone's other layers on one image in host memory (`[C, H, W]`, row-major):
//! 1x1 convolutions as one matrix product, the stem's dense convolution by im2col in strips,
//! max pooling and global average pooling.

use rayon::prelude::*;

use super::activation::Activation;
use super::gemm::{Epilogue, matmul};
use super::grouped_conv::{BatchLayout, GroupedConv};
use super::{window_count, window_out_size};

/// Columns of the stem's im2col matrix built at once: a strip small enough to stay in cache.
const IM2COL_COLUMNS: usize = 2048;

/// A 1x1 convolution with a bias, groups 1, no padding, any stride: `[C_out, C_in]` weights
/// times the (subsampled) input planes `[C_in, H' * W']`.
#[derive(Debug, Clone)]
pub(crate) struct PointwiseConv {
    /// `[C_out, C_in]`, row-major.
    pub weight: Vec<f32>,
    /// `[C_out]`.
    pub bias: Vec<f32>,
    pub c_in: usize,
    pub c_out: usize,
    pub stride: usize,
}

impl PointwiseConv {
    /// Output height and width for an `h x w` input.
    pub fn out_size(&self, size: [usize; 2]) -> [usize; 2] {
        window_out_size(size, [1, self.stride, 0])
    }

    /// `out = W x + bias` (then ReLU when `relu`) on `batch` images stored channel-major:
    /// `x` is `[C_in, B, H, W]`, `out` becomes `[C_out, B, H', W']`. A strided convolution
    /// first gathers the sampled pixels into `scratch`.
    pub fn forward(
        &self,
        x: &[f32],
        [batch, h, w]: [usize; 3],
        out: &mut Vec<f32>,
        scratch: &mut Vec<f32>,
        relu: bool,
        threads: usize,
    ) {
        assert_eq!(x.len(), self.c_in * batch * h * w, "1x1 conv input");
        let [oh, ow] = self.out_size([h, w]);
        let input: &[f32] = if self.stride == 1 {
            x
        } else {
            scratch.clear();
            for plane in x.chunks_exact(h * w) {
                for row in plane.chunks_exact(w).step_by(self.stride) {
                    scratch.extend(row.iter().step_by(self.stride));
                }
            }
            scratch
        };
        let plane = batch * oh * ow;
        out.resize(self.c_out * plane, 0.0);
        let epilogue = Epilogue {
            bias: Some(&self.bias),
            activation: Activation::relu_if(relu),
        };
        matmul(
            out,
            plane,
            &self.weight,
            input,
            plane,
            [self.c_out, self.c_in, plane],
            false,
            epilogue,
            threads,
        );
    }

    /// `out += W x + bias` (stride 1; without a bias when `bias` is `None`, not the
    /// convolution's own), then ReLU if asked, for `x` `[C_in, plane]` and `out` `[C_out,
    /// plane]` (`plane` = B * H * W): the block's expanding convolution adds onto the skip path
    /// this way.
    pub fn accumulate(
        &self,
        x: &[f32],
        plane: usize,
        out: &mut [f32],
        bias: Option<&[f32]>,
        relu: bool,
        threads: usize,
    ) {
        assert_eq!(self.stride, 1, "accumulate is for stride-1 convolutions");
        let epilogue = Epilogue {
            bias,
            activation: Activation::relu_if(relu),
        };
        matmul(
            out,
            plane,
            &self.weight,
            x,
            plane,
            [self.c_out, self.c_in, plane],
            true,
            epilogue,
            threads,
        );
    }
}

/// A dense (groups 1) `k x k` convolution with a bias, stride and symmetric zero padding,
/// followed by ReLU: the stem.
#[derive(Debug, Clone)]
pub(crate) struct DenseConv {
    pub c_in: usize,
    pub c_out: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    method: DenseMethod,
}

/// How a [`DenseConv`] is computed, holding its weights in the form that method reads.
#[derive(Debug, Clone)]
enum DenseMethod {
    /// One packed product over the padded, phase-split image, no im2col copy (the one-group
    /// [`GroupedConv`]), where this CPU runs it.
    Phases(Box<GroupedConv>),
    /// im2col in strips of output rows, then a `gemm` product with `weight` (`[C_out, C_in *
    /// k * k]`, row-major: PyTorch's `[C_out, C_in, k, k]`) and `bias` (`[C_out]`).
    Im2col { weight: Vec<f32>, bias: Vec<f32> },
}

impl DenseConv {
    /// The convolution with weights `[C_out, C_in, k, k]` (row-major) and bias `[C_out]`.
    ///
    /// # Panics
    /// If the weights do not match the shape, or the padding is not below the kernel size.
    pub fn new(
        weight: Vec<f32>,
        bias: Vec<f32>,
        [c_in, c_out]: [usize; 2],
        [kernel, stride, padding]: [usize; 3],
    ) -> Self {
        let geometry = [kernel, stride, padding];
        let method = if GroupedConv::packs(c_out) {
            let conv = GroupedConv::new(weight, bias, [c_in, c_out], 1, geometry);
            DenseMethod::Phases(Box::new(conv))
        } else {
            DenseMethod::Im2col { weight, bias }
        };
        Self {
            c_in,
            c_out,
            kernel,
            stride,
            padding,
            method,
        }
    }

    /// Output height and width for an `h x w` input.
    pub fn out_size(&self, size: [usize; 2]) -> [usize; 2] {
        window_out_size(size, [self.kernel, self.stride, self.padding])
    }

    /// `relu(conv(x) + bias)`: `x` is `[C_in, H, W]`, `out` becomes `[C_out, H', W']`. Without
    /// the packed path, the im2col matrix is built a strip of output rows at a time in
    /// `scratch`.
    pub fn forward_relu(
        &self,
        x: &[f32],
        [h, w]: [usize; 2],
        out: &mut Vec<f32>,
        scratch: &mut Vec<f32>,
        threads: usize,
    ) {
        let (weight, bias) = match &self.method {
            DenseMethod::Phases(conv) => {
                return conv.forward(
                    x,
                    [1, h, w],
                    BatchLayout::ChannelMajor,
                    out,
                    Activation::Relu,
                    threads,
                );
            }
            DenseMethod::Im2col { weight, bias } => (weight, bias),
        };
        assert_eq!(x.len(), self.c_in * h * w, "stem input");
        let [oh, ow] = self.out_size([h, w]);
        let plane = oh * ow;
        let taps = self.c_in * self.kernel * self.kernel;
        out.resize(self.c_out * plane, 0.0);
        let rows_per_strip = im2col_strip_rows(ow);
        for first_row in (0..oh).step_by(rows_per_strip) {
            let rows = rows_per_strip.min(oh - first_row);
            let columns = rows * ow;
            scratch.clear();
            scratch.resize(taps * columns, 0.0);
            self.im2col(x, [h, w], first_row, rows, ow, scratch);
            let epilogue = Epilogue {
                bias: Some(bias),
                activation: Activation::Relu,
            };
            matmul(
                &mut out[first_row * ow..],
                plane,
                weight,
                scratch,
                columns,
                [self.c_out, taps, columns],
                false,
                epilogue,
                threads,
            );
        }
    }

    /// Rows `(c, ky, kx)` of the im2col matrix for output rows `first_row..first_row + rows`
    /// into `cols` (`[C_in * k * k, rows * ow]`, zero where the tap falls in the padding).
    fn im2col(
        &self,
        x: &[f32],
        [h, w]: [usize; 2],
        first_row: usize,
        rows: usize,
        ow: usize,
        cols: &mut [f32],
    ) {
        let k = self.kernel;
        let columns = rows * ow;
        for (tap, dst) in cols.chunks_exact_mut(columns).enumerate() {
            let (c, ky, kx) = (tap / (k * k), tap / k % k, tap % k);
            let plane = &x[c * h * w..(c + 1) * h * w];
            for (r, dst_row) in dst.chunks_exact_mut(ow).enumerate() {
                // Input row of this tap, if inside the image.
                let iy = (first_row + r) * self.stride + ky;
                if iy < self.padding || iy - self.padding >= h {
                    continue;
                }
                let src = &plane[(iy - self.padding) * w..][..w];
                // Output columns whose input column `ox * stride + kx - padding` is inside
                // the row: `first..last`.
                let first = self.padding.saturating_sub(kx).div_ceil(self.stride);
                let last = ((w + self.padding).saturating_sub(kx))
                    .div_ceil(self.stride)
                    .min(ow);
                if first >= last {
                    continue;
                }
                let src = &src[first * self.stride + kx - self.padding..];
                for (value, &x) in dst_row[first..last]
                    .iter_mut()
                    .zip(src.iter().step_by(self.stride))
                {
                    *value = x;
                }
            }
        }
    }
}

/// Output rows of `ow` values whose im2col columns are built at once: as many as fit in
/// [`IM2COL_COLUMNS`] columns, at least one.
fn im2col_strip_rows(ow: usize) -> usize {
    (IM2COL_COLUMNS / ow).max(1)
}

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

/// `[A, B, P]` -> `[B, A, P]`, row-major, into `out` (`P` = the rest of the dimensions):
/// images `[B, C, ...]` to channel-major `[C, B, ...]` and back.
pub(crate) fn transpose_outer(x: &[f32], a: usize, b: usize, out: &mut Vec<f32>) {
    let plane = x.len() / (a * b).max(1);
    out.clear();
    out.resize(x.len(), 0.0);
    for (i, block) in x.chunks_exact(plane.max(1)).enumerate() {
        let (ia, ib) = (i / b, i % b);
        out[(ib * a + ia) * plane..][..plane].copy_from_slice(block);
    }
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
    use burn::nn::conv::Conv2dConfig;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Tensor};

    #[test]
    fn pointwise_conv_equals_burn_conv2d_at_stride_1_and_2() {
        let device = Device::flex();
        for (c_in, c_out, stride, h, w, batch) in [
            (16, 24, 1, 7, 9, 1),
            (16, 32, 2, 7, 8, 3),
            (8, 4, 2, 6, 6, 1),
            (8, 12, 1, 5, 4, 2),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [1, 1])
                .with_stride([stride, stride])
                .with_bias(true)
                .init(&device);
            let x =
                Tensor::<4>::random([batch, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            // The host kernels take and give [C, B, H, W].
            let channel_major = |t: Tensor<4>| host(t.swap_dims(0, 1));
            let host_conv = PointwiseConv {
                weight: host(conv.weight.val()),
                bias: host(conv.bias.as_ref().unwrap().val()),
                c_in,
                c_out,
                stride,
            };
            let (mut out, mut scratch) = (Vec::new(), Vec::new());
            for relu_after in [false, true] {
                let expected = conv.forward(x.clone());
                let expected = channel_major(if relu_after { relu(expected) } else { expected });
                host_conv.forward(
                    &channel_major(x.clone()),
                    [batch, h, w],
                    &mut out,
                    &mut scratch,
                    relu_after,
                    2,
                );
                let diff = max_diff(&out, &expected);
                assert!(diff <= 1e-5, "{c_in}->{c_out} stride {stride}: {diff}");
            }
            // Adding onto a skip path in place: relu(skip + conv(x)), the bias given
            // separately (here the convolution's own).
            if stride == 1 {
                let skip = Tensor::<4>::random(
                    [batch, c_out, h, w],
                    Distribution::Normal(0.0, 1.0),
                    &device,
                );
                let expected = channel_major(relu(skip.clone() + conv.forward(x.clone())));
                let mut sum = channel_major(skip);
                host_conv.accumulate(
                    &channel_major(x.clone()),
                    batch * h * w,
                    &mut sum,
                    Some(&host_conv.bias),
                    true,
                    2,
                );
                let diff = max_diff(&sum, &expected);
                assert!(diff <= 1e-5, "{c_in}->{c_out} accumulate: {diff}");
            }
        }
    }

    #[test]
    fn stem_conv_equals_burn_conv2d() {
        let device = Device::flex();
        // The ResNeXt stem (7x7, stride 2, padding 3) on odd sizes, and a small 3x3 one; the
        // last one's 50 x 45 outputs are two im2col strips (45 rows, then 5).
        for (c_in, c_out, kernel, stride, padding, h, w) in [
            (3, 8, 7, 2, 3, 37, 30),
            (2, 5, 3, 1, 1, 6, 5),
            (3, 5, 7, 2, 3, 100, 90),
        ] {
            let conv = Conv2dConfig::new([c_in, c_out], [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(
                    padding, padding, padding, padding,
                ))
                .with_bias(true)
                .init(&device);
            let x = Tensor::<4>::random([1, c_in, h, w], Distribution::Normal(0.0, 1.0), &device);
            let expected = host(relu(conv.forward(x.clone())));
            let (weight, bias) = (
                host(conv.weight.val()),
                host(conv.bias.as_ref().unwrap().val()),
            );
            // The method this CPU picks (the packed product where it runs it), and im2col.
            let picked = DenseConv::new(
                weight.clone(),
                bias.clone(),
                [c_in, c_out],
                [kernel, stride, padding],
            );
            let im2col = DenseConv {
                method: DenseMethod::Im2col { weight, bias },
                ..picked.clone()
            };
            for stem in [picked, im2col] {
                let (mut out, mut scratch) = (Vec::new(), Vec::new());
                stem.forward_relu(&host(x.clone()), [h, w], &mut out, &mut scratch, 2);
                let diff = max_diff(&out, &expected);
                assert!(
                    diff <= 1e-5,
                    "{kernel}x{kernel} stride {stride} {:?}: {diff}",
                    std::mem::discriminant(&stem.method)
                );
            }
        }
    }

    #[test]
    fn im2col_strips_hold_at_most_2048_columns_of_whole_rows() {
        assert_eq!(im2col_strip_rows(45), 45); // 2025 columns
        assert_eq!(im2col_strip_rows(112), 18); // 2016
        assert_eq!(im2col_strip_rows(2048), 1);
        // A row wider than a strip is still built whole.
        assert_eq!(im2col_strip_rows(3000), 1);
    }

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
