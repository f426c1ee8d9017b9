//! Fuzz target `decode_predict`: the bytes through [`deepfake_fuzz::decode_predict`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run decode_predict fuzz/corpus/decode_predict fuzz/seeds/decode_predict` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("decode_predict"));
    deepfake_fuzz::decode_predict(scratch, bytes);
});
