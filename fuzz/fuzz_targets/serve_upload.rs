//! Fuzz target `serve_upload`: the bytes through [`deepfake_fuzz::serve_upload`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run serve_upload fuzz/corpus/serve_upload fuzz/seeds/serve_upload` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("serve_upload"));
    deepfake_fuzz::serve_upload(scratch, bytes);
});
