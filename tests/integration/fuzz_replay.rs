//! The fuzz targets' inputs replayed on every `cargo test`: each file under
//! `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/` (inputs that once crashed, kept
//! after the fix) goes through the target's own body from `fuzz/src/lib.rs`, which panics
//! exactly when the fuzzer would report a crash. (`fuzz/` itself needs nightly and cargo-fuzz:
//! `cargo xtask fuzz`.)
//!
//! The seeds are written by [`write_fuzz_seeds`] (`cargo test --test integration
//! fuzz_replay::write_fuzz_seeds -- --ignored`) and `fuzz/seeds/make_pth_seeds.py`; the checks
//! below also make sure each target's seeds reach its parser's success path, so the fuzzer
//! starts from valid files rather than from nothing.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use deepfake::data::{Dataset, SynthConfig};
use deepfake::formats::ModelInfo;
use deepfake::model::{Detector as Model, saved};
use deepfake::predict::{SavedModel, WeightsCheck};

// `scratch_dir` is for the fuzz binaries only.
#[allow(dead_code)]
#[path = "../../fuzz/src/lib.rs"]
mod harness;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable folder").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn seeds(target: &str) -> Vec<PathBuf> {
    let files = files_in(&fuzz_dir().join("seeds").join(target));
    assert!(!files.is_empty(), "no seeds for fuzz target {target}");
    files
}

fn seed(target: &str, name: &str) -> PathBuf {
    let path = fuzz_dir().join("seeds").join(target).join(name);
    assert!(path.is_file(), "missing seed {}", path.display());
    path
}

#[test]
fn every_seed_and_regression_input_passes_its_target() {
    for target in harness::TARGETS {
        let scratch = tempfile::tempdir().unwrap();
        let mut inputs = seeds(target.name);
        inputs.extend(files_in(&fuzz_dir().join("regressions").join(target.name)));
        for input in inputs {
            let bytes = std::fs::read(&input).unwrap();
            let outcome = std::panic::catch_unwind(|| (target.run)(scratch.path(), &bytes));
            assert!(
                outcome.is_ok(),
                "fuzz target {} panics on {}",
                target.name,
                input.display()
            );
        }
    }
}

#[test]
fn image_seeds_decode_and_reach_the_model() {
    let limits = deepfake::data::DecodeLimits {
        max_pixels: 1 << 20,
    };
    let decoded = seeds("decode_predict")
        .iter()
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap();
            deepfake::data::decode_bytes(&bytes, path, limits).is_ok()
        })
        .count();
    assert!(decoded >= 5, "only {decoded} image seeds decode");
}

#[test]
fn model_seeds_load() {
    let device = Device::flex();
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(
        scratch.path().join(saved::CONFIG_FILE),
        harness::micro_config().to_string(),
    )
    .unwrap();
    std::fs::copy(
        seed("saved_model", "micro.bpk"),
        scratch.path().join(saved::WEIGHTS_FILE),
    )
    .unwrap();
    SavedModel::open(scratch.path(), &device, WeightsCheck::Skip).expect("micro.bpk loads");
    let config = harness::micro_config();
    for (target, name) in [
        ("safetensors_weights", "micro.safetensors"),
        ("pytorch_weights", "micro_zip.pth"),
        ("pytorch_weights", "micro_legacy.pth"),
    ] {
        Model::from_pytorch(seed(target, name), &config, &device)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn file_seeds_parse() {
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    std::fs::copy(
        seed("json_files", "config.json"),
        dir.join(saved::CONFIG_FILE),
    )
    .unwrap();
    assert_eq!(
        saved::read_config(dir).unwrap(),
        harness::micro_config(),
        "config.json seed"
    );
    ModelInfo::read(&seed("json_files", "model_info.json")).expect("model_info.json seed");
    std::fs::copy(
        seed("json_files", "synthetic.json"),
        dir.join("synthetic.json"),
    )
    .unwrap();
    assert!(deepfake::data::synth::synthetic_config(dir).is_some());
    let history = deepfake::report::read_history(&seed("json_files", "history.json")).unwrap();
    assert_eq!(history.len(), 2);

    let (scored, names) =
        deepfake::metrics::read_scores_csv(&seed("scores_csv", "scores.csv")).unwrap();
    assert_eq!(names.len(), 4);
    assert_eq!(scored.len(), 4);

    let data = tempfile::tempdir().unwrap();
    for split in ["valid.csv", "test.csv"] {
        std::fs::write(
            data.path().join(split),
            ",original_path,id,label,label_str,path\n",
        )
        .unwrap();
    }
    std::fs::copy(
        seed("dataset_csv", "train.csv"),
        data.path().join("train.csv"),
    )
    .unwrap();
    let dataset = Dataset::open(data.path(), 0).unwrap();
    assert_eq!(dataset.train.len() + dataset.skipped.len(), 3);
}

/// What `ffprobe -v error -select_streams v:0 -show_entries
/// stream=width,height,nb_frames,avg_frame_rate,duration:format=duration -of json` prints for
/// a 1 s, 64x48, 25 fps clip.
const VIDEO_PROBE_JSON: &str = r#"{
    "programs": [

    ],
    "streams": [
        {
            "width": 64,
            "height": 48,
            "avg_frame_rate": "25/1",
            "duration": "1.000000",
            "nb_frames": "25"
        }
    ],
    "format": {
        "duration": "1.000000"
    }
}
"#;

#[test]
fn video_output_seeds_parse() {
    let probe = std::fs::read(seed("video_output", "probe.json")).unwrap();
    let info = deepfake::data::video::parse_probe(&probe[1..]).unwrap();
    assert_eq!((info.width, info.height, info.frames), (64, 48, 25));
    assert_eq!((info.seconds, info.fps), (1.0, 25.0));
    let ppm = std::fs::read(seed("video_output", "frames.ppm")).unwrap();
    let frames = deepfake::data::video::split_ppm_frames(&ppm[1..], 100).unwrap();
    let sizes: Vec<_> = frames.iter().map(|f| f.dimensions()).collect();
    assert_eq!(sizes, [(3, 2), (1, 1)]);
}

#[test]
fn upload_seeds_are_accepted_by_the_server() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for name in ["multipart.bin", "raw.bin"] {
        let bytes = std::fs::read(seed("serve_upload", name)).unwrap();
        let request = harness::upload_request(&bytes).unwrap();
        let uploads = runtime
            .block_on(deepfake_serve::read_images(request, 1 << 20, 8, "--limit"))
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(uploads.len(), 1, "{name}");
    }
}

/// Writes the seeds of every target but `pytorch_weights` (`make_pth_seeds.py` converts
/// `micro.safetensors` into its `.pth` seeds) and `decode_predict` (hand-picked images).
#[test]
#[ignore = "writes fuzz/seeds; run by hand after changing a format"]
fn write_fuzz_seeds() {
    let seeds = fuzz_dir().join("seeds");
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let dir = seeds.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), bytes).unwrap();
    };
    let device = Device::flex();
    device.seed(0);
    let config = harness::micro_config();
    let model = config.init(&device).unwrap();
    let saved = tempfile::tempdir().unwrap();
    model.save(&config, saved.path()).unwrap();
    put(
        "saved_model",
        "micro.bpk",
        &std::fs::read(saved.path().join(saved::WEIGHTS_FILE)).unwrap(),
    );
    let safetensors = saved.path().join("micro.safetensors");
    model.save_pytorch_safetensors(&safetensors).unwrap();
    put(
        "safetensors_weights",
        "micro.safetensors",
        &std::fs::read(&safetensors).unwrap(),
    );

    put("json_files", "config.json", config.to_string().as_bytes());
    let info = serde_json::to_vec_pretty(&model.model_info(&config)).unwrap();
    put("json_files", "model_info.json", &info);
    let synthetic = serde_json::to_vec_pretty(&SynthConfig::default()).unwrap();
    put("json_files", "synthetic.json", &synthetic);
    put(
        "json_files",
        "history.json",
        br#"[{"epoch":1,"train_loss":0.69,"train_accuracy":0.5,"val_loss":0.68,"val_accuracy":0.55,"lr":0.001,"seconds":1.5},
{"epoch":2,"train_loss":0.5,"train_accuracy":0.75,"val_loss":0.52,"val_accuracy":0.7,"lr":0.0005,"seconds":1.4}]"#,
    );

    put(
        "dataset_csv",
        "train.csv",
        b",original_path,id,label,label_str,path\n\
          0,/data/real/00001.jpg,1,1,real,train/real/00001.jpg\n\
          1,/data/fake/AB12.jpg,AB12,0,fake,train/fake/AB12.jpg\n\
          2,/data/real/00002.jpg,2,1,real,train/real/00002.jpg\n",
    );
    put(
        "scores_csv",
        "scores.csv",
        b"path,label,p_fake\na.jpg,real,0.1\nb.jpg,fake,0.9\nc.jpg,0,0.35\nd.jpg,1,1e-3\n",
    );
    // ffprobe's output for a 1 s 64x48 25 fps clip (`ffmpeg -f lavfi -i testsrc`), and
    // ffmpeg's PPM stream of two frames; the first byte picks the parser.
    let mut probe = vec![0u8];
    probe.extend_from_slice(VIDEO_PROBE_JSON.as_bytes());
    put("video_output", "probe.json", &probe);
    let mut ppm = vec![1u8];
    for (width, height) in [(3usize, 2usize), (1, 1)] {
        ppm.extend_from_slice(format!("P6\n{width} {height}\n255\n").as_bytes());
        ppm.extend((0..width * height * 3).map(|i| (i * 37) as u8));
    }
    put("video_output", "frames.ppm", &ppm);

    let mut png = Vec::new();
    image::RgbImage::from_fn(8, 6, |x, y| image::Rgb([x as u8 * 30, y as u8 * 40, 7]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut multipart = vec![0u8];
    multipart.extend_from_slice(
        b"--fuzz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
          Content-Type: image/png\r\n\r\n",
    );
    multipart.extend_from_slice(&png);
    multipart.extend_from_slice(b"\r\n--fuzz--\r\n");
    put("serve_upload", "multipart.bin", &multipart);
    let mut raw = vec![1u8];
    raw.extend_from_slice(&png);
    put("serve_upload", "raw.bin", &raw);
}
