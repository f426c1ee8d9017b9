//! The weight gradient of the grouped convolution: `dW[o][c][kh][kw] = sum over images and
//! output positions of dy[o][oh][ow] * x_padded[c][stride * oh + kh][stride * ow + kw]`.
//!
//! Per image and group, the input is padded and split into its stride phases as in the
//! forward pass, so that tap `(kh, kw)` of channel `c` at every output position is one
//! contiguous run of the padded planes, in rows of the padded width; the output gradient is
//! laid out in rows of that width too, zeros in the junk columns past the output's width.
//! Every weight is then one dot product of two runs ([`add_row_dots`]).

use std::cell::RefCell;

use rayon::prelude::*;

use super::GroupedConvGeometry;
use crate::grouped_conv::{BatchLayout, PaddedLayout, Planes, pad_group};
use crate::packed::MR;
use crate::row_dots::add_row_dots;

thread_local! {
    /// Each thread's padded input planes and output gradient in padded rows.
    static SCRATCH: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// The gradient of the convolution's weights: `x` `[B, C_in, H, W]` (the input) and `dy`
/// `[B, C_out, H', W']` (the output's gradient) -> `[C_out, C_in / groups, k, k]`, summed over
/// the batch in `f32`, all threads of the rayon pool: one task per group, or, where there are
/// fewer groups than threads (a stem's single group), per block of a group's output channels.
///
/// # Panics
/// If the geometry is not [supported](GroupedConvGeometry::is_supported) or a slice's length
/// does not match it.
pub fn weight_gradient(x: &[f32], dy: &[f32], geometry: &GroupedConvGeometry) -> Vec<f32> {
    let g = geometry;
    g.check(
        g.is_supported(),
        [
            ("input", x.len(), g.input_len()),
            ("output gradient", dy.len(), g.output_len()),
        ],
    );
    let shape = g.shape();
    let layout = PaddedLayout::new(&shape);
    let input = Planes {
        layout: BatchLayout::ImageMajor,
        channels: g.c_in,
        batch: g.batch,
        len: g.height * g.width,
    };
    let [out_h, _] = g.out_size();
    let width = layout.row_width;
    // Outputs per channel in rows of the padded width, rounded up for the 8-wide registers.
    let n = (out_h * width).next_multiple_of(8);
    let cog = g.c_out_group();
    let columns = g.c_in_group() * g.kernel * g.kernel;
    let task_channels = task_channels(rayon::current_num_threads(), g.groups, cog);
    let mut dw = vec![0.0; g.weight_len()];
    dw.par_chunks_mut(cog * columns)
        .enumerate()
        .flat_map(|(group, dw)| {
            dw.par_chunks_mut(task_channels * columns)
                .enumerate()
                .map(move |(block, dw)| (group, block * task_channels, dw))
        })
        .for_each(|(group, first, dw)| {
            let channels = first..first + dw.len() / columns;
            SCRATCH.with_borrow_mut(|(data, dy_rows)| {
                // Padding and junk columns stay zero from image to image; the rest is
                // overwritten.
                data.clear();
                data.resize(layout.len, 0.0);
                dy_rows.clear();
                dy_rows.resize(channels.len() * n, 0.0);
                for image in 0..g.batch {
                    pad_group(&shape, &layout, x, &input, group, image, data);
                    g.lay_output_gradient(
                        dy,
                        [image, group],
                        channels.clone(),
                        dy_rows,
                        [n, width, 0],
                    );
                    add_row_dots(
                        dw,
                        columns,
                        dy_rows,
                        n,
                        channels.len(),
                        data,
                        &layout.rows,
                        n,
                    );
                }
            });
        });
    dw
}

/// Output channels of a group (`cog` of them, a multiple of [`MR`]) that one task of
/// [`weight_gradient`] computes on `threads` threads (at least 1): the whole group, or, where
/// there are fewer groups than threads, a share of it in whole register tiles.
fn task_channels(threads: usize, groups: usize, cog: usize) -> usize {
    (cog / MR).div_ceil(threads.div_ceil(groups)) * MR
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fewer_groups_than_threads_split_a_group_in_whole_register_tiles() {
        // ResNeXt's 32 groups of 4 to 32 output channels: a group a task.
        assert_eq!(task_channels(16, 32, 4), 4);
        assert_eq!(task_channels(2, 32, 32), 32);
        assert_eq!(task_channels(1, 1, 64), 64);
        // A stem (one group of 64) on 3 threads: ceil(16 tiles / 3) = 6 tiles.
        assert_eq!(task_channels(3, 1, 64), 24);
        // 2 groups of 16 on 8 threads: 4 tasks a group, a tile each; more threads than
        // tiles still a tile each.
        assert_eq!(task_channels(8, 2, 16), 4);
        assert_eq!(task_channels(16, 1, 8), 4);
    }
}
