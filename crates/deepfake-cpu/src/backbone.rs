//! The inference backbone (BatchNorm folded) in host memory, run by the host kernels of this
//! module: activations stay in a few reused buffers, every 1x1 convolution is one matrix
//! product with its bias, ReLU and residual add fused around it. The early blocks (large
//! planes, small weights) run the images of a batch in parallel, one per thread (or, for
//! fewer images than threads, split each layer over the threads); the late blocks (small
//! planes, large weights) run on the whole batch at once, channel-major, each layer split
//! over the threads.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::grouped_conv::{BatchLayout, GroupedConv};
use crate::layers::{DenseConv, PointwiseConv, max_pool, mean_pool, transpose_outer};
use crate::weights::{BackboneWeights, BlockWeights, ConvWeights, symmetric_padding};

/// One bottleneck block: 1x1 reduce -> grouped 3x3 -> 1x1 expand, plus the skip path.
#[derive(Debug, Clone)]
struct CpuBottleneck {
    reduce: PointwiseConv,
    grouped: GroupedConv,
    /// Its bias is added on the skip path: `skip_bias` without a projection, folded into
    /// the projection's bias with one.
    expand: PointwiseConv,
    projection: Option<PointwiseConv>,
    /// `expand`'s bias, added to the identity when there is no projection.
    skip_bias: Vec<f32>,
}

/// The buffers one image's forward pass reuses from layer to layer (grown once, never
/// shrunk), so no layer allocates or faults in fresh pages.
#[derive(Debug, Default)]
struct Workspace {
    /// The current activation `[C, H, W]` (`[C, B, H, W]` in the batched blocks).
    x: Vec<f32>,
    /// Output of the reducing 1x1.
    reduced: Vec<f32>,
    /// Output of the grouped 3x3.
    grouped: Vec<f32>,
    /// The output of a block with a projection (the projection, then `+=` the expanding 1x1).
    out: Vec<f32>,
    /// Strided gathers (and the stem's im2col strips on CPUs without the packed product).
    scratch: Vec<f32>,
}

/// Workspaces kept between forward passes, so a pass does not fault in fresh pages for its
/// activations (~15 MB per image at 224x224).
#[derive(Debug, Default)]
struct WorkspacePool(Mutex<Vec<Workspace>>);

impl WorkspacePool {
    /// A workspace from the pool (or a new one), returned to it when dropped.
    fn take(&self) -> PooledWorkspace<'_> {
        let workspace = self
            .0
            .lock()
            .map(|mut pool| pool.pop())
            .ok()
            .flatten()
            .unwrap_or_default();
        PooledWorkspace {
            workspace,
            pool: self,
        }
    }
}

/// A workspace on loan from a [`WorkspacePool`].
struct PooledWorkspace<'a> {
    workspace: Workspace,
    pool: &'a WorkspacePool,
}

impl std::ops::Deref for PooledWorkspace<'_> {
    type Target = Workspace;
    fn deref(&self) -> &Workspace {
        &self.workspace
    }
}

impl std::ops::DerefMut for PooledWorkspace<'_> {
    fn deref_mut(&mut self) -> &mut Workspace {
        &mut self.workspace
    }
}

impl Drop for PooledWorkspace<'_> {
    fn drop(&mut self) {
        if let Ok(mut pool) = self.pool.0.lock() {
            pool.push(std::mem::take(&mut self.workspace));
        }
    }
}

impl CpuBottleneck {
    fn new(block: BlockWeights, index: usize) -> Result<Self> {
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
    fn pointwise_weight_bytes(&self) -> usize {
        let projection = self.projection.as_ref().map_or(0, |p| p.weight.len());
        4 * (self.reduce.weight.len() + self.expand.weight.len() + projection)
    }

    /// `ws.x` (`[C_in, B, H, W]`, `batch` images channel-major) -> `ws.x` (`[C_out, B, H',
    /// W']`); returns `[H', W']`.
    fn forward(
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

/// Thread-seconds spent per layer kind over a batch: the sum over the threads of a pass,
/// whether they ran images side by side or shared each layer.
#[derive(Debug, Default, Clone)]
pub struct LayerTimes {
    /// Thread-seconds per layer kind.
    pub seconds: BTreeMap<String, f64>,
    /// Threads each timed layer keeps busy (0 counts as 1).
    threads: usize,
}

impl LayerTimes {
    /// Times for layers that each keep `threads` threads busy.
    fn on_threads(threads: usize) -> Self {
        Self {
            threads,
            ..Self::default()
        }
    }

    /// Adds the time since `start` to `kind` (when timing) and returns the time now.
    fn lap(timer: &mut Option<&mut LayerTimes>, kind: &str, start: Instant) -> Instant {
        let now = Instant::now();
        if let Some(times) = timer {
            let thread_seconds = (now - start).as_secs_f64() * times.threads.max(1) as f64;
            *times.seconds.entry(kind.to_string()).or_default() += thread_seconds;
        }
        now
    }

    fn add_all(&mut self, other: &LayerTimes) {
        for (kind, seconds) in &other.seconds {
            *self.seconds.entry(kind.clone()).or_default() += seconds;
        }
    }
}

/// The ResNeXt feature extractor for inference on a CPU, its weights in host memory.
/// Build it from the folded backbone's weights with [`CpuResNeXt::new`]; equal to the model
/// crate's `FusedResNeXt::forward_features` within float rounding (tested to 1e-5 there).
#[derive(Debug)]
pub struct CpuResNeXt {
    stem: DenseConv,
    /// `([kernel, stride, padding], ceil_mode)` of the max pool after the stem.
    max_pool: ([usize; 3], bool),
    blocks: Vec<CpuBottleneck>,
    /// The first of the blocks that run on the whole batch at once (see
    /// [`BATCHED_BLOCK_BYTES`]); the stem and the blocks before it run image by image.
    batched_from: usize,
    /// Buffers kept between passes for the images run one per thread (at most one per
    /// thread) and for the images left over.
    workspaces: WorkspacePool,
    /// Buffers kept between passes for the blocks run on the whole batch (and for a batch
    /// of one image all the way), apart from the per-image ones so that no buffer grows to
    /// both sizes.
    batch_workspace: WorkspacePool,
}

/// From the first stride-1 block with more 1x1 weights than this (4x a core's L2 on current
/// x86 server CPUs) on, the blocks run on the whole batch at once: their weights are then
/// read once per batch, split between the threads, instead of once per image by every
/// thread, and their products are wider (ResNeXt-50: blocks 8-15, layer 3 but its first
/// block, and layer 4: about 80 MB of the 100 MB of weights, planes of 14x14 and 7x7). The
/// earlier blocks, with large planes and small weights, run one image per thread. A strided
/// block is not the first batched one: it reduces at its input's larger resolution, and
/// would hold the whole batch at that size (batch 8: 38 MB of buffers instead of 21, for
/// the same speed within this machine's noise).
const BATCHED_BLOCK_BYTES: usize = 2 << 20;

impl CpuResNeXt {
    /// The engine for `backbone` (its weights are moved, not copied).
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the first layer whose form the host kernels do not
    /// implement. The model crate's `ResNeXtConfig` only builds supported ones: a square dense
    /// stem with symmetric padding, a square max pool, 1x1 convolutions
    /// without padding, 3x3 grouped convolutions with padding 1, global average pooling.
    pub fn new(backbone: BackboneWeights) -> Result<Self> {
        let BackboneWeights {
            stem,
            max_pool,
            blocks,
            avg_pool_output,
        } = backbone;
        let unsupported = |layer: &str, reason: String| Error::Unsupported {
            layer: layer.into(),
            reason,
        };
        if avg_pool_output != [1, 1] {
            return Err(unsupported(
                "average pool",
                format!("output {avg_pool_output:?}, only a global [1, 1] pool"),
            ));
        }
        let max_pool = max_pool.window("max pool")?;
        let blocks = blocks
            .into_iter()
            .enumerate()
            .map(|(index, block)| CpuBottleneck::new(block, index))
            .collect::<Result<Vec<_>>>()?;
        let batched_from = blocks
            .iter()
            .position(|block| {
                block.grouped.stride == 1 && block.pointwise_weight_bytes() > BATCHED_BLOCK_BYTES
            })
            .unwrap_or(blocks.len());
        Ok(Self {
            stem: dense(stem)?,
            max_pool,
            blocks,
            batched_from,
            workspaces: WorkspacePool::default(),
            batch_workspace: WorkspacePool::default(),
        })
    }

    /// Index of the first block that runs on the whole batch at once (the block count when
    /// none does). By default the first stride-1 block with more than 2 MiB of 1x1 weights:
    /// from there on the weights are read once per batch instead of once per image (block 8
    /// of ResNeXt-50); the blocks before it run image by image.
    pub fn batched_from(&self) -> usize {
        self.batched_from
    }

    /// Makes blocks `first_block..` run on the whole batch at once and the earlier ones
    /// image by image (clamped to the block count). For tests and tuning: the results are
    /// the same either way, within float rounding.
    pub fn set_batched_from(&mut self, first_block: usize) {
        self.batched_from = first_block.min(self.blocks.len());
    }

    /// Channels of the pooled features.
    pub fn feature_dim(&self) -> usize {
        self.blocks
            .last()
            .map_or(self.stem.c_out, |block| block.expand.c_out)
    }

    /// Channels of the input images (3).
    pub fn in_channels(&self) -> usize {
        self.stem.c_in
    }

    /// Pooled features of `batch` images `[3, H, W]` stored one after another in `images`:
    /// `[B, feature_dim]`, row-major.
    ///
    /// # Panics
    /// If `images.len()` is not `batch * 3 * H * W`.
    pub fn forward_host(&self, images: &[f32], batch: usize, size: [usize; 2]) -> Vec<f32> {
        self.run(images, batch, size, false, None).0
    }

    /// The last stage's activations (before the average pool) of `batch` images `[3, H, W]`
    /// stored one after another: `[B, feature_dim, H', W']` row-major, and `[H', W']` (the
    /// feature map Grad-CAM weighs).
    ///
    /// # Panics
    /// If `images.len()` is not `batch * 3 * H * W`.
    pub fn forward_host_map(
        &self,
        images: &[f32],
        batch: usize,
        size: [usize; 2],
    ) -> (Vec<f32>, [usize; 2]) {
        let mut map = (Vec::new(), [0, 0]);
        self.run(images, batch, size, false, Some(&mut map));
        map
    }

    /// [`forward_host`](Self::forward_host), also timing every layer kind (for
    /// `examples/profile_forward.rs`).
    pub fn forward_host_timed(
        &self,
        images: &[f32],
        batch: usize,
        size: [usize; 2],
    ) -> (Vec<f32>, LayerTimes) {
        self.run(images, batch, size, true, None)
    }

    /// Pooled features and layer times; with `map`, also the last stage's activations
    /// `[B, C, H', W']` and `[H', W']`.
    fn run(
        &self,
        images: &[f32],
        batch: usize,
        size: [usize; 2],
        timed: bool,
        map: Option<&mut (Vec<f32>, [usize; 2])>,
    ) -> (Vec<f32>, LayerTimes) {
        let image_len = self.stem.c_in * size[0] * size[1];
        assert_eq!(images.len(), batch * image_len, "image buffer length");
        let feature_dim = self.feature_dim();
        let mut features = vec![0.0f32; batch * feature_dim];
        let mut times = LayerTimes::default();
        if batch == 0 {
            return (features, times);
        }
        let threads = rayon::current_num_threads();
        let (early, late) = self.blocks.split_at(self.batched_from);
        // The batch's activations `[C, B, H, W]` after the early blocks, in the workspace the
        // late blocks then use.
        let mut batched = self.batch_workspace.take();
        let mut shared = LayerTimes::on_threads(threads);
        let [mut h, mut w] = if batch == 1 {
            // Nothing to gather: one workspace all the way.
            self.forward_image(
                images,
                size,
                early,
                &mut batched,
                threads,
                timed.then_some(&mut shared),
            )
        } else {
            let (size, per_image) =
                self.gather_early(images, batch, size, early, &mut batched.x, timed);
            per_image.iter().for_each(|t| times.add_all(t));
            size
        };
        let mut timer = timed.then_some(&mut shared);
        for block in late {
            [h, w] = block.forward(&mut batched, [batch, h, w], threads, &mut timer);
        }
        if let Some((values, map_size)) = map {
            // `[C, B, H'W']` -> `[B, C, H'W']`.
            let len = feature_dim * batch * h * w;
            transpose_outer(&batched.x[..len], feature_dim, batch, values);
            *map_size = [h, w];
        }
        let start = Instant::now();
        mean_pool(&batched.x, [feature_dim, batch, h * w], &mut features);
        LayerTimes::lap(&mut timer, "avgpool", start);
        times.add_all(&shared);
        (features, times)
    }

    /// The stem and `early` blocks on each image, their activations gathered channel-major
    /// into `gathered` (`[C, B, H', W']`): whole rounds of `threads` images run one image per
    /// thread (no synchronisation inside the network), the images left over one at a time
    /// with every layer split over the threads. Returns `[H', W']` and the layer times of the
    /// parallel images and of the others.
    fn gather_early(
        &self,
        images: &[f32],
        batch: usize,
        size: [usize; 2],
        early: &[CpuBottleneck],
        gathered: &mut Vec<f32>,
        timed: bool,
    ) -> ([usize; 2], Vec<LayerTimes>) {
        let threads = rayon::current_num_threads();
        let image_len = images.len() / batch;
        let gathered = Mutex::new(gathered);
        // Image `image`'s activation `[C, plane]` into its slots of `[C, B, plane]`.
        let keep = |ws: &Workspace, image: usize, plane: usize| {
            let mut x = gathered.lock().unwrap_or_else(|e| e.into_inner());
            x.resize(ws.x.len() * batch, 0.0);
            for (channel, values) in ws.x.chunks_exact(plane).enumerate() {
                x[(channel * batch + image) * plane..][..plane].copy_from_slice(values);
            }
        };
        let parallel_images = if threads > 1 {
            batch / threads * threads
        } else {
            0
        };
        let (images_parallel, images_rest) = images.split_at(parallel_images * image_len);
        let (mut times, sizes): (Vec<LayerTimes>, Vec<[usize; 2]>) = images_parallel
            .par_chunks(image_len)
            .enumerate()
            .map(|(i, image)| {
                let mut times = LayerTimes::default();
                let mut ws = self.workspaces.take();
                let [h, w] =
                    self.forward_image(image, size, early, &mut ws, 1, timed.then_some(&mut times));
                keep(&ws, i, h * w);
                (times, [h, w])
            })
            .unzip();
        let mut out_size = sizes.first().copied().unwrap_or_default();
        let mut shared = LayerTimes::on_threads(threads);
        for (i, image) in images_rest.chunks(image_len).enumerate() {
            let mut ws = self.workspaces.take();
            out_size = self.forward_image(
                image,
                size,
                early,
                &mut ws,
                threads,
                timed.then_some(&mut shared),
            );
            keep(&ws, parallel_images + i, out_size[0] * out_size[1]);
        }
        times.push(shared);
        (out_size, times)
    }

    /// One image `[3, H, W]` through the stem and `blocks`, its activation left in `ws.x`;
    /// returns its size `[H', W']`.
    fn forward_image(
        &self,
        image: &[f32],
        size: [usize; 2],
        blocks: &[CpuBottleneck],
        ws: &mut Workspace,
        threads: usize,
        mut timer: Option<&mut LayerTimes>,
    ) -> [usize; 2] {
        let start = Instant::now();
        self.stem
            .forward_relu(image, size, &mut ws.out, &mut ws.scratch, threads);
        let stem_size = self.stem.out_size(size);
        let start = LayerTimes::lap(&mut timer, "conv 7x7 stem + relu", start);
        let [mut h, mut w] = max_pool(
            &ws.out,
            [self.stem.c_out, stem_size[0], stem_size[1]],
            self.max_pool.0,
            self.max_pool.1,
            &mut ws.x,
            threads,
        );
        LayerTimes::lap(&mut timer, "maxpool", start);
        for block in blocks {
            [h, w] = block.forward(ws, [1, h, w], threads, &mut timer);
        }
        [h, w]
    }
}

fn unsupported(layer: &str, conv: &ConvWeights, what: &str) -> Error {
    Error::Unsupported {
        layer: layer.into(),
        reason: format!(
            "weights {:?}, stride {:?}, dilation {:?}, groups {}: only {what}",
            conv.dims, conv.stride, conv.dilation, conv.groups
        ),
    }
}

fn pointwise(conv: ConvWeights, layer: String) -> Result<PointwiseConv> {
    let [stride, stride_w] = conv.stride;
    let padding = symmetric_padding(conv.padding, &layer)?;
    if conv.dims[2..] != [1, 1] || conv.groups != 1 || stride != stride_w || padding != 0 {
        return Err(unsupported(
            &layer,
            &conv,
            "1x1 convolutions without padding",
        ));
    }
    let [c_out, c_in, _, _] = conv.dims;
    Ok(PointwiseConv {
        weight: conv.weight,
        bias: conv.bias,
        c_in,
        c_out,
        stride,
    })
}

fn grouped3x3(conv: ConvWeights, layer: String) -> Result<GroupedConv> {
    let [stride, stride_w] = conv.stride;
    let padding = symmetric_padding(conv.padding, &layer)?;
    if conv.dims[2..] != [3, 3] || conv.dilation != [1, 1] || stride != stride_w || padding != 1 {
        return Err(unsupported(
            &layer,
            &conv,
            "3x3 convolutions with padding 1",
        ));
    }
    let [c_out, c_in_group, _, _] = conv.dims;
    Ok(GroupedConv::new(
        conv.weight,
        conv.bias,
        [c_in_group * conv.groups, c_out],
        conv.groups,
        [3, stride, 1],
    ))
}

fn dense(conv: ConvWeights) -> Result<DenseConv> {
    let [stride, stride_w] = conv.stride;
    let [_, _, kernel, kernel_w] = conv.dims;
    let padding = symmetric_padding(conv.padding, "stem")?;
    if kernel != kernel_w || stride != stride_w || conv.groups != 1 || conv.dilation != [1, 1] {
        return Err(unsupported("stem", &conv, "square dense convolutions"));
    }
    let [c_out, c_in, _, _] = conv.dims;
    Ok(DenseConv::new(
        conv.weight,
        conv.bias,
        [c_in, c_out],
        [kernel, stride, padding],
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::weights::PoolSpec;

    /// A convolution of `dims` `[C_out, C_in / groups, k, k]` with small weights, square
    /// `stride`, symmetric `padding`, no dilation.
    fn conv(dims: [usize; 4], stride: usize, padding: usize, groups: usize) -> ConvWeights {
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
    fn block(
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
    fn backbone(blocks: Vec<BlockWeights>) -> BackboneWeights {
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
    fn one_block() -> BackboneWeights {
        backbone(vec![block(8, 64, 32, 1, true)])
    }

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

    /// Batched from the first stride-1 block whose 1x1 weights pass 2 MiB: not the small
    /// first block, not the large strided one after it; `set_batched_from` moves the split
    /// and keeps it within the blocks.
    #[test]
    fn the_batch_runs_from_the_first_large_stride_one_block() {
        // 8 * 64 + 64 * 32 + 8 * 32 floats: 11 KiB. 32 * 512 + 512 * 1024 + 32 * 1024 floats
        // and 1024 * 512 + 512 * 1024 floats: over 2 MiB each.
        let blocks = vec![
            block(8, 64, 32, 1, true),
            block(32, 512, 1024, 2, true),
            block(1024, 512, 1024, 1, false),
            block(1024, 512, 1024, 1, false),
        ];
        let mut engine = CpuResNeXt::new(backbone(blocks)).unwrap();
        assert_eq!(engine.batched_from(), 2);
        engine.set_batched_from(1);
        assert_eq!(engine.batched_from(), 1);
        engine.set_batched_from(9);
        assert_eq!(engine.batched_from(), 4);
    }

    /// Each condition of each layer's supported form alone refuses the engine, naming the
    /// layer.
    #[test]
    fn each_unsupported_layer_form_is_refused_by_name() {
        type Spoil = fn(&mut BackboneWeights);
        let cases: [(&str, Spoil); 18] = [
            ("block 0 conv1", |b| {
                b.blocks[0].conv1 = conv([64, 8, 3, 3], 1, 1, 1)
            }),
            ("block 0 conv1", |b| {
                b.blocks[0].conv1 = conv([64, 4, 1, 1], 1, 0, 2)
            }),
            ("block 0 conv1", |b| b.blocks[0].conv1.stride = [1, 2]),
            ("block 0 conv1", |b| b.blocks[0].conv1.padding = [1; 4]),
            ("block 0 conv2", |b| {
                b.blocks[0].conv2 = conv([64, 16, 5, 5], 1, 1, 4)
            }),
            ("block 0 conv2", |b| b.blocks[0].conv2.dilation = [2, 2]),
            ("block 0 conv2", |b| b.blocks[0].conv2.stride = [1, 2]),
            ("block 0 conv2", |b| b.blocks[0].conv2.padding = [0; 4]),
            ("stem", |b| b.stem = conv([8, 3, 3, 5], 2, 1, 1)),
            ("stem", |b| b.stem.stride = [2, 1]),
            ("stem", |b| b.stem = conv([8, 1, 3, 3], 2, 1, 3)),
            ("stem", |b| b.stem.dilation = [2, 2]),
            ("stem", |b| b.stem.padding = [1, 0, 1, 1]),
            ("stem", |b| b.stem.padding = [1, 1, 0, 1]),
            ("stem", |b| b.stem.padding = [1, 1, 1, 0]),
            ("max pool", |b| b.max_pool.kernel = [3, 2]),
            ("max pool", |b| b.max_pool.stride = [2, 1]),
            ("max pool", |b| b.max_pool.dilation = [2, 2]),
        ];
        assert!(CpuResNeXt::new(one_block()).is_ok());
        for (index, (layer, spoil)) in cases.into_iter().enumerate() {
            let mut weights = one_block();
            spoil(&mut weights);
            match CpuResNeXt::new(weights) {
                Err(Error::Unsupported { layer: named, .. }) => {
                    assert_eq!(named, layer, "case {index}")
                }
                other => panic!("case {index} ({layer}): {other:?}"),
            }
        }
    }

    /// A pass's buffers go back to their pool: the next pass reuses them.
    #[test]
    fn workspaces_return_to_their_pool_after_a_pass() {
        let engine = CpuResNeXt::new(one_block()).unwrap();
        let pooled = |pool: &WorkspacePool| pool.0.lock().unwrap().len();
        assert_eq!(pooled(&engine.batch_workspace), 0);
        let image = vec![0.5; 3 * 32 * 32];
        engine.forward_host(&image, 1, [32, 32]);
        assert_eq!(pooled(&engine.batch_workspace), 1);
        engine.forward_host(&image, 1, [32, 32]);
        assert_eq!(pooled(&engine.batch_workspace), 1);
    }

    /// Whole rounds of one image per thread, the rest one at a time on every thread: the
    /// layer times come one per image of the rounds, then one for the rest.
    #[test]
    fn early_blocks_run_whole_rounds_of_one_image_per_thread() {
        let engine = CpuResNeXt::new(one_block()).unwrap();
        let images = vec![0.5; 5 * 3 * 16 * 16];
        for (threads, rounds) in [(1, 0), (2, 4), (3, 3)] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let mut gathered = Vec::new();
            let (_, times) = pool.install(|| {
                engine.gather_early(&images, 5, [16, 16], &engine.blocks, &mut gathered, true)
            });
            assert_eq!(times.len(), rounds + 1, "{threads} threads");
            let rest = &times[rounds];
            assert_eq!(rest.seconds.is_empty(), rounds == 5, "{threads} threads");
        }
    }

    /// A lap counts its wall time once per busy thread, and laps and merged times add up.
    #[test]
    fn laps_count_thread_seconds_and_add_up() {
        let mut times = LayerTimes::on_threads(4);
        let start = Instant::now() - Duration::from_millis(10);
        LayerTimes::lap(&mut Some(&mut times), "conv", start);
        let elapsed = start.elapsed().as_secs_f64();
        let conv = times.seconds["conv"];
        assert!(
            (0.04..=4.0 * elapsed).contains(&conv),
            "{conv} s for 4 threads"
        );
        LayerTimes::lap(
            &mut Some(&mut times),
            "conv",
            Instant::now() - Duration::from_millis(10),
        );
        assert!(times.seconds["conv"] >= conv + 0.04, "{:?}", times.seconds);

        let mut total = LayerTimes::default();
        total.seconds.insert("conv".into(), 1.0);
        let mut other = LayerTimes::default();
        other.seconds.insert("conv".into(), 2.0);
        other.seconds.insert("relu".into(), 0.5);
        total.add_all(&other);
        assert_eq!(
            total.seconds,
            BTreeMap::from([("conv".into(), 3.0), ("relu".into(), 0.5)])
        );
    }
}
