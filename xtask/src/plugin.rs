//! `cargo xtask plugin` builds the browser extension in `plugin/` (model export, npm
//! dependencies, ONNX Runtime Web's WASM files); `cargo xtask plugin-test` tests its page in a
//! headless Chromium against the Rust `predict` output.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use deepfake::model::Label;
use deepfake_data::synth::{SynthConfig, render};

use crate::cli::run_command;
use crate::python::{repo_root, run_checked};

/// Options of `cargo xtask plugin`.
#[derive(clap::Args)]
pub struct PluginArgs {
    /// Saved model or training run to ship [default: the newest run in runs/].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

/// Options of `cargo xtask plugin-test`.
#[derive(clap::Args)]
pub struct PluginTestArgs {
    /// Chromium binary (also `$CHROMIUM`).
    #[arg(long, default_value = "/usr/bin/chromium")]
    chromium: PathBuf,
    /// A trained model to test with [default: demo/runs/tiny from `cargo xtask demo` when it
    /// exists, else a tiny model trained here for a few epochs on synthetic data].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
}

/// Largest difference between the browser's P(fake) and `predict`'s that the page test accepts.
const BROWSER_TOLERANCE: f32 = 1e-5;

/// The extension's own files (what `Load unpacked` needs besides model/ and vendor/).
const EXTENSION_FILES: [&str; 9] = [
    "manifest.json",
    "background.js",
    "badge.js",
    "content.css",
    "popup.html",
    "popup.css",
    "popup.js",
    "detector.js",
    "preprocess.js",
];

/// ONNX Runtime Web's files the page loads (single-threaded WASM build).
const ORT_FILES: [&str; 3] = [
    "ort.wasm.min.js",
    "ort-wasm-simd-threaded.wasm",
    "ort-wasm-simd-threaded.mjs",
];

/// `npm ci` (or `npm install` without a lock file) in `plugin/` when its modules are missing.
fn npm_install(plugin: &Path) -> Result<()> {
    if plugin.join("node_modules/onnxruntime-web").is_dir()
        && plugin.join("node_modules/playwright-core").is_dir()
    {
        return Ok(());
    }
    let verb = if plugin.join("package-lock.json").is_file() {
        "ci"
    } else {
        "install"
    };
    eprintln!("npm {verb} in {}", plugin.display());
    run_checked(
        Command::new("npm")
            .args([verb, "--no-audit", "--no-fund"])
            .current_dir(plugin),
    )
    .context("installing the extension's npm dependencies (needs node and npm)")
}

/// Copies ONNX Runtime Web's files into `vendor`.
fn copy_ort(plugin: &Path, vendor: &Path) -> Result<()> {
    std::fs::create_dir_all(vendor)?;
    let dist = plugin.join("node_modules/onnxruntime-web/dist");
    for file in ORT_FILES {
        std::fs::copy(dist.join(file), vendor.join(file))
            .with_context(|| format!("copying {} from {}", file, dist.display()))?;
    }
    Ok(())
}

pub fn run_plugin(args: PluginArgs) -> Result<()> {
    let plugin = repo_root().join("plugin");
    npm_install(&plugin)?;
    copy_ort(&plugin, &plugin.join("vendor"))?;
    let out = plugin.join("model/deepfake_detector.onnx");
    let mut export: Vec<&std::ffi::OsStr> = Vec::new();
    if let Some(checkpoint) = &args.checkpoint {
        export.push("--checkpoint".as_ref());
        export.push(checkpoint.as_os_str());
    }
    export.push("--out".as_ref());
    export.push(out.as_os_str());
    run_command("export", &export)?;
    println!(
        "\nThe extension is ready in {}.\nChrome / Chromium: open chrome://extensions, turn on \
         Developer mode, click \"Load unpacked\" and choose that folder. Then right-click any \
         image -> \"Check image for deepfake\", or click the toolbar icon and drop a file.",
        plugin.display()
    );
    Ok(())
}

pub fn run_plugin_test(args: PluginTestArgs) -> Result<()> {
    let root = repo_root();
    let plugin = root.join("plugin");
    let dir = root.join("target/plugin-test");
    let _ = std::fs::remove_dir_all(&dir);
    let (site, images) = (dir.join("site"), dir.join("images"));
    std::fs::create_dir_all(&images)?;
    npm_install(&plugin)?;
    for file in EXTENSION_FILES {
        std::fs::create_dir_all(&site)?;
        std::fs::copy(plugin.join(file), site.join(file))
            .with_context(|| format!("copying plugin/{file}"))?;
    }
    copy_ort(&plugin, &site.join("vendor"))?;
    std::fs::copy(
        plugin.join("test/badge-test.html"),
        site.join("badge-test.html"),
    )?;

    // A trained model makes P(fake) vary from image to image, so the comparison tests the
    // preprocessing (an untrained one gives nearly the same P(fake) for every image).
    eprintln!("model and its ONNX export ...");
    let demo = root.join("demo/runs/tiny/best");
    let model = match &args.checkpoint {
        Some(checkpoint) => checkpoint.clone(),
        None if demo.join("model.bpk").is_file() => demo,
        None => {
            // A dozen epochs on a little synthetic data: enough for P(fake) to spread out.
            let data = dir.join("data");
            let config = SynthConfig {
                per_class: 200,
                size: 64,
                ..SynthConfig::default()
            };
            deepfake_data::synth::write_dataset(&data, &config)?;
            let run = dir.join("run");
            run_command(
                "train",
                &[
                    "--preset".as_ref(),
                    "tiny".as_ref(),
                    "--data".as_ref(),
                    data.as_os_str(),
                    "--out".as_ref(),
                    run.as_os_str(),
                    "--epochs".as_ref(),
                    "12".as_ref(),
                    "--batch-size".as_ref(),
                    "16".as_ref(),
                    "--quiet".as_ref(),
                ],
            )?;
            run.join("best")
        }
    };
    let onnx = site.join("model/deepfake_detector.onnx");
    run_command(
        "export",
        &[
            "--checkpoint".as_ref(),
            model.as_os_str(),
            "--out".as_ref(),
            onnx.as_os_str(),
        ],
    )?;

    // Fixture images: synthetic faces at 256 (downscaled to 64), at 180 and 96, one at the
    // model's size and one at 48 (upscaled), as PNG so that the browser and Rust decode the
    // same pixels.
    for (i, size) in [256u32, 256, 256, 256, 256, 256, 48, 64, 96, 180]
        .into_iter()
        .enumerate()
    {
        let label = if i % 2 == 0 { Label::Real } else { Label::Fake };
        let config = SynthConfig {
            size,
            ..SynthConfig::default()
        };
        let image = render(label, i as u64, &config);
        let path = images.join(format!("{}_{i}_{size}.png", label.name()));
        image
            .save(&path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // What `predict` gives for each image (the one scoring path), for the page to match.
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&images)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    paths.sort();
    let detector = deepfake::Detector::load(&model, &burn::tensor::Device::flex())
        .with_context(|| format!("loading {}", model.display()))?;
    let mut records = Vec::new();
    let mut p_fakes = Vec::new();
    for (path, prediction) in paths.iter().zip(detector.predict_paths(&paths)) {
        let prediction = prediction.with_context(|| format!("scoring {}", path.display()))?;
        p_fakes.push(prediction.p_fake);
        records.push(serde_json::json!({
            "path": path.display().to_string(),
            "p_fake": prediction.p_fake,
        }));
    }
    // The browser must match P(fake)s that differ from image to image by far more than its
    // tolerance, or the comparison would hold for a page that ignored its input: at least
    // 1000 times the tolerance. (Not a claim about accuracy: the 12-epoch tiny model keeps
    // the checkpoint of best validation accuracy, which can be an early one with P(fake)s
    // close to 0.5, e.g. 0.05 apart, when float rounding changes the run.)
    let spread = deepfake_compare::spread(&p_fakes, 1);
    let needed = 1000.0 * BROWSER_TOLERANCE;
    if spread.is_nan() || spread < needed {
        bail!(
            "the model's P(fake) spreads only {spread:.3e} over the test images (need >= \
             {needed:.0e}): pass --checkpoint with a trained model"
        );
    }
    let expected = dir.join("predict.json");
    std::fs::write(&expected, serde_json::to_vec_pretty(&records)?)?;

    eprintln!("preprocess.js against the Rust preprocessing, bit for bit ...");
    let cases = dir.join("preprocess-cases");
    write_preprocess_cases(&images, &cases, detector.image_size())?;
    run_checked(
        Command::new("node")
            .arg(plugin.join("test/preprocess.test.mjs"))
            .arg("--cases")
            .arg(&cases)
            .arg("--info")
            .arg(onnx.with_file_name(deepfake::formats::MODEL_INFO_FILE))
            .current_dir(&plugin),
    )
    .context("the extension's preprocessing differs from the Rust one (details above)")?;

    eprintln!("headless Chromium ...");
    let status = Command::new("node")
        .arg(plugin.join("test/plugin.test.mjs"))
        .arg("--site")
        .arg(&site)
        .arg("--images")
        .arg(&images)
        .arg("--expected")
        .arg(&expected)
        .arg("--out")
        .arg(&dir)
        .arg("--tolerance")
        .arg(BROWSER_TOLERANCE.to_string())
        .env("CHROMIUM", &args.chromium)
        .current_dir(&plugin)
        .status()
        .context("running node (needs Node.js 18 or later)")?;
    if !status.success() {
        bail!(
            "the browser test failed (details above; screenshots in {})",
            dir.display()
        );
    }
    println!(
        "plugin test passed; screenshot: {}",
        dir.join("popup.png").display()
    );
    Ok(())
}

/// Cases for `test/preprocess.test.mjs`: every PNG in `images`, two non-square crops of the
/// first, and the EXIF-rotated JPEG fixture, each decoded as the Rust side decodes it (EXIF
/// orientation applied) and written as RGBA with the tensor `preprocess_eval` makes of it.
fn write_preprocess_cases(images: &Path, cases: &Path, size: u32) -> Result<()> {
    use deepfake_data::{DecodeLimits, decode_file, normalize::preprocess_eval};
    std::fs::create_dir_all(cases)?;
    let mut decoded = Vec::new();
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(images)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    pngs.sort();
    for path in &pngs {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        decoded.push((
            name.unwrap_or_default(),
            decode_file(path, DecodeLimits::default())?,
        ));
    }
    if let Some((_, first)) = decoded.first().cloned() {
        for (w, h) in [(200u32, 120u32), (37, 90)] {
            let crop = image::imageops::crop_imm(&first, 3, 5, w, h).to_image();
            decoded.push((format!("crop_{w}x{h}"), crop));
        }
    }
    let exif = repo_root().join("crates/deepfake-data/tests/fixtures/exif_orientation6.jpg");
    decoded.push((
        "exif_orientation6".into(),
        decode_file(&exif, DecodeLimits::default())?,
    ));
    for (name, image) in decoded {
        let (width, height) = image.dimensions();
        let rgba: Vec<u8> = image
            .pixels()
            .flat_map(|p| [p.0[0], p.0[1], p.0[2], 255])
            .collect();
        let tensor = preprocess_eval(&image, size)?;
        let bytes: Vec<u8> = tensor.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(cases.join(format!("{name}.rgba")), rgba)?;
        std::fs::write(cases.join(format!("{name}.f32")), bytes)?;
        std::fs::write(
            cases.join(format!("{name}.json")),
            serde_json::json!({"width": width, "height": height}).to_string(),
        )?;
    }
    Ok(())
}
