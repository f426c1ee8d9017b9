//! `deepfake model-info`: a detector preset's architecture and parameter counts, and the time
//! of one forward pass on random input.

use std::time::Instant;

use anyhow::Result;
use burn::tensor::{Distribution, Tensor};
use clap::Parser;
use deepfake::model::trainable_params;

use crate::{DeviceFlag, Preset};

/// Show a detector preset and run one forward pass on random input.
#[derive(Parser)]
#[command(name = "model_info")]
pub struct Args {
    /// Which preset to build.
    #[arg(long, value_enum, default_value = "tiny")]
    preset: Preset,
    #[command(flatten)]
    device: DeviceFlag,
    /// Frames per sequence (1 = single images).
    #[arg(long, default_value_t = 1)]
    frames: usize,
    /// Batch size of the timed forward pass.
    #[arg(long, default_value_t = 1)]
    batch_size: usize,
    /// Also save the randomly initialised model here (config.json + model.bpk), e.g. for
    /// benchmarks of `predict`.
    #[arg(long)]
    save: Option<std::path::PathBuf>,
    /// Seed of the random initialisation.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Load these weights (a PyTorch state dict of the reference module, `.pth` or
    /// `.safetensors`) instead of a random initialisation.
    #[arg(long)]
    from_pytorch: Option<std::path::PathBuf>,
}

/// Prints the preset and the time of one forward pass; `--save` writes the random model.
pub fn run(args: Args) -> Result<()> {
    let device = args.device.device();
    let config = args.preset.config();
    device.seed(args.seed);
    let detector = match &args.from_pytorch {
        Some(path) => deepfake::model::Detector::from_pytorch(path, &config, &device)?,
        None => config.init(&device)?,
    };
    if let Some(dir) = &args.save {
        detector.save(&config, dir)?;
        println!("saved to {}", dir.display());
    }
    println!("{config}");
    println!(
        "trainable parameters: {} (backbone {}, feature width {})",
        trainable_params(&detector),
        trainable_params(&detector.backbone),
        config.backbone.feature_dim()
    );
    let size = config.image_size;
    let shape = [args.batch_size.max(1), args.frames.max(1), 3, size, size];
    let frames = Tensor::<5>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let start = Instant::now();
    let logits = detector.forward_sequence(frames).into_data();
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "forward {shape:?} -> logits {:?} in {seconds:.3} s",
        logits.shape()
    );
    Ok(())
}
