//! deepfake-metrics against scikit-learn fixtures and hand-worked cases.
//!
//! One test binary for the whole crate (each linked binary costs CI time): every file
//! here is a module; run one with `cargo test --test integration MODULE::`.

mod edge_cases;
mod scores_csv;
mod sklearn_parity;
mod temperature;
