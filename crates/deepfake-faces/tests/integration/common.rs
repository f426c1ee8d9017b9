//! Fixtures shared by the tests: facenet-pytorch's outputs and the test photos
//! (written by `tests/fixtures/gen_mtcnn_fixtures.py`).

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::tensor::Device;
use deepfake_faces::Mtcnn;
use image::RgbImage;
use serde_json::Value;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// `mtcnn_expected.json`.
pub fn expected() -> &'static Value {
    static EXPECTED: OnceLock<Value> = OnceLock::new();
    EXPECTED.get_or_init(|| {
        let text = std::fs::read_to_string(fixture("mtcnn_expected.json")).expect("fixture");
        serde_json::from_str(&text).expect("fixture JSON")
    })
}

/// MTCNN with the bundled weights in every form, shared by the tests: Burn's operations on
/// flex, then the host CPU engine (on every CPU with AVX2 + FMA; the CI machines have them).
pub fn mtcnn_forms() -> &'static [(&'static str, Mtcnn)] {
    static FORMS: OnceLock<Vec<(&'static str, Mtcnn)>> = OnceLock::new();
    FORMS.get_or_init(|| {
        let device = Device::flex();
        let mut forms = vec![(
            "Burn flex",
            Mtcnn::new(&device).expect("bundled weights load"),
        )];
        match Mtcnn::new_host(&device) {
            Ok(host) => forms.push(("host CPU engine", host)),
            Err(e) if !has_avx2_fma() => eprintln!("no host-engine form on this CPU: {e}"),
            Err(e) => panic!("the host engine runs MTCNN on a CPU with AVX2 + FMA: {e}"),
        }
        forms
    })
}

/// The Burn form of [`mtcnn_forms`].
pub fn mtcnn() -> &'static Mtcnn {
    &mtcnn_forms()[0].1
}

fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// A test photo as RGB (the grey one expanded to three equal channels, as PIL's
/// `convert("RGB")` does).
pub fn photo(name: &str) -> RgbImage {
    image::open(fixture(name)).expect("photo").to_rgb8()
}

pub fn floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

/// The networks' test input `[n, c, h, w]` flattened: `x[i] = ((i * 7919) % 2001) / 1000 - 1`,
/// as the generator computes it.
pub fn pattern(shape: [usize; 4]) -> Vec<f32> {
    (0..shape.iter().product::<usize>() as u64)
        .map(|i| (((i * 7919) % 2001) as f64 / 1000.0 - 1.0) as f32)
        .collect()
}
