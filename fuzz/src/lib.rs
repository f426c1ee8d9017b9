//! The fuzz targets' bodies: one function per parser a user or a file can reach, taking the
//! fuzzer's bytes. A body may return early on any error (bad input must fail cleanly); it
//! panics only when the product misbehaves (a panic inside a parser, a prediction that is not
//! a probability).
//!
//! Each `fuzz_targets/<name>.rs` is a two-line wrapper around the function of that name, and
//! `tests/integration/fuzz_replay.rs` (in the main workspace, on stable) replays every file
//! under `fuzz/seeds/<name>/` and `fuzz/regressions/<name>/` through the same functions on
//! every `cargo test`. Functions that read files get a `scratch` folder of their own to write
//! the bytes into (the products read paths, as users give them).
//!
//! `cargo xtask fuzz` builds and runs every target in [`TARGETS`].

// Compiled everywhere (its unit tests run in `cargo test`), installed only in fuzz builds.
mod allocation_limit;

/// In `cargo fuzz` builds, no single allocation over 2 GB (see `allocation_limit.rs`).
#[cfg(fuzzing)]
#[global_allocator]
static ALLOCATOR: allocation_limit::LimitedAllocator = allocation_limit::LimitedAllocator;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use burn::tensor::Device;
use deepfake::Detector;
use deepfake::data::{Dataset, DecodeLimits, decode_bytes, synth::synthetic_config};
use deepfake::formats::ModelInfo;
use deepfake::model::{DetectorConfig, ResNeXtConfig, saved};
use deepfake::predict::{SavedModel, WeightsCheck};
use image::{DynamicImage, RgbImage};

/// A fuzz target: its name (the folder of its seeds, the binary `cargo fuzz` builds) and body.
pub struct Target {
    /// `fuzz_targets/<name>.rs`, `fuzz/seeds/<name>/`.
    pub name: &'static str,
    /// The body: called with the scratch folder of this target and the input bytes.
    pub run: fn(&Path, &[u8]),
}

/// Every target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "decode_predict",
        run: decode_predict,
    },
    Target {
        name: "saved_model",
        run: saved_model,
    },
    Target {
        name: "json_files",
        run: json_files,
    },
    Target {
        name: "pytorch_weights",
        run: pytorch_weights,
    },
    Target {
        name: "safetensors_weights",
        run: safetensors_weights,
    },
    Target {
        name: "dataset_csv",
        run: dataset_csv,
    },
    Target {
        name: "scores_csv",
        run: scores_csv,
    },
    Target {
        name: "serve_upload",
        run: serve_upload,
    },
    Target {
        name: "video_output",
        run: video_output,
    },
];

/// Pixel limit of every decode here: the fuzzer should explore formats, not allocate
/// gigabytes (1 Mpx).
const MAX_PIXELS: u64 = 1 << 20;

/// The smallest detector of the real architecture (every layer kind, a few parameters each,
/// 32x32 inputs): small weight files, so the fuzzer mutates structure rather than floats.
pub fn micro_config() -> DetectorConfig {
    let backbone = ResNeXtConfig::new([1, 1, 1, 1])
        .with_groups(1)
        .with_width_per_group(64)
        .with_stem_channels(2)
        .with_base_planes(1);
    DetectorConfig::new(backbone)
        .with_lstm_hidden(2)
        .with_head_hidden(2)
        .with_image_size(32)
}

/// A predictor with the micro architecture and random weights (seed 0), built once.
fn micro_detector() -> &'static Detector {
    static DETECTOR: OnceLock<Detector> = OnceLock::new();
    DETECTOR.get_or_init(|| {
        let device = Device::flex();
        device.seed(0);
        let config = micro_config();
        let model = config.init(&device).expect("the micro config is valid");
        Detector::new(model, config, &device)
    })
}

/// Asserts that every prediction is a probability.
fn assert_probabilities(detector: &Detector, image: RgbImage) {
    let predictions = detector
        .predict(&[DynamicImage::ImageRgb8(image)])
        .expect("a decoded image has pixels");
    for p in predictions {
        assert!(
            (0.0..=1.0).contains(&p.p_fake),
            "p_fake {} is not a probability",
            p.p_fake
        );
    }
}

/// Any bytes through decode -> evaluation preprocessing -> prediction.
pub fn decode_predict(_scratch: &Path, bytes: &[u8]) {
    let limits = DecodeLimits {
        max_pixels: MAX_PIXELS,
    };
    let Ok(image) = decode_bytes(bytes, Path::new("fuzz-input"), limits) else {
        return;
    };
    assert_probabilities(micro_detector(), image);
}

/// The bytes as the `model.bpk` of a saved micro model (its `config.json` valid), loaded the
/// way `predict --no-verify` loads it (the SHA-256 check would reject nearly every input
/// before the parser sees it), then one prediction.
pub fn saved_model(scratch: &Path, bytes: &[u8]) {
    let config_path = scratch.join(saved::CONFIG_FILE);
    if !config_path.is_file() {
        write(&config_path, micro_config().to_string().as_bytes());
    }
    write(&scratch.join(saved::WEIGHTS_FILE), bytes);
    let Ok(saved) = SavedModel::open(scratch, &Device::flex(), WeightsCheck::Skip) else {
        return;
    };
    // Weights may hold NaN or infinities: the prediction must still not panic.
    let detector = Detector::from_saved(saved, &Device::flex());
    let _ = detector.predict(&[DynamicImage::ImageRgb8(RgbImage::new(40, 24))]);
}

/// The bytes as each JSON file the product reads: a model's `config.json` and
/// `model_info.json`, a synthetic data set's `synthetic.json`, a run's `history.json`.
pub fn json_files(scratch: &Path, bytes: &[u8]) {
    write(&scratch.join(saved::CONFIG_FILE), bytes);
    let _ = saved::read_config(scratch);
    let info = scratch.join("model_info.json");
    write(&info, bytes);
    let _ = ModelInfo::read(&info);
    write(&scratch.join("synthetic.json"), bytes);
    let _ = synthetic_config(scratch);
    let history = scratch.join("history.json");
    write(&history, bytes);
    let _ = deepfake::report::read_history(&history);
}

/// The bytes as a PyTorch `.pth` (zip or legacy pickle) state dict of the micro detector.
pub fn pytorch_weights(scratch: &Path, bytes: &[u8]) {
    let path = scratch.join("weights.pth");
    write(&path, bytes);
    load_into_micro(&path);
}

/// The bytes as a `.safetensors` state dict of the micro detector.
pub fn safetensors_weights(scratch: &Path, bytes: &[u8]) {
    let path = scratch.join("weights.safetensors");
    write(&path, bytes);
    load_into_micro(&path);
}

/// Loads a reference `DeepfakeDetector` state dict as `model-info --from-pytorch` does.
fn load_into_micro(path: &Path) {
    let _ = deepfake::model::Detector::from_pytorch(path, &micro_config(), &Device::flex());
}

/// The bytes as the `train.csv` of a 140k-faces layout (`valid.csv`, `test.csv` empty),
/// opened as `train --data` opens it.
pub fn dataset_csv(scratch: &Path, bytes: &[u8]) {
    let header = b",original_path,id,label,label_str,path\n";
    for split in ["valid.csv", "test.csv"] {
        let path = scratch.join(split);
        if !path.is_file() {
            write(&path, header);
        }
    }
    write(&scratch.join("train.csv"), bytes);
    let _ = Dataset::open(scratch, 0);
}

/// The bytes as the scores CSV of `eval --scores`.
pub fn scores_csv(scratch: &Path, bytes: &[u8]) {
    let path = scratch.join("scores.csv");
    write(&path, bytes);
    let _ = deepfake::metrics::read_scores_csv(&path);
}

/// The bytes as what the video path reads from its subprocesses: `ffprobe -of json`'s
/// output when the first byte is even, else ffmpeg's stream of PPM frames (a video's bytes
/// never reach our code: ffmpeg parses them). What parses must make sense.
pub fn video_output(_scratch: &Path, bytes: &[u8]) {
    let Some((&selector, rest)) = bytes.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        if let Ok(info) = deepfake::data::video::parse_probe(rest) {
            assert!(info.frames > 0, "a video without frames parsed: {info:?}");
            assert!(
                info.seconds >= 0.0 && info.fps >= 0.0,
                "negative duration or rate: {info:?}"
            );
        }
    } else if let Ok(frames) = deepfake::data::video::split_ppm_frames(rest, MAX_PIXELS) {
        let pixels: u64 = frames
            .iter()
            .map(|f| u64::from(f.width()) * u64::from(f.height()))
            .sum();
        assert!(
            3 * pixels <= rest.len() as u64,
            "frames hold more pixels than the stream"
        );
        assert!(
            frames
                .iter()
                .all(|f| u64::from(f.width()) * u64::from(f.height()) <= MAX_PIXELS)
        );
    }
}

/// The bytes as the body of a `POST /v1/predict`: a `multipart/form-data` body (boundary
/// `fuzz`) when the first byte is even, else a raw image body; the uploads the server
/// accepts are then decoded as it decodes them.
pub fn serve_upload(_scratch: &Path, bytes: &[u8]) {
    let Some(request) = upload_request(bytes) else {
        return;
    };
    let uploads = runtime().block_on(deepfake_serve::read_images(request, 1 << 20, 8, "--limit"));
    let Ok(uploads) = uploads else {
        return;
    };
    let limits = DecodeLimits {
        max_pixels: MAX_PIXELS,
    };
    for upload in uploads {
        let _ = decode_bytes(&upload.bytes, Path::new(&upload.name), limits);
    }
}

/// The request `serve_upload` makes of `bytes`: a `multipart/form-data` body (boundary
/// `fuzz`) when the first byte is even, else a raw `image/png` body; `None` when empty.
pub fn upload_request(bytes: &[u8]) -> Option<axum::http::Request<axum::body::Body>> {
    let (&first, body) = bytes.split_first()?;
    let content_type = if first % 2 == 0 {
        "multipart/form-data; boundary=fuzz"
    } else {
        "image/png"
    };
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/v1/predict")
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .body(axum::body::Body::from(body.to_vec()))
        .expect("a valid request");
    Some(request)
}

/// One current-thread runtime for the server's async body reading.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
    })
}

/// A scratch folder for target `name` in this process: `<temp dir>/deepfake-fuzz-<pid>/<name>`
/// (`cargo xtask fuzz` points the temp dir into `target/fuzz/` and clears it afterwards).
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("deepfake-fuzz-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// Writes a scratch file; the scratch folder is the harness's own, so failing is a harness
/// bug (a full disk), not a finding.
fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
