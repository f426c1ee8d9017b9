//! torchvision's `Bottleneck` residual block, with grouped 3x3 convolutions (ResNeXt).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};

use crate::batch_norm::BatchNorm;
use crate::grouped_conv::{GroupedConvMethod, grouped_conv2d};
use crate::layer_timer::{LayerTimer, Untimed};
use crate::pointwise_conv::pointwise_conv2d;

/// Output channels of a bottleneck block per unit of `planes` (torchvision's `Bottleneck.expansion`).
pub const EXPANSION: usize = 4;

/// The 1x1 projection on the skip path of a block that changes shape
/// (torchvision's `downsample = Sequential(conv1x1, BatchNorm2d)`, keys `downsample.0/1`).
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1x1 convolution, no bias, with the block's stride.
    pub conv: Conv2d,
    /// BatchNorm after the convolution.
    pub bn: BatchNorm,
}

impl Downsample {
    /// `[B, C_in, H, W]` -> `[B, C_out, H / stride, W / stride]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(pointwise_conv2d(&self.conv, x))
    }
}

/// Shape of one bottleneck block, as torchvision computes it.
#[derive(Debug, Clone, Copy)]
pub struct BottleneckSpec {
    /// Input channels.
    pub in_channels: usize,
    /// torchvision's `planes`: the block outputs `planes * 4` channels.
    pub planes: usize,
    /// Stride of the 3x3 convolution (and of the projection).
    pub stride: usize,
    /// Groups of the 3x3 convolution.
    pub groups: usize,
    /// Channels per group at `planes = 64` (torchvision's `base_width`).
    pub width_per_group: usize,
}

impl BottleneckSpec {
    /// Channels inside the block: `int(planes * base_width / 64) * groups`.
    pub fn width(&self) -> usize {
        self.planes * self.width_per_group / 64 * self.groups
    }

    /// Channels out of the block.
    pub fn out_channels(&self) -> usize {
        self.planes * EXPANSION
    }

    /// Builds the block with freshly initialised weights.
    pub fn init(&self, device: &Device) -> Bottleneck {
        let width = self.width();
        let out = self.out_channels();
        let conv = |c_in, c_out, k: usize, stride, groups| {
            Conv2dConfig::new([c_in, c_out], [k, k])
                .with_stride([stride, stride])
                .with_groups(groups)
                .with_padding(PaddingConfig2d::Explicit(k / 2, k / 2, k / 2, k / 2))
                .with_bias(false)
                .init(device)
        };
        let bn = |c| BatchNorm::new(c, device);
        let downsample = (self.stride != 1 || self.in_channels != out).then(|| Downsample {
            conv: conv(self.in_channels, out, 1, self.stride, 1),
            bn: bn(out),
        });
        Bottleneck {
            conv1: conv(self.in_channels, width, 1, 1, 1),
            bn1: bn(width),
            conv2: conv(width, width, 3, self.stride, self.groups),
            bn2: bn(width),
            conv3: conv(width, out, 1, 1, 1),
            bn3: bn(out),
            downsample,
        }
    }
}

/// 1x1 reduce -> grouped 3x3 (strided) -> 1x1 expand, plus the skip path, then ReLU.
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// 1x1, `in_channels -> width`.
    pub conv1: Conv2d,
    /// BatchNorm after `conv1`.
    pub bn1: BatchNorm,
    /// Grouped 3x3, `width -> width`, carries the stride.
    pub conv2: Conv2d,
    /// BatchNorm after `conv2`.
    pub bn2: BatchNorm,
    /// 1x1, `width -> planes * 4`.
    pub conv3: Conv2d,
    /// BatchNorm after `conv3`.
    pub bn3: BatchNorm,
    /// Projection of the skip path when the shape changes.
    pub downsample: Option<Downsample>,
}

impl Bottleneck {
    /// `[B, C_in, H, W]` -> `[B, planes * 4, H / stride, W / stride]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_timed(x, &mut Untimed)
    }

    /// [`forward`](Self::forward), each layer run through `timer`.
    pub fn forward_timed(&self, x: Tensor<4>, timer: &mut impl LayerTimer) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => {
                let y = timer.time("conv 1x1 downsample", || {
                    pointwise_conv2d(&d.conv, x.clone())
                });
                timer.time("batchnorm", || d.bn.forward(y))
            }
            None => x.clone(),
        };
        let out = timer.time("conv 1x1 reduce", || pointwise_conv2d(&self.conv1, x));
        let out = timer.time("batchnorm + relu", || self.bn1.forward_relu(out));
        let method = GroupedConvMethod::select(&self.conv2, &out);
        let out = timer.time("conv 3x3 grouped", || {
            grouped_conv2d(&self.conv2, out, method)
        });
        let out = timer.time("batchnorm + relu", || self.bn2.forward_relu(out));
        let out = timer.time("conv 1x1 expand", || pointwise_conv2d(&self.conv3, out));
        timer.time("batchnorm + residual add + relu", || {
            self.bn3.forward_add_relu(out, identity)
        })
    }
}
