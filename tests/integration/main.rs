//! End-to-end tests of the `deepfake` library, its examples and the workspace's features.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod bench_training_loop;
mod common;
mod device_flags;
mod eval;
mod explain;
mod faces;
mod fuzz_replay;
mod gpu_features;
mod predict;
mod video;
mod weights_check;
