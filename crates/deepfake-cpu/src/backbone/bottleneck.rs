//! One bottleneck block of the host backbone: 1x1 reduce -> grouped 3x3 -> 1x1 expand with
//! the skip path added.

use std::time::Instant;

use super::layer_forms::{grouped3x3, pointwise};
use super::workspace::Workspace;
use crate::activation::Activation;
use crate::error::Result;
use crate::grouped_conv::{BatchLayout, GroupedConv};
use crate::layer_times::LayerTimes;
use crate::layers::PointwiseConv;
use crate::weights::BlockWeights;

/// One bottleneck block: 1x1 reduce -> grouped 3x3 -> 1x1 expand, plus the skip path.
#[derive(Debug, Clone)]
pub(super) struct CpuBottleneck {
    reduce: PointwiseConv,
    pub(super) grouped: GroupedConv,
    /// Its bias is added on the skip path: `skip_bias` without a projection, folded into
    /// the projection's bias with one.
    pub(super) expand: PointwiseConv,
    projection: Option<PointwiseConv>,
    /// `expand`'s bias, added to the identity when there is no projection.
    skip_bias: Vec<f32>,
}

impl CpuBottleneck {
    /// The block's layers from its weights; `index` names them in errors (`block 3 conv2`).
    pub(super) fn new(block: BlockWeights, index: usize) -> Result<Self> {
        let name = |conv: &str| format!("block {index} {conv}");
        let reduce = pointwise(block.conv1, name("conv1"))?;
        let grouped = grouped3x3(block.conv2, name("conv2"))?;
        let mut expand = pointwise(block.conv3, name("conv3"))?;
        let skip_bias = std::mem::take(&mut expand.bias);
        let (projection, skip_bias) = match block.downsample {
            Some(conv) => {
                let mut projection = pointwise(conv, name("downsample"))?;
                for (p, e) in projection.bias.iter_mut().zip(&skip_bias) {
                    *p += e;
                }
                (Some(projection), Vec::new())
            }
            None => (None, skip_bias),
        };
        Ok(Self {
            reduce,
            grouped,
            expand,
            projection,
            skip_bias,
        })
    }

    /// Bytes of the 1x1 convolutions' weights (nearly all of a block's).
    pub(super) fn pointwise_weight_bytes(&self) -> usize {
        let projection = self.projection.as_ref().map_or(0, |p| p.weight.len());
        4 * (self.reduce.weight.len() + self.expand.weight.len() + projection)
    }

    /// `ws.x` (`[C_in, B, H, W]`, `batch` images channel-major) -> `ws.x` (`[C_out, B, H',
    /// W']`); returns `[H', W']`.
    pub(super) fn forward(
        &self,
        ws: &mut Workspace,
        [batch, h, w]: [usize; 3],
        threads: usize,
        timer: &mut Option<&mut LayerTimes>,
    ) -> [usize; 2] {
        let size = [batch, h, w];
        let out_size = self.grouped.out_size([h, w]);
        let plane = batch * out_size[0] * out_size[1];
        let mut start = Instant::now();
        // A projected skip path (with the expanding convolution's bias folded in) goes to
        // `ws.out`; the identity stays in `ws.x`, which the expanding convolution then adds
        // onto in place.
        if let Some(projection) = &self.projection {
            projection.forward(&ws.x, size, &mut ws.out, &mut ws.scratch, false, threads);
            start = LayerTimes::lap(timer, "skip path (projection 1x1)", start);
        }
        self.reduce
            .forward(&ws.x, size, &mut ws.reduced, &mut ws.scratch, true, threads);
        let start = LayerTimes::lap(timer, "conv 1x1 reduce + relu", start);
        self.grouped.forward(
            &ws.reduced,
            size,
            BatchLayout::ChannelMajor,
            &mut ws.grouped,
            Activation::Relu,
            threads,
        );
        let start = if timer.is_some() {
            let stride = match self.grouped.stride {
                1 => String::new(),
                s => format!(" stride {s}"),
            };
            let [oh, ow] = out_size;
            let kind = format!("conv 3x3 grouped{stride} + relu ({oh}x{ow} out)");
            LayerTimes::lap(timer, &kind, start)
        } else {
            start
        };
        let (sum, bias) = match self.projection {
            Some(_) => (&mut ws.out, None),
            None => (&mut ws.x, Some(&self.skip_bias[..])),
        };
        self.expand
            .accumulate(&ws.grouped, plane, sum, bias, true, threads);
        LayerTimes::lap(timer, "conv 1x1 expand + residual + relu", start);
        if self.projection.is_some() {
            std::mem::swap(&mut ws.x, &mut ws.out);
        }
        out_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backbone::test_weights::block;

    #[test]
    fn a_blocks_pointwise_bytes_count_reduce_expand_and_projection() {
        let with = CpuBottleneck::new(block(8, 12, 20, 1, true), 0).unwrap();
        assert_eq!(
            with.pointwise_weight_bytes(),
            4 * (8 * 12 + 12 * 20 + 8 * 20)
        );
        let without = CpuBottleneck::new(block(20, 12, 20, 1, false), 1).unwrap();
        assert_eq!(without.pointwise_weight_bytes(), 4 * (20 * 12 + 12 * 20));
    }
}
