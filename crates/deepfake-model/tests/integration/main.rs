//! deepfake-model against PyTorch fixtures, its inference forms, Grad-CAM and errors.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod batch_norm;
mod common;
mod errors;
mod full_parity;
mod grad_cam;
mod grouped_conv;
mod inference_forms;
mod layer_timer;
mod parity;
mod pointwise_conv;
mod seed_forward;
