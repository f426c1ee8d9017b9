//! ONNX export: the graph, and the exported model in tract against Burn.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod export;
mod structure;
mod tract;
