//! The inference backbone on host memory for CPU devices: faster than Burn 0.22 flex's own
//! operations for this network (docs/benchmarks.md), equal to them within float rounding.
//!
//! [`CpuResNeXt`] is built from the folded backbone ([`crate::fused::FusedResNeXt`]) and
//! takes and returns Burn tensors, copying the images to the host and the pooled features
//! back; use it only where the tensors live on the CPU. Upstream route: the fused
//! bias/ReLU/residual epilogues and a direct grouped 3x3 kernel in burn-flex.

mod backbone;
mod gemm;
mod grouped_conv;
mod layers;

pub use backbone::{CpuResNeXt, LayerTimes};
