//! BatchNorm keeps PyTorch's running statistics: after one training step on a batch, the
//! running mean moves 10% towards the batch mean and the running variance 10% towards the
//! *unbiased* batch variance (computed here by hand, in f64).

use burn::tensor::{Device, Tensor, TensorData};
use deepfake_model::BatchNorm;

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
