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

/// Parameters of every rank (1 to 4) with the gradients 3, (0, 4), 12 and 0: the loss is half
/// their sum of squares, so each gradient equals its parameter and the global norm is
/// sqrt(9 + 16 + 144) = 13. Clipped to 6.5, each gradient halves (within the 1e-6 of torch's
/// formula).
#[derive(burn::module::Module, Debug)]
struct EveryRank {
    one: Param<Tensor<1>>,
    two: Param<Tensor<2>>,
    three: Param<Tensor<3>>,
    four: Param<Tensor<4>>,
}

#[test]
fn parameters_of_every_rank_are_clipped_together() {
    let device = Device::flex().autodiff();
    let param = |values: Vec<f32>, shape: Vec<usize>| TensorData::new(values, shape);
    let module = EveryRank {
        one: Param::from_tensor(Tensor::from_data(param(vec![3.0], vec![1]), &device)),
        two: Param::from_tensor(Tensor::from_data(
            param(vec![0.0, 4.0], vec![1, 2]),
            &device,
        )),
        three: Param::from_tensor(Tensor::from_data(param(vec![12.0], vec![1, 1, 1]), &device)),
        four: Param::from_tensor(Tensor::from_data(
            param(vec![0.0], vec![1, 1, 1, 1]),
            &device,
        )),
    };
    let half_square = |t: Tensor<1>| t.powi_scalar(2).sum().mul_scalar(0.5);
    let loss = half_square(module.one.val())
        + half_square(module.two.val().flatten(0, 1))
        + half_square(module.three.val().flatten(0, 2))
        + half_square(module.four.val().flatten(0, 3));
    let mut grads = GradientsParams::from_grads(loss.backward(), &module);

    let norm = clip_grad_norm(&module, &mut grads, 6.5).expect("the module has gradients");
    assert_eq!(norm.into_scalar::<f32>(), 13.0);
    let factor = 6.5 / (13.0 + 1e-6);
    let values = |data: TensorData| data.try_to_vec::<f32>().unwrap();
    let clipped = [
        values(grads.get::<1>(module.one.id).unwrap().into_data()),
        values(grads.get::<2>(module.two.id).unwrap().into_data()),
        values(grads.get::<3>(module.three.id).unwrap().into_data()),
        values(grads.get::<4>(module.four.id).unwrap().into_data()),
    ];
    let expected = [vec![3.0], vec![0.0, 4.0], vec![12.0], vec![0.0]];
    for (rank, (got, unclipped)) in clipped.iter().zip(&expected).enumerate() {
        let want: Vec<f32> = unclipped.iter().map(|g| g * factor as f32).collect();
        let diff = deepfake_compare::max_abs_diff_or_panic(got, &want);
        assert!(diff <= 1e-6, "rank {}: {got:?} vs {want:?}", rank + 1);
    }
}
