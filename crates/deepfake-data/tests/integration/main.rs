//! deepfake-data: layouts, decoding, PIL parity, augmentation, perturbations, the loader, synthetic data.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod augment;
mod decode;
mod fixtures;
mod layouts;
mod loader;
mod perturb_parity;
mod pil_parity;
mod synth;
mod synth_files;
mod video;
