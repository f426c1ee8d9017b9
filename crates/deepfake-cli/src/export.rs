//! `deepfake export`: export a trained detector to ONNX (opset 18, for ONNX Runtime and the
//! browser) or to a PyTorch state dict in safetensors format.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use deepfake::eval::Checkpoint;
use deepfake::formats::{MODEL_INFO_FILE, write_atomic};
use deepfake::onnx::{ExportOptions, describe_export, export_onnx, sha256_hex};
use deepfake::predict::SavedModel;

/// What `export` writes.
#[derive(Clone, Copy, PartialEq, ValueEnum)]
pub enum Format {
    /// ONNX opset 18, weights embedded, inputs/outputs `input`, `logits`, `p_fake`; writes
    /// `model_info.json` beside it.
    Onnx,
    /// The PyTorch reference module's state dict (`backbone.*`, `lstm.*`, `classifier.*`),
    /// loadable with `load_state_dict(safetensors.torch.load_file(...), strict=True)`.
    SafetensorsPytorch,
}

/// Export a trained deepfake detector for other runtimes.
#[derive(Parser)]
#[command(name = "export")]
pub struct Args {
    /// Saved model or training run [default: the newest run in runs/].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Output file [default: models/deepfake_detector.onnx, or .safetensors].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "onnx")]
    format: Format,
    /// Export frame sequences `[batch, T, 3, S, S]` of this many frames instead of single
    /// images `[batch, 3, S, S]`.
    #[arg(long, value_name = "T")]
    seq_len: Option<usize>,
    /// Fix the batch size at 1 instead of a dynamic `batch` axis.
    #[arg(long)]
    static_batch: bool,
    /// Leave the calibration temperature out of `p_fake` (softmax of the raw logits).
    #[arg(long)]
    no_temperature: bool,
}

/// Exports the model and prints what was written and how to check it.
pub fn run(args: Args) -> Result<()> {
    let device = burn::tensor::Device::flex();
    let checkpoint = match &args.checkpoint {
        Some(path) => path.clone(),
        None => {
            Checkpoint::newest_run(Path::new("runs"))
                .context("pass --checkpoint DIR (a saved model or a training run)")?
                .model_dir
        }
    };
    let saved = SavedModel::load(&checkpoint, &device)
        .with_context(|| format!("loading the model from {}", checkpoint.display()))?;
    let default_name = match args.format {
        Format::Onnx => "models/deepfake_detector.onnx",
        Format::SafetensorsPytorch => "models/deepfake_detector.safetensors",
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(default_name));
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let started = Instant::now();
    match args.format {
        Format::SafetensorsPytorch => {
            if args.seq_len.is_some() || args.static_batch {
                bail!("--seq-len and --static-batch apply to --format onnx only");
            }
            saved.model.save_pytorch_safetensors(&out)?;
            println!(
                "wrote {} ({} bytes) in {:.1} s: load it in PyTorch with \
                 model.load_state_dict(safetensors.torch.load_file(path), strict=True)",
                out.display(),
                std::fs::metadata(&out)?.len(),
                started.elapsed().as_secs_f64()
            );
        }
        Format::Onnx => export(&args, &saved, &checkpoint, &out, &device, started)?,
    }
    Ok(())
}

fn export(
    args: &Args,
    saved: &SavedModel,
    checkpoint: &Path,
    out: &Path,
    device: &burn::tensor::Device,
    started: Instant,
) -> Result<()> {
    let options = ExportOptions {
        seq_len: args.seq_len,
        static_batch: args.static_batch,
        temperature: if args.no_temperature {
            1.0
        } else {
            saved.temperature
        },
    };
    eprintln!(
        "tracing the model ({} parameters) ...",
        deepfake::model::trainable_params(&saved.model)
    );
    let exported = export_onnx(&saved.model, &saved.config, options, device)?;
    write_atomic(out, &exported.bytes)?;
    let file_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut info = describe_export(&exported, options, &file_name, saved.info.clone())?;
    if let Some(onnx) = &mut info.onnx {
        onnx.source = Some(checkpoint.display().to_string());
    }
    let info_path = out.with_file_name(MODEL_INFO_FILE);
    info.write(&info_path)?;
    let summary = &exported.summary;
    println!(
        "wrote {} ({:.1} MB, opset {}, {} nodes) and {} in {:.1} s",
        out.display(),
        exported.bytes.len() as f64 / 1e6,
        summary.opset,
        summary.nodes,
        info_path.display(),
        started.elapsed().as_secs_f64()
    );
    for tensor in summary.inputs.iter().chain(&summary.outputs) {
        println!(
            "  {:<7} [{}] {}",
            tensor.name,
            tensor.shape.join(", "),
            tensor.dtype
        );
    }
    println!(
        "  p_fake = sigmoid((logit_fake - logit_real) / {}), fake when p_fake >= {}",
        options.temperature, info.threshold
    );
    println!("  sha256 {}", sha256_hex(&exported.bytes));
    println!(
        "check it with ONNX Runtime: cargo xtask verify-onnx {}",
        out.display()
    );
    Ok(())
}
