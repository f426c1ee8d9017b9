//! The committed fixture files under `tests/fixtures` (PIL references and decoder cases).

use std::path::{Path, PathBuf};

use deepfake_data::decode::{DecodeLimits, decode_file};
use image::RgbImage;

/// The path of fixture `name`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Fixture `name` decoded to RGB8.
pub fn load(name: &str) -> RgbImage {
    decode_file(&fixture(name), DecodeLimits::default()).unwrap()
}
