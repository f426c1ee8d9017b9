//! The deepfake-faces integration tests: one binary (one link of Burn).

mod alignment;
mod common;
mod detection_parity;
mod nets_parity;
