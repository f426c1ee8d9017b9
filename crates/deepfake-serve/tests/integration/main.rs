//! The HTTP server driven over a real socket.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod bad_requests;
mod predict_api;
mod shutdown;
mod support;
