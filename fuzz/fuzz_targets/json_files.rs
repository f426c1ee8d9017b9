//! Fuzz target `json_files`: the bytes through [`deepfake_fuzz::json_files`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run json_files fuzz/corpus/json_files fuzz/seeds/json_files` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("json_files"));
    deepfake_fuzz::json_files(scratch, bytes);
});
