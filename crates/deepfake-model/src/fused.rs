//! The detector prepared for inference: every BatchNorm folded into the convolution before it.
//!
//! In inference BatchNorm is an affine map per channel, `y = (x - mean) * s + beta` with
//! `s = gamma / sqrt(var + eps)`, so it folds into the preceding convolution exactly:
//! `W' = W * s` (per output channel) and `b' = beta - mean * s`. One pass over each activation
//! less per block, and no normalisation kernels at all. Results equal [`Detector::forward`]
//! within float rounding (tested to 1e-5).

use burn::module::{Module, Param};
use burn::nn::BatchNorm;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, MaxPool2d};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use crate::cpu_conv::grouped_conv3x3;
use crate::detector::{Classifier, Detector, mean_over_time};
use crate::lstm::Lstm;
use crate::resnext::{Bottleneck, ResNeXt};

/// Which implementation runs the backbone's convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvKernels {
    /// Burn's own operations: right on every device.
    #[default]
    Burn,
    /// The host kernel of [`crate::cpu_conv`] for the grouped 3x3 convolutions: faster on a
    /// CPU device (flex); on a GPU it would copy those activations to the host.
    HostCpu,
}

/// `conv` followed by `bn` (inference statistics) as one convolution with a bias. Takes both
/// by value: the weight tensor is scaled in place when nothing else holds it.
pub fn fold_batch_norm(conv: Conv2d, bn: BatchNorm) -> Conv2d {
    let scale = bn
        .running_var
        .value()
        .add_scalar(bn.epsilon)
        .sqrt()
        .recip()
        .mul(bn.gamma.val());
    let [channels] = scale.dims();
    let shift = bn.running_mean.value().mul(scale.clone());
    let bias = match &conv.bias {
        Some(bias) => bias.val().mul(scale.clone()).add(bn.beta.val()).sub(shift),
        None => bn.beta.val().sub(shift),
    };
    let (_, weight, _) = conv.weight.consume();
    Conv2d {
        weight: Param::from_tensor(weight.mul(scale.reshape([channels, 1, 1, 1]))),
        bias: Some(Param::from_tensor(bias)),
        ..conv
    }
}

/// A bottleneck block with its three BatchNorms (and the projection's) folded.
#[derive(Module, Debug)]
pub struct FusedBottleneck {
    /// 1x1 reduce with `bn1` folded in.
    pub conv1: Conv2d,
    /// Grouped 3x3 with `bn2` folded in.
    pub conv2: Conv2d,
    /// 1x1 expand with `bn3` folded in.
    pub conv3: Conv2d,
    /// Skip-path projection with its BatchNorm folded in.
    pub downsample: Option<Conv2d>,
}

impl FusedBottleneck {
    /// Folds the block's BatchNorms into its convolutions.
    pub fn new(block: Bottleneck) -> Self {
        Self {
            conv1: fold_batch_norm(block.conv1, block.bn1),
            conv2: fold_batch_norm(block.conv2, block.bn2),
            conv3: fold_batch_norm(block.conv3, block.bn3),
            downsample: block.downsample.map(|d| fold_batch_norm(d.conv, d.bn)),
        }
    }

    /// `[B, C_in, H, W]` -> `[B, C_out, H / stride, W / stride]`.
    pub fn forward(&self, x: Tensor<4>, kernels: ConvKernels) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(conv) => conv.forward(x.clone()),
            None => x.clone(),
        };
        let out = relu(self.conv1.forward(x));
        let out = match kernels {
            ConvKernels::Burn => relu(self.conv2.forward(out)),
            ConvKernels::HostCpu => grouped_conv3x3(&self.conv2, out, true),
        };
        relu(self.conv3.forward(out) + identity)
    }
}

/// The ResNeXt feature extractor with BatchNorm folded into the convolutions.
#[derive(Module, Debug)]
pub struct FusedResNeXt {
    /// 7x7 stem with `bn1` folded in.
    pub conv1: Conv2d,
    /// 3x3 stride-2 max pool.
    pub maxpool: MaxPool2d,
    /// All blocks of the four stages, in order.
    pub blocks: Vec<FusedBottleneck>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
}

impl FusedResNeXt {
    /// Folds `backbone` (its `fc`, if any, is dropped); each block's original weights are
    /// released as soon as it is folded.
    pub fn new(backbone: ResNeXt) -> Self {
        let ResNeXt {
            conv1,
            bn1,
            maxpool,
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool,
            ..
        } = backbone;
        Self {
            conv1: fold_batch_norm(conv1, bn1),
            maxpool,
            blocks: [layer1, layer2, layer3, layer4]
                .into_iter()
                .flatten()
                .map(FusedBottleneck::new)
                .collect(),
            avgpool,
        }
    }

    /// Pooled features: `[B, 3, H, W]` -> `[B, feature_dim]`.
    pub fn forward_features(&self, images: Tensor<4>, kernels: ConvKernels) -> Tensor<2> {
        let mut x = self.maxpool.forward(relu(self.conv1.forward(images)));
        for block in &self.blocks {
            x = block.forward(x, kernels);
        }
        self.avgpool.forward(x).flatten(1, 3)
    }
}

/// The detector for inference only: BatchNorm folded, no dropout, a choice of convolution
/// kernels. Build it with [`Detector::fuse_for_inference`].
#[derive(Module, Debug)]
pub struct InferenceDetector {
    /// Backbone with folded BatchNorm.
    pub backbone: FusedResNeXt,
    /// The LSTM, unchanged.
    pub lstm: Lstm,
    /// The classifier, unchanged (dropout is inactive in inference).
    pub classifier: Classifier,
}

impl InferenceDetector {
    /// Scores single images: `[B, 3, H, W]` -> logits `[B, 2]`, with Burn's kernels.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_with(images, ConvKernels::Burn)
    }

    /// [`forward`](Self::forward) with the given convolution kernels.
    pub fn forward_with(&self, images: Tensor<4>, kernels: ConvKernels) -> Tensor<2> {
        self.forward_sequence_with(images.unsqueeze_dim(1), kernels)
    }

    /// Scores frame sequences: `[B, T, 3, H, W]` -> logits `[B, 2]`, with Burn's kernels.
    pub fn forward_sequence(&self, frames: Tensor<5>) -> Tensor<2> {
        self.forward_sequence_with(frames, ConvKernels::Burn)
    }

    /// [`forward_sequence`](Self::forward_sequence) with the given convolution kernels.
    pub fn forward_sequence_with(&self, frames: Tensor<5>, kernels: ConvKernels) -> Tensor<2> {
        let [_, steps, channels, height, width] = frames.dims();
        let flat: Tensor<4> = frames.reshape([-1, channels as i32, height as i32, width as i32]);
        let features = self.backbone.forward_features(flat, kernels);
        let feature_dim = features.dims()[1];
        let sequence: Tensor<3> = features.reshape([-1, steps as i32, feature_dim as i32]);
        self.classifier
            .forward(mean_over_time(self.lstm.forward(sequence)))
    }
}

impl Detector {
    /// An inference copy with every BatchNorm folded into its convolution (exact within
    /// float rounding; the detector itself is unchanged). Uses the running statistics, as
    /// `valid()` does. Holds a second copy of the backbone's weights while both live; use
    /// [`into_inference`](Self::into_inference) when the detector is not needed any more.
    pub fn fuse_for_inference(&self) -> InferenceDetector {
        self.valid().into_inference()
    }

    /// [`fuse_for_inference`](Self::fuse_for_inference), consuming the detector.
    pub fn into_inference(self) -> InferenceDetector {
        // `valid()` gives inference statistics and no autodiff; the original is not needed.
        let model = self.valid();
        drop(self);
        InferenceDetector {
            backbone: FusedResNeXt::new(model.backbone),
            lstm: model.lstm,
            classifier: model.classifier,
        }
    }
}
