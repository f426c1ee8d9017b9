//! MTCNN's three networks on the host CPU engine (`deepfake-cpu`'s [`CpuPreluNet`]): their
//! Burn modules' weights copied into it, each network's output layers joined into one head
//! (split again and soft-maxed here). Same outputs as the Burn networks within float rounding
//! (tests/integration/nets_parity.rs runs both against facenet-pytorch).

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Linear, PRelu};
use burn::tensor::Tensor;
use deepfake_cpu::{
    ConvWeights, CpuPreluNet, DenseWeights, HeadWeights, PreluConvWeights, PreluNetWeights,
};
use deepfake_model::host::{conv_weights, host_values, pool_spec};

use crate::error::{FacesError, Result};
use crate::nets::{ONet, PNet, RNet};
use crate::networks::{CropScores, ProposalMaps};
use crate::weights::MtcnnNets;

/// The three networks on the host engine.
#[derive(Debug)]
pub struct HostNets {
    pnet: CpuPreluNet,
    rnet: CpuPreluNet,
    onet: CpuPreluNet,
}

impl HostNets {
    /// The networks of `nets` (copied) on the host engine.
    ///
    /// # Errors
    /// [`FacesError::Host`] when this CPU has no host kernel for a layer (the 2x2
    /// convolutions need AVX2 + FMA): run the Burn networks instead.
    pub fn new(nets: &MtcnnNets) -> Result<Self> {
        let build = |weights| CpuPreluNet::new(weights).map_err(FacesError::Host);
        Ok(Self {
            pnet: build(pnet_weights(&nets.pnet))?,
            rnet: build(rnet_weights(&nets.rnet))?,
            onet: build(onet_weights(&nets.onet))?,
        })
    }

    /// P-Net on one image `[3, H, W]` (normalised, row-major).
    pub fn propose(&self, image: &[f32], size: [usize; 2]) -> ProposalMaps {
        let (out, size) = self.pnet.forward(image, 1, size);
        let cells = size[0] * size[1];
        // Channels 0-1: face logits, 2-5: regression.
        ProposalMaps {
            probability: softmax_pairs_planar(&out[..2 * cells]),
            regression: out[2 * cells..].to_vec(),
            size,
        }
    }

    /// R-Net on `n` crops `[n, 3, 24, 24]`.
    pub fn refine(&self, crops: &[f32], n: usize) -> CropScores {
        let (out, _) = self.rnet.forward(crops, n, [24, 24]);
        split_scores(&out, n, 6)
    }

    /// O-Net on `n` crops `[n, 3, 48, 48]`.
    pub fn output(&self, crops: &[f32], n: usize) -> CropScores {
        let (out, _) = self.onet.forward(crops, n, [48, 48]);
        split_scores(&out, n, 16)
    }
}

/// `[n, width]` rows of (2 face logits, 4 regression values, then landmarks) split, the
/// logits soft-maxed.
fn split_scores(out: &[f32], n: usize, width: usize) -> CropScores {
    let mut scores = CropScores {
        regression: Vec::with_capacity(4 * n),
        probability: Vec::with_capacity(2 * n),
        landmarks: Vec::with_capacity((width - 6) * n),
    };
    for row in out.chunks_exact(width) {
        scores.probability.extend(softmax2(row[0], row[1]));
        scores.regression.extend_from_slice(&row[2..6]);
        scores.landmarks.extend_from_slice(&row[6..]);
    }
    scores
}

/// PyTorch's `softmax` over two values.
fn softmax2(a: f32, b: f32) -> [f32; 2] {
    let max = a.max(b);
    let (ea, eb) = ((a - max).exp(), (b - max).exp());
    let sum = ea + eb;
    [ea / sum, eb / sum]
}

/// Softmax over the two planes of `[2, cells]`.
fn softmax_pairs_planar(logits: &[f32]) -> Vec<f32> {
    let (first, second) = logits.split_at(logits.len() / 2);
    let mut out = vec![0.0; logits.len()];
    let (p0, p1) = out.split_at_mut(first.len());
    for (i, (&a, &b)) in first.iter().zip(second).enumerate() {
        [p0[i], p1[i]] = softmax2(a, b);
    }
    out
}

fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    host_values(tensor.into_data())
}

fn stage(conv: &Conv2d, prelu: &PRelu, pool: Option<&MaxPool2d>) -> PreluConvWeights {
    PreluConvWeights {
        conv: conv_weights(conv.clone()),
        slopes: values(prelu.alpha.val()),
        pool: pool.map(pool_spec),
    }
}

/// A Burn `Linear` (weights `[in, out]`) as `[out, in]`, with its PReLU if any.
fn dense(linear: &Linear, prelu: Option<&PRelu>) -> DenseWeights {
    let weight = linear.weight.val().transpose();
    let [out, inputs] = weight.dims();
    DenseWeights {
        weight: values(weight),
        bias: linear
            .bias
            .as_ref()
            .map_or_else(|| vec![0.0; out], |b| values(b.val())),
        dims: [out, inputs],
        slopes: prelu.map(|p| values(p.alpha.val())),
    }
}

/// A 1x1 convolution `[out, in, 1, 1]` as the dense layer `[out, in]` it is per position.
fn pointwise(conv: &Conv2d) -> DenseWeights {
    let ConvWeights {
        weight, bias, dims, ..
    } = conv_weights(conv.clone());
    DenseWeights {
        weight,
        bias,
        dims: [dims[0], dims[1]],
        slopes: None,
    }
}

/// Output layers side by side as one (their rows stacked; the same inputs).
fn joined(heads: impl IntoIterator<Item = DenseWeights>) -> DenseWeights {
    let mut heads = heads.into_iter();
    let mut joined = heads.next().expect("at least one head");
    for next in heads {
        joined.weight.extend(next.weight);
        joined.bias.extend(next.bias);
        joined.dims[0] += next.dims[0];
    }
    joined
}

/// `layer`'s input columns reordered from facenet-pytorch's flattening of a `[C, side,
/// side]` map (width, height, channel: `permute(0, 3, 2, 1)`) to the host engine's
/// (channel, row, column).
fn from_whc_columns(mut layer: DenseWeights, channels: usize) -> DenseWeights {
    let [out, inputs] = layer.dims;
    let plane = inputs / channels;
    let side = plane.isqrt();
    debug_assert_eq!(side * side * channels, inputs, "a square map");
    let mut weight = vec![0.0; out * inputs];
    for (o, row) in layer.weight.chunks_exact(inputs).enumerate() {
        for c in 0..channels {
            for y in 0..side {
                for x in 0..side {
                    weight[o * inputs + (c * side + y) * side + x] =
                        row[(x * side + y) * channels + c];
                }
            }
        }
    }
    layer.weight = weight;
    layer
}

fn pnet_weights(net: &PNet) -> PreluNetWeights {
    // Output channels 0-1: face logits, 2-5: regression.
    let head = joined([pointwise(&net.conv4_1), pointwise(&net.conv4_2)]);
    PreluNetWeights {
        convs: vec![
            stage(&net.conv1, &net.prelu1, Some(&net.pool1)),
            stage(&net.conv2, &net.prelu2, None),
            stage(&net.conv3, &net.prelu3, None),
        ],
        head: HeadWeights::Pointwise(head),
    }
}

fn rnet_weights(net: &RNet) -> PreluNetWeights {
    let channels = net.conv3.weight.dims()[0];
    PreluNetWeights {
        convs: vec![
            stage(&net.conv1, &net.prelu1, Some(&net.pool1)),
            stage(&net.conv2, &net.prelu2, Some(&net.pool2)),
            stage(&net.conv3, &net.prelu3, None),
        ],
        head: HeadWeights::Dense(vec![
            from_whc_columns(dense(&net.dense4, Some(&net.prelu4)), channels),
            joined([dense(&net.dense5_1, None), dense(&net.dense5_2, None)]),
        ]),
    }
}

fn onet_weights(net: &ONet) -> PreluNetWeights {
    let channels = net.conv4.weight.dims()[0];
    PreluNetWeights {
        convs: vec![
            stage(&net.conv1, &net.prelu1, Some(&net.pool1)),
            stage(&net.conv2, &net.prelu2, Some(&net.pool2)),
            stage(&net.conv3, &net.prelu3, Some(&net.pool3)),
            stage(&net.conv4, &net.prelu4, None),
        ],
        head: HeadWeights::Dense(vec![
            from_whc_columns(dense(&net.dense5, Some(&net.prelu5)), channels),
            joined([
                dense(&net.dense6_1, None),
                dense(&net.dense6_2, None),
                dense(&net.dense6_3, None),
            ]),
        ]),
    }
}
