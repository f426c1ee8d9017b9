//! `cargo xtask bench faces`: face detection (MTCNN) on 640x480 photos, ours (the host CPU
//! engine that `predict` uses on a CPU, and Burn flex) vs facenet-pytorch's in the same run,
//! same photos, same threads.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use burn::tensor::Device;
use deepfake_faces::Mtcnn;
use image::{Rgb, RgbImage, imageops};

use crate::bench_output::BenchOutput;
use crate::python::{find_python, output_checked, repo_root};

/// Options of `cargo xtask bench faces`.
#[derive(clap::Args)]
pub struct FacesArgs {
    /// Timed passes over the photos (after one warm-up pass).
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Create target/venv with torch and facenet-pytorch if no Python has them.
    #[arg(long)]
    install: bool,
}

/// Width and height of the benchmark photos.
const PHOTO_SIZE: (u32, u32) = (640, 480);

/// The face-detection test photos (scikit-image samples, see
/// `crates/deepfake-faces/tests/fixtures`), each centred on a grey 640x480 canvas (scaled
/// down if larger), written to target/bench-faces/ as PNG.
fn bench_photos() -> Result<(PathBuf, Vec<RgbImage>)> {
    let fixtures = repo_root().join("crates/deepfake-faces/tests/fixtures");
    let dir = repo_root().join("target/bench-faces");
    std::fs::create_dir_all(&dir)?;
    let mut photos = Vec::new();
    // In name order, as the Python side lists them.
    for name in [
        "camera_grey.png",
        "no_face.png",
        "tilted_face.png",
        "two_faces.png",
    ] {
        let path = fixtures.join(name);
        let photo = image::open(&path)
            .with_context(|| format!("reading {}", path.display()))?
            .to_rgb8();
        let (w, h) = PHOTO_SIZE;
        let photo = if photo.width() > w || photo.height() > h {
            image::DynamicImage::ImageRgb8(photo)
                .resize(w, h, imageops::FilterType::Triangle)
                .to_rgb8()
        } else {
            photo
        };
        let mut canvas = RgbImage::from_pixel(w, h, Rgb([128, 128, 128]));
        let (x, y) = ((w - photo.width()) / 2, (h - photo.height()) / 2);
        imageops::replace(&mut canvas, &photo, i64::from(x), i64::from(y));
        canvas.save(dir.join(name))?;
        photos.push(canvas);
    }
    Ok((dir, photos))
}

/// A Python with torch and facenet-pytorch; with `install`, facenet-pytorch 2.6.0 is added
/// without its dependencies (its pins would downgrade torch) to the Python with torch.
fn facenet_python(install: bool) -> Result<PathBuf> {
    let modules = [
        "torch",
        "torchvision",
        "requests",
        "tqdm",
        "facenet_pytorch",
    ];
    if let Ok(python) = find_python(&modules, &["facenet-pytorch"], false) {
        return Ok(python);
    }
    if !install {
        anyhow::bail!(
            "no Python with torch and facenet-pytorch found: re-run with --install, or \
             pip install --no-deps facenet-pytorch==2.6.0 && pip install requests tqdm"
        );
    }
    let python = find_python(
        &["torch", "torchvision"],
        &["torch", "torchvision"],
        install,
    )?;
    for packages in [
        &["--no-deps", "facenet-pytorch==2.6.0"][..],
        &["requests", "tqdm"][..],
    ] {
        output_checked(
            Command::new(&python)
                .args(["-m", "pip", "install", "--quiet"])
                .args(packages),
            "pip install",
        )?;
    }
    Ok(python)
}

pub fn run(args: FacesArgs) -> Result<()> {
    let repeat = args.repeat.max(1);
    let (dir, photos) = bench_photos()?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // The form `predict` uses on a CPU (the host engine), and Burn's flex backend.
    let forms = [
        (
            "host CPU engine",
            deepfake::face_detector_for(&Device::flex())?,
        ),
        ("Burn flex", Mtcnn::new(&Device::flex())?),
    ];
    let mut rates = Vec::new();
    let mut ours = Vec::new();
    for (name, mtcnn) in &forms {
        let mut found = Vec::new();
        for photo in &photos {
            found.push(mtcnn.detect(photo)?.len());
        }
        let start = Instant::now();
        for _ in 0..repeat {
            for photo in &photos {
                mtcnn.detect(photo)?;
            }
        }
        rates.push((
            *name,
            (repeat * photos.len()) as f64 / start.elapsed().as_secs_f64(),
        ));
        ensure!(
            ours.is_empty() || ours == found,
            "faces found differ between the host engine ({ours:?}) and Burn flex ({found:?})"
        );
        ours = found;
    }

    let python = facenet_python(args.install)?;
    let output = output_checked(
        Command::new(&python)
            .arg(repo_root().join("scripts/bench_faces_torch.py"))
            .arg(&dir)
            .args([
                "--repeat",
                &repeat.to_string(),
                "--threads",
                &threads.to_string(),
            ]),
        "the facenet-pytorch benchmark",
    )?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let torch_rate = report["images_per_second"].as_f64().unwrap_or(f64::NAN);
    let theirs: Vec<usize> = report["faces"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_u64())
                .map(|v| v as usize)
                .collect()
        })
        .unwrap_or_default();
    ensure!(
        ours == theirs,
        "faces found differ: ours {ours:?}, facenet-pytorch {theirs:?}"
    );
    let mut out = BenchOutput::new("faces");
    out.line(format!(
        "MTCNN face detection, {} photos of 640x480 ({} faces in all), {repeat} passes, \
         {threads} threads, one photo at a time:",
        photos.len(),
        ours.iter().sum::<usize>()
    ));
    for (name, rate) in rates {
        out.line(format!(
            "  Rust, {name:<16} {rate:>6.2} images/s  (Rust / PyTorch {:.2}x)",
            rate / torch_rate
        ));
    }
    out.line(format!(
        "  facenet-pytorch 2.6.0 (PyTorch):  {torch_rate:>6.2} images/s"
    ));
    out.line(format!(
        "  the same faces per photo on both sides: {ours:?}"
    ));
    out.save()
}
