//! Small backbone weights for the engine's unit tests.

use crate::weights::{BackboneWeights, BlockWeights, ConvWeights, PoolSpec};

/// A convolution of `dims` `[C_out, C_in / groups, k, k]` with small weights, square
/// `stride`, symmetric `padding`, no dilation.
pub(super) fn conv(dims: [usize; 4], stride: usize, padding: usize, groups: usize) -> ConvWeights {
    ConvWeights {
        weight: vec![0.01; dims.iter().product()],
        bias: vec![0.0; dims[0]],
        dims,
        stride: [stride; 2],
        padding: [padding; 4],
        dilation: [1, 1],
        groups,
    }
}

/// A bottleneck `c_in -> width (4 groups) -> c_out` at `stride`, with a projection if asked.
pub(super) fn block(
    c_in: usize,
    width: usize,
    c_out: usize,
    stride: usize,
    project: bool,
) -> BlockWeights {
    BlockWeights {
        conv1: conv([width, c_in, 1, 1], 1, 0, 1),
        conv2: conv([width, width / 4, 3, 3], stride, 1, 4),
        conv3: conv([c_out, width, 1, 1], 1, 0, 1),
        downsample: project.then(|| conv([c_out, c_in, 1, 1], stride, 0, 1)),
    }
}

/// A 3 -> 8 channel 3x3 stem, a 3x3 max pool of stride 2, then `blocks` (the first taking
/// 8 channels).
pub(super) fn backbone(blocks: Vec<BlockWeights>) -> BackboneWeights {
    BackboneWeights {
        stem: conv([8, 3, 3, 3], 2, 1, 1),
        max_pool: PoolSpec {
            kernel: [3, 3],
            stride: [2, 2],
            padding: [1; 4],
            dilation: [1, 1],
            ceil_mode: false,
        },
        blocks,
        avg_pool_output: [1, 1],
    }
}

/// The stem and one small projecting block (8 -> 64 -> 32 channels): an engine the
/// host kernels run.
pub(super) fn one_block() -> BackboneWeights {
    backbone(vec![block(8, 64, 32, 1, true)])
}
