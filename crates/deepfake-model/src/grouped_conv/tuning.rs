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
    /// The method that runs: the least seconds (the earlier of [`GroupedConvMethod::ALL`] on a
    /// tie).
    pub chosen: GroupedConvMethod,
}

/// What a measurement is cached under.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Key {
    device: String,
    training: bool,
    geometry: Geometry,
}

/// Every measurement of this process, in the order they were taken.
static MEASURED: Mutex<Vec<(Key, GroupedConvMeasurement)>> = Mutex::new(Vec::new());

/// Every measurement this process has taken so far, in order (for benchmarks and logs).
pub fn grouped_conv_measurements() -> Vec<GroupedConvMeasurement> {
    lock().iter().map(|(_, m)| m.clone()).collect()
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(Key, GroupedConvMeasurement)>> {
    // A panic while holding the lock leaves a list that is still whole: keep using it.
    MEASURED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn cached(key: &Key) -> Option<GroupedConvMethod> {
    lock().iter().find(|(k, _)| k == key).map(|(_, m)| m.chosen)
}

/// The fastest method for `conv` on `x` (`geometry` is `Geometry::of(conv, x)`), measured on
/// `x`'s device at the first call for this key and cached.
pub(super) fn fastest(geometry: &Geometry, conv: &Conv2d, x: &Tensor<4>) -> GroupedConvMethod {
    let device = x.device();
    let training = device.is_autodiff();
    let key = Key {
        device: format!("{:?}", device.clone().without_autodiff().as_dispatch()),
        training,
        geometry: *geometry,
    };
    if let Some(method) = cached(&key) {
        return method;
    }
    // Measured without the lock: another thread may measure the same key meanwhile; the first
    // to finish is kept.
    let trial = Trial {
        geometry,
        input: x.clone().without_autodiff(),
        weight: conv.weight.val().without_autodiff(),
        training,
        device,
    };
    let seconds = GroupedConvMethod::ALL.map(|method| trial.least_seconds(method));
    let measurement = GroupedConvMeasurement {
        device: key.device.clone(),
        training,
        batch: geometry.batch,
        shape: geometry.describe(),
        seconds,
        chosen: least(seconds),
    };
    let mut measured = lock();
    if let Some((_, earlier)) = measured.iter().find(|(k, _)| *k == key) {
        return earlier.chosen;
    }
    let chosen = measurement.chosen;
    measured.push((key, measurement));
    chosen
}

/// The method of [`GroupedConvMethod::ALL`] with the least seconds, the earlier on a tie
/// ([`Direct`](GroupedConvMethod::Direct) when every run failed).
fn least(seconds: [f64; 3]) -> GroupedConvMethod {
    let mut best = 0;
    for (index, &s) in seconds.iter().enumerate() {
        if s < seconds[best] {
            best = index;
        }
    }
    GroupedConvMethod::ALL[best]
}

/// The runs of one measurement: the convolution's input and weight without autodiff history
/// (the caller's graph is not touched), on the device they came from.
struct Trial<'a> {
    geometry: &'a Geometry,
    /// `[B, C_in, H, W]`.
    input: Tensor<4>,
    /// `[C_out, C_in / G, kh, kw]`.
    weight: Tensor<4>,
    /// Whether a run includes the backward pass.
    training: bool,
    device: Device,
}

impl Trial<'_> {
    /// One warm-up run, then the least of [`REPEATS`] timed runs (infinite if a run failed).
    fn least_seconds(&self, method: GroupedConvMethod) -> f64 {
        let mut least = f64::INFINITY;
        for run in 0..=REPEATS {
            let Some(seconds) = self.timed_run(method) else {
                return f64::INFINITY;
            };
            if run > 0 {
                least = least.min(seconds);
            }
        }
        least
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
                .compute(x.clone(), w.clone(), method)
                .sum()
                .backward();
            x.grad(&grads)?.sum() + w.grad(&grads)?.sum()
        } else {
            self.geometry
                .compute(self.input.clone(), self.weight.clone(), method)
                .sum()
        };
        // Reading one value waits for everything it depends on, and fusion cannot drop the
        // work.
        let _: f32 = checksum.into_scalar();
        Some(start.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn least_picks_the_fastest_and_the_earlier_on_a_tie() {
        assert_eq!(least([3.0, 1.0, 2.0]), GroupedConvMethod::Im2col);
        assert_eq!(least([3.0, 2.0, 1.0]), GroupedConvMethod::ShiftedSum);
        assert_eq!(least([1.0, 1.0, 2.0]), GroupedConvMethod::Direct);
        assert_eq!(
            least([f64::INFINITY, 0.5, f64::INFINITY]),
            GroupedConvMethod::Im2col
        );
        assert_eq!(least([f64::INFINITY; 3]), GroupedConvMethod::Direct);
    }
}
