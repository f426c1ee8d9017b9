//! The deepfake detector: ResNeXt features per frame -> bidirectional LSTM over time ->
//! mean over time -> MLP classifier -> logits for [Real, Fake].

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, activation::relu};

use crate::error::{Error, Result};
use crate::layer_timer::{LayerTimer, Untimed};
use crate::lstm::{Lstm, LstmConfig, PYTORCH_LSTM_REMAPS};
use crate::preprocess::{SEED_IMAGE_SIZE, TINY_IMAGE_SIZE};
use crate::pytorch::{KeyRemap, load_pytorch_weights};
use crate::resnext::torchvision::TORCHVISION_REMAPS;
use crate::resnext::{ResNeXt, ResNeXtConfig};

/// Architecture of a [`Detector`]. Saved as `config.json` next to every set of weights.
#[derive(Config, Debug, PartialEq)]
pub struct DetectorConfig {
    /// The per-frame feature extractor (its `num_classes` must be `None`).
    pub backbone: ResNeXtConfig,
    /// LSTM hidden units per direction.
    #[config(default = 512)]
    pub lstm_hidden: usize,
    /// Stacked bidirectional LSTM layers.
    #[config(default = 2)]
    pub lstm_layers: usize,
    /// Width of the classifier's hidden layer.
    #[config(default = 256)]
    pub head_hidden: usize,
    /// Dropout probability in the classifier (training only).
    #[config(default = 0.3)]
    pub dropout: f64,
    /// Output classes (2: Real, Fake).
    #[config(default = 2)]
    pub num_classes: usize,
    /// Side length, in pixels, of the square images the model is trained and run on.
    #[config(default = 224)]
    pub image_size: usize,
}

impl DetectorConfig {
    /// The seed's detector: ResNeXt-50 32x4d, 2-layer BiLSTM with 512 hidden units,
    /// `Linear(1024, 256) -> ReLU -> Dropout(0.3) -> Linear(256, 2)`, 224x224 input
    /// (40,036,418 trainable parameters).
    pub fn seed() -> Self {
        Self::new(ResNeXtConfig::resnext50_32x4d()).with_image_size(SEED_IMAGE_SIZE)
    }

    /// The same architecture with small widths and depths, 64x64 input: for tests and CPU demos.
    pub fn tiny() -> Self {
        Self::new(ResNeXtConfig::tiny())
            .with_lstm_hidden(16)
            .with_head_hidden(16)
            .with_image_size(TINY_IMAGE_SIZE)
    }

    /// The LSTM part of the architecture.
    pub fn lstm(&self) -> LstmConfig {
        LstmConfig::new(self.backbone.feature_dim(), self.lstm_hidden)
            .with_num_layers(self.lstm_layers)
            .with_bidirectional(true)
    }

    /// Checks that the numbers describe a buildable network.
    pub fn validate(&self) -> Result<()> {
        self.backbone.validate()?;
        if self.backbone.num_classes.is_some() {
            return Err(Error::Architecture(
                "the detector's backbone must have no fc (num_classes: null)".into(),
            ));
        }
        // Two classes, Real and Fake: p_fake, the metrics, the ONNX head and the report all
        // read logits as [real, fake].
        if self.head_hidden == 0 || self.num_classes != 2 || self.image_size < 32 {
            return Err(Error::Architecture(format!(
                "need head_hidden > 0, num_classes = 2 (Real, Fake), image_size >= 32; got {}, {}, {}",
                self.head_hidden, self.num_classes, self.image_size
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Architecture(format!(
                "dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        Ok(())
    }

    /// Builds the detector with random weights (PyTorch's default initialisation scheme).
    pub fn init(&self, device: &Device) -> Result<Detector> {
        self.validate()?;
        let lstm = self.lstm();
        Ok(Detector {
            backbone: self.backbone.init(device)?,
            lstm: lstm.init(device)?,
            classifier: Classifier {
                fc1: LinearConfig::new(lstm.output_size(), self.head_hidden).init(device),
                dropout: DropoutConfig::new(self.dropout).init(),
                fc2: LinearConfig::new(self.head_hidden, self.num_classes).init(device),
            },
        })
    }
}

/// `Linear -> ReLU -> Dropout -> Linear` (PyTorch `nn.Sequential` indices 0 and 3).
#[derive(Module, Debug)]
pub struct Classifier {
    /// `[B, 2H] -> [B, head_hidden]`.
    pub fc1: Linear,
    /// Dropout after the ReLU (identity at inference).
    pub dropout: Dropout,
    /// `[B, head_hidden] -> [B, num_classes]`.
    pub fc2: Linear,
}

impl Classifier {
    /// `[B, 2H]` -> logits `[B, num_classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc2
            .forward(self.dropout.forward(relu(self.fc1.forward(x))))
    }
}

/// ResNeXt backbone -> 2-layer BiLSTM -> classifier. Class 0 = Real, 1 = Fake.
#[derive(Module, Debug)]
pub struct Detector {
    /// Per-frame feature extractor without `fc`.
    pub backbone: ResNeXt,
    /// Bidirectional LSTM over the frame features.
    pub lstm: Lstm,
    /// MLP on the time-averaged LSTM output.
    pub classifier: Classifier,
}

/// Key rewrites from the PyTorch reference `DeepfakeDetector`'s state dict to our paths.
/// The backbone's keys are torchvision's, so its remaps come first.
const REFERENCE_REMAPS: [KeyRemap; 8] = [
    TORCHVISION_REMAPS[0],
    TORCHVISION_REMAPS[1],
    (r"^classifier\.0\.", "classifier.fc1."),
    (r"^classifier\.3\.", "classifier.fc2."),
    PYTORCH_LSTM_REMAPS[0],
    PYTORCH_LSTM_REMAPS[1],
    PYTORCH_LSTM_REMAPS[2],
    PYTORCH_LSTM_REMAPS[3],
];

impl Detector {
    /// Scores single images: `[B, 3, H, W]` -> logits `[B, 2]` (an image is a sequence of one frame).
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

    /// Builds a detector from `config` and loads the state dict of the PyTorch reference
    /// `DeepfakeDetector` (`backbone.*`, `lstm.*`, `classifier.0/3.*`) from `.pth` or `.safetensors`.
    pub fn from_pytorch(
        path: impl AsRef<Path>,
        config: &DetectorConfig,
        device: &Device,
    ) -> Result<Detector> {
        let mut detector = config.init(device)?;
        load_pytorch_weights(&mut detector, path.as_ref(), &REFERENCE_REMAPS)?;
        Ok(detector)
    }

    /// Replaces the backbone's weights with torchvision ImageNet weights (`.pth` or
    /// `.safetensors`, e.g. `resnext50_32x4d-7cdf4587.pth`); its `fc` is ignored.
    pub fn load_pretrained_backbone(
        mut self,
        path: impl AsRef<Path>,
        config: &DetectorConfig,
        device: &Device,
    ) -> Result<Detector> {
        let with_fc = config.backbone.clone().with_num_classes(Some(1000));
        let imagenet = ResNeXt::from_torchvision_with_config(path, &with_fc, device)?;
        self.backbone = ResNeXt {
            fc: None,
            ..imagenet
        };
        Ok(self)
    }
}

/// The detector's path from frames to logits, shared by the trained and the inference forms:
/// `[B, T, 3, H, W]` -> `backbone` on all `B * T` frames (`[B * T, 3, H, W]` -> `[B * T, F]`)
/// -> LSTM over each sequence -> mean over time -> classifier -> `[B, 2]`.
pub(crate) fn score_frames<T: LayerTimer>(
    frames: Tensor<5>,
    backbone: impl FnOnce(Tensor<4>, &mut T) -> Tensor<2>,
    lstm: &Lstm,
    classifier: &Classifier,
    timer: &mut T,
) -> Tensor<2> {
    let [_, steps, channels, height, width] = frames.dims();
    let flat: Tensor<4> = frames.reshape([-1, channels as i32, height as i32, width as i32]);
    let features = backbone(flat, timer);
    let feature_dim = features.dims()[1];
    let sequence: Tensor<3> = features.reshape([-1, steps as i32, feature_dim as i32]);
    let sequence = timer.time("lstm", || lstm.forward(sequence));
    let pooled = mean_over_time(sequence);
    timer.time("classifier", || classifier.forward(pooled))
}

/// `[B, T, C]` -> `[B, C]`, the mean over T as a sum and a division (ONNX `ReduceSum`; the
/// exporter lowers no mean).
pub(crate) fn mean_over_time(x: Tensor<3>) -> Tensor<2> {
    let [_, steps, channels] = x.dims();
    x.sum_dim(1)
        .reshape([-1, channels as i32])
        .div_scalar(steps as f64)
}
