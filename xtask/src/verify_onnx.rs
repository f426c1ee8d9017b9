//! `cargo xtask verify-onnx FILE`: the exported model in ONNX Runtime (an independent runtime)
//! against Burn on the same inputs, random and real images, plus both runtimes' speed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use deepfake::data::normalize::preprocess_eval;
use deepfake::data::synth::{SynthConfig, render};
use deepfake::formats::{MODEL_INFO_FILE, ModelInfo, OnnxFile};
use deepfake::model::Detector;
use deepfake::model::Label;
use deepfake::onnx::sha256_hex;
use deepfake::predict::SavedModel;
use serde_json::json;

use crate::python::{find_python, output_checked, repo_root};
use crate::stats::median;

/// Options of `cargo xtask verify-onnx`.
#[derive(clap::Args)]
pub struct Args {
    /// The exported .onnx file (with the export example's model_info.json beside it).
    file: PathBuf,
    /// The model it was exported from [default: `source` in model_info.json].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Largest allowed |difference| of a logit or of p_fake.
    #[arg(long, default_value_t = 1e-5)]
    tolerance: f64,
    /// Batch size of the timed passes (a static-batch export always uses 1).
    #[arg(long, default_value_t = 8)]
    batch_size: usize,
    /// Timed passes per runtime (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
}

/// One input both runtimes score.
struct Case {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

pub fn run(args: Args) -> Result<()> {
    let info_path = args.file.with_file_name(MODEL_INFO_FILE);
    let info = ModelInfo::read(&info_path).with_context(|| {
        format!(
            "reading {} (`deepfake export` writes it beside the .onnx)",
            info_path.display()
        )
    })?;
    let Some(onnx) = &info.onnx else {
        bail!(
            "{} describes no ONNX file (no `onnx` section): export the model again",
            info_path.display()
        );
    };
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    if sha256_hex(&bytes) != onnx.sha256 {
        bail!(
            "{} does not match the sha256 in {}: the file changed after export; export again",
            args.file.display(),
            info_path.display()
        );
    }
    let checkpoint = match (&args.checkpoint, &onnx.source) {
        (Some(path), _) => path.clone(),
        (None, Some(source)) => PathBuf::from(source),
        (None, None) => bail!("model_info.json names no source model; pass --checkpoint DIR"),
    };
    let device = Device::flex();
    let detector = SavedModel::load(&checkpoint, &device)
        .with_context(|| format!("loading {}", checkpoint.display()))?
        .model;
    let static_batch = onnx.input.shape.first().is_some_and(|d| d != "batch");
    let batch = if static_batch {
        1
    } else {
        args.batch_size.max(1)
    };
    let cases = make_cases(info.image_size, onnx, batch, static_batch);

    let dir = repo_root().join("target/verify-onnx");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let mut manifest = Vec::new();
    for case in &cases {
        let file = format!("{}.input.f32", case.name);
        std::fs::write(dir.join(&file), f32_bytes(&case.values))?;
        manifest.push(json!({"name": case.name, "shape": case.shape, "input": file}));
    }
    std::fs::write(dir.join("cases.json"), serde_json::to_vec(&manifest)?)?;

    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let python = find_python(&["onnxruntime", "numpy"], &["onnxruntime", "numpy"], true)?;
    eprintln!("running ONNX Runtime ({threads} threads) ...");
    let output = output_checked(
        Command::new(&python)
            .arg(repo_root().join("scripts/verify_onnx_ort.py"))
            .arg(&args.file)
            .arg(&dir)
            .args(["--threads", &threads.to_string()])
            .args(["--repeat", &args.repeat.to_string()]),
        "ONNX Runtime (scripts/verify_onnx_ort.py)",
    )?;
    let ort: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading the ONNX Runtime script's JSON")?;

    eprintln!("running Burn (flex) ...");
    println!(
        "{} ({:.1} MB, opset {}, sha256 {}...)",
        args.file.display(),
        bytes.len() as f64 / 1e6,
        onnx.opset,
        &onnx.sha256[..12]
    );
    println!(
        "{:<16} {:>14} {:>16} {:>16}",
        "case", "shape", "max |d logits|", "max |d p_fake|"
    );
    let mut worst: f64 = 0.0;
    let mut burn_seconds = Vec::new();
    let mut all_p_fake = Vec::new();
    for case in &cases {
        let (logits, p_fake) = burn_outputs(&detector, case, onnx.p_fake_temperature, &device);
        if case.name == "timing" {
            for _ in 0..args.repeat {
                let start = Instant::now();
                let _ = burn_outputs(&detector, case, onnx.p_fake_temperature, &device);
                burn_seconds.push(start.elapsed().as_secs_f64());
            }
        }
        let ort_logits = read_f32(&dir.join(format!("{}.ort_logits.f32", case.name)))?;
        let ort_p = read_f32(&dir.join(format!("{}.ort_p_fake.f32", case.name)))?;
        all_p_fake.extend_from_slice(&p_fake);
        let d_logits = max_abs_diff(&logits, &ort_logits)?;
        let d_p = max_abs_diff(&p_fake, &ort_p)?;
        worst = worst.max(d_logits).max(d_p);
        let shape: Vec<String> = case.shape.iter().map(|d| d.to_string()).collect();
        println!(
            "{:<16} {:>14} {:>16.2e} {:>16.2e}",
            case.name,
            shape.join("x"),
            d_logits,
            d_p
        );
    }
    let ort_seconds: Vec<f64> = ort["seconds_per_pass"]
        .as_array()
        .map(|v| v.iter().filter_map(|s| s.as_f64()).collect())
        .unwrap_or_default();
    let images = (batch * onnx.seq_len.unwrap_or(1)) as f64;
    let burn_rate = images / median(&burn_seconds);
    let ort_rate = images / median(&ort_seconds);
    println!(
        "speed, batch {batch}, {threads} threads, median of {}: Burn flex {burn_rate:.2} images/s, \
         ONNX Runtime {} {ort_rate:.2} images/s (Burn / ORT {:.2}x)",
        args.repeat,
        ort["onnxruntime"].as_str().unwrap_or("?"),
        burn_rate / ort_rate
    );
    if worst.is_nan() || worst > args.tolerance {
        bail!(
            "ONNX Runtime and Burn differ by {worst:.2e} > {:.0e}",
            args.tolerance
        );
    }
    // Agreement on outputs that ignore the input would prove nothing about the backbone.
    let spread = f64::from(deepfake_compare::spread(&all_p_fake, 1));
    println!("P(fake) spreads {spread:.3} over the inputs");
    if spread.is_nan() || spread < 100.0 * args.tolerance {
        bail!(
            "the model's P(fake) varies by only {spread:.2e} over the inputs (< 100 x the \
             tolerance): the comparison would hold whatever the backbone computes. Use a \
             trained model, or `cargo xtask test-model` for a full-size one"
        );
    }
    println!("OK: max difference {worst:.2e} <= {:.0e}", args.tolerance);
    Ok(())
}

/// Random inputs at batch 1 and `batch`, real (synthetic-face) images, and the timed case.
fn make_cases(size: usize, onnx: &OnnxFile, batch: usize, static_batch: bool) -> Vec<Case> {
    let steps = onnx.seq_len;
    let shape = |b: usize| match steps {
        None => vec![b, 3, size, size],
        Some(t) => vec![b, t, 3, size, size],
    };
    let random = |name: &str, b: usize, seed: u64| {
        let device = Device::flex();
        device.seed(seed);
        let count: usize = shape(b).iter().product();
        let values: Vec<f32> =
            Tensor::<1>::random([count], Distribution::Normal(0.0, 1.0), &device)
                .into_data()
                .try_to_vec()
                .unwrap_or_default();
        Case {
            name: name.into(),
            shape: shape(b),
            values,
        }
    };
    let mut cases = vec![random("random_b1", 1, 1)];
    if !static_batch {
        cases.push(random("random_b5", 5, 2));
    }
    // Real images: synthetic faces, half real half fake, through the evaluation preprocessing.
    let synth = SynthConfig {
        size: 256,
        ..SynthConfig::default()
    };
    let per_input = steps.unwrap_or(1);
    let images = if static_batch { 1 } else { 4 };
    let mut values = Vec::new();
    for i in 0..images * per_input {
        let label = if i % 2 == 0 { Label::Real } else { Label::Fake };
        let image = render(label, i as u64, &synth);
        values.extend(preprocess_eval(&image, size as u32).unwrap_or_default());
    }
    cases.push(Case {
        name: "images".into(),
        shape: shape(images),
        values,
    });
    cases.push(random("timing", batch, 3));
    cases
}

/// Burn's logits and calibrated p_fake for `case`.
fn burn_outputs(
    detector: &Detector,
    case: &Case,
    temperature: f64,
    device: &Device,
) -> (Vec<f32>, Vec<f32>) {
    let data = TensorData::new(case.values.clone(), case.shape.clone());
    let logits = if case.shape.len() == 4 {
        detector.forward(Tensor::<4>::from_data(data, device))
    } else {
        detector.forward_sequence(Tensor::<5>::from_data(data, device))
    };
    let p: Vec<f32> = softmax(logits.clone().div_scalar(temperature), 1)
        .into_data()
        .try_to_vec()
        .unwrap_or_default();
    let logits: Vec<f32> = logits.into_data().try_to_vec().unwrap_or_default();
    let p_fake = p.chunks(2).map(|row| row[1]).collect();
    (logits, p_fake)
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn read_f32(path: &Path) -> Result<Vec<f32>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// The largest difference of Burn's and ONNX Runtime's outputs (infinite on NaN).
fn max_abs_diff(burn: &[f32], ort: &[f32]) -> Result<f64> {
    deepfake_compare::max_abs_diff(burn, ort)
        .map(f64::from)
        .context("Burn's and ONNX Runtime's outputs")
}
