//! Fuzz target `pytorch_weights`: the bytes through [`deepfake_fuzz::pytorch_weights`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run pytorch_weights fuzz/corpus/pytorch_weights fuzz/seeds/pytorch_weights` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("pytorch_weights"));
    deepfake_fuzz::pytorch_weights(scratch, bytes);
});
