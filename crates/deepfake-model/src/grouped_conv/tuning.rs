//! Which grouped-convolution formulation is fastest, measured per shape and device.
//!
//! The first time a convolution shape runs on a cubecl device (without a pinned method), each
//! formulation of [`GroupedConvMethod::ALL`] runs once to warm up (kernel compilation and Burn's
//! own autotune of the matrix products happen there), then [`REPEATS`] times, timed to the
//! device's completion; the least time counts. On an autodiff device a run is the forward and
//! the backward pass (input and weight gradients), as a training step runs it; otherwise the
//! forward pass. The fastest formulation is cached for the process, keyed by device, shape and
//! whether it trains, like Burn's autotune cache. The runs use copies of the input and weight
//! without autodiff history, so the caller's graph is untouched; the measurement costs a few
//! passes of one layer, once per shape.

use std::sync::Mutex;
use std::time::Instant;

use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor};

use super::GroupedConvMethod;
use super::geometry::Geometry;

/// Timed runs per formulation after the warm-up.
pub const REPEATS: usize = 3;

/// One shape's measurement on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupedConvMeasurement {
    /// The device as Burn's `Debug` names it (`Cube(Wgpu(..))`, `Cube(Cuda(..))`).
    pub device: String,
    /// Whether a run included the backward pass (measured on an autodiff device).
    pub training: bool,
    /// Images in the measured batch.
    pub batch: usize,
    /// The convolution's shape: `batch B: C_inxHxW -> C_outxH_outxW_out, 3x3, G groups,
    /// stride SxS`.
    pub shape: String,
    /// Seconds per run of each method of [`GroupedConvMethod::ALL`], in that order: the least
    /// of [`REPEATS`] runs (infinite for a method whose run failed).
    pub seconds: [f64; 3],
}

impl GroupedConvMeasurement {
    /// The method that runs: the least seconds, the earlier of [`GroupedConvMethod::ALL`] on
    /// a tie ([`Direct`](GroupedConvMethod::Direct) when every run failed).
    pub fn chosen(&self) -> GroupedConvMethod {
        let mut best = 0;
        for (index, &s) in self.seconds.iter().enumerate() {
            if s < self.seconds[best] {
                best = index;
            }
        }
        GroupedConvMethod::ALL[best]
    }
}

/// A measurement and the shape it is cached under.
struct Measured {
    geometry: Geometry,
    measurement: GroupedConvMeasurement,
}

impl Measured {
    fn is_for(&self, device: &str, training: bool, geometry: &Geometry) -> bool {
        self.geometry == *geometry
            && self.measurement.training == training
            && self.measurement.device == device
    }
}

/// Every measurement of this process, in the order they were taken.
static MEASURED: Mutex<Vec<Measured>> = Mutex::new(Vec::new());

/// Every measurement this process has taken so far, in order (for benchmarks and logs).
pub fn grouped_conv_measurements() -> Vec<GroupedConvMeasurement> {
    lock().iter().map(|m| m.measurement.clone()).collect()
}

fn lock() -> std::sync::MutexGuard<'static, Vec<Measured>> {
    // A panic while holding the lock leaves a list that is still whole: keep using it.
    MEASURED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The fastest method for `conv` on `x` (`geometry` is `Geometry::of(conv, x)`), measured on
/// `x`'s device at the first call for this device, pass and shape, and cached.
///
/// The measurement holds the lock: a second thread's measurement waits for it rather than
/// sharing the device with it (which would skew both), and finds it cached if it was of the
/// same shape.
pub(super) fn fastest(geometry: &Geometry, conv: &Conv2d, x: &Tensor<4>) -> GroupedConvMethod {
    let device = x.device();
    let training = device.is_autodiff();
    let name = format!("{:?}", device.clone().without_autodiff().as_dispatch());
    let mut measured = lock();
    if let Some(earlier) = measured
        .iter()
        .find(|m| m.is_for(&name, training, geometry))
    {
        return earlier.measurement.chosen();
    }
    let trial = Trial {
        geometry,
        input: x.clone().without_autodiff(),
        weight: conv.weight.val().without_autodiff(),
        bias: conv.bias.as_ref().map(|bias| bias.val().without_autodiff()),
        training,
        device,
    };
    let measurement = GroupedConvMeasurement {
        device: name,
        training,
        batch: geometry.batch,
        shape: geometry.describe(),
        seconds: GroupedConvMethod::ALL.map(|method| trial.least_seconds(method)),
    };
    let chosen = measurement.chosen();
    measured.push(Measured {
        geometry: *geometry,
        measurement,
    });
    chosen
}

/// The runs of one measurement: the convolution's input and weight without autodiff history
/// (the caller's graph is not touched), on the device they came from.
struct Trial<'a> {
    geometry: &'a Geometry,
    /// `[B, C_in, H, W]`.
    input: Tensor<4>,
    /// `[C_out, C_in / G, kh, kw]`.
    weight: Tensor<4>,
    /// `[C_out]`.
    bias: Option<Tensor<1>>,
    /// Whether a run includes the backward pass.
    training: bool,
    device: Device,
}

impl Trial<'_> {
    /// One warm-up run, then the least of [`REPEATS`] timed runs (infinite if a run failed).
    fn least_seconds(&self, method: GroupedConvMethod) -> f64 {
        least_after_warm_up((0..=REPEATS).map(|_| self.timed_run(method)))
    }

    /// Seconds of one run, from an idle device to its result read back (`None` if the device
    /// reported an error).
    fn timed_run(&self, method: GroupedConvMethod) -> Option<f64> {
        // The caller's queued work (fusion defers it) must not count.
        self.device.sync().ok()?;
        let start = Instant::now();
        let checksum = if self.training {
            let x = self.input.clone().autodiff().require_grad();
            let w = self.weight.clone().autodiff().require_grad();
            let grads = self
                .geometry
                .compute(x.clone(), w.clone(), self.bias.clone(), method)
                .sum()
                .backward();
            x.grad(&grads)?.sum() + w.grad(&grads)?.sum()
        } else {
            self.geometry
                .compute(
                    self.input.clone(),
                    self.weight.clone(),
                    self.bias.clone(),
                    method,
                )
                .sum()
        };
        // Reading one value waits for everything it depends on, and fusion cannot drop the
        // work.
        let _: f32 = checksum.into_scalar();
        Some(start.elapsed().as_secs_f64())
    }
}

/// The least seconds of `runs` after the first (the warm-up); infinite at the first failed run
/// (`None`), which ends the runs.
fn least_after_warm_up(runs: impl Iterator<Item = Option<f64>>) -> f64 {
    let mut least = f64::INFINITY;
    for (run, seconds) in runs.enumerate() {
        let Some(seconds) = seconds else {
            return f64::INFINITY;
        };
        if run > 0 {
            least = least.min(seconds);
        }
    }
    least
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chosen(seconds: [f64; 3]) -> GroupedConvMethod {
        GroupedConvMeasurement {
            device: "Cube(Cuda(0))".into(),
            training: false,
            batch: 1,
            shape: String::new(),
            seconds,
        }
        .chosen()
    }

    #[test]
    fn the_least_seconds_are_chosen_and_the_earlier_on_a_tie() {
        assert_eq!(chosen([3.0, 1.0, 2.0]), GroupedConvMethod::Im2col);
        assert_eq!(chosen([3.0, 2.0, 1.0]), GroupedConvMethod::ShiftedSum);
        assert_eq!(chosen([1.0, 1.0, 2.0]), GroupedConvMethod::Direct);
        assert_eq!(
            chosen([f64::INFINITY, 0.5, f64::INFINITY]),
            GroupedConvMethod::Im2col
        );
        assert_eq!(chosen([f64::INFINITY; 3]), GroupedConvMethod::Direct);
    }

    #[test]
    fn the_warm_up_run_does_not_count_and_a_failed_run_ends_the_measurement() {
        let least = |runs: &[Option<f64>]| least_after_warm_up(runs.iter().copied());
        assert_eq!(least(&[Some(1.0), Some(4.0), Some(2.0), Some(3.0)]), 2.0);
        assert_eq!(least(&[Some(9.0), Some(4.0)]), 4.0);
        assert_eq!(
            least(&[Some(1.0), Some(4.0), None, Some(0.5)]),
            f64::INFINITY
        );
        assert_eq!(least(&[Some(1.0)]), f64::INFINITY);
        // The runs after a failure are not run.
        let mut runs = 0;
        let seconds = [Some(1.0), None, Some(2.0)]
            .into_iter()
            .inspect(|_| runs += 1);
        assert_eq!(least_after_warm_up(seconds), f64::INFINITY);
        assert_eq!(runs, 2);
    }

    /// 2 images, 8 -> 8 channels in 2 groups, 3x3, stride 1, padding 1, 6x6.
    fn conv_and_input(device: &Device) -> (Conv2d, Tensor<4>) {
        use burn::nn::PaddingConfig2d;
        use burn::nn::conv::Conv2dConfig;
        use burn::tensor::Distribution;
        let conv = Conv2dConfig::new([8, 8], [3, 3])
            .with_groups(2)
            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
            .init(device);
        let x = Tensor::random([2, 8, 6, 6], Distribution::Default, device);
        (conv, x)
    }

    /// The measurement runs on any device (here flex, where nothing else measures): each of
    /// forward and training is measured once per shape, and later calls read the cache.
    #[test]
    fn each_shape_and_pass_is_measured_once_and_then_read_from_the_cache() {
        let device = Device::flex();
        let (conv, x) = conv_and_input(&device);
        let geometry = Geometry::of(&conv, &x).unwrap();
        let shape = "batch 2: 8x6x6 -> 8x6x6, 3x3, 2 groups, stride 1x1";
        assert_eq!(geometry.describe(), shape);
        let of_shape = |shape: &str| -> Vec<GroupedConvMeasurement> {
            grouped_conv_measurements()
                .into_iter()
                .filter(|m| m.shape == shape)
                .collect()
        };
        let chosen = fastest(&geometry, &conv, &x);
        let taken = of_shape(shape);
        assert_eq!(taken.len(), 1, "{taken:?}");
        let first = &taken[0];
        assert!(first.device.starts_with("Flex("), "{}", first.device);
        assert!(!first.training);
        assert_eq!(first.batch, 2);
        assert_eq!(first.chosen(), chosen);
        assert!(
            first.seconds.iter().all(|s| s.is_finite() && *s > 0.0),
            "{:?}",
            first.seconds
        );
        // Three timings that agree to the nanosecond would be a constant, not a measurement.
        assert!(
            first.seconds[0] != first.seconds[1] || first.seconds[1] != first.seconds[2],
            "{:?}",
            first.seconds
        );
        assert_eq!(fastest(&geometry, &conv, &x), chosen);
        assert_eq!(of_shape(shape).len(), 1, "measured again");

        // Training (autodiff) is a measurement of its own, also taken once.
        let (conv, x) = conv_and_input(&device.clone().autodiff());
        assert!(x.device().is_autodiff());
        let chosen = fastest(&geometry, &conv, &x);
        let taken = of_shape(shape);
        assert_eq!(taken.len(), 2, "{taken:?}");
        assert!(taken[1].training);
        assert_eq!(taken[1].device, first.device);
        assert_eq!(taken[1].chosen(), chosen);
        assert_eq!(fastest(&geometry, &conv, &x), chosen);
        assert_eq!(of_shape(shape).len(), 2, "measured again");

        // Another shape on the same device is measured anew.
        let other = Tensor::random([1, 8, 5, 5], burn::tensor::Distribution::Default, &device);
        let conv = conv_and_input(&device).0;
        let other_geometry = Geometry::of(&conv, &other).unwrap();
        fastest(&other_geometry, &conv, &other);
        assert_eq!(of_shape(&other_geometry.describe()).len(), 1);
        assert_eq!(of_shape(shape).len(), 2);
    }
}
