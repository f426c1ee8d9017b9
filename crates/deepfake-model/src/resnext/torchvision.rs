//! Importing torchvision ResNeXt weights.

use std::path::Path;

use burn::tensor::Device;

use super::{ResNeXt, ResNeXtConfig};
use crate::error::Result;
use crate::pytorch::{KeyRemap, load_pytorch_weights};

/// torchvision names the skip projection `downsample.0` (conv) and `downsample.1` (BatchNorm).
pub(crate) const TORCHVISION_REMAPS: [KeyRemap; 2] = [
    (r"\.downsample\.0\.", ".downsample.conv."),
    (r"\.downsample\.1\.", ".downsample.bn."),
];

impl ResNeXt {
    /// Builds torchvision's `resnext50_32x4d` with its 1000-class `fc` and loads a torchvision
    /// state dict from `path` (`.pth`/`.pt` or `.safetensors`), e.g. the ImageNet weights
    /// `resnext50_32x4d-7cdf4587.pth`.
    pub fn from_torchvision(path: impl AsRef<Path>, device: &Device) -> Result<ResNeXt> {
        let config = ResNeXtConfig::resnext50_32x4d().with_num_classes(Some(1000));
        Self::from_torchvision_with_config(path, &config, device)
    }

    /// Like [`from_torchvision`](Self::from_torchvision) for any torchvision-layout ResNeXt.
    pub fn from_torchvision_with_config(
        path: impl AsRef<Path>,
        config: &ResNeXtConfig,
        device: &Device,
    ) -> Result<ResNeXt> {
        let mut model = config.init(device)?;
        load_pytorch_weights(&mut model, path.as_ref(), &TORCHVISION_REMAPS)?;
        Ok(model)
    }
}
