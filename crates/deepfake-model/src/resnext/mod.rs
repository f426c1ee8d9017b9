//! ResNeXt backbone in torchvision's layout and field names, so torchvision state dicts load by key.

mod block;
pub(crate) mod torchvision;

pub use block::{Bottleneck, BottleneckSpec, Downsample, EXPANSION};

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::batch_norm::BatchNorm;
use crate::error::{Error, Result};
use crate::grouped_conv::{GroupedConvMethod, grouped_conv2d};
use crate::layer_timer::{LayerTimer, Untimed};

/// Architecture of a [`ResNeXt`]: torchvision's `ResNet(Bottleneck, layers, groups, width_per_group)`
/// with the stem width and the base number of planes opened up so tests can build a tiny one.
#[derive(Config, Debug, PartialEq)]
pub struct ResNeXtConfig {
    /// Bottleneck blocks in each of the four stages (`[3, 4, 6, 3]` for ResNeXt-50).
    pub layers: [usize; 4],
    /// Groups of every 3x3 convolution (cardinality; 32 for 32x4d).
    #[config(default = 32)]
    pub groups: usize,
    /// Channels per group at 64 planes (4 for 32x4d).
    #[config(default = 4)]
    pub width_per_group: usize,
    /// Output channels of the 7x7 stem convolution (64 in torchvision).
    #[config(default = 64)]
    pub stem_channels: usize,
    /// `planes` of the first stage; stage `i` uses `base_planes * 2^i` (64 in torchvision).
    #[config(default = 64)]
    pub base_planes: usize,
    /// Classes of the final `fc` layer; `None` leaves it out (feature extractor).
    #[config(default = "None")]
    pub num_classes: Option<usize>,
}

impl ResNeXtConfig {
    /// torchvision's `resnext50_32x4d` without `fc` (22,979,904 parameters).
    pub fn resnext50_32x4d() -> Self {
        Self::new([3, 4, 6, 3])
    }

    /// A small ResNeXt of the same shape for tests and CPU demos (256 features).
    pub fn tiny() -> Self {
        Self::new([1, 1, 1, 1])
            .with_groups(4)
            .with_width_per_group(16)
            .with_stem_channels(8)
            .with_base_planes(8)
    }

    /// Width of the pooled feature vector: `base_planes * 8 * 4` (2048 for ResNeXt-50).
    pub fn feature_dim(&self) -> usize {
        self.base_planes * 8 * EXPANSION
    }

    /// Checks that the numbers describe a buildable network.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("groups", self.groups),
            ("width_per_group", self.width_per_group),
            ("stem_channels", self.stem_channels),
            ("base_planes", self.base_planes),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(Error::Architecture(format!("{name} must be > 0")));
            }
        }
        if self.layers.contains(&0) {
            return Err(Error::Architecture(format!(
                "every stage needs at least one block, got layers {:?}",
                self.layers
            )));
        }
        if self.base_planes * self.width_per_group / 64 == 0 {
            return Err(Error::Architecture(format!(
                "base_planes * width_per_group / 64 must be >= 1 (got {} * {} / 64)",
                self.base_planes, self.width_per_group
            )));
        }
        if self.num_classes == Some(0) {
            return Err(Error::Architecture("num_classes must be > 0".into()));
        }
        Ok(())
    }

    /// Builds the network with torchvision-style random weights.
    pub fn init(&self, device: &Device) -> Result<ResNeXt> {
        self.validate()?;
        let mut in_channels = self.stem_channels;
        let mut stage = |index: usize| {
            let planes = self.base_planes << index;
            (0..self.layers[index])
                .map(|block| {
                    let spec = BottleneckSpec {
                        in_channels,
                        planes,
                        stride: if block == 0 && index > 0 { 2 } else { 1 },
                        groups: self.groups,
                        width_per_group: self.width_per_group,
                    };
                    in_channels = spec.out_channels();
                    spec.init(device)
                })
                .collect::<Vec<_>>()
        };
        let (layer1, layer2, layer3, layer4) = (stage(0), stage(1), stage(2), stage(3));
        Ok(ResNeXt {
            conv1: Conv2dConfig::new([3, self.stem_channels], [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .init(device),
            bn1: BatchNorm::new(self.stem_channels, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: self
                .num_classes
                .map(|classes| LinearConfig::new(self.feature_dim(), classes).init(device)),
        })
    }
}

/// ResNeXt: 7x7 stem, max pool, four stages of [`Bottleneck`] blocks, global average pool,
/// optional `fc`. Field names equal torchvision's state-dict keys.
#[derive(Module, Debug)]
pub struct ResNeXt {
    /// 7x7 stride-2 stem convolution, `3 -> stem_channels`.
    pub conv1: Conv2d,
    /// BatchNorm after the stem.
    pub bn1: BatchNorm,
    /// 3x3 stride-2 max pool.
    pub maxpool: MaxPool2d,
    /// Stage 1 (stride 1).
    pub layer1: Vec<Bottleneck>,
    /// Stage 2 (stride 2).
    pub layer2: Vec<Bottleneck>,
    /// Stage 3 (stride 2).
    pub layer3: Vec<Bottleneck>,
    /// Stage 4 (stride 2).
    pub layer4: Vec<Bottleneck>,
    /// Global average pool to 1x1.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classification layer (ImageNet: 1000 classes), absent in a feature extractor.
    pub fc: Option<Linear>,
}

impl ResNeXt {
    /// Pooled features: `[B, 3, H, W]` -> `[B, feature_dim]` (2048 for ResNeXt-50).
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<2> {
        self.forward_features_timed(images, &mut Untimed)
    }

    /// [`forward_features`](Self::forward_features), each layer run through `timer`.
    pub fn forward_features_timed(
        &self,
        images: Tensor<4>,
        timer: &mut impl LayerTimer,
    ) -> Tensor<2> {
        // One group: on flex the host kernels run it (forward and weight gradient), elsewhere
        // Burn's conv2d. Not measured per device nor pinned by the grouped-conv override: on
        // cubecl it stays Burn's conv2d, which autotune covers for one group.
        let x = timer.time("conv 7x7 stem", || {
            grouped_conv2d(&self.conv1, images, GroupedConvMethod::Host)
        });
        let x = timer.time("batchnorm + relu", || self.bn1.forward_relu(x));
        let mut x = timer.time("maxpool", || self.maxpool.forward(x));
        for block in [&self.layer1, &self.layer2, &self.layer3, &self.layer4]
            .into_iter()
            .flatten()
        {
            x = block.forward_timed(x, timer);
        }
        let pooled = timer.time("avgpool", || self.avgpool.forward(x));
        pooled.flatten(1, 3)
    }

    /// Class logits: `[B, 3, H, W]` -> `[B, num_classes]`; without `fc` this is
    /// [`forward_features`](Self::forward_features).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let features = self.forward_features(images);
        match &self.fc {
            Some(fc) => fc.forward(features),
            None => features,
        }
    }
}
