//! MTCNN's three networks, layer for layer as facenet-pytorch's `PNet`, `RNet` and `ONet`
//! (same field names, so their state dicts load with one key rename: PReLU `weight` -> `alpha`).
//!
//! Inputs are RGB pixels normalised as `(v - 127.5) / 128`, NCHW.

use burn::module::Module;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{
    Linear, LinearConfig, PRelu, PReluConfig,
    conv::{Conv2d, Conv2dConfig},
};
use burn::tensor::{Device, Tensor, activation::softmax};

fn conv(c_in: usize, c_out: usize, k: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([c_in, c_out], [k, k]).init(device)
}

fn prelu(channels: usize, device: &Device) -> PRelu {
    PReluConfig::new()
        .with_num_parameters(channels)
        .init(device)
}

/// PyTorch's `MaxPool2d(k, stride, ceil_mode=True)`.
fn pool(k: usize, stride: usize) -> MaxPool2d {
    MaxPool2dConfig::new([k, k])
        .with_strides([stride, stride])
        .with_ceil_mode(true)
        .init()
}

/// Flattens `[N, C, H, W]` in facenet-pytorch's order (`permute(0, 3, 2, 1)`: width, height,
/// channel) to `[N, C*H*W]`, as its dense layers expect.
fn flatten_whc(x: Tensor<4>) -> Tensor<2> {
    let [n, c, h, w] = x.dims();
    x.permute([0, 3, 2, 1]).reshape([n, w * h * c])
}

/// The proposal network: fully convolutional, one 12x12 window per output cell (stride 2).
#[derive(Module, Debug)]
pub struct PNet {
    pub(crate) conv1: Conv2d,
    pub(crate) prelu1: PRelu,
    pub(crate) pool1: MaxPool2d,
    pub(crate) conv2: Conv2d,
    pub(crate) prelu2: PRelu,
    pub(crate) conv3: Conv2d,
    pub(crate) prelu3: PRelu,
    pub(crate) conv4_1: Conv2d,
    pub(crate) conv4_2: Conv2d,
}

impl PNet {
    /// A P-Net with untrained weights on `device`.
    pub fn new(device: &Device) -> Self {
        Self {
            conv1: conv(3, 10, 3, device),
            prelu1: prelu(10, device),
            pool1: pool(2, 2),
            conv2: conv(10, 16, 3, device),
            prelu2: prelu(16, device),
            conv3: conv(16, 32, 3, device),
            prelu3: prelu(32, device),
            conv4_1: conv(32, 2, 1, device),
            conv4_2: conv(32, 4, 1, device),
        }
    }

    /// The device of the weights.
    pub fn device(&self) -> Device {
        self.conv1.weight.device()
    }

    /// `[N, 3, H, W]` -> (box regression `[N, 4, H', W']`, face probability `[N, 2, H', W']`)
    /// with `H' = ceil((H - 2) / 2) - 4`.
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self.prelu2.forward(self.conv2.forward(x));
        let x = self.prelu3.forward(self.conv3.forward(x));
        let probability = softmax(self.conv4_1.forward(x.clone()), 1);
        (self.conv4_2.forward(x), probability)
    }
}

/// The refinement network: one 24x24 crop per candidate.
#[derive(Module, Debug)]
pub struct RNet {
    pub(crate) conv1: Conv2d,
    pub(crate) prelu1: PRelu,
    pub(crate) pool1: MaxPool2d,
    pub(crate) conv2: Conv2d,
    pub(crate) prelu2: PRelu,
    pub(crate) pool2: MaxPool2d,
    pub(crate) conv3: Conv2d,
    pub(crate) prelu3: PRelu,
    pub(crate) dense4: Linear,
    pub(crate) prelu4: PRelu,
    pub(crate) dense5_1: Linear,
    pub(crate) dense5_2: Linear,
}

impl RNet {
    /// An R-Net with untrained weights on `device`.
    pub fn new(device: &Device) -> Self {
        Self {
            conv1: conv(3, 28, 3, device),
            prelu1: prelu(28, device),
            pool1: pool(3, 2),
            conv2: conv(28, 48, 3, device),
            prelu2: prelu(48, device),
            pool2: pool(3, 2),
            conv3: conv(48, 64, 2, device),
            prelu3: prelu(64, device),
            dense4: LinearConfig::new(576, 128).init(device),
            prelu4: prelu(128, device),
            dense5_1: LinearConfig::new(128, 2).init(device),
            dense5_2: LinearConfig::new(128, 4).init(device),
        }
    }

    /// `[N, 3, 24, 24]` -> (box regression `[N, 4]`, face probability `[N, 2]`).
    pub fn forward(&self, x: Tensor<4>) -> (Tensor<2>, Tensor<2>) {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self.prelu3.forward(self.conv3.forward(x));
        let x = self.prelu4.forward(self.dense4.forward(flatten_whc(x)));
        let probability = softmax(self.dense5_1.forward(x.clone()), 1);
        (self.dense5_2.forward(x), probability)
    }
}

/// The output network: one 48x48 crop per candidate, with the five landmarks.
#[derive(Module, Debug)]
pub struct ONet {
    pub(crate) conv1: Conv2d,
    pub(crate) prelu1: PRelu,
    pub(crate) pool1: MaxPool2d,
    pub(crate) conv2: Conv2d,
    pub(crate) prelu2: PRelu,
    pub(crate) pool2: MaxPool2d,
    pub(crate) conv3: Conv2d,
    pub(crate) prelu3: PRelu,
    pub(crate) pool3: MaxPool2d,
    pub(crate) conv4: Conv2d,
    pub(crate) prelu4: PRelu,
    pub(crate) dense5: Linear,
    pub(crate) prelu5: PRelu,
    pub(crate) dense6_1: Linear,
    pub(crate) dense6_2: Linear,
    pub(crate) dense6_3: Linear,
}

/// What O-Net says of each crop.
#[derive(Debug, Clone)]
pub struct ONetOutput {
    /// Box regression `[N, 4]`.
    pub regression: Tensor<2>,
    /// Landmarks `[N, 10]`: five x then five y, as fractions of the crop's width and height.
    pub landmarks: Tensor<2>,
    /// Face probability `[N, 2]` (column 1: face).
    pub probability: Tensor<2>,
}

impl ONet {
    /// An O-Net with untrained weights on `device`.
    pub fn new(device: &Device) -> Self {
        Self {
            conv1: conv(3, 32, 3, device),
            prelu1: prelu(32, device),
            pool1: pool(3, 2),
            conv2: conv(32, 64, 3, device),
            prelu2: prelu(64, device),
            pool2: pool(3, 2),
            conv3: conv(64, 64, 3, device),
            prelu3: prelu(64, device),
            pool3: pool(2, 2),
            conv4: conv(64, 128, 2, device),
            prelu4: prelu(128, device),
            dense5: LinearConfig::new(1152, 256).init(device),
            prelu5: prelu(256, device),
            dense6_1: LinearConfig::new(256, 2).init(device),
            dense6_2: LinearConfig::new(256, 4).init(device),
            dense6_3: LinearConfig::new(256, 10).init(device),
        }
    }

    /// `[N, 3, 48, 48]` -> regression, landmarks and probability.
    pub fn forward(&self, x: Tensor<4>) -> ONetOutput {
        let x = self
            .pool1
            .forward(self.prelu1.forward(self.conv1.forward(x)));
        let x = self
            .pool2
            .forward(self.prelu2.forward(self.conv2.forward(x)));
        let x = self
            .pool3
            .forward(self.prelu3.forward(self.conv3.forward(x)));
        let x = self.prelu4.forward(self.conv4.forward(x));
        let x = self.prelu5.forward(self.dense5.forward(flatten_whc(x)));
        ONetOutput {
            regression: self.dense6_2.forward(x.clone()),
            landmarks: self.dense6_3.forward(x.clone()),
            probability: softmax(self.dense6_1.forward(x), 1),
        }
    }
}
