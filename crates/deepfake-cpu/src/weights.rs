//! The folded backbone's weights as plain host values: what the engine is built from. The
//! model crate fills them from its Burn modules (`FusedResNeXt::into_host_weights`); nothing
//! here knows Burn.

use crate::error::{Error, Result};

/// One convolution with its bias (BatchNorm already folded in).
#[derive(Debug, Clone, PartialEq)]
pub struct ConvWeights {
    /// `[C_out, C_in / groups, kh, kw]`, row-major.
    pub weight: Vec<f32>,
    /// `[C_out]` (zeros for a convolution without bias).
    pub bias: Vec<f32>,
    /// `[C_out, C_in / groups, kh, kw]`.
    pub dims: [usize; 4],
    /// `[vertical, horizontal]` steps.
    pub stride: [usize; 2],
    /// Zeros added `[top, left, bottom, right]`.
    pub padding: [usize; 4],
    /// `[vertical, horizontal]` spacing of the kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups.
    pub groups: usize,
}

/// A max pool's window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    /// `[kh, kw]`.
    pub kernel: [usize; 2],
    /// `[vertical, horizontal]` steps.
    pub stride: [usize; 2],
    /// Padding `[top, left, bottom, right]` (padded positions never win).
    pub padding: [usize; 4],
    /// `[vertical, horizontal]` spacing of the window's taps.
    pub dilation: [usize; 2],
    /// Output sizes rounded up (PyTorch's `ceil_mode`).
    pub ceil_mode: bool,
}

impl PoolSpec {
    /// `([kernel, stride, padding], ceil_mode)` as the host max pool runs it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming `layer` unless the window is square and undilated with the
    /// same padding on every side.
    pub(crate) fn window(&self, layer: &str) -> Result<([usize; 3], bool)> {
        let padding = symmetric_padding(self.padding, layer)?;
        if self.kernel[0] != self.kernel[1]
            || self.stride[0] != self.stride[1]
            || self.dilation != [1, 1]
        {
            return Err(Error::Unsupported {
                layer: layer.into(),
                reason: format!("{self:?}: only square, undilated windows"),
            });
        }
        Ok(([self.kernel[0], self.stride[0], padding], self.ceil_mode))
    }
}

/// The padding of a layer with the same padding on every side.
pub(crate) fn symmetric_padding(
    [top, left, bottom, right]: [usize; 4],
    layer: &str,
) -> Result<usize> {
    if top == left && top == bottom && top == right {
        Ok(top)
    } else {
        Err(Error::Unsupported {
            layer: layer.into(),
            reason: format!(
                "padding {:?}: only the same on every side",
                [top, left, bottom, right]
            ),
        })
    }
}

/// A bottleneck block: 1x1 reduce, grouped 3x3, 1x1 expand, and the skip projection.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockWeights {
    /// 1x1 reduce.
    pub conv1: ConvWeights,
    /// Grouped 3x3 (carries the block's stride).
    pub conv2: ConvWeights,
    /// 1x1 expand.
    pub conv3: ConvWeights,
    /// 1x1 projection of the skip path, when the block changes shape.
    pub downsample: Option<ConvWeights>,
}

/// The whole folded ResNeXt: stem, max pool, blocks, then a global average pool.
#[derive(Debug, Clone, PartialEq)]
pub struct BackboneWeights {
    /// The 7x7 (or other square) stem convolution.
    pub stem: ConvWeights,
    /// The max pool after the stem.
    pub max_pool: PoolSpec,
    /// Every block of every stage, in order.
    pub blocks: Vec<BlockWeights>,
    /// The final average pool's output size (the engine implements `[1, 1]`, global).
    pub avg_pool_output: [usize; 2],
}

/// A convolution of a [`PreluNetWeights`] network with its PReLU and, optionally, the max
/// pool after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PreluConvWeights {
    /// The convolution and its bias.
    pub conv: ConvWeights,
    /// PReLU slopes, `[C_out]`.
    pub slopes: Vec<f32>,
    /// The max pool after the PReLU, if any.
    pub pool: Option<PoolSpec>,
}

/// A fully connected layer: `y = W x + b`, then PReLU when it has slopes.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseWeights {
    /// `[out, in]`, row-major (PyTorch's `Linear.weight`; a 1x1 convolution's `[out, in, 1, 1]`
    /// is the same values).
    pub weight: Vec<f32>,
    /// `[out]`.
    pub bias: Vec<f32>,
    /// `[out, in]`.
    pub dims: [usize; 2],
    /// PReLU slopes `[out]`, or `None` for no activation.
    pub slopes: Option<Vec<f32>>,
}

/// What follows the convolutions of a [`PreluNetWeights`] network.
#[derive(Debug, Clone, PartialEq)]
pub enum HeadWeights {
    /// A 1x1 convolution over the last feature map (a fully convolutional network such as
    /// MTCNN's P-Net): the output is a map `[B, out, H', W']`.
    Pointwise(DenseWeights),
    /// Each image's last feature map flattened in `(channel, row, column)` order, then these
    /// layers in turn (MTCNN's R-Net and O-Net): the output is `[B, out]`.
    Dense(Vec<DenseWeights>),
}

/// A small convolutional network of PReLU layers: unpadded convolutions, each followed by
/// PReLU and optionally a max pool, then a head (MTCNN's three networks have this form).
#[derive(Debug, Clone, PartialEq)]
pub struct PreluNetWeights {
    /// The convolutions, in order.
    pub convs: Vec<PreluConvWeights>,
    /// The layers after them.
    pub head: HeadWeights,
}
