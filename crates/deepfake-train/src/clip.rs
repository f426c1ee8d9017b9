//! Global gradient-norm clipping with PyTorch's `clip_grad_norm_` semantics: one L2 norm over
//! all gradients together, every gradient scaled by `min(1, max_norm / (norm + 1e-6))`.
//! (burn-optim's `GradientClippingConfig::Norm` clips each tensor on its own.)
//!
//! Everything stays on the device, as in torch: the norm is not read back, so clipping never
//! makes the host wait for the device in the middle of a step.

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct Ids(Vec<(ParamId, usize)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// The gradient's sum of squares `[1]`, if the parameter has a gradient.
fn sum_of_squares<const D: usize>(grads: &GradientsParams, id: ParamId) -> Option<Tensor<1>> {
    grads.get::<D>(id).map(|g| g.powi_scalar(2).sum())
}

/// Multiplies the parameter's gradient by `factor` `[1]`.
fn scale<const D: usize>(grads: &mut GradientsParams, id: ParamId, factor: &Tensor<1>) {
    if let Some(g) = grads.remove::<D>(id) {
        let factor = factor.clone().reshape([1; D]);
        grads.register::<D>(id, g.mul(factor));
    }
}

/// Clips `grads` in place to a total L2 norm of `max_norm`; returns the norm before clipping,
/// `[1]` on the gradients' device (reading it waits for the device). Without any gradient the
/// norm is `None` and nothing changes.
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> Option<Tensor<1>> {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    let squares: Vec<Tensor<1>> = ids
        .0
        .iter()
        .filter_map(|&(id, rank)| match rank {
            1 => sum_of_squares::<1>(grads, id),
            2 => sum_of_squares::<2>(grads, id),
            3 => sum_of_squares::<3>(grads, id),
            4 => sum_of_squares::<4>(grads, id),
            _ => None,
        })
        .collect();
    if squares.is_empty() {
        return None;
    }
    let norm = Tensor::cat(squares, 0).sum().sqrt();
    // torch: clip_coef = max_norm / (total_norm + 1e-6), clamped to 1 and applied to every
    // gradient (a factor of exactly 1 leaves them unchanged).
    let factor = (norm.clone().add_scalar(1e-6))
        .recip()
        .mul_scalar(max_norm)
        .clamp_max(1.0);
    for &(id, rank) in &ids.0 {
        match rank {
            1 => scale::<1>(grads, id, &factor),
            2 => scale::<2>(grads, id, &factor),
            3 => scale::<3>(grads, id, &factor),
            4 => scale::<4>(grads, id, &factor),
            _ => {}
        }
    }
    Some(norm)
}
