//! Small convolutional networks of PReLU layers on the host: MTCNN's P-Net, R-Net and O-Net
//! (the face detector's three networks). The same kernels as the backbone: every
//! convolution is the one-group [`GroupedConv`] (packed AVX2 product, or the direct 3x3
//! kernel) with the PReLU applied as its output is cropped, the pools are the separable
//! max pool, and the 1x1 and dense heads are `gemm` products with bias and PReLU fused.
//! Activations stay channel-major (`[C, B, H, W]`) from the first layer to the head.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::gemm::{Epilogue, matmul};
use crate::grouped_conv::{BatchLayout, GroupedConv};
use crate::layers::{max_pool, transpose_outer};
use crate::weights::{DenseWeights, HeadWeights, PreluConvWeights, PreluNetWeights};

/// A [`PreluNetWeights`] network ready to run on the host: images `[B, C, H, W]` to a map
/// `[B, out, H', W']` (pointwise head) or scores `[B, out]` (dense head).
#[derive(Debug)]
pub struct CpuPreluNet {
    convs: Vec<PreluConv>,
    head: Head,
}

#[derive(Debug)]
struct PreluConv {
    conv: GroupedConv,
    slopes: Vec<f32>,
    /// `([kernel, stride, padding], ceil_mode)` of the max pool after the PReLU.
    pool: Option<([usize; 3], bool)>,
}

#[derive(Debug)]
enum Head {
    Pointwise(DenseWeights),
    Dense(Vec<DenseWeights>),
}

impl CpuPreluNet {
    /// The network for `weights` (moved, not copied).
    ///
    /// # Errors
    /// [`Error::Unsupported`] naming the first layer the host kernels do not run: a
    /// convolution that is not square, unpadded, stride 1 and undilated, or whose kernel this
    /// CPU has no kernel for (3x3 everywhere; other sizes need AVX2 + FMA and a multiple of 4
    /// output channels); a pool that is not square and undilated with symmetric padding; a
    /// layer whose input size does not match the previous layer's output.
    pub fn new(weights: PreluNetWeights) -> Result<Self> {
        let PreluNetWeights { convs, head } = weights;
        let mut channels = convs.first().map(|c| c.conv.dims[1]);
        let convs = convs
            .into_iter()
            .enumerate()
            .map(|(index, layer)| {
                let conv = prelu_conv(layer, index, channels)?;
                channels = Some(conv.conv.c_out);
                Ok(conv)
            })
            .collect::<Result<Vec<_>>>()?;
        let head = match head {
            HeadWeights::Pointwise(layer) => {
                check_dense(&layer, "pointwise head", channels)?;
                Head::Pointwise(layer)
            }
            HeadWeights::Dense(layers) => {
                // The first layer's input is the flattened map, whose size depends on the image.
                let mut inputs = None;
                for (index, layer) in layers.iter().enumerate() {
                    check_dense(layer, &format!("dense layer {index}"), inputs)?;
                    inputs = Some(layer.dims[0]);
                }
                Head::Dense(layers)
            }
        };
        Ok(Self { convs, head })
    }

    /// Channels of the input images.
    pub fn in_channels(&self) -> usize {
        self.convs.first().map_or(0, |c| c.conv.c_in)
    }

    /// Runs `batch` images `[C, H, W]` stored one after another in `images` (row-major
    /// `[B, C, H, W]`, C = [`in_channels`](Self::in_channels)): returns `[B, out, H', W']`
    /// row-major and `[H', W']` (`[1, 1]` after a dense head).
    ///
    /// # Panics
    /// If `images.len()` is not `batch * C * H * W`, an image is smaller than a layer's
    /// window, or a dense head's input does not match the flattened map (bugs in the caller:
    /// the networks' input sizes are fixed).
    pub fn forward(
        &self,
        images: &[f32],
        batch: usize,
        size: [usize; 2],
    ) -> (Vec<f32>, [usize; 2]) {
        let [h, w] = size;
        assert_eq!(
            images.len(),
            batch * self.in_channels() * h * w,
            "image buffer length"
        );
        if batch == 0 {
            return (Vec::new(), [0, 0]);
        }
        // A forward pass started on this thread while it waited inside another (rayon work
        // stealing) finds the buffers taken and uses fresh ones.
        BUFFERS.with(|buffers| match buffers.try_borrow_mut() {
            Ok(mut buffers) => {
                let (x, out) = &mut *buffers;
                self.run(images, batch, size, x, out)
            }
            Err(_) => self.run(images, batch, size, &mut Vec::new(), &mut Vec::new()),
        })
    }

    /// [`Self::forward`] with `x` and `out` as the buffers of the activations.
    fn run(
        &self,
        images: &[f32],
        batch: usize,
        [mut h, mut w]: [usize; 2],
        x: &mut Vec<f32>,
        out: &mut Vec<f32>,
    ) -> (Vec<f32>, [usize; 2]) {
        let c_in = self.in_channels();
        let threads = rayon::current_num_threads();
        transpose_outer(images, batch, c_in, x);
        for layer in &self.convs {
            let activation = Activation::Prelu(&layer.slopes);
            layer.conv.forward(
                x,
                [batch, h, w],
                BatchLayout::ChannelMajor,
                out,
                activation,
                threads,
            );
            [h, w] = layer.conv.out_size([h, w]);
            match layer.pool {
                Some((window, ceil_mode)) => {
                    let planes = [layer.conv.c_out * batch, h, w];
                    [h, w] = max_pool(out, planes, window, ceil_mode, x, threads);
                }
                None => std::mem::swap(x, out),
            }
        }
        let channels = self.convs.last().map_or(c_in, |c| c.conv.c_out);
        match &self.head {
            Head::Pointwise(layer) => {
                let plane = batch * h * w;
                let y = dense(layer, x, plane, threads);
                let mut result = Vec::new();
                transpose_outer(&y, layer.dims[0], batch, &mut result);
                (result, [h, w])
            }
            Head::Dense(layers) => {
                // `[C, B, H, W]` -> `[C * H * W, B]`: one column per image, its map flattened
                // in (channel, row, column) order.
                let plane = h * w;
                let mut columns = vec![0.0; channels * plane * batch];
                for (c, maps) in x.chunks_exact(batch * plane).enumerate() {
                    for (b, map) in maps.chunks_exact(plane).enumerate() {
                        for (p, &v) in map.iter().enumerate() {
                            columns[(c * plane + p) * batch + b] = v;
                        }
                    }
                }
                for layer in layers {
                    columns = dense(layer, &columns, batch, threads);
                }
                let outputs = layers.last().map_or(channels * plane, |l| l.dims[0]);
                let mut result = Vec::new();
                transpose_outer(&columns, outputs, batch, &mut result);
                (result, [1, 1])
            }
        }
    }
}

/// `W x + b` then the layer's PReLU, for `x` `[in, n]` (row-major): `[out, n]`.
fn dense(layer: &DenseWeights, x: &[f32], n: usize, threads: usize) -> Vec<f32> {
    let [out, inputs] = layer.dims;
    assert_eq!(x.len(), inputs * n, "dense layer input");
    let mut y = vec![0.0; out * n];
    let activation = layer
        .slopes
        .as_deref()
        .map_or(Activation::Identity, Activation::Prelu);
    let epilogue = Epilogue {
        bias: Some(&layer.bias),
        activation,
    };
    matmul(
        &mut y,
        n,
        &layer.weight,
        x,
        n,
        [out, inputs, n],
        false,
        epilogue,
        threads,
    );
    y
}

thread_local! {
    /// Each thread's two activation buffers, kept from call to call: fresh buffers of a
    /// large pyramid level would be faulted in and cleared by the kernel on every call.
    static BUFFERS: std::cell::RefCell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn unsupported(layer: &str, reason: String) -> Error {
    Error::Unsupported {
        layer: layer.into(),
        reason,
    }
}

/// Layer `index` as the host kernels run it; `channels` is the previous layer's output.
fn prelu_conv(layer: PreluConvWeights, index: usize, channels: Option<usize>) -> Result<PreluConv> {
    let name = format!("conv {index}");
    let PreluConvWeights { conv, slopes, pool } = layer;
    let [c_out, c_in_group, kh, kw] = conv.dims;
    let c_in = c_in_group * conv.groups;
    if kh != kw
        || conv.stride != [1, 1]
        || conv.dilation != [1, 1]
        || conv.padding != [0; 4]
        || conv.groups == 0
        || c_out % conv.groups != 0
    {
        return Err(unsupported(
            &name,
            format!(
                "weights {:?}, stride {:?}, padding {:?}, dilation {:?}, groups {}: only \
                 square, unpadded, stride-1, undilated convolutions",
                conv.dims, conv.stride, conv.padding, conv.dilation, conv.groups
            ),
        ));
    }
    if !GroupedConv::supports(c_out / conv.groups, kh) {
        return Err(unsupported(
            &name,
            format!("no {kh}x{kh} kernel for {c_out} output channels on this CPU"),
        ));
    }
    if channels.is_some_and(|c| c != c_in) {
        return Err(unsupported(
            &name,
            format!("{c_in} input channels after a layer with {channels:?}"),
        ));
    }
    if conv.weight.len() != c_out * c_in_group * kh * kw || conv.bias.len() != c_out {
        return Err(unsupported(
            &name,
            "weight or bias length does not match its shape".into(),
        ));
    }
    if slopes.len() != c_out {
        return Err(unsupported(
            &name,
            format!("{} PReLU slopes for {c_out} channels", slopes.len()),
        ));
    }
    let pool = pool
        .map(|p| p.window(&format!("pool after conv {index}")))
        .transpose()?;
    let conv = GroupedConv::new(
        conv.weight,
        conv.bias,
        [c_in, c_out],
        conv.groups,
        [kh, 1, 0],
    );
    Ok(PreluConv { conv, slopes, pool })
}

/// Checks a dense layer's lengths, and that its input matches `inputs` when known.
fn check_dense(layer: &DenseWeights, name: &str, inputs: Option<usize>) -> Result<()> {
    let [out, n_in] = layer.dims;
    if layer.weight.len() != out * n_in
        || layer.bias.len() != out
        || layer.slopes.as_ref().is_some_and(|s| s.len() != out)
    {
        return Err(unsupported(
            name,
            format!(
                "weights, bias or slopes do not match the shape {:?}",
                layer.dims
            ),
        ));
    }
    if inputs.is_some_and(|i| i != n_in) {
        return Err(unsupported(
            name,
            format!("{n_in} inputs after a layer with {inputs:?} outputs"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{host, max_diff};
    use crate::weights::{ConvWeights, PoolSpec};
    use burn::module::Param;
    use burn::nn::conv::{Conv2d, Conv2dConfig};
    use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
    use burn::nn::{Linear, LinearConfig, PRelu, PReluConfig};
    use burn::tensor::{Device, Distribution, Tensor};

    /// A reference layer on Burn: convolution, PReLU with random slopes, optional ceil-mode pool.
    struct BurnStage {
        conv: Conv2d,
        prelu: PRelu,
        pool: Option<(MaxPool2d, [usize; 2])>,
    }

    fn stage(c: [usize; 2], k: usize, pool: Option<[usize; 2]>, device: &Device) -> BurnStage {
        let mut prelu = PReluConfig::new().with_num_parameters(c[1]).init(device);
        prelu.alpha = Param::from_tensor(Tensor::random(
            [c[1]],
            Distribution::Uniform(-0.5, 0.9),
            device,
        ));
        BurnStage {
            conv: Conv2dConfig::new(c, [k, k]).init(device),
            prelu,
            pool: pool.map(|[k, s]| {
                let p = MaxPool2dConfig::new([k, k])
                    .with_strides([s, s])
                    .with_ceil_mode(true);
                (p.init(), [k, s])
            }),
        }
    }

    impl BurnStage {
        fn forward(&self, x: Tensor<4>) -> Tensor<4> {
            let x = self.prelu.forward(self.conv.forward(x));
            match &self.pool {
                Some((pool, _)) => pool.forward(x),
                None => x,
            }
        }

        fn host(&self) -> PreluConvWeights {
            PreluConvWeights {
                conv: ConvWeights {
                    weight: host(self.conv.weight.val()),
                    bias: host(self.conv.bias.as_ref().unwrap().val()),
                    dims: self.conv.weight.dims(),
                    stride: [1, 1],
                    padding: [0; 4],
                    dilation: [1, 1],
                    groups: 1,
                },
                slopes: host(self.prelu.alpha.val()),
                pool: self.pool.as_ref().map(|&(_, [k, s])| PoolSpec {
                    kernel: [k, k],
                    stride: [s, s],
                    padding: [0; 4],
                    dilation: [1, 1],
                    ceil_mode: true,
                }),
            }
        }
    }

    fn dense_weights(linear: &Linear, prelu: Option<&PRelu>) -> DenseWeights {
        // Burn's Linear stores `[in, out]`; the host layer takes PyTorch's `[out, in]`.
        let weight = linear.weight.val().transpose();
        DenseWeights {
            dims: weight.dims(),
            weight: host(weight),
            bias: host(linear.bias.as_ref().unwrap().val()),
            slopes: prelu.map(|p| host(p.alpha.val())),
        }
    }

    /// An R-Net-like network (3x3 convs, 3/2 and 2/2 ceil pools, a 2x2 conv, two dense
    /// layers) and a P-Net-like one (1x1 head) against Burn's layers, batch 1 and 3.
    #[test]
    fn prelu_nets_equal_burn_layers() {
        let device = Device::flex();
        let stages = [
            stage([3, 10], 3, Some([3, 2]), &device),
            stage([10, 16], 3, Some([2, 2]), &device),
            stage([16, 32], 2, None, &device),
        ];
        let dense1 = LinearConfig::new(32 * 2 * 2, 24).init(&device);
        let mut prelu1 = PReluConfig::new().with_num_parameters(24).init(&device);
        prelu1.alpha = Param::from_tensor(Tensor::random([24], Distribution::Default, &device));
        let dense2 = LinearConfig::new(24, 6).init(&device);
        let pointwise = Conv2dConfig::new([32, 5], [1, 1]).init(&device);
        for (batch, size) in [(1, 17), (3, 16)] {
            let x = Tensor::<4>::random([batch, 3, size, size], Distribution::Default, &device);
            let map = stages.iter().fold(x.clone(), |x, s| s.forward(x));
            let [_, c, h, w] = map.dims();
            assert_eq!([c, h, w], [32, 2, 2], "the sizes this test is built for");

            let flat = map.clone().reshape([batch, c * h * w]);
            let want = host(dense2.forward(prelu1.forward(dense1.forward(flat))));
            let net = CpuPreluNet::new(PreluNetWeights {
                convs: stages.iter().map(BurnStage::host).collect(),
                head: HeadWeights::Dense(vec![
                    dense_weights(&dense1, Some(&prelu1)),
                    dense_weights(&dense2, None),
                ]),
            })
            .unwrap();
            let (got, got_size) = net.forward(&host(x.clone()), batch, [size, size]);
            assert_eq!(got_size, [1, 1]);
            let diff = max_diff(&got, &want);
            assert!(diff <= 1e-5, "dense head, batch {batch}: {diff}");

            // No head layers: the last stage's maps, `[B, C * H * W]`.
            let net = CpuPreluNet::new(PreluNetWeights {
                convs: stages.iter().map(BurnStage::host).collect(),
                head: HeadWeights::Dense(Vec::new()),
            })
            .unwrap();
            let (got, _) = net.forward(&host(x.clone()), batch, [size, size]);
            let diff = max_diff(&got, &host(map.clone()));
            assert!(diff <= 1e-5, "no head, batch {batch}: {diff}");

            let want = host(pointwise.forward(map));
            let weight = pointwise.weight.val();
            let net = CpuPreluNet::new(PreluNetWeights {
                convs: stages.iter().map(BurnStage::host).collect(),
                head: HeadWeights::Pointwise(DenseWeights {
                    weight: host(weight.clone()),
                    bias: host(pointwise.bias.as_ref().unwrap().val()),
                    dims: [5, 32],
                    slopes: None,
                }),
            })
            .unwrap();
            let (got, got_size) = net.forward(&host(x), batch, [size, size]);
            assert_eq!(got_size, [2, 2]);
            let diff = max_diff(&got, &want);
            assert!(diff <= 1e-5, "pointwise head, batch {batch}: {diff}");
        }
    }

    #[test]
    fn unsupported_layers_are_named() {
        let conv = ConvWeights {
            weight: vec![0.0; 4 * 3 * 9],
            bias: vec![0.0; 4],
            dims: [4, 3, 3, 3],
            stride: [2, 2],
            padding: [0; 4],
            dilation: [1, 1],
            groups: 1,
        };
        let weights = PreluNetWeights {
            convs: vec![PreluConvWeights {
                conv,
                slopes: vec![0.25; 4],
                pool: None,
            }],
            head: HeadWeights::Dense(Vec::new()),
        };
        let err = CpuPreluNet::new(weights).unwrap_err().to_string();
        assert!(err.contains("conv 0") && err.contains("stride"), "{err}");
    }

    /// Each condition of a layer's supported form alone refuses the network, naming the layer.
    #[test]
    fn each_unsupported_condition_alone_is_refused() {
        // The valid net's 1x1 layer runs on the packed kernel (AVX2 and FMA).
        if !crate::has_avx2_fma() {
            return;
        }
        let dense = |dims: [usize; 2]| DenseWeights {
            weight: vec![0.0; dims[0] * dims[1]],
            bias: vec![0.0; dims[0]],
            dims,
            slopes: None,
        };
        // conv 0: 3 -> 8, 3x3; conv 1: 8 -> 8 in 2 groups, 1x1; a dense head 5 -> 2 -> 3.
        let valid = || PreluNetWeights {
            convs: vec![
                PreluConvWeights {
                    conv: conv_dims([8, 3, 3, 3], 1),
                    slopes: vec![0.25; 8],
                    pool: None,
                },
                PreluConvWeights {
                    conv: conv_dims([8, 4, 1, 1], 2),
                    slopes: vec![0.25; 8],
                    pool: None,
                },
            ],
            head: HeadWeights::Dense(vec![dense([2, 5]), dense([3, 2])]),
        };
        assert!(CpuPreluNet::new(valid()).is_ok());
        type Spoil = fn(&mut PreluNetWeights);
        let cases: [(&str, Spoil); 12] = [
            ("conv 0", |w| w.convs[0].conv = conv_dims([8, 3, 3, 2], 1)),
            ("conv 0", |w| w.convs[0].conv.stride = [2, 2]),
            ("conv 0", |w| w.convs[0].conv.dilation = [2, 2]),
            ("conv 0", |w| w.convs[0].conv.padding = [1; 4]),
            ("conv 0", |w| w.convs[0].conv.groups = 0),
            ("conv 1", |w| w.convs[1].conv.groups = 3),
            // 2 output channels per group: no packed 1x1 kernel for them.
            ("conv 1", |w| w.convs[1].conv = conv_dims([8, 2, 1, 1], 4)),
            ("conv 0", |w| w.convs[0].conv.weight.truncate(1)),
            ("conv 0", |w| w.convs[0].conv.bias.truncate(1)),
            ("dense layer 0", |w| head_layer(w, 0).weight.truncate(1)),
            ("dense layer 0", |w| head_layer(w, 0).bias.truncate(1)),
            ("dense layer 0", |w| {
                head_layer(w, 0).slopes = Some(vec![0.25])
            }),
        ];
        for (index, (layer, spoil)) in cases.into_iter().enumerate() {
            let mut weights = valid();
            spoil(&mut weights);
            let err = CpuPreluNet::new(weights).expect_err(layer).to_string();
            assert!(err.contains(layer), "case {index}: {err}");
        }
    }

    /// Zero weights `[C_out, C_in / groups, kh, kw]`: stride 1, no padding, no dilation.
    fn conv_dims(dims: [usize; 4], groups: usize) -> ConvWeights {
        ConvWeights {
            weight: vec![0.0; dims.iter().product()],
            bias: vec![0.0; dims[0]],
            dims,
            stride: [1, 1],
            padding: [0; 4],
            dilation: [1, 1],
            groups,
        }
    }

    /// Head layer `index` of a dense head.
    fn head_layer(weights: &mut PreluNetWeights, index: usize) -> &mut DenseWeights {
        match &mut weights.head {
            HeadWeights::Dense(layers) => &mut layers[index],
            HeadWeights::Pointwise(layer) => layer,
        }
    }
}
