//! Fuzz target `scores_csv`: the bytes through [`deepfake_fuzz::scores_csv`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run scores_csv fuzz/corpus/scores_csv fuzz/seeds/scores_csv` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("scores_csv"));
    deepfake_fuzz::scores_csv(scratch, bytes);
});
