//! `cargo xtask test-model`: a randomly initialised preset made input-sensitive for checks of
//! other runtimes at full size. An untrained detector's P(fake) barely depends on its input
//! (its logit margins spread ~1e-4), so any two runtimes agree on it whatever their backbones
//! compute; here the last layer is scaled so the margins of graded random images span 4
//! (P(fake) ~0.12..0.88), then the model is saved as `deepfake export` reads it.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use burn::module::Param;
use burn::tensor::{Device, Distribution, Tensor};
use deepfake_cli::Preset;

/// Options of `cargo xtask test-model`.
#[derive(clap::Args)]
pub struct Args {
    /// Architecture.
    #[arg(long, value_enum, default_value = "seed")]
    preset: Preset,
    /// Folder to save the model in (config.json, model.bpk, model_info.json).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the initialisation and of the probe images.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    let device = Device::flex();
    device.seed(args.seed);
    let config = args.preset.config();
    let mut model = config.init(&device)?;
    let size = config.image_size;
    // Eight probe images from dark to bright.
    let noise = Tensor::<4>::random([8, 3, size, size], Distribution::Normal(0.0, 1.0), &device);
    let offsets: Vec<f32> = (0..8).map(|i| -1.0 + 2.0 * i as f32 / 7.0).collect();
    let images =
        noise + Tensor::<1>::from_floats(offsets.as_slice(), &device).reshape([8, 1, 1, 1]);
    let margins = |model: &deepfake::model::Detector| -> Result<Vec<f32>> {
        let logits: Vec<f32> = model.forward(images.clone()).into_data().try_to_vec()?;
        Ok(logits.chunks_exact(2).map(|l| l[1] - l[0]).collect())
    };
    let before = margins(&model)?;
    let (low, high) = before
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, h), &m| {
            (l.min(m), h.max(m))
        });
    if high.is_nan() || low.is_nan() || high <= low {
        bail!("the untrained model's margins do not vary at all ({low}..{high})");
    }
    let gain = 4.0 / (high - low);
    let centre = (high + low) / 2.0 * gain;
    let fc2 = &mut model.classifier.fc2;
    fc2.weight = Param::from_tensor(fc2.weight.val().mul_scalar(gain));
    let bias = fc2
        .bias
        .as_ref()
        .context("fc2 has a bias")?
        .val()
        .mul_scalar(gain);
    // Shift the Fake logit so the margins centre on 0.
    fc2.bias = Some(Param::from_tensor(
        bias + Tensor::<1>::from_floats([0.0, -centre], &device),
    ));
    let after = margins(&model)?;
    model.save(&config, &args.out)?;
    model
        .model_info(&config)
        .write(&args.out.join(deepfake::formats::MODEL_INFO_FILE))?;
    println!(
        "saved {} ({} preset, last layer x{gain:.3e}): logit margins of graded images {:?}",
        args.out.display(),
        args.preset.name(),
        after.iter().map(|m| format!("{m:.2}")).collect::<Vec<_>>()
    );
    Ok(())
}
