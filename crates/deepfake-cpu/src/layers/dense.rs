//! The stem's dense convolution: one packed product over the phase-split image where this CPU
//! runs it, else im2col in strips and a `gemm` product.

use crate::activation::Activation;
use crate::gemm::{Epilogue, matmul};
use crate::grouped_conv::{BatchLayout, GroupedConv};
use crate::window_out_size;

/// Columns of the stem's im2col matrix built at once: a strip small enough to stay in cache.
const IM2COL_COLUMNS: usize = 2048;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host, max_diff};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::activation::relu;
    use burn::tensor::{Device, Distribution, Tensor};

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
}
