//! Global gradient-norm clipping with PyTorch's `clip_grad_norm_` semantics: one L2 norm over
//! all gradients together, every gradient scaled by `max_norm / (norm + 1e-6)` when larger.
//! (burn-optim's `GradientClippingConfig::Norm` clips each tensor on its own.)

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

struct Ids(Vec<(ParamId, usize)>);

impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

fn sum_of_squares<const D: usize>(grads: &GradientsParams, id: ParamId) -> f64 {
    grads
        .get::<D>(id)
        .map(|g| f64::from(g.powi_scalar(2).sum().into_scalar::<f32>()))
        .unwrap_or(0.0)
}

fn scale<const D: usize>(grads: &mut GradientsParams, id: ParamId, factor: f64) {
    if let Some(g) = grads.remove::<D>(id) {
        grads.register::<D>(id, g.mul_scalar(factor));
    }
}

/// Clips `grads` in place to a total L2 norm of `max_norm`; returns the norm before clipping.
pub fn clip_grad_norm<M: Module>(module: &M, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    let mut ids = Ids(Vec::new());
    module.visit(&mut ids);
    let total: f64 = ids
        .0
        .iter()
        .map(|&(id, rank)| match rank {
            1 => sum_of_squares::<1>(grads, id),
            2 => sum_of_squares::<2>(grads, id),
            3 => sum_of_squares::<3>(grads, id),
            4 => sum_of_squares::<4>(grads, id),
            _ => 0.0,
        })
        .sum();
    let norm = total.sqrt();
    let factor = max_norm / (norm + 1e-6);
    if factor < 1.0 {
        for &(id, rank) in &ids.0 {
            match rank {
                1 => scale::<1>(grads, id, factor),
                2 => scale::<2>(grads, id, factor),
                3 => scale::<3>(grads, id, factor),
                4 => scale::<4>(grads, id, factor),
                _ => {}
            }
        }
    }
    norm
}
