//! The deepfake detector model on Burn: a ResNeXt-50 (32x4d) backbone, a 2-layer
//! bidirectional LSTM and an MLP classifier, numerically identical to the PyTorch reference.
//!
//! Every function takes a [`burn::tensor::Device`]; the enabled Burn backend features decide
//! which devices exist (`Device::flex()` on CPU, `Device::cuda(0)`, `Device::wgpu(..)`).
//!
//! ```
//! use burn::tensor::{Device, Tensor, Distribution};
//! use deepfake_model::{DetectorConfig, Detector};
//!
//! let device = Device::flex();
//! let config = DetectorConfig::tiny();
//! let detector: Detector = config.init(&device).unwrap();
//! let images = Tensor::<4>::random([2, 3, 64, 64], Distribution::Default, &device);
//! let logits = detector.forward(images); // [2, 2]: Real, Fake
//! assert_eq!(logits.dims(), [2, 2]);
//! ```

pub mod batch_norm;
pub mod detector;
mod device_kind;
pub mod error;
pub mod flex_batch_norm;
pub mod flex_grouped_conv;
mod flex_host;
pub mod fused;
pub mod grad_cam;
pub mod grouped_conv;
pub mod host;
pub mod layer_timer;
pub mod lstm;
mod model_info;
pub mod params;
pub mod pointwise_conv;
pub mod preprocess;
pub mod pytorch;
pub mod pytorch_export;
pub mod resnext;
mod safetensors_import;
pub mod saved;

pub use batch_norm::BatchNorm;
pub use detector::{Classifier, Detector, DetectorConfig};
pub use error::{Error, Result};
pub use fused::{InferenceBackbone, InferenceDetector};
pub use grad_cam::{GradCam, upsample_bilinear};
pub use grouped_conv::{
    GroupedConvMeasurement, GroupedConvMethod, grouped_conv_measurements,
    grouped_conv_methods_apply, grouped_conv2d, set_grouped_conv_override,
};
pub use layer_timer::{LayerTimer, Untimed};
pub use lstm::{Lstm, LstmConfig};
pub use params::trainable_params;
pub use preprocess::Label;
pub use resnext::{ResNeXt, ResNeXtConfig};
