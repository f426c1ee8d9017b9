//! `deepfake`: a pure-Rust deepfake image detector on Burn.
//!
//! This crate re-exports the workspace crates and owns the backend features
//! (`flex`, the default CPU backend; `cuda`; `wgpu`; `vulkan`) and the examples.

pub mod device;
pub mod eval;
pub mod predict;

pub use deepfake_cpu as cpu;
pub use deepfake_data as data;
pub use deepfake_faces as faces;
pub use deepfake_formats as formats;
pub use deepfake_metrics as metrics;
pub use deepfake_model as model;
pub use deepfake_onnx as onnx;
pub use deepfake_report as report;
pub use deepfake_train as train;
pub use device::{
    DeviceError, face_detector_for, inference_form_for, parse_device, parse_device_or_exit,
};
pub use predict::{Detector, Prediction};
