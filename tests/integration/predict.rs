//! Inference: batching changes nothing, calibration from model_info.json is applied, and the
//! `predict` example gives every input of a corpus of bad files a record without panicking.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::{Device, Tensor, TensorData};
use deepfake::data::normalize::preprocess_eval;
use deepfake::data::{DecodeLimits, decode_file};
use deepfake::model::{Detector as Model, DetectorConfig};
use deepfake::predict::{Detector, Prediction};
use image::{DynamicImage, Rgb, RgbImage};

use crate::common;

fn tiny_weights() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("crates/deepfake-model/tests/fixtures/tiny_detector.pth")
}

fn tiny_model() -> (Model, DetectorConfig) {
    let config = DetectorConfig::tiny();
    let model = Model::from_pytorch(tiny_weights(), &config, &Device::flex()).unwrap();
    (model, config)
}

/// A saved tiny detector; with `temperature`, a model_info.json that records it.
fn saved(dir: &Path, temperature: Option<f64>, threshold: f64) -> PathBuf {
    let (model, config) = tiny_model();
    let out = dir.join("model");
    model.save(&config, &out).unwrap();
    let mut info = model.model_info(&config);
    info.temperature = temperature;
    info.threshold = threshold;
    info.write(&out.join("model_info.json")).unwrap();
    out
}

fn pattern(i: u32, w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            ((x * (3 + i)) % 256) as u8,
            ((y * 7 + i * 31) % 256) as u8,
            (((x + y) * (i + 1)) % 256) as u8,
        ])
    })
}

fn write_folder(dir: &Path, n: u32) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let path = dir.join(format!("img_{i:02}.png"));
            pattern(i, 40 + 3 * i, 90 - 2 * i).save(&path).unwrap();
            path
        })
        .collect()
}

/// At batch size 2 the files are decoded in groups of 8 (the second group is read back after
/// the third is queued, the last after the loop); two files that are no images, one in each
/// of the first two groups, get their errors without shifting anyone else's score.
#[test]
fn batched_predictions_equal_forward_on_each_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = write_folder(&dir.path().join("images"), 17);
    let (model, config) = tiny_model();
    let device = Device::flex();
    let detector = Detector::new(model.clone(), config.clone(), &device).with_batch_size(2);
    let mut with_bad = files.clone();
    for (index, name) in [(5, "bad_a.png"), (11, "bad_b.png")] {
        let bad = dir.path().join(name);
        std::fs::write(&bad, b"not an image").unwrap();
        with_bad.insert(index, bad);
    }
    let mut batched = detector.predict_paths(&with_bad);
    assert_eq!(batched.len(), 19);
    for index in [11, 5] {
        let error = batched.remove(index).unwrap_err().to_string();
        assert!(error.contains("bad_"), "{error}");
    }
    // The scores differ between images by far more than the comparison's tolerance, so a
    // score given to the wrong image fails it.
    const TOLERANCE: f32 = 1e-5;
    let p_fake: Vec<f32> = batched.iter().map(|p| p.as_ref().unwrap().p_fake).collect();
    let spread = deepfake_compare::spread(&p_fake, 1);
    assert!(
        spread > 10.0 * TOLERANCE,
        "the images score alike: spread {spread}"
    );
    let size = config.image_size;
    for (file, prediction) in files.iter().zip(&batched) {
        let image = decode_file(file, DecodeLimits::default()).unwrap();
        let values = preprocess_eval(&image, size as u32).unwrap();
        let input = Tensor::<4>::from_data(TensorData::new(values, [1, 3, size, size]), &device);
        let logits: Vec<f32> = model.forward(input).into_data().try_to_vec().unwrap();
        let expected = Prediction::from_logits([logits[0], logits[1]], 1.0, 0.5);
        let got = prediction.as_ref().unwrap();
        assert!(
            (got.p_fake - expected.p_fake).abs() <= TOLERANCE,
            "{}",
            file.display()
        );
        assert_eq!(got.label, expected.label);
    }
    // In-memory images give the same as files.
    files.truncate(11);
    batched.truncate(11);
    let images: Vec<DynamicImage> = files
        .iter()
        .map(|f| DynamicImage::ImageRgb8(decode_file(f, DecodeLimits::default()).unwrap()))
        .collect();
    for (a, b) in detector.predict(&images).unwrap().iter().zip(&batched) {
        assert!((a.p_fake - b.as_ref().unwrap().p_fake).abs() <= 1e-6);
    }
}

#[test]
fn temperature_and_threshold_from_model_info_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_folder(&dir.path().join("images"), 3);
    let plain = Detector::load(saved(&dir.path().join("a"), None, 0.5), &Device::flex()).unwrap();
    let calibrated = Detector::load(
        saved(&dir.path().join("b"), Some(2.5), 0.9),
        &Device::flex(),
    )
    .unwrap();
    assert_eq!(
        (calibrated.temperature(), calibrated.threshold()),
        (2.5, 0.9)
    );
    for (p, q) in plain
        .predict_paths(&files)
        .iter()
        .zip(calibrated.predict_paths(&files))
    {
        let (p, q) = (p.as_ref().unwrap(), q.unwrap());
        // logit margin = ln(p / (1 - p)); calibrated P(fake) = sigmoid(margin / T).
        let margin = (f64::from(p.p_fake) / (1.0 - f64::from(p.p_fake))).ln();
        let expected = 1.0 / (1.0 + (-margin / 2.5).exp());
        assert!((f64::from(q.p_fake) - expected).abs() < 1e-5);
        assert_eq!(q.label.is_fake(), f64::from(q.p_fake) >= 0.9);
    }
    // A run folder works too (its best/), and a wrong folder is named.
    let run = dir.path().join("run");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::rename(dir.path().join("a/model"), run.join("best")).unwrap();
    assert!(Detector::load(&run, &Device::flex()).is_ok());
    let error = Detector::load(dir.path(), &Device::flex())
        .unwrap_err()
        .to_string();
    assert!(error.contains("config.json"), "{error}");
}

#[test]
fn sequences_go_through_the_sequence_path() {
    let (model, config) = tiny_model();
    let device = Device::flex();
    let detector = Detector::new(model.clone(), config.clone(), &device);
    let frames: Vec<DynamicImage> = (0..3)
        .map(|i| DynamicImage::ImageRgb8(pattern(i, 70, 70)))
        .collect();
    let got = detector.predict_sequence(&frames).unwrap();
    let size = config.image_size;
    let values: Vec<f32> = frames
        .iter()
        .flat_map(|f| preprocess_eval(&f.to_rgb8(), size as u32).unwrap())
        .collect();
    let input = Tensor::<5>::from_data(TensorData::new(values, [1, 3, 3, size, size]), &device);
    let logits: Vec<f32> = model
        .forward_sequence(input)
        .into_data()
        .try_to_vec()
        .unwrap();
    let expected = Prediction::from_logits([logits[0], logits[1]], 1.0, 0.5);
    assert!((got.p_fake - expected.p_fake).abs() <= 1e-6);
    assert!(detector.predict_sequence(&[]).is_err());
    assert!(detector.predict(&[DynamicImage::new_rgb8(0, 0)]).is_err());
}

/// The bad-input corpus: (file name, bytes, whether it must be scored).
fn bad_input_corpus(dir: &Path) -> Vec<(String, bool)> {
    use image::ImageEncoder;
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/deepfake-data/tests/fixtures");
    let base = pattern(1, 64, 48);
    let encode = |image: &DynamicImage, format: image::ImageFormat| {
        let mut bytes = std::io::Cursor::new(Vec::new());
        image.write_to(&mut bytes, format).unwrap();
        bytes.into_inner()
    };
    let jpeg = encode(
        &DynamicImage::ImageRgb8(base.clone()),
        image::ImageFormat::Jpeg,
    );
    let png = encode(
        &DynamicImage::ImageRgb8(base.clone()),
        image::ImageFormat::Png,
    );
    let mut gif = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut gif);
        let frames = (0..3).map(|i| {
            image::Frame::new(image::RgbaImage::from_fn(20, 20, move |x, _| {
                image::Rgba([(x * 10 + i * 40) as u8, 0, 0, 255])
            }))
        });
        encoder.encode_frames(frames).unwrap();
    }
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(base.as_raw(), 64, 48, image::ExtendedColorType::Rgb8)
        .unwrap();
    let rgb16 = DynamicImage::ImageRgb16(image::ImageBuffer::from_fn(30, 20, |x, y| {
        image::Rgb([x as u16 * 2000, y as u16 * 3000, 40000])
    }));
    // A PNG whose header declares 100000 x 100000 pixels (10 gigapixels): refused before
    // any pixel is allocated.
    let mut huge = png.clone();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&huge[12..29]);
    huge[29..33].copy_from_slice(&crc.to_be_bytes());
    let corpus: Vec<(&str, Vec<u8>, bool)> = vec![
        ("truncated.jpg", jpeg[..jpeg.len() / 2].to_vec(), false),
        ("truncated.png", png[..png.len() / 2].to_vec(), false),
        ("empty.jpg", Vec::new(), false),
        (
            "text.jpg",
            b"just some text, not an image\n".to_vec(),
            false,
        ),
        (
            "page.png",
            b"<!DOCTYPE html><html><body>hi</body></html>".to_vec(),
            false,
        ),
        ("huge_header.png", huge, false),
        (
            "cmyk.jpg",
            std::fs::read(fixtures.join("cmyk.jpg")).unwrap(),
            true,
        ),
        ("rgb16.png", encode(&rgb16, image::ImageFormat::Png), true),
        (
            "gray16.png",
            std::fs::read(fixtures.join("gray16.png")).unwrap(),
            true,
        ),
        (
            "gray.png",
            encode(
                &DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(base.clone()).to_luma8()),
                image::ImageFormat::Png,
            ),
            true,
        ),
        (
            "rgba.png",
            encode(
                &DynamicImage::ImageRgba8(DynamicImage::ImageRgb8(base.clone()).to_rgba8()),
                image::ImageFormat::Png,
            ),
            true,
        ),
        (
            "palette.png",
            std::fs::read(fixtures.join("palette.png")).unwrap(),
            true,
        ),
        ("animated.gif", gif, true),
        ("lossless.webp", webp, true),
        (
            "one_pixel.png",
            encode(
                &DynamicImage::ImageRgb8(RgbImage::new(1, 1)),
                image::ImageFormat::Png,
            ),
            true,
        ),
        (
            "strip_10000x10.png",
            encode(
                &DynamicImage::ImageRgb8(pattern(2, 10000, 10)),
                image::ImageFormat::Png,
            ),
            true,
        ),
        ("no_extension", jpeg.clone(), true),
        ("good.jpg", jpeg, true),
    ];
    std::fs::create_dir_all(dir).unwrap();
    corpus
        .into_iter()
        .map(|(name, bytes, scored)| {
            std::fs::write(dir.join(name), bytes).unwrap();
            (name.to_string(), scored)
        })
        .collect()
}

/// CRC-32 (PNG's) of `bytes`.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn every_bad_input_gets_a_result_from_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = bad_input_corpus(&dir.path().join("corpus"));
    let (model, config) = tiny_model();
    let detector = Detector::new(model, config, &Device::flex());
    let paths: Vec<PathBuf> = corpus
        .iter()
        .map(|(n, _)| dir.path().join("corpus").join(n))
        .collect();
    for ((name, scored), result) in corpus.iter().zip(detector.predict_paths(&paths)) {
        assert_eq!(result.is_ok(), *scored, "{name}: {result:?}");
        if let Err(e) = result {
            assert!(
                e.to_string().contains(name.as_str()),
                "{name}: error does not name the file: {e}"
            );
        }
    }
}

#[test]
fn the_cli_reports_every_input_and_matches_the_library() {
    let binary = common::example("predict");
    let dir = tempfile::tempdir().unwrap();
    let corpus_dir = dir.path().join("corpus");
    let corpus = bad_input_corpus(&corpus_dir);
    let model = saved(dir.path(), Some(1.3), 0.5);
    // Whole images: the corpus's pictures are not photos of faces.
    let output = Command::new(&binary)
        .args(["--faces", "off", "--format", "jsonl", "--checkpoint"])
        .arg(&model)
        .arg(&corpus_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), corpus.len(), "{stdout}");
    assert_eq!(output.status.code(), Some(1), "some inputs fail -> exit 1");
    let detector = Detector::load(&model, &Device::flex()).unwrap();
    for record in &records {
        let path = PathBuf::from(record["path"].as_str().unwrap());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let scored = corpus.iter().find(|(n, _)| *n == name).unwrap().1;
        assert_eq!(record.get("error").is_none(), scored, "{record}");
        if scored {
            let library = detector.predict_paths(&[&path]).remove(0).unwrap();
            let cli = record["p_fake"].as_f64().unwrap();
            assert!((cli - f64::from(library.p_fake)).abs() < 1e-6, "{name}");
            assert_eq!(record["label"], library.label.name());
        }
    }

    // Only good files -> exit 0; a missing model -> exit 2; usage error -> exit 2.
    let good = corpus_dir.join("good.jpg");
    let status = Command::new(&binary)
        .arg("--checkpoint")
        .arg(&model)
        .arg(&good)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(0));
    let status = Command::new(&binary)
        .arg("--checkpoint")
        .arg(dir.path())
        .arg(&good)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(2));
    let status = Command::new(&binary)
        .arg("--format")
        .arg("xml")
        .arg(&good)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(2));
}

/// Flat images of one grey level (`level` 0..=255) with a little texture.
fn grey(level: u8, w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let v = level.saturating_add(((x * 7 + y * 3) % 9) as u8);
        Rgb([v, v, v])
    })
}

fn jsonl(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_cli_reads_paths_from_stdin_scores_clips_and_enforces_the_pixel_limit() {
    let binary = common::example("predict");
    let dir = tempfile::tempdir().unwrap();
    let model = common::saved_deep(dir.path());
    let detector = Detector::load(&model, &Device::flex()).unwrap();

    // `-`: paths on stdin, one per line, scored in that order; one image per forward pass
    // (the library scores them in one batch), with each record's time (--verbose).
    let images: Vec<PathBuf> = [20u8, 120, 235]
        .iter()
        .map(|&level| {
            let path = dir.path().join(format!("grey_{level}.png"));
            grey(level, 48, 40).save(&path).unwrap();
            path
        })
        .collect();
    let started = std::time::Instant::now();
    let mut child = Command::new(&binary)
        .args(["--faces", "off", "--format", "jsonl", "--batch-size", "1"])
        .args(["--verbose", "--checkpoint"])
        .arg(&model)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        for path in &images {
            writeln!(stdin, "{}", path.display()).unwrap();
        }
    }
    let output = child.wait_with_output().unwrap();
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    assert_eq!(output.status.code(), Some(0));
    let records = jsonl(&output.stdout);
    assert_eq!(records.len(), images.len());
    for record in &records {
        let ms = record["milliseconds"].as_f64().unwrap_or(f64::NAN);
        assert!(
            ms > 0.0 && ms < wall_ms,
            "{record}: the run took {wall_ms} ms"
        );
    }
    let library = detector.predict_paths(&images);
    let mut p_fakes = Vec::new();
    for ((record, path), expected) in records.iter().zip(&images).zip(library) {
        assert_eq!(record["path"], path.display().to_string());
        let expected = expected.unwrap().p_fake;
        let cli = record["p_fake"].as_f64().unwrap() as f32;
        assert!(
            (cli - expected).abs() <= 1e-6,
            "{record}: library {expected}"
        );
        p_fakes.push(cli);
    }
    let spread = deepfake_compare::spread(&p_fakes, 1);
    assert!(
        spread >= 0.05,
        "P(fake) of the three images spreads only {spread}"
    );

    // --frames: a folder of two frames is one sequence, scored as the model scores the stacked
    // preprocessed frames; a folder is a clip whatever its name (this one is named after the
    // video its frames came from).
    let clip = dir.path().join("clip.mp4");
    std::fs::create_dir_all(&clip).unwrap();
    let frames = [grey(30, 64, 64), grey(200, 64, 64)];
    for (i, frame) in frames.iter().enumerate() {
        frame.save(clip.join(format!("frame_{i}.png"))).unwrap();
    }
    let output = Command::new(&binary)
        .args(["--format", "jsonl", "--frames", "2", "--checkpoint"])
        .arg(&model)
        .arg(&clip)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let records = jsonl(&output.stdout);
    assert_eq!(records.len(), 1, "one record per clip");
    let (reference, config) = Model::load_dir(&model, &Device::flex()).unwrap();
    let size = config.image_size;
    let values: Vec<f32> = frames
        .iter()
        .flat_map(|f| preprocess_eval(f, size as u32).unwrap())
        .collect();
    let input = Tensor::<5>::from_data(
        TensorData::new(values, [1, 2, 3, size, size]),
        &Device::flex(),
    );
    let logits: Vec<f32> = reference
        .forward_sequence(input)
        .into_data()
        .try_to_vec()
        .unwrap();
    let expected = Prediction::from_logits([logits[0], logits[1]], 1.0, 0.5).p_fake;
    let cli = records[0]["p_fake"].as_f64().unwrap() as f32;
    assert!((cli - expected).abs() <= 1e-5, "clip: {cli} vs {expected}");

    // --max-megapixels: an image over the limit is an error record naming the file, the others
    // are scored, and the exit status says some failed.
    let small = dir.path().join("small.png");
    grey(90, 30, 30).save(&small).unwrap(); // 900 pixels
    let large = dir.path().join("large.png");
    grey(90, 40, 40).save(&large).unwrap(); // 1600 pixels
    let limit = 1200.0 / (1024.0 * 1024.0);
    let output = Command::new(&binary)
        .args([
            "--format",
            "jsonl",
            "--max-megapixels",
            &limit.to_string(),
            "--checkpoint",
        ])
        .arg(&model)
        .arg(&small)
        .arg(&large)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "one input failed");
    let records = jsonl(&output.stdout);
    assert_eq!(records.len(), 2);
    assert!(records[0].get("error").is_none(), "{}", records[0]);
    let error = records[1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("large.png"), "{error}");
}
