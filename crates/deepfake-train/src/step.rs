//! One optimisation step: forward in training mode, cross-entropy, backward, optional global
//! clipping, Adam update.
//!
//! A step only queues work on the device: what it measured stays there ([`QueuedStep`]) until
//! [`QueuedStep::read`] brings it back in one transfer. On a GPU, reading waits for the device
//! to finish; the training loop therefore reads a step after it has queued the next one, so the
//! device never idles while the host prepares a step (PyTorch's `loss.item()` mid-step would
//! stall the same way).

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, decay::WeightDecayConfig};
use burn::tensor::{Int, Tensor};
use deepfake_model::Detector;

use crate::clip::clip_grad_norm;
use crate::error::{Result, TrainError};

/// Adam as PyTorch's `torch.optim.Adam(lr, weight_decay)`: L2 decay added to the gradient,
/// betas (0.9, 0.999) and epsilon 1e-8 (burn's default is 1e-5).
pub fn torch_adam(weight_decay: f64) -> ModuleOptimizer {
    let mut config = AdamConfig::new().with_epsilon(1e-8);
    if weight_decay > 0.0 {
        config = config.with_weight_decay(Some(WeightDecayConfig::new(weight_decay as f32)));
    }
    config.init()
}

/// What one step measured, read back from the device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepOutput {
    /// Mean cross-entropy of the batch (before the update).
    pub loss: f32,
    /// Correct argmax predictions in the batch.
    pub correct: usize,
    /// Global gradient norm before clipping (when clipping is on and any parameter has a
    /// gradient).
    pub grad_norm: Option<f64>,
}

/// What one step measured, still on the device (each tensor `[1]`, without autodiff).
#[derive(Debug)]
pub struct QueuedStep {
    loss: Tensor<1>,
    correct: Tensor<1>,
    grad_norm: Option<Tensor<1>>,
}

impl QueuedStep {
    /// Brings the step's measurements back in one transfer (waits for the device to finish
    /// the step).
    ///
    /// # Errors
    /// [`TrainError::Device`] when the device does not return them.
    pub fn read(self) -> Result<StepOutput> {
        let mut parts = vec![self.loss, self.correct];
        parts.extend(self.grad_norm);
        let values = Tensor::cat(parts, 0)
            .into_data()
            .try_to_vec::<f32>()
            .map_err(|e| TrainError::Device(format!("{e:?}")))?;
        let [loss, correct, grad_norm @ ..] = values.as_slice() else {
            return Err(TrainError::Device(format!(
                "a step returned {} values, expected at least 2",
                values.len()
            )));
        };
        Ok(StepOutput {
            loss: *loss,
            // A count of at most the batch size: exact in f32 up to 2^24.
            correct: *correct as usize,
            grad_norm: grad_norm.first().map(|norm| f64::from(*norm)),
        })
    }
}

/// Queues one step on `images [B,3,H,W]` / `labels [B]` (tensors on an autodiff device) and
/// returns the updated model; [`QueuedStep::read`] gives what it measured.
pub fn train_step(
    model: Detector,
    optimizer: &mut ModuleOptimizer,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
    lr: f64,
    max_grad_norm: Option<f64>,
) -> (Detector, QueuedStep) {
    let logits = model.forward(images);
    let loss = CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits.clone(), labels.clone());
    // Measured on the inner device (no autodiff): nothing here is differentiated.
    let correct = logits
        .inner()
        .argmax(1)
        .squeeze_dim::<1>(1)
        .equal(labels.inner())
        .int()
        .sum()
        .float();
    let measured_loss = loss.clone().inner();
    let gradients = loss.backward();
    let mut grads = GradientsParams::from_grads(gradients, &model);
    let grad_norm = max_grad_norm
        .and_then(|max| clip_grad_norm(&model, &mut grads, max))
        .map(Tensor::inner);
    let model = optimizer.step(lr, model, grads);
    (
        model,
        QueuedStep {
            loss: measured_loss,
            correct,
            grad_norm,
        },
    )
}
