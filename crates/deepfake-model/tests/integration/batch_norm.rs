//! BatchNorm keeps PyTorch's running statistics: after one training step on a batch, the
//! running mean moves 10% towards the batch mean and the running variance 10% towards the
//! *unbiased* batch variance (computed here by hand, in f64). Training on flex normalises
//! through `normalize_with_batch_statistics`, which must equal Burn's `batch_norm_train`.

use crate::common;

use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use common::values;
use deepfake_model::BatchNorm;
use deepfake_model::batch_norm::normalize_with_batch_statistics;

#[test]
fn training_moves_running_statistics_towards_mean_and_unbiased_variance() {
    let device = Device::flex().autodiff();
    let (batch, channels, side) = (2, 3, 2);
    let values: Vec<f32> = (0..batch * channels * side * side)
        .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.7 + (i / 4) as f32 * 0.1)
        .collect();
    let input = Tensor::<4>::from_data(
        TensorData::new(values.clone(), [batch, channels, side, side]),
        &device,
    );
    let bn = BatchNorm::new(channels, &device);
    let _ = bn.forward(input);
    let mean: Vec<f32> = bn
        .running_mean
        .value_sync()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let var: Vec<f32> = bn
        .running_var
        .value_sync()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    for c in 0..channels {
        let xs: Vec<f64> = (0..batch)
            .flat_map(|b| {
                let start = (b * channels + c) * side * side;
                values[start..start + side * side]
                    .iter()
                    .map(|&v| f64::from(v))
            })
            .collect();
        let n = xs.len() as f64;
        let batch_mean = xs.iter().sum::<f64>() / n;
        let unbiased = xs.iter().map(|x| (x - batch_mean).powi(2)).sum::<f64>() / (n - 1.0);
        let want_mean = 0.9 * 0.0 + 0.1 * batch_mean;
        let want_var = 0.9 * 1.0 + 0.1 * unbiased;
        assert!(
            (f64::from(mean[c]) - want_mean).abs() <= 1e-6,
            "channel {c}: running mean {} vs {want_mean}",
            mean[c]
        );
        assert!(
            (f64::from(var[c]) - want_var).abs() <= 1e-5,
            "channel {c}: running variance {} vs {want_var} (unbiased)",
            var[c]
        );
    }
    // The batch variance is far from 0, so biased and unbiased differ by more than the tolerance.
    assert!(var.iter().all(|v| (v - 1.0).abs() > 0.05), "{var:?}");
}

/// Output, batch mean, batch variance and the input, `gamma` and `beta` gradients of a training
/// normalisation under [`common::distinct_weighted_sum`].
fn normalise_and_differentiate<const D: usize>(
    x: &Tensor<D>,
    gamma: &Tensor<1>,
    beta: &Tensor<1>,
    normalise: impl Fn(Tensor<D>, Tensor<1>, Tensor<1>) -> (Tensor<D>, Tensor<1>, Tensor<1>),
) -> [Vec<f32>; 6] {
    let x = x.clone().detach().require_grad();
    let gamma = gamma.clone().detach().require_grad();
    let beta = beta.clone().detach().require_grad();
    let (out, mean, variance) = normalise(x.clone(), gamma.clone(), beta.clone());
    let grads = common::distinct_weighted_sum(out.clone()).backward();
    [
        values(out),
        values(mean),
        values(variance),
        values(x.grad(&grads).expect("input gradient")),
        values(gamma.grad(&grads).expect("gamma gradient")),
        values(beta.grad(&grads).expect("beta gradient")),
    ]
}

/// `normalize_with_batch_statistics` against Burn's `batch_norm_train` on `x` `[B, C, ...]`
/// (channel c: values around c - 2, spread 0.5 + c / 2), outputs and gradients.
fn assert_batch_statistics_forms_agree<const D: usize>(x: Tensor<D>) {
    let device = x.device();
    let channels = x.dims()[1];
    let mut per_channel = [1; D];
    per_channel[1] = channels;
    let index = Tensor::<1, Int>::arange(0..channels as i64, &device).float();
    let spread = index
        .clone()
        .div_scalar(2.0)
        .add_scalar(0.5)
        .reshape(per_channel);
    let x = x * spread + index.sub_scalar(2.0).reshape(per_channel);
    let gamma = Tensor::<1>::random([channels], Distribution::Normal(1.0, 0.5), &device);
    let beta = Tensor::<1>::random([channels], Distribution::Normal(0.0, 0.5), &device);
    let got = normalise_and_differentiate(&x, &gamma, &beta, |x, gamma, beta| {
        normalize_with_batch_statistics(x, gamma, beta, 1e-5)
    });
    let want = normalise_and_differentiate(&x, &gamma, &beta, |x, gamma, beta| {
        let result = burn::tensor::module::batch_norm_train(x, gamma, beta, 1e-5);
        (result.output, result.mean, result.variance)
    });
    let shape = x.dims();
    let spread = deepfake_compare::spread(&want[0], 1);
    assert!(
        spread > 0.5,
        "{shape:?}: reference output barely varies ({spread})"
    );
    let names = [
        "output",
        "mean",
        "variance",
        "input gradient",
        "gamma gradient",
        "beta gradient",
    ];
    for (name, (got, want)) in names.iter().zip(got.iter().zip(&want)) {
        common::assert_close(&format!("{shape:?}: {name}"), got, want, 2e-5);
    }
}

#[test]
fn batch_statistics_form_equals_burns_batch_norm_train() {
    let device = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    assert_batch_statistics_forms_agree(Tensor::<4>::random([4, 6, 5, 7], normal, &device));
    assert_batch_statistics_forms_agree(Tensor::<3>::random([3, 5, 9], normal, &device));
    assert_batch_statistics_forms_agree(Tensor::<2>::random([16, 4], normal, &device));
}
