//! The input gradient of the grouped convolution: a transposed convolution, computed phase by
//! phase (see the parent module).
//!
//! Input row `ih = stride * i + a` received, in the forward pass, the output rows `oh` with
//! `stride * oh + kh - padding = ih`, i.e. `oh = i + (a + padding - kh) / stride` for the
//! kernel rows `kh` where that division is exact. So the gradient of the input rows of phase
//! `a` is a stride-1 correlation of the output gradient with those kernel rows, each at its
//! own shift; the same along columns. Each (row phase, column phase) pair is one packed
//! product of the group's transposed weights (input channels x (output channel, tap)) with the
//! taps' runs of the zero-padded output-gradient planes, in rows of the padded width.

use std::cell::RefCell;

use rayon::prelude::*;

use super::GroupedConvGeometry;
use crate::packed::{self, MR, PackedWeights};

/// The phases of one axis: which kernel indices reach the input indices of each phase, and
/// how far the output gradient is padded for them.
#[derive(Debug)]
struct AxisPhases {
    /// Per phase `a < stride`: `(kernel index, shift)` for each kernel index that reaches
    /// input index `stride * i + a`, from output index `i + shift`.
    taps: Vec<Vec<(usize, isize)>>,
    /// Per phase: how many input indices it has.
    counts: Vec<usize>,
    /// Zeros before the output gradient along this axis.
    before: usize,
    /// Padded length of the output gradient along this axis.
    padded: usize,
}

impl AxisPhases {
    /// The phases of an axis of `len` input values and `out_len` output values.
    fn new(len: usize, out_len: usize, [kernel, stride, padding]: [usize; 3]) -> Self {
        let mut taps = Vec::with_capacity(stride);
        let mut counts = Vec::with_capacity(stride);
        let (mut before, mut after) = (0isize, 0isize);
        let stride_i = stride as isize;
        for phase in 0..stride {
            let count = len.saturating_sub(phase).div_ceil(stride);
            let phase_taps: Vec<(usize, isize)> = (0..kernel)
                .filter_map(|tap| {
                    let reach = (phase + padding) as isize - tap as isize;
                    (reach.rem_euclid(stride_i) == 0).then(|| (tap, reach.div_euclid(stride_i)))
                })
                .collect();
            if count > 0 {
                for &(_, shift) in &phase_taps {
                    before = before.max(-shift);
                    after = after.max(count as isize - 1 + shift - (out_len as isize - 1));
                }
            }
            taps.push(phase_taps);
            counts.push(count);
        }
        Self {
            taps,
            counts,
            before: before as usize,
            padded: out_len + before as usize + after as usize,
        }
    }
}

/// The phases of both axes and where things are in a group's padded output-gradient planes.
struct PhaseLayout {
    rows: AxisPhases,
    cols: AxisPhases,
    /// Values per padded plane (`rows.padded * cols.padded`).
    plane_len: usize,
    /// The phase pairs that have input positions and taps (the others' gradient is zero).
    phases: Vec<Phase>,
    /// Length of the buffer: the planes and slack for the reads of a rounded-up phase.
    len: usize,
}

/// One (row phase, column phase) pair: input rows `stride * i + row_phase`, columns
/// `stride * j + col_phase`.
struct Phase {
    row_phase: usize,
    col_phase: usize,
    /// The kernel taps `(kh, kw)` that reach the phase.
    taps: Vec<(usize, usize)>,
    /// The offset of each (output channel, tap) run in the buffer, in the packed weights'
    /// column order (`co * taps + t`).
    offsets: Vec<usize>,
    /// Outputs of the phase in rows of the padded width (junk columns included).
    n: usize,
}

impl PhaseLayout {
    fn new(g: &GroupedConvGeometry) -> Self {
        let [out_h, out_w] = g.out_size();
        let window = [g.kernel, g.stride, g.padding];
        let rows = AxisPhases::new(g.height, out_h, window);
        let cols = AxisPhases::new(g.width, out_w, window);
        let width = cols.padded;
        let plane_len = rows.padded * width;
        let cog = g.c_out_group();
        let mut phases = Vec::new();
        let mut len = cog * plane_len;
        for row_phase in 0..g.stride {
            for col_phase in 0..g.stride {
                let (count_h, count_w) = (rows.counts[row_phase], cols.counts[col_phase]);
                if count_h == 0 || count_w == 0 {
                    continue;
                }
                let mut taps = Vec::new();
                let mut tap_offsets = Vec::new();
                for &(kh, shift_h) in &rows.taps[row_phase] {
                    for &(kw, shift_w) in &cols.taps[col_phase] {
                        taps.push((kh, kw));
                        let row = (shift_h + rows.before as isize) as usize;
                        let col = (shift_w + cols.before as isize) as usize;
                        tap_offsets.push(row * width + col);
                    }
                }
                if taps.is_empty() {
                    continue;
                }
                let offsets: Vec<usize> = (0..cog)
                    .flat_map(|co| tap_offsets.iter().map(move |t| co * plane_len + t))
                    .collect();
                let n = count_h * width;
                let reach = offsets
                    .iter()
                    .max()
                    .map_or(0, |&o| o + n.next_multiple_of(8));
                len = len.max(reach);
                phases.push(Phase {
                    row_phase,
                    col_phase,
                    taps,
                    offsets,
                    n,
                });
            }
        }
        Self {
            rows,
            cols,
            plane_len,
            phases,
            len,
        }
    }
}

/// The transposed weights of one phase, packed: row `ci` (all groups' input channels), column
/// `co * taps + t` (the group's output channel `co`, tap `t` of the phase) holds
/// `weight[g * C_out / G + co][ci % (C_in / G)][kh_t][kw_t]` for `g = ci / (C_in / G)`.
fn pack_phase(weight: &[f32], g: &GroupedConvGeometry, phase: &Phase) -> PackedWeights {
    let (cig, cog, k) = (g.c_in_group(), g.c_out_group(), g.kernel);
    let columns = cog * phase.taps.len();
    let mut matrix = vec![0.0; g.c_in * columns];
    for (ci_global, row) in matrix.chunks_exact_mut(columns).enumerate() {
        let (group, ci) = (ci_global / cig, ci_global % cig);
        for co in 0..cog {
            let kernel = &weight[((group * cog + co) * cig + ci) * k * k..][..k * k];
            for (t, &(kh, kw)) in phase.taps.iter().enumerate() {
                row[co * phase.taps.len() + t] = kernel[kh * k + kw];
            }
        }
    }
    PackedWeights::new(&matrix, g.c_in, columns)
}

thread_local! {
    /// Each thread's padded output-gradient planes and uncropped phase outputs.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The gradient of the convolution's input: `dy` `[B, C_out, H', W']` (the output's
/// gradient), `weight` `[C_out, C_in / groups, k, k]` -> `[B, C_in, H, W]`, all threads of the
/// rayon pool (one task per image and group).
///
/// # Panics
/// If the geometry's input gradient is not
/// [supported](GroupedConvGeometry::input_gradient_is_supported) or a slice's length does not
/// match it.
pub fn input_gradient(dy: &[f32], weight: &[f32], geometry: &GroupedConvGeometry) -> Vec<f32> {
    let g = geometry;
    g.check(
        g.input_gradient_is_supported(),
        [
            ("output gradient", dy.len(), g.output_len()),
            ("weight", weight.len(), g.weight_len()),
        ],
    );
    let layout = PhaseLayout::new(g);
    let packed: Vec<PackedWeights> = layout
        .phases
        .iter()
        .map(|phase| pack_phase(weight, g, phase))
        .collect();
    let zero_bias = vec![0.0; g.c_in];
    let (cig, cog) = (g.c_in_group(), g.c_out_group());
    let in_plane = g.height * g.width;
    let mut dx = vec![0.0; g.input_len()];
    dx.par_chunks_mut(cig * in_plane)
        .enumerate()
        .for_each(|(task, dx)| {
            let (image, group) = (task / g.groups, task % g.groups);
            SCRATCH.with_borrow_mut(|(data, acc)| {
                data.clear();
                data.resize(layout.len, 0.0);
                let width = layout.cols.padded;
                let start = layout.rows.before * width + layout.cols.before;
                g.lay_output_gradient(
                    dy,
                    [image, group],
                    0..cog,
                    &mut data[..cog * layout.plane_len],
                    [layout.plane_len, width, start],
                );
                for (phase, packed) in layout.phases.iter().zip(&packed) {
                    let stride = phase.n.next_multiple_of(8);
                    acc.resize(cig * stride, 0.0);
                    packed::product_rounded(
                        acc,
                        stride,
                        packed,
                        group * cig / MR..(group + 1) * cig / MR,
                        &zero_bias,
                        false,
                        data,
                        &phase.offsets,
                        phase.n,
                    );
                    scatter_phase(g, &layout, phase, acc, stride, dx);
                }
            });
        });
    dx
}

/// One phase's outputs (`acc`: per input channel of the group, rows of the padded width, rows
/// `stride` apart) into the group's input-gradient planes `dx` `[C_in / G, H, W]`.
fn scatter_phase(
    g: &GroupedConvGeometry,
    layout: &PhaseLayout,
    phase: &Phase,
    acc: &[f32],
    acc_stride: usize,
    dx: &mut [f32],
) {
    let (count_h, count_w) = (
        layout.rows.counts[phase.row_phase],
        layout.cols.counts[phase.col_phase],
    );
    let width = layout.cols.padded;
    let in_plane = g.height * g.width;
    for (plane, src) in dx.chunks_exact_mut(in_plane).zip(acc.chunks(acc_stride)) {
        for i in 0..count_h {
            let src_row = &src[i * width..][..count_w];
            let dst_row = &mut plane[(g.stride * i + phase.row_phase) * g.width..][..g.width];
            if g.stride == 1 {
                dst_row.copy_from_slice(src_row);
            } else {
                for (d, &v) in dst_row[phase.col_phase..]
                    .iter_mut()
                    .step_by(g.stride)
                    .zip(src_row)
                {
                    *d = v;
                }
            }
        }
    }
}
