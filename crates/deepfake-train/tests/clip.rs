//! Global gradient clipping: after clipping, the L2 norm over all gradients together is
//! `max_norm * norm / (norm + 1e-6)` (torch `clip_grad_norm_`), and every gradient is scaled by
//! the same factor; below the limit nothing changes.

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use deepfake_model::DetectorConfig;
use deepfake_train::clip::clip_grad_norm;

struct Ids(Vec<(ParamId, usize)>);
impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

fn squares(grads: &GradientsParams, ids: &[(ParamId, usize)]) -> f64 {
    fn one<const D: usize>(g: &GradientsParams, id: ParamId) -> f64 {
        g.get::<D>(id)
            .map(|t| f64::from(t.powi_scalar(2).sum().into_scalar::<f32>()))
            .unwrap_or(0.0)
    }
    ids.iter()
        .map(|&(id, rank)| match rank {
            1 => one::<1>(grads, id),
            2 => one::<2>(grads, id),
            4 => one::<4>(grads, id),
            _ => 0.0,
        })
        .sum()
}

#[test]
fn clipping_scales_all_gradients_to_the_global_norm() {
    let device = Device::flex().autodiff();
    let model = DetectorConfig::tiny()
        .with_dropout(0.0)
        .init(&device)
        .unwrap();
    let images = Tensor::<4>::random([4, 3, 64, 64], Distribution::Normal(0.0, 1.0), &device);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 1, 0], [4]), &device);
    let loss = CrossEntropyLossConfig::new()
        .init(&device)
        .forward(model.forward(images), labels);
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    let mut ids = Ids(Vec::new());
    burn::module::Module::visit(&model, &mut ids);

    // The norm comes back on the device, computed in f32: within 1e-6 of the f64 sum here.
    let norm = |grads: &mut GradientsParams, max_norm: f64| {
        let norm = clip_grad_norm(&model, grads, max_norm).expect("the model has gradients");
        f64::from(norm.into_scalar::<f32>())
    };
    let before = squares(&grads, &ids.0).sqrt();
    // Below the limit nothing changes.
    assert!((norm(&mut grads, before * 2.0) - before).abs() <= 1e-6 * before);
    assert!((squares(&grads, &ids.0).sqrt() - before).abs() <= 1e-6 * before);

    let max_norm = before / 10.0;
    let reported = norm(&mut grads, max_norm);
    assert!((reported - before).abs() <= 1e-6 * before);
    let after = squares(&grads, &ids.0).sqrt();
    let expected = max_norm * before / (before + 1e-6);
    assert!(
        (after - expected).abs() <= 1e-4 * expected,
        "{after} vs {expected}"
    );
}
