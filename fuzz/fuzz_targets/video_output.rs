//! Fuzz target `video_output`: the bytes through [`deepfake_fuzz::video_output`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run video_output fuzz/corpus/video_output fuzz/seeds/video_output` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("video_output"));
    deepfake_fuzz::video_output(scratch, bytes);
});
