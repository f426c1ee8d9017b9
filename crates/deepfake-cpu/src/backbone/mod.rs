//! The inference backbone (BatchNorm folded) in host memory, run by the host kernels of this
//! module: activations stay in a few reused buffers, every 1x1 convolution is one matrix
//! product with its bias, ReLU and residual add fused around it. The early blocks (large
//! planes, small weights) run the images of a batch in parallel, one per thread (or, for
//! fewer images than threads, split each layer over the threads); the late blocks (small
//! planes, large weights) run on the whole batch at once, channel-major, each layer split
//! over the threads.

mod bottleneck;
mod layer_forms;
#[cfg(test)]
mod test_weights;
mod workspace;

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::layer_times::LayerTimes;
use crate::layers::{DenseConv, max_pool, mean_pool, transpose_outer};
use crate::weights::BackboneWeights;
use bottleneck::CpuBottleneck;
use layer_forms::dense;
use workspace::{Workspace, WorkspacePool};

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

#[cfg(test)]
mod tests {
    use super::test_weights::{backbone, block, conv, one_block};
    use super::*;

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
        assert_eq!(engine.batch_workspace.len(), 0);
        let image = vec![0.5; 3 * 32 * 32];
        engine.forward_host(&image, 1, [32, 32]);
        assert_eq!(engine.batch_workspace.len(), 1);
        engine.forward_host(&image, 1, [32, 32]);
        assert_eq!(engine.batch_workspace.len(), 1);
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
}
