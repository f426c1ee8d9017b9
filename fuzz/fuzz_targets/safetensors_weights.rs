//! Fuzz target `safetensors_weights`: the bytes through [`deepfake_fuzz::safetensors_weights`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run safetensors_weights fuzz/corpus/safetensors_weights fuzz/seeds/safetensors_weights` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("safetensors_weights"));
    deepfake_fuzz::safetensors_weights(scratch, bytes);
});
