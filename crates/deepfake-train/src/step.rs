//! One optimisation step: forward in training mode, cross-entropy, backward, optional global
//! clipping, Adam update.

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, decay::WeightDecayConfig};
use burn::tensor::{Int, Tensor};
use deepfake_model::Detector;

use crate::clip::clip_grad_norm;

/// Adam as PyTorch's `torch.optim.Adam(lr, weight_decay)`: L2 decay added to the gradient,
/// betas (0.9, 0.999) and epsilon 1e-8 (burn's default is 1e-5).
pub fn torch_adam(weight_decay: f64) -> ModuleOptimizer {
    let mut config = AdamConfig::new().with_epsilon(1e-8);
    if weight_decay > 0.0 {
        config = config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
    }
    config.init()
}

/// What one step measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutput {
    /// Mean cross-entropy of the batch (before the update).
    pub loss: f32,
    /// Correct argmax predictions in the batch.
    pub correct: usize,
    /// Global gradient norm before clipping (when clipping is on).
    pub grad_norm: Option<f64>,
}

/// Runs one step on `images [B,3,H,W]` / `labels [B]` (tensors on an autodiff device).
pub fn train_step(
    model: Detector,
    optimizer: &mut ModuleOptimizer,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    lr: f64,
    max_grad_norm: Option<f64>,
) -> (Detector, StepOutput) {
    let logits = model.forward(images);
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), labels.clone());
    let correct = logits
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(labels)
        .int()
        .sum()
        .into_scalar::<i64>() as usize;
    let loss_value = loss.clone().into_scalar::<f32>();
    let gradients = loss.backward();
    let mut grads = GradientsParams::from_grads(gradients, &model);
    let grad_norm = max_grad_norm.map(|max| clip_grad_norm(&model, &mut grads, max));
    let model = optimizer.step(lr, model, grads);
    (
        model,
        StepOutput {
            loss: loss_value,
            correct,
            grad_norm,
        },
    )
}
