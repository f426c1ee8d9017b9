//! BatchNorm in training on plain `f32` slices `[batch, channels, plane]` (row-major; `plane`
//! is `H * W`, 1 for `[B, C]`): the batch statistics, the normalisation (optionally followed
//! by a residual add and a ReLU, as in a ResNet block) and its backward pass, each one or two
//! passes over memory on all threads.
//!
//! The model crate runs flex training through these (deepfake-model's `flex_batch_norm`);
//! written as Burn tensor operations, the same BatchNorm took separate single-threaded
//! elementwise passes for every subtraction, product and sum, forward and backward.
//! The statistics are summed in `f64`, the backward pass's sums in `f32` blocks of
//! [`SUM_BLOCK`] values added in `f64`, so both are at least as exact as a float32
//! reference's.

use rayon::prelude::*;

/// Values a parallel task works on at least, so that small planes are not one task each.
const VALUES_PER_TASK: usize = 1 << 14;

/// Shape of a BatchNorm's input: `[batch, channels, plane]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchNormShape {
    /// Images in the batch (`B`).
    pub batch: usize,
    /// Channels (`C`), each normalised on its own.
    pub channels: usize,
    /// Values per image and channel (`H * W`; 1 for a `[B, C]` input).
    pub plane: usize,
}

impl BatchNormShape {
    /// Values in the whole input: `B * C * plane`.
    pub fn len(&self) -> usize {
        self.batch * self.channels * self.plane
    }

    /// Whether the input holds no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values each channel's statistics are taken over: `B * plane`.
    pub fn per_channel(&self) -> usize {
        self.batch * self.plane
    }

    /// Image `b`'s plane of channel `c` within a `[B, C, plane]` buffer.
    fn plane_of<'a>(&self, values: &'a [f32], b: usize, c: usize) -> &'a [f32] {
        let start = (b * self.channels + c) * self.plane;
        &values[start..start + self.plane]
    }

    /// Channels per parallel task for work over whole channels.
    fn channels_per_task(&self) -> usize {
        (VALUES_PER_TASK / self.per_channel().max(1)).max(1)
    }

    /// Planes per parallel task for work over `[B * C]` planes.
    fn planes_per_task(&self) -> usize {
        (VALUES_PER_TASK / self.plane.max(1)).max(1)
    }

    /// The channel of plane `i` of parallel task `task` (planes in `[B * C]` order).
    fn channel_of(&self, task: usize, i: usize) -> usize {
        (task * self.planes_per_task() + i) % self.channels
    }
}

/// Mean and biased variance of each channel, the statistics a BatchNorm normalises with in
/// training.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchStatistics {
    /// Mean per channel `[C]`.
    pub mean: Vec<f32>,
    /// Biased variance per channel `[C]` (divided by `B * plane`).
    pub variance: Vec<f32>,
}

/// Sum of `values` in `f64`, eight running sums so that the loop vectorises.
fn sum_f64(values: &[f32], term: impl Fn(f32) -> f64) -> f64 {
    let mut lanes = [0.0f64; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += term(v);
        }
    }
    lanes.iter().sum::<f64>() + tail.iter().map(|&v| term(v)).sum::<f64>()
}

/// The batch statistics of `x` `[B, C, plane]`: per channel the mean, then the mean squared
/// deviation from it (two passes over the channel, the second while it is in cache).
///
/// # Panics
/// If `x` does not hold `shape.len()` values.
pub fn batch_statistics(x: &[f32], shape: BatchNormShape) -> BatchStatistics {
    assert_eq!(x.len(), shape.len(), "BatchNorm input length vs its shape");
    let count = shape.per_channel().max(1) as f64;
    let per_channel: Vec<(f32, f32)> = (0..shape.channels)
        .into_par_iter()
        .with_min_len(shape.channels_per_task())
        .map(|c| {
            let planes = || (0..shape.batch).map(|b| shape.plane_of(x, b, c));
            let mean = planes().map(|p| sum_f64(p, f64::from)).sum::<f64>() / count;
            let squares = planes()
                .map(|p| sum_f64(p, |v| (f64::from(v) - mean).powi(2)))
                .sum::<f64>();
            (mean as f32, (squares / count) as f32)
        })
        .collect();
    let (mean, variance) = per_channel.into_iter().unzip();
    BatchStatistics { mean, variance }
}

/// One training normalisation: `y = (x - mean) * gamma / sqrt(variance + epsilon) + beta`
/// per channel, plus `residual` when there is one, then `max(y, 0)` when `relu`.
#[derive(Debug, Clone, Copy)]
pub struct Normalization<'a> {
    /// Input `[B, C, plane]`.
    pub x: &'a [f32],
    /// Shape of `x`.
    pub shape: BatchNormShape,
    /// The batch statistics of `x` ([`batch_statistics`]).
    pub statistics: &'a BatchStatistics,
    /// Scale per channel `[C]`.
    pub gamma: &'a [f32],
    /// Shift per channel `[C]`.
    pub beta: &'a [f32],
    /// Added to the normalised values before the ReLU `[B, C, plane]` (a ResNet block's
    /// skip path), if any.
    pub residual: Option<&'a [f32]>,
    /// Added to the variance before the square root.
    pub epsilon: f64,
    /// Whether a ReLU follows.
    pub relu: bool,
}

impl Normalization<'_> {
    /// # Panics
    /// If a slice's length does not match `shape`.
    fn check(&self) {
        let shape = self.shape;
        assert_eq!(
            self.x.len(),
            shape.len(),
            "BatchNorm input length vs its shape"
        );
        assert_eq!(self.gamma.len(), shape.channels, "gamma length vs channels");
        assert_eq!(self.beta.len(), shape.channels, "beta length vs channels");
        assert_eq!(
            self.statistics.mean.len(),
            shape.channels,
            "mean length vs channels"
        );
        assert_eq!(
            self.statistics.variance.len(),
            shape.channels,
            "variance length vs channels"
        );
        if let Some(residual) = self.residual {
            assert_eq!(
                residual.len(),
                shape.len(),
                "residual length vs the input's"
            );
        }
    }

    /// `1 / sqrt(variance + epsilon)` per channel.
    fn inverse_std(&self) -> Vec<f64> {
        let epsilon = self.epsilon;
        self.statistics
            .variance
            .iter()
            .map(|&v| 1.0 / (f64::from(v) + epsilon).sqrt())
            .collect()
    }

    /// Each channel's mean, scale (`gamma / sqrt(variance + epsilon)`) and shift.
    fn channel_constants(&self) -> Vec<Affine> {
        self.inverse_std()
            .iter()
            .zip(self.gamma)
            .zip(self.statistics.mean.iter().zip(self.beta))
            .map(|((&s, &g), (&mean, &beta))| Affine {
                mean,
                scale: (s * f64::from(g)) as f32,
                beta,
            })
            .collect()
    }

    /// The residual, or the input itself as a stand-in of the same length that the kernels
    /// compiled without a residual never read.
    fn residual_or_input(&self) -> &[f32] {
        self.residual.unwrap_or(self.x)
    }
}

/// One channel's normalisation: `(x - mean) * scale + beta`.
#[derive(Debug, Clone, Copy)]
struct Affine {
    mean: f32,
    scale: f32,
    beta: f32,
}

impl Affine {
    /// The value before the ReLU for input `x` and residual `r` (0 when `RESIDUAL` is false).
    #[inline(always)]
    fn pre_activation<const RESIDUAL: bool>(self, x: f32, r: f32) -> f32 {
        let v = (x - self.mean) * self.scale + self.beta;
        if RESIDUAL { v + r } else { v }
    }

    /// The output's gradient `dy` where the ReLU let the value through (all of it without a
    /// ReLU), else 0. Branch-free (a bit mask): the ReLU's cut is as unpredictable as the
    /// data, and a branch here made the backward pass 5x slower.
    #[inline(always)]
    fn passed<const RELU: bool, const RESIDUAL: bool>(self, dy: f32, x: f32, r: f32) -> f32 {
        if !RELU {
            return dy;
        }
        let through = self.pre_activation::<RESIDUAL>(x, r) > 0.0;
        f32::from_bits(dy.to_bits() & u32::from(through).wrapping_neg())
    }
}

/// One plane of [`normalize`]: `y` from `x` and `r` (read only when `RESIDUAL`).
fn normalize_plane<const RELU: bool, const RESIDUAL: bool>(
    y: &mut [f32],
    x: &[f32],
    r: &[f32],
    k: Affine,
) {
    for ((y, &x), &r) in y.iter_mut().zip(x).zip(r) {
        let v = k.pre_activation::<RESIDUAL>(x, r);
        *y = if RELU { v.max(0.0) } else { v };
    }
}

/// Values summed in `f32` running sums before they are added to the `f64` totals: short
/// enough that the `f32` sums keep their precision, long enough for the loop to run at the
/// speed of `f32` vector arithmetic.
const SUM_BLOCK: usize = 512;

/// One plane's `(sum g, sum g * (x - mean))` of [`normalize_backward`], block by block of
/// [`SUM_BLOCK`] values: the block's `g` first (branch-free), then eight `f32` running sums
/// of it (both loops vectorise; written as one loop, the compiler tested the ReLU's mask lane
/// by lane), the blocks added in `f64`.
fn plane_sums<const RELU: bool, const RESIDUAL: bool>(
    x: &[f32],
    dy: &[f32],
    r: &[f32],
    k: Affine,
) -> (f64, f64) {
    let (mut total_g, mut total_g_xc) = (0.0f64, 0.0f64);
    let mut g = [0.0f32; SUM_BLOCK];
    let blocks = x
        .chunks(SUM_BLOCK)
        .zip(dy.chunks(SUM_BLOCK))
        .zip(r.chunks(SUM_BLOCK));
    for ((x, dy), r) in blocks {
        let g = &mut g[..x.len()];
        for ((g, &x), (&dy, &r)) in g.iter_mut().zip(x).zip(dy.iter().zip(r)) {
            *g = k.passed::<RELU, RESIDUAL>(dy, x, r);
        }
        let mut sum_g = [0.0f32; 8];
        let mut sum_g_xc = [0.0f32; 8];
        let whole = x.len() / 8 * 8;
        for (g, x) in g[..whole].chunks_exact(8).zip(x[..whole].chunks_exact(8)) {
            for j in 0..8 {
                sum_g[j] += g[j];
                sum_g_xc[j] += g[j] * (x[j] - k.mean);
            }
        }
        for (&g, &x) in g[whole..].iter().zip(&x[whole..]) {
            sum_g[0] += g;
            sum_g_xc[0] += g * (x - k.mean);
        }
        total_g += sum_g.iter().map(|&v| f64::from(v)).sum::<f64>();
        total_g_xc += sum_g_xc.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    (total_g, total_g_xc)
}

/// One plane of the input (and residual) gradient of [`normalize_backward`]:
/// `dx = scale * (g - mean_g - (x - mean) * xc_weight)`, `dr = g` when `RESIDUAL`.
#[allow(clippy::too_many_arguments)]
fn gradient_plane<const RELU: bool, const RESIDUAL: bool>(
    dx: &mut [f32],
    dr: &mut [f32],
    x: &[f32],
    dy: &[f32],
    r: &[f32],
    k: Affine,
    mean_g: f32,
    xc_weight: f32,
) {
    if RESIDUAL {
        let values = dx
            .iter_mut()
            .zip(dr.iter_mut())
            .zip(x.iter().zip(dy).zip(r));
        for ((dx, dr), ((&x, &dy), &r)) in values {
            let g = k.passed::<RELU, RESIDUAL>(dy, x, r);
            *dx = k.scale * (g - mean_g - (x - k.mean) * xc_weight);
            *dr = g;
        }
    } else {
        for ((dx, &x), &dy) in dx.iter_mut().zip(x).zip(dy) {
            let g = k.passed::<RELU, RESIDUAL>(dy, x, 0.0);
            *dx = k.scale * (g - mean_g - (x - k.mean) * xc_weight);
        }
    }
}

/// Calls `$f::<RELU, RESIDUAL>` with the flags of a normalisation as constants.
macro_rules! with_flags {
    ($relu:expr, $residual:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match ($relu, $residual) {
            (true, true) => $f::<true, true>($($arg),*),
            (true, false) => $f::<true, false>($($arg),*),
            (false, true) => $f::<false, true>($($arg),*),
            (false, false) => $f::<false, false>($($arg),*),
        }
    };
}

/// The output of `normalization`, `[B, C, plane]`.
///
/// # Panics
/// If a slice's length does not match its shape.
pub fn normalize(normalization: &Normalization) -> Vec<f32> {
    normalization.check();
    let n = normalization;
    let shape = n.shape;
    let constants = n.channel_constants();
    let residual = n.residual.is_some();
    let mut y = vec![0.0f32; n.x.len()];
    let plane = shape.plane.max(1);
    let task = shape.planes_per_task() * plane;
    y.par_chunks_mut(task)
        .zip(
            n.x.par_chunks(task)
                .zip(n.residual_or_input().par_chunks(task)),
        )
        .enumerate()
        .for_each(|(t, (y, (x, r)))| {
            let planes = y
                .chunks_mut(plane)
                .zip(x.chunks(plane).zip(r.chunks(plane)));
            for (i, (y, (x, r))) in planes.enumerate() {
                let k = constants[shape.channel_of(t, i)];
                with_flags!(n.relu, residual, normalize_plane(y, x, r, k));
            }
        });
    y
}

/// Gradients of [`normalize`] with respect to its input `[B, C, plane]`, `gamma` `[C]`,
/// `beta` `[C]` and the residual `[B, C, plane]` (when there is one), given the gradient of
/// its output; the statistics are the batch's own (their dependence on `x` is part of the
/// input gradient).
#[derive(Debug, Clone, PartialEq)]
pub struct NormalizeGradients {
    /// Input gradient `[B, C, plane]`.
    pub x: Vec<f32>,
    /// `gamma` gradient `[C]`.
    pub gamma: Vec<f32>,
    /// `beta` gradient `[C]`.
    pub beta: Vec<f32>,
    /// Residual gradient `[B, C, plane]`, when the normalisation has a residual.
    pub residual: Option<Vec<f32>>,
}

/// The backward pass of [`normalize`], given its output's gradient `dy` `[B, C, plane]`: with
/// `g` that gradient where the ReLU let the output through (else 0), `xc = x - mean` and
/// `s = 1 / sqrt(variance + epsilon)`, per channel over its `n = B * plane` values
///
/// `d beta = sum g`, `d gamma = s * sum g * xc`, `d residual = g`,
/// `dx = gamma * s * (g - sum g / n - xc * s^2 * (sum g * xc) / n)`.
///
/// # Panics
/// If a slice's length does not match its shape.
pub fn normalize_backward(normalization: &Normalization, dy: &[f32]) -> NormalizeGradients {
    normalization.check();
    let n = normalization;
    let shape = n.shape;
    assert_eq!(
        dy.len(),
        shape.len(),
        "BatchNorm output gradient length vs its shape"
    );
    let constants = n.channel_constants();
    let residual = n.residual.is_some();
    let r = n.residual_or_input();
    let sums: Vec<(f64, f64)> = (0..shape.channels)
        .into_par_iter()
        .with_min_len(shape.channels_per_task())
        .map(|c| {
            (0..shape.batch)
                .map(|b| {
                    let (x, dy, r) = (
                        shape.plane_of(n.x, b, c),
                        shape.plane_of(dy, b, c),
                        shape.plane_of(r, b, c),
                    );
                    with_flags!(n.relu, residual, plane_sums(x, dy, r, constants[c]))
                })
                .fold((0.0, 0.0), |(g, gx), (pg, pgx)| (g + pg, gx + pgx))
        })
        .collect();
    let count = shape.per_channel().max(1) as f64;
    let inv_std = n.inverse_std();
    let mean_g: Vec<f32> = sums.iter().map(|&(g, _)| (g / count) as f32).collect();
    let xc_weight: Vec<f32> = sums
        .iter()
        .zip(&inv_std)
        .map(|(&(_, g_xc), &s)| (s * s * g_xc / count) as f32)
        .collect();
    let plane = shape.plane.max(1);
    let task = shape.planes_per_task() * plane;
    let mut dx = vec![0.0f32; n.x.len()];
    // Without a residual, the residual gradient's stand-in is empty and never written.
    let mut dr = vec![0.0f32; if residual { n.x.len() } else { 0 }];
    let dr_chunks: Vec<&mut [f32]> = if residual {
        dr.chunks_mut(task).collect()
    } else {
        (0..dx.len().div_ceil(task))
            .map(|_| Default::default())
            .collect()
    };
    dx.par_chunks_mut(task)
        .zip(dr_chunks)
        .zip(
            n.x.par_chunks(task)
                .zip(dy.par_chunks(task))
                .zip(r.par_chunks(task)),
        )
        .enumerate()
        .for_each(|(t, ((dx, dr), ((x, dy), r)))| {
            let planes = dx
                .chunks_mut(plane)
                .zip(x.chunks(plane).zip(dy.chunks(plane)));
            for (i, ((dx, (x, dy)), r)) in planes.zip(r.chunks(plane)).enumerate() {
                let c = shape.channel_of(t, i);
                let dr = if residual {
                    &mut dr[i * plane..(i + 1) * plane]
                } else {
                    &mut []
                };
                let (k, mean_g, w) = (constants[c], mean_g[c], xc_weight[c]);
                with_flags!(
                    n.relu,
                    residual,
                    gradient_plane(dx, dr, x, dy, r, k, mean_g, w)
                );
            }
        });
    NormalizeGradients {
        x: dx,
        gamma: sums
            .iter()
            .zip(&inv_std)
            .map(|(&(_, g_xc), &s)| (s * g_xc) as f32)
            .collect(),
        beta: sums.iter().map(|&(g, _)| g as f32).collect(),
        residual: residual.then_some(dr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::panic_message;

    fn shape(batch: usize, channels: usize, plane: usize) -> BatchNormShape {
        BatchNormShape {
            batch,
            channels,
            plane,
        }
    }

    #[test]
    fn a_shape_counts_its_values() {
        let s = shape(4, 6, 35);
        assert_eq!((s.len(), s.per_channel(), s.is_empty()), (840, 140, false));
        assert!(shape(0, 6, 35).is_empty());
        assert!(shape(4, 0, 35).is_empty());
        assert!(shape(4, 6, 0).is_empty());
        assert_eq!(shape(4, 6, 0).per_channel(), 0);
    }

    #[test]
    fn parallel_tasks_hold_at_least_2_pow_14_values_or_one_channel_or_plane() {
        // 4 x 35 values a channel: 16384 / 140 = 117 channels a task; 16384 / 35 = 468
        // planes a task: the first task's last plane (467) is of channel 467 % 5 = 2, the
        // second task's first (468) of channel 3.
        let small = shape(4, 5, 35);
        assert_eq!(small.channels_per_task(), 117);
        assert_eq!(small.planes_per_task(), 468);
        assert_eq!(small.channel_of(0, 467), 2);
        assert_eq!(small.channel_of(1, 0), 3);
        assert_eq!(small.channel_of(1, 4), 2);
        // Planes larger than a task: one channel, one plane a task.
        let large = shape(2, 8, 130 * 130);
        assert_eq!((large.channels_per_task(), large.planes_per_task()), (1, 1));
        assert_eq!(large.channel_of(11, 0), 3);
        // [B, C] inputs (plane 1) and empty ones.
        assert_eq!(shape(16, 4, 1).planes_per_task(), 16384);
        assert_eq!(shape(16, 4, 1).channels_per_task(), 1024);
        assert_eq!(shape(0, 4, 0).channels_per_task(), 16384);
        assert_eq!(shape(0, 4, 0).planes_per_task(), 16384);
    }

    /// One channel of `x`, `gamma` 1, `beta` 0, then `relu` if asked.
    fn one_channel<'a>(
        x: &'a [f32],
        statistics: &'a BatchStatistics,
        relu: bool,
    ) -> Normalization<'a> {
        Normalization {
            x,
            shape: shape(1, 1, x.len()),
            statistics,
            gamma: &[1.0],
            beta: &[0.0],
            residual: None,
            epsilon: 0.0,
            relu,
        }
    }

    #[test]
    fn the_relu_passes_no_gradient_where_its_input_is_exactly_0() {
        // x = [1, 2, 3]: mean 2, variance 2/3; the middle value normalises to exactly 0,
        // where PyTorch's ReLU backward (`grad * (y > 0)`) gives 0.
        let x = [1.0, 2.0, 3.0];
        let statistics = batch_statistics(&x, shape(1, 1, 3));
        assert_eq!(statistics.mean, [2.0]);
        let normalization = one_channel(&x, &statistics, true);
        let y = normalize(&normalization);
        assert_eq!(y[1].to_bits(), 0.0f32.to_bits(), "{y:?}");
        let dy = [1.0, 1.0, 1.0];
        let gradients = normalize_backward(&normalization, &dy);
        // Only the last value passes: g = [0, 0, 1], sum g = 1, sum g * (x - mean) = 1.
        assert_eq!(gradients.beta, [1.0]);
        let s = 1.0 / (2.0f64 / 3.0).sqrt();
        assert!(
            (f64::from(gradients.gamma[0]) - s).abs() < 1e-6,
            "{gradients:?}"
        );
        // dx = s * (g - 1/3 - (x - 2) * s^2 / 3), s^2 = 3/2: [s / 6, -s / 3, s / 6].
        let want = [
            s * (0.0 - 1.0 / 3.0 + s * s / 3.0),
            s * (-1.0 / 3.0),
            s * (1.0 - 1.0 / 3.0 - s * s / 3.0),
        ];
        for (got, want) in gradients.x.iter().zip(want) {
            assert!((f64::from(*got) - want).abs() < 1e-6, "{gradients:?}");
        }
    }

    #[test]
    fn lengths_that_do_not_match_the_shape_are_refused() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let statistics = batch_statistics(&x, shape(1, 1, 4));
        let two = BatchStatistics {
            mean: vec![0.0; 2],
            variance: vec![1.0; 2],
        };
        let base = one_channel(&x, &statistics, false);
        let refused = |n: Normalization, what: &str| {
            let message = panic_message(what, || normalize(&n));
            assert!(message.contains(what), "{message}");
        };
        refused(Normalization { x: &x[..3], ..base }, "input length");
        refused(
            Normalization {
                gamma: &[1.0, 1.0],
                ..base
            },
            "gamma length",
        );
        refused(Normalization { beta: &[], ..base }, "beta length");
        let short_variance = BatchStatistics {
            mean: vec![2.5],
            variance: vec![],
        };
        refused(
            Normalization {
                statistics: &short_variance,
                ..base
            },
            "variance length",
        );
        refused(
            Normalization {
                statistics: &two,
                ..base
            },
            "mean length",
        );
        refused(
            Normalization {
                residual: Some(&x[..2]),
                ..base
            },
            "residual length",
        );
        let what = "output gradient length";
        let message = panic_message(what, || normalize_backward(&base, &[1.0; 3]));
        assert!(message.contains(what), "{message}");
    }
}
