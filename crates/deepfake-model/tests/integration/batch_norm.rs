//! BatchNorm keeps PyTorch's running statistics: after one training step on a batch, the
//! running mean moves 10% towards the batch mean and the running variance 10% towards the
//! *unbiased* batch variance (computed here by hand, in f64). Training on flex normalises
//! through `normalize_with_batch_statistics` (host kernels with a hand-written backward pass),
//! which must equal Burn's `batch_norm_train` (followed by `relu` where it fuses one), outputs
//! and gradients.

use crate::common;

use burn::tensor::activation::relu;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use common::values;
use deepfake_model::BatchNorm;
use deepfake_model::flex_batch_norm::{Epilogue, normalize_with_batch_statistics};

/// The running mean and variance of `bn`, per channel.
fn running_statistics(bn: &BatchNorm) -> (Vec<f32>, Vec<f32>) {
    let read = |state: Tensor<1>| state.into_data().try_to_vec::<f32>().unwrap();
    (
        read(bn.running_mean.value_sync()),
        read(bn.running_var.value_sync()),
    )
}

/// Mean and unbiased variance (f64) of channel `c` of `values` `[batch, channels, side, side]`.
fn channel_statistics(values: &[f32], [batch, channels, side]: [usize; 3], c: usize) -> (f64, f64) {
    let xs: Vec<f64> = (0..batch)
        .flat_map(|b| {
            let start = (b * channels + c) * side * side;
            values[start..start + side * side]
                .iter()
                .map(|&v| f64::from(v))
        })
        .collect();
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let unbiased = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, unbiased)
}

/// Two training steps: the first from PyTorch's initial statistics (mean 0, variance 1), the
/// second from the first's, so that the old statistics' weight (0.9) is seen on values other
/// than 0 and 1.
#[test]
fn training_moves_running_statistics_towards_mean_and_unbiased_variance() {
    let device = Device::flex().autodiff();
    let (batch, channels, side) = (2, 3, 2);
    let steps: [Vec<f32>; 2] = [
        (0..batch * channels * side * side)
            .map(|i| ((i * 37 % 11) as f32 - 5.0) * 0.7 + (i / 4) as f32 * 0.1)
            .collect(),
        (0..batch * channels * side * side)
            .map(|i| ((i * 13 % 7) as f32 - 1.0) * 1.9 + (i % 3) as f32)
            .collect(),
    ];
    let bn = BatchNorm::new(channels, &device);
    let (mut want_mean, mut want_var) = (vec![0.0f64; channels], vec![1.0f64; channels]);
    for (step, values) in steps.iter().enumerate() {
        let input = Tensor::<4>::from_data(
            TensorData::new(values.clone(), [batch, channels, side, side]),
            &device,
        );
        let _ = bn.forward(input);
        let (mean, var) = running_statistics(&bn);
        for c in 0..channels {
            let (batch_mean, unbiased) = channel_statistics(values, [batch, channels, side], c);
            want_mean[c] = 0.9 * want_mean[c] + 0.1 * batch_mean;
            want_var[c] = 0.9 * want_var[c] + 0.1 * unbiased;
            assert!(
                (f64::from(mean[c]) - want_mean[c]).abs() <= 1e-6,
                "step {step}, channel {c}: running mean {} vs {}",
                mean[c],
                want_mean[c]
            );
            assert!(
                (f64::from(var[c]) - want_var[c]).abs() <= 1e-5,
                "step {step}, channel {c}: running variance {} vs {} (unbiased)",
                var[c],
                want_var[c]
            );
        }
        // The batch variance is far from 0, so biased and unbiased differ by more than the
        // tolerance; the first step's mean is far from 0, so its weight shows in the second.
        assert!(var.iter().all(|v| (v - 1.0).abs() > 0.05), "{var:?}");
        assert!(mean.iter().all(|m| m.abs() > 0.01), "{mean:?}");
    }
}

/// What follows the normalisation: a residual add and a ReLU (end of a ResNet block), a ReLU,
/// or nothing.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Then {
    Nothing,
    Relu,
    AddRelu,
}

/// A training normalisation: input, `gamma`, `beta`, residual -> output, mean, variance.
type Normalise<const D: usize> =
    dyn Fn(Tensor<D>, Tensor<1>, Tensor<1>, Option<Tensor<D>>) -> (Tensor<D>, Tensor<1>, Tensor<1>);

/// Output, batch mean, batch variance and the input, `gamma`, `beta` and residual gradients
/// (the last empty without a residual) of a training normalisation under
/// [`common::distinct_weighted_sum`].
fn normalise_and_differentiate<const D: usize>(
    x: &Tensor<D>,
    gamma: &Tensor<1>,
    beta: &Tensor<1>,
    residual: Option<&Tensor<D>>,
    normalise: &Normalise<D>,
) -> [Vec<f32>; 7] {
    let x = x.clone().detach().require_grad();
    let gamma = gamma.clone().detach().require_grad();
    let beta = beta.clone().detach().require_grad();
    let residual = residual.map(|r| r.clone().detach().require_grad());
    let (out, mean, variance) = normalise(x.clone(), gamma.clone(), beta.clone(), residual.clone());
    let grads = common::distinct_weighted_sum(out.clone()).backward();
    [
        values(out),
        values(mean),
        values(variance),
        values(x.grad(&grads).expect("input gradient")),
        values(gamma.grad(&grads).expect("gamma gradient")),
        values(beta.grad(&grads).expect("beta gradient")),
        residual.map_or_else(Vec::new, |r| {
            values(r.grad(&grads).expect("residual gradient"))
        }),
    ]
}

/// `normalize_with_batch_statistics` against Burn's `batch_norm_train` (then `+ residual` and
/// `relu` as `then` says) on `x` `[B, C, ...]` (channel c: values around c - 2, spread
/// 0.5 + c / 2; the residual standard normal, so the ReLU cuts some values of most channels),
/// outputs and gradients.
fn assert_batch_statistics_forms_agree<const D: usize>(x: Tensor<D>, then: Then) {
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
    let residual = (then == Then::AddRelu)
        .then(|| Tensor::<D>::random(x.dims(), Distribution::Normal(0.0, 1.0), &device));
    let x = x * spread + index.sub_scalar(2.0).reshape(per_channel);
    let gamma = Tensor::<1>::random([channels], Distribution::Normal(1.0, 0.5), &device);
    let beta = Tensor::<1>::random([channels], Distribution::Normal(0.0, 0.5), &device);
    let relu_after = then != Then::Nothing;
    let got =
        normalise_and_differentiate(&x, &gamma, &beta, residual.as_ref(), &move |x, g, b, r| {
            let epilogue = match (r, then) {
                (Some(r), _) => Epilogue::AddRelu(r),
                (None, Then::Relu) => Epilogue::Relu,
                (None, _) => Epilogue::Nothing,
            };
            normalize_with_batch_statistics(x, g, b, 1e-5, epilogue)
        });
    // The reference: Burn's own training BatchNorm, add and ReLU (autodiff differentiates them).
    let want =
        normalise_and_differentiate(&x, &gamma, &beta, residual.as_ref(), &move |x, g, b, r| {
            let result = burn::tensor::module::batch_norm_train(x, g, b, 1e-5);
            let output = match r {
                Some(r) => result.output + r,
                None => result.output,
            };
            let output = if relu_after { relu(output) } else { output };
            (output, result.mean, result.variance)
        });
    let shape = x.dims();
    let cut = want[0].iter().filter(|&&v| v == 0.0).count();
    assert_eq!(
        cut > want[0].len() / 10,
        relu_after,
        "{shape:?}: {cut} of {} outputs are 0",
        want[0].len()
    );
    let spread = deepfake_compare::spread(&want[0], 1);
    assert!(
        spread > 0.5,
        "{shape:?}: reference output barely varies ({spread})"
    );
    assert_eq!(want[6].is_empty(), residual.is_none());
    let names = [
        "output",
        "mean",
        "variance",
        "input gradient",
        "gamma gradient",
        "beta gradient",
        "residual gradient",
    ];
    for (name, (got, want)) in names.iter().zip(got.iter().zip(&want)) {
        // 2e-5 of the largest value (sums over many values carry float32 rounding).
        let largest = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        let what = format!("{shape:?} {then:?}: {name}");
        common::assert_close(&what, got, want, 2e-5 * largest);
    }
}

#[test]
fn flex_batch_norm_equals_burns_batch_norm_train_add_and_relu() {
    let device = Device::flex().autodiff();
    let normal = Distribution::Normal(0.0, 1.0);
    for then in [Then::Nothing, Then::Relu, Then::AddRelu] {
        let x = Tensor::<4>::random([4, 6, 5, 7], normal, &device);
        assert_batch_statistics_forms_agree(x, then);
        let x = Tensor::<3>::random([3, 5, 9], normal, &device);
        assert_batch_statistics_forms_agree(x, then);
        let x = Tensor::<2>::random([16, 4], normal, &device);
        assert_batch_statistics_forms_agree(x, then);
    }
    // Planes longer than a parallel task (2^14 values) and more channels than threads, so
    // that the kernels' split into tasks is covered.
    let x = Tensor::<4>::random([2, 8, 130, 130], normal, &device);
    assert_batch_statistics_forms_agree(x, Then::AddRelu);
}
