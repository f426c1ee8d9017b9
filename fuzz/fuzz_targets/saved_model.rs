//! Fuzz target `saved_model`: the bytes through [`deepfake_fuzz::saved_model`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run saved_model fuzz/corpus/saved_model fuzz/seeds/saved_model` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("saved_model"));
    deepfake_fuzz::saved_model(scratch, bytes);
});
