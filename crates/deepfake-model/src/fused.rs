//! The detector prepared for inference: every BatchNorm folded into the convolution before it.
//!
//! In inference BatchNorm is an affine map per channel, `y = (x - mean) * s + beta` with
//! `s = gamma / sqrt(var + eps)`, so it folds into the preceding convolution exactly:
//! `W' = W * s` (per output channel) and `b' = beta - mean * s`. One pass over each activation
//! less per block, and no normalisation kernels at all. Results equal [`Detector::forward`]
//! within float rounding (tested to 1e-5).

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, MaxPool2d};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;

use deepfake_cpu::CpuResNeXt;

use crate::batch_norm::BatchNorm;
use crate::detector::{Classifier, Detector, score_frames};
use crate::grouped_conv::{GroupedConvMethod, grouped_conv2d};
use crate::host::{host_forward_feature_map, host_forward_features};
use crate::layer_timer::{LayerTimer, Untimed};
use crate::lstm::Lstm;
use crate::resnext::{Bottleneck, ResNeXt};

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
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_timed(x, &mut Untimed)
    }

    /// [`forward`](Self::forward), each layer run through `timer`.
    pub fn forward_timed(&self, x: Tensor<4>, timer: &mut impl LayerTimer) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(conv) => timer.time("conv 1x1 downsample", || conv.forward(x.clone())),
            None => x.clone(),
        };
        let out = timer.time("conv 1x1 reduce", || self.conv1.forward(x));
        let out = timer.time("relu", || relu(out));
        let method = GroupedConvMethod::select(&self.conv2, &out);
        let out = timer.time("conv 3x3 grouped", || {
            grouped_conv2d(&self.conv2, out, method)
        });
        let out = timer.time("relu", || relu(out));
        let out = timer.time("conv 1x1 expand", || self.conv3.forward(out));
        let out = timer.time("residual add", || out + identity);
        timer.time("relu", || relu(out))
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
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_features_timed(images, &mut Untimed)
    }

    /// [`forward_features`](Self::forward_features), each layer run through `timer`.
    pub fn forward_features_timed(
        &self,
        images: Tensor<4>,
        timer: &mut impl LayerTimer,
    ) -> Tensor<2> {
        let x = self.forward_map_timed(images, timer);
        let pooled = timer.time("avgpool", || self.avgpool.forward(x));
        pooled.flatten(1, 3)
    }

    /// The last stage's activations before the pool: `[B, 3, H, W]` -> `[B, feature_dim,
    /// H/32, W/32]`.
    pub fn forward_feature_map(&self, images: Tensor<4>) -> Tensor<4> {
        self.forward_map_timed(images, &mut Untimed)
    }

    fn forward_map_timed(&self, images: Tensor<4>, timer: &mut impl LayerTimer) -> Tensor<4> {
        let x = timer.time("conv 7x7 stem", || self.conv1.forward(images));
        let x = timer.time("relu", || relu(x));
        let mut x = timer.time("maxpool", || self.maxpool.forward(x));
        for block in &self.blocks {
            x = block.forward_timed(x, timer);
        }
        x
    }
}

/// Where the inference backbone runs.
#[derive(Debug)]
pub enum InferenceBackbone {
    /// Burn's own operations on the model's device: right on every device.
    Burn(Box<FusedResNeXt>),
    /// The host CPU engine ([`deepfake_cpu`]): faster on a CPU device (flex); on a GPU it
    /// would copy every batch to the host.
    Cpu(Box<CpuResNeXt>),
}

impl InferenceBackbone {
    /// Pooled features: `[B, 3, H, W]` -> `[B, feature_dim]`.
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_features_timed(images, &mut Untimed)
    }

    /// [`forward_features`](Self::forward_features), each layer timed by `timer` (the host
    /// engine times its own layers and reports them through [`LayerTimer::add`]).
    pub fn forward_features_timed(
        &self,
        images: Tensor<4>,
        timer: &mut impl LayerTimer,
    ) -> Tensor<2> {
        match self {
            Self::Burn(backbone) => backbone.forward_features_timed(images, timer),
            Self::Cpu(backbone) => host_forward_features(backbone, images, timer),
        }
    }

    /// The last stage's activations before the pool: `[B, 3, H, W]` -> `[B, feature_dim,
    /// H/32, W/32]` (what Grad-CAM weighs; their spatial mean is
    /// [`forward_features`](Self::forward_features)).
    pub fn forward_feature_map(&self, images: Tensor<4>) -> Tensor<4> {
        match self {
            Self::Burn(backbone) => backbone.forward_feature_map(images),
            Self::Cpu(backbone) => host_forward_feature_map(backbone, images),
        }
    }
}

/// The detector for inference only: BatchNorm folded, no dropout, the backbone on Burn's
/// operations or on the host CPU kernels. Build it with [`Detector::fuse_for_inference`],
/// [`Detector::into_inference`] or [`Detector::into_cpu_inference`].
#[derive(Debug)]
pub struct InferenceDetector {
    /// Backbone with folded BatchNorm.
    pub backbone: InferenceBackbone,
    /// The LSTM, unchanged.
    pub lstm: Lstm,
    /// The classifier, unchanged (dropout is inactive in inference).
    pub classifier: Classifier,
}

impl InferenceDetector {
    /// Scores single images: `[B, 3, H, W]` -> logits `[B, 2]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_sequence(images.unsqueeze_dim(1))
    }

    /// Scores frame sequences: `[B, T, 3, H, W]` -> logits `[B, 2]`.
    pub fn forward_sequence(&self, frames: Tensor<5>) -> Tensor<2> {
        self.forward_sequence_timed(frames, &mut Untimed)
    }

    /// [`forward_sequence`](Self::forward_sequence), each layer run through `timer`.
    pub fn forward_sequence_timed(
        &self,
        frames: Tensor<5>,
        timer: &mut impl LayerTimer,
    ) -> Tensor<2> {
        score_frames(
            frames,
            |flat, timer| self.backbone.forward_features_timed(flat, timer),
            &self.lstm,
            &self.classifier,
            timer,
        )
    }
}

impl Detector {
    /// An inference copy with every BatchNorm folded into its convolution (exact within
    /// float rounding; the detector itself is unchanged), running on Burn's operations.
    /// Uses the running statistics, as `valid()` does. Holds a second copy of the
    /// backbone's weights while both live; use [`into_inference`](Self::into_inference)
    /// when the detector is not needed any more.
    pub fn fuse_for_inference(&self) -> InferenceDetector {
        self.valid().into_inference()
    }

    /// [`fuse_for_inference`](Self::fuse_for_inference), consuming the detector.
    pub fn into_inference(self) -> InferenceDetector {
        let (backbone, lstm, classifier) = self.into_folded_parts();
        InferenceDetector {
            backbone: InferenceBackbone::Burn(Box::new(backbone)),
            lstm,
            classifier,
        }
    }

    /// The inference form with the backbone on the host CPU engine ([`CpuResNeXt`]), for a
    /// detector on a CPU device; the LSTM and classifier stay on the detector's device. Each
    /// layer's tensors are released as soon as they are copied, so the weights are never held
    /// twice.
    ///
    /// # Panics
    /// Never for a detector built from a [`crate::DetectorConfig`] (it only builds layers the
    /// engine implements: a square dense stem, 1x1 and padded 3x3 convolutions, a square max
    /// pool, global average pooling).
    pub fn into_cpu_inference(self) -> InferenceDetector {
        let (backbone, lstm, classifier) = self.into_folded_parts();
        let engine = CpuResNeXt::new(backbone.into_host_weights())
            .expect("ResNeXtConfig builds only layers the host engine implements");
        InferenceDetector {
            backbone: InferenceBackbone::Cpu(Box::new(engine)),
            lstm,
            classifier,
        }
    }

    fn into_folded_parts(self) -> (FusedResNeXt, Lstm, Classifier) {
        // `valid()` gives inference statistics and no autodiff; the original is not needed.
        let model = self.valid();
        drop(self);
        (
            FusedResNeXt::new(model.backbone),
            model.lstm,
            model.classifier,
        )
    }
}
