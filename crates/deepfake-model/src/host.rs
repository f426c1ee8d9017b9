//! The folded backbone handed to the host CPU engine (`deepfake-cpu`): its weights copied to
//! plain host buffers, and the engine's slices wrapped back into tensors at the boundary. The
//! layer conversions are public: deepfake-faces hands MTCNN's networks to the engine with them.

use std::collections::BTreeMap;
use std::time::Instant;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::tensor::{Tensor, TensorData};
use deepfake_cpu::{BackboneWeights, BlockWeights, ConvWeights, CpuResNeXt, PoolSpec};

use crate::fused::{FusedBottleneck, FusedResNeXt};
use crate::layer_timer::LayerTimer;

impl FusedResNeXt {
    /// The backbone's weights as host values for [`CpuResNeXt::new`], each layer's tensors
    /// released as soon as they are copied (the weights are never held twice).
    pub fn into_host_weights(self) -> BackboneWeights {
        let FusedResNeXt {
            conv1,
            maxpool,
            blocks,
            avgpool,
        } = self;
        BackboneWeights {
            stem: conv_weights(conv1),
            max_pool: pool_spec(&maxpool),
            blocks: blocks.into_iter().map(block_weights).collect(),
            avg_pool_output: avgpool.output_size,
        }
    }
}

fn block_weights(block: FusedBottleneck) -> BlockWeights {
    BlockWeights {
        conv1: conv_weights(block.conv1),
        conv2: conv_weights(block.conv2),
        conv3: conv_weights(block.conv3),
        downsample: block.downsample.map(conv_weights),
    }
}

/// `[top, left, bottom, right]`; `Same` (never built by this crate) as the padding that keeps
/// the size for odd kernels.
fn padding(padding: &PaddingConfig2d) -> [usize; 4] {
    match *padding {
        PaddingConfig2d::Valid => [0; 4],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [top, left, bottom, right],
        PaddingConfig2d::Same => [usize::MAX; 4],
    }
}

/// A tensor's values as `f32` (converted first, so reading them cannot fail).
pub fn host_values(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .try_into_vec::<f32>()
        .expect("converted to f32")
}

/// A Burn max pool's window as the host engine reads it.
pub fn pool_spec(pool: &MaxPool2d) -> PoolSpec {
    PoolSpec {
        kernel: pool.kernel_size,
        stride: pool.stride,
        padding: padding(&pool.padding),
        dilation: pool.dilation,
        ceil_mode: pool.ceil_mode,
    }
}

/// A Burn convolution's weights, bias (zeros when it has none) and geometry as host values
/// for the host engine (the tensors are released as they are copied).
pub fn conv_weights(conv: Conv2d) -> ConvWeights {
    let dims = conv.weight.dims();
    let bias = match conv.bias {
        Some(bias) => host_values(bias.val().into_data()),
        None => vec![0.0; dims[0]],
    };
    ConvWeights {
        weight: host_values(conv.weight.val().into_data()),
        bias,
        dims,
        stride: conv.stride,
        padding: padding(&conv.padding),
        dilation: conv.dilation,
        groups: conv.groups,
    }
}

/// Pooled features from the host engine: `[B, 3, H, W]` -> `[B, feature_dim]`, on the
/// images' device (the engine reads and writes host memory; use it on a CPU device). With a
/// recording `timer`, the engine times its layers: their thread-seconds are scaled to the
/// backbone's wall time, so the layers still add up to a pass when images run in parallel.
///
/// # Panics
/// If the images do not have the engine's channel count (as Burn's `conv2d` would).
pub(crate) fn host_forward_features(
    engine: &CpuResNeXt,
    images: Tensor<4>,
    timer: &mut impl LayerTimer,
) -> Tensor<2> {
    let device = images.device();
    let [batch, channels, height, width] = images.dims();
    assert_eq!(channels, engine.in_channels(), "image channels");
    let pixels = host_values(images.into_data());
    let features = if timer.records() {
        let start = Instant::now();
        let (features, times) = engine.forward_host_timed(&pixels, batch, [height, width]);
        for (kind, seconds) in shares_of_wall(&times.seconds, start.elapsed().as_secs_f64()) {
            timer.add(kind, seconds);
        }
        features
    } else {
        engine.forward_host(&pixels, batch, [height, width])
    };
    Tensor::from_data(
        TensorData::new(features, [batch, engine.feature_dim()]),
        &device,
    )
}

/// Each layer kind's share of a pass that took `wall` seconds: the engine's thread-seconds per
/// kind, scaled to add up to `wall` (its threads run layers side by side, so their seconds add
/// up to more than the pass took). All 0 when no thread time was recorded.
fn shares_of_wall(thread_seconds: &BTreeMap<String, f64>, wall: f64) -> Vec<(&str, f64)> {
    let total: f64 = thread_seconds.values().sum();
    thread_seconds
        .iter()
        .map(|(kind, seconds)| (kind.as_str(), seconds * wall / total.max(f64::MIN_POSITIVE)))
        .collect()
}

/// The host engine's last-stage activations as a tensor on the images' device:
/// `[B, 3, H, W]` -> `[B, feature_dim, H', W']`.
pub(crate) fn host_forward_feature_map(engine: &CpuResNeXt, images: Tensor<4>) -> Tensor<4> {
    let device = images.device();
    let [batch, channels, height, width] = images.dims();
    assert_eq!(channels, engine.in_channels(), "image channels");
    let pixels = host_values(images.into_data());
    let (map, [h, w]) = engine.forward_host_map(&pixels, batch, [height, width]);
    Tensor::from_data(
        TensorData::new(map, [batch, engine.feature_dim(), h, w]),
        &device,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_kinds_share_the_wall_time_in_proportion_to_their_thread_time() {
        let times = BTreeMap::from([("conv 3x3".to_string(), 3.0), ("relu".to_string(), 1.0)]);
        assert_eq!(
            shares_of_wall(&times, 2.0),
            [("conv 3x3", 1.5), ("relu", 0.5)]
        );
        let nothing = BTreeMap::from([("conv 3x3".to_string(), 0.0)]);
        assert_eq!(shares_of_wall(&nothing, 2.0), [("conv 3x3", 0.0)]);
    }
}
