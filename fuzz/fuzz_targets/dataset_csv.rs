//! Fuzz target `dataset_csv`: the bytes through [`deepfake_fuzz::dataset_csv`].
//!
//! Run all targets with `cargo xtask fuzz`; this one alone with
//! `cargo +nightly fuzz run dataset_csv fuzz/corpus/dataset_csv fuzz/seeds/dataset_csv` (repository root).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

static SCRATCH: OnceLock<PathBuf> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    let scratch = SCRATCH.get_or_init(|| deepfake_fuzz::scratch_dir("dataset_csv"));
    deepfake_fuzz::dataset_csv(scratch, bytes);
});
