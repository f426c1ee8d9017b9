//! `BatchNorm2d` with PyTorch's training semantics.
//!
//! Burn's `nn::BatchNorm` updates `running_var` with the biased batch variance; PyTorch uses
//! the unbiased one (`var * n / (n - 1)`, `n` values per channel in the batch). On small
//! late-stage maps the two differ by a lot (layer 4 of a 32x32 input at batch 8: n = 8, a
//! factor 8/7), so a model trained here would carry other running statistics than the same
//! run in PyTorch. This module is Burn's with that one update changed; its fields, record and
//! struct name are Burn's, so saved models and PyTorch state dicts load unchanged (burn-store
//! recognises BatchNorm by the struct name for the `weight`/`bias` <-> `gamma`/`beta` renaming).
//!
//! On flex, training normalises through [`crate::flex_batch_norm`] (host kernels with their own
//! backward pass, the ReLU after the BatchNorm fused in where [`BatchNorm::forward_relu`] asks
//! for it) rather than Burn's `batch_norm_train`, whose statistics and gradients reduce over a
//! copy of the input with the batch and channel axes swapped, in single-threaded passes.

use burn::module::{Flag, Module, Param, RunningState};
use burn::tensor::{Device, Tensor};

use crate::device_kind::is_cubecl;
use crate::flex_batch_norm::{Epilogue, normalize_with_batch_statistics};

/// Epsilon added to the variance (PyTorch's default).
pub const BATCH_NORM_EPSILON: f64 = 1e-5;
/// Weight of the current batch in the running statistics (PyTorch's default).
pub const BATCH_NORM_MOMENTUM: f64 = 0.1;

/// Batch normalisation over the channels of `[B, C, ...]` inputs.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale per channel `[C]` (PyTorch `weight`).
    pub gamma: Param<Tensor<1>>,
    /// Shift per channel `[C]` (PyTorch `bias`).
    pub beta: Param<Tensor<1>>,
    /// Whether a forward pass on an autodiff device normalises with the batch's statistics
    /// (`module.train()`) or with the running ones (`module.valid()`... `eval()`).
    pub training: Param<Flag>,
    /// Running mean per channel `[C]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running unbiased variance per channel `[C]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Weight of the current batch in the running statistics.
    pub momentum: f64,
    /// Added to the variance before the square root.
    pub epsilon: f64,
}

impl BatchNorm {
    /// A BatchNorm of `channels` channels as PyTorch initialises it: scale 1, shift 0, running
    /// mean 0 and variance 1, momentum 0.1, epsilon 1e-5.
    ///
    /// # Panics
    /// If `channels` is 0.
    pub fn new(channels: usize, device: &Device) -> Self {
        assert!(channels > 0, "a BatchNorm needs at least one channel");
        Self {
            gamma: Param::from_tensor(Tensor::ones([channels], device)),
            beta: Param::from_tensor(Tensor::zeros([channels], device)),
            training: Param::from_bool(true),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
            momentum: BATCH_NORM_MOMENTUM,
            epsilon: BATCH_NORM_EPSILON,
        }
    }

    /// `[B, C, ...]` -> the same shape. In training (an autodiff device and not `valid()`),
    /// normalises with the batch's mean and biased variance and moves the running statistics
    /// towards the batch's mean and *unbiased* variance (PyTorch); otherwise normalises with
    /// the running statistics.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        self.forward_then(input, Epilogue::Nothing)
    }

    /// `relu(self.forward(input))`, `[B, C, ...]` -> the same shape; in training on flex one
    /// operation (the ReLU costs no pass of its own, forward or backward).
    pub fn forward_relu<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        self.forward_then(input, Epilogue::Relu)
    }

    /// `relu(self.forward(input) + residual)`, both `[B, C, ...]` -> the same shape: the end
    /// of a ResNet block; in training on flex one operation.
    pub fn forward_add_relu<const D: usize>(
        &self,
        input: Tensor<D>,
        residual: Tensor<D>,
    ) -> Tensor<D> {
        self.forward_then(input, Epilogue::AddRelu(residual))
    }

    /// [`forward`](Self::forward), then `epilogue`.
    fn forward_then<const D: usize>(&self, input: Tensor<D>, epilogue: Epilogue<D>) -> Tensor<D> {
        if input.device().is_autodiff() && self.training.is_enabled() {
            return self.forward_train(input, epilogue);
        }
        let device = input.device();
        epilogue.apply(burn::tensor::module::batch_norm(
            input,
            self.gamma.val(),
            self.beta.val(),
            self.running_mean.value().to_device(&device),
            self.running_var.value().to_device(&device),
            self.epsilon,
        ))
    }

    fn forward_train<const D: usize>(&self, input: Tensor<D>, epilogue: Epilogue<D>) -> Tensor<D> {
        let device = input.device();
        let dims = input.dims();
        // Values per channel in this batch: everything but the channel axis.
        let per_channel = dims.iter().product::<usize>() / dims[1].max(1);
        let (output, mean, variance) = if is_cubecl(&device) {
            let result = burn::tensor::module::batch_norm_train(
                input,
                self.gamma.val(),
                self.beta.val(),
                self.epsilon,
            );
            (epilogue.apply(result.output), result.mean, result.variance)
        } else {
            normalize_with_batch_statistics(
                input,
                self.gamma.val(),
                self.beta.val(),
                self.epsilon,
                epilogue,
            )
        };
        let unbiased = per_channel as f64 / (per_channel.max(2) - 1) as f64;
        let running_mean = self
            .running_mean
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - self.momentum)
            .add(mean.detach().mul_scalar(self.momentum));
        let running_var = self
            .running_var
            .value_sync()
            .to_device(&device)
            .mul_scalar(1.0 - self.momentum)
            .add(variance.detach().mul_scalar(self.momentum * unbiased));
        self.running_mean.update(running_mean.detach());
        self.running_var.update(running_var.detach());
        output
    }
}
