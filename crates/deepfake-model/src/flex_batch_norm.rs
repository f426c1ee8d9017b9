//! BatchNorm in training on flex as one operation with its own backward pass, on the host
//! kernels of `deepfake_cpu::batch_norm_training` (all threads, one or two passes over
//! memory each way), optionally with what follows it in a ResNet block: the residual add and
//! the ReLU.
//!
//! Written with Burn's tensor operations (as it must be on the cubecl backends), a training
//! BatchNorm is a dozen single-threaded elementwise passes on flex, forward and backward, and
//! the residual add and ReLU after it more. Here it is a Burn backend extension:
//! [`FlexBatchNorm`] is implemented for `Flex` and for `Autodiff<Flex>`, whose implementation
//! registers the backward pass; [`normalize_with_batch_statistics`] is the one entry point.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, NodeGuard, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, Flex, backend_extension};
use burn::tensor::Tensor;
use burn::tensor::activation::relu;
use deepfake_cpu::batch_norm_training::{
    BatchNormShape, BatchStatistics, Normalization, batch_statistics, normalize, normalize_backward,
};

use crate::flex_host::{flex_tensor, host_values};

/// What follows a BatchNorm in a ResNet block, done by the same operation in training.
// Built and consumed once per call: the tensor handle's size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Epilogue<const D: usize> {
    /// The normalised values as they are.
    Nothing,
    /// `max(y, 0)`.
    Relu,
    /// `max(y + residual, 0)`, the residual of the input's shape (a block's skip path).
    AddRelu(Tensor<D>),
}

impl<const D: usize> Epilogue<D> {
    /// The epilogue applied to `output` with Burn's tensor operations (any backend).
    pub fn apply(self, output: Tensor<D>) -> Tensor<D> {
        match self {
            Self::Nothing => output,
            Self::Relu => relu(output),
            Self::AddRelu(residual) => relu(output + residual),
        }
    }
}

/// `[B, C, ...]` normalised per channel with the batch's own mean and biased variance, scaled
/// by `gamma` `[C]`, shifted by `beta` `[C]`, then `epilogue`; returns the output (the
/// input's shape), the batch mean `[C]` and the biased batch variance `[C]` (both detached:
/// they only feed the running statistics).
///
/// The same function as Burn's `batch_norm_train` followed by `epilogue.apply`,
/// differentiated by hand. Only for flex devices (autodiff or not); the cubecl backends use
/// Burn's.
///
/// # Panics
/// On a device of another backend, or an input that is not `f32`.
pub fn normalize_with_batch_statistics<const D: usize>(
    input: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
    epilogue: Epilogue<D>,
) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
    let dims = input.dims();
    let (batch, channels) = (dims[0], dims[1]);
    let plane: usize = dims[2..].iter().product();
    let x: Tensor<3> = input.reshape([batch, channels, plane]);
    let statistics = Tensor::<2>::from_dispatch(<Dispatch as FlexBatchNorm>::batch_statistics(
        x.clone().detach().into_dispatch(),
    ));
    let (x, gamma, beta) = (
        x.into_dispatch(),
        gamma.into_dispatch(),
        beta.into_dispatch(),
    );
    let stats = statistics.clone().into_dispatch();
    let output = match epilogue {
        Epilogue::Nothing | Epilogue::Relu => {
            let relu = matches!(epilogue, Epilogue::Relu);
            <Dispatch as FlexBatchNorm>::normalize(x, gamma, beta, stats, epsilon, relu)
        }
        Epilogue::AddRelu(residual) => {
            let residual = residual.reshape([batch, channels, plane]).into_dispatch();
            <Dispatch as FlexBatchNorm>::normalize_add_relu(
                x, gamma, beta, stats, residual, epsilon,
            )
        }
    };
    let mean = statistics
        .clone()
        .slice([0..1, 0..channels])
        .reshape([channels]);
    let variance = statistics.slice([1..2, 0..channels]).reshape([channels]);
    (
        Tensor::<3>::from_dispatch(output).reshape(dims),
        mean,
        variance,
    )
}

/// The training BatchNorm as a Burn backend extension, for flex and autodiff over flex.
#[backend_extension(Flex, Autodiff)]
pub trait FlexBatchNorm: Backend {
    /// `x` `[B, C, plane]` -> `[2, C]`: each channel's mean (row 0) and biased variance
    /// (row 1). Not differentiated.
    fn batch_statistics(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `x` `[B, C, plane]` -> `[B, C, plane]`: `(x - mean) * gamma / sqrt(var + epsilon) +
    /// beta`, then `max(., 0)` when `relu`, with `statistics` `[2, C]` from
    /// [`batch_statistics`](Self::batch_statistics) of the same `x`. Differentiated with
    /// respect to `x` (through the statistics too), `gamma` `[C]` and `beta` `[C]`.
    fn normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> FloatTensor<Self>;

    /// [`normalize`](Self::normalize) plus `residual` `[B, C, plane]`, then `max(., 0)`;
    /// differentiated with respect to the residual too.
    fn normalize_add_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
}

/// `[B, C, plane]` of a 3-dimensional flex tensor.
fn shape_of(x: &FlexTensor) -> BatchNormShape {
    let [batch, channels, plane] = x.layout().shape().dims::<3>();
    BatchNormShape {
        batch,
        channels,
        plane,
    }
}

/// The statistics `[2, C]` as the host kernels take them.
fn statistics_of(statistics: &FlexTensor, channels: usize) -> BatchStatistics {
    let values = host_values(statistics);
    BatchStatistics {
        mean: values[..channels].to_vec(),
        variance: values[channels..2 * channels].to_vec(),
    }
}

/// The forward pass's tensors, as the host kernels take them.
struct HostNormalization<'a> {
    x: std::borrow::Cow<'a, [f32]>,
    gamma: std::borrow::Cow<'a, [f32]>,
    beta: std::borrow::Cow<'a, [f32]>,
    residual: Option<std::borrow::Cow<'a, [f32]>>,
    statistics: BatchStatistics,
    shape: BatchNormShape,
}

impl<'a> HostNormalization<'a> {
    fn new(
        x: &'a FlexTensor,
        gamma: &'a FlexTensor,
        beta: &'a FlexTensor,
        statistics: &FlexTensor,
        residual: Option<&'a FlexTensor>,
    ) -> Self {
        let shape = shape_of(x);
        Self {
            x: host_values(x),
            gamma: host_values(gamma),
            beta: host_values(beta),
            residual: residual.map(host_values),
            statistics: statistics_of(statistics, shape.channels),
            shape,
        }
    }

    fn normalization(&self, epsilon: f64, relu: bool) -> Normalization<'_> {
        Normalization {
            x: &self.x,
            shape: self.shape,
            statistics: &self.statistics,
            gamma: &self.gamma,
            beta: &self.beta,
            residual: self.residual.as_deref(),
            epsilon,
            relu,
        }
    }

    fn dims(&self) -> [usize; 3] {
        [self.shape.batch, self.shape.channels, self.shape.plane]
    }
}

impl FlexBatchNorm for Flex {
    fn batch_statistics(x: FlexTensor) -> FlexTensor {
        let shape = shape_of(&x);
        let statistics = batch_statistics(&host_values(&x), shape);
        let mut rows = statistics.mean;
        rows.extend(statistics.variance);
        flex_tensor(rows, &[2, shape.channels])
    }

    fn normalize(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        statistics: FlexTensor,
        epsilon: f64,
        relu: bool,
    ) -> FlexTensor {
        let normalization = FlexNormalization {
            x,
            gamma,
            beta,
            statistics,
            residual: None,
            epsilon,
            relu,
        };
        normalization.forward()
    }

    fn normalize_add_relu(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        statistics: FlexTensor,
        residual: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let normalization = FlexNormalization {
            x,
            gamma,
            beta,
            statistics,
            residual: Some(residual),
            epsilon,
            relu: true,
        };
        normalization.forward()
    }
}

/// One normalisation's tensors on flex: what its forward pass reads and its backward step
/// keeps.
#[derive(Debug, Clone)]
struct FlexNormalization {
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    statistics: FlexTensor,
    residual: Option<FlexTensor>,
    epsilon: f64,
    relu: bool,
}

impl FlexNormalization {
    /// The host kernels' view of the tensors.
    fn host(&self) -> HostNormalization<'_> {
        HostNormalization::new(
            &self.x,
            &self.gamma,
            &self.beta,
            &self.statistics,
            self.residual.as_ref(),
        )
    }

    /// The output `[B, C, plane]`.
    fn forward(&self) -> FlexTensor {
        let host = self.host();
        let output = normalize(&host.normalization(self.epsilon, self.relu));
        flex_tensor(output, &host.dims())
    }

    /// The gradients of `x`, `gamma`, `beta` and the residual for the output gradient `dy`,
    /// registered for the parents that want them (node ids of `[x, gamma, beta, residual]`).
    fn register_gradients(
        self,
        dy: FlexTensor,
        parents: [Option<NodeId>; 4],
        grads: &mut Gradients,
    ) {
        let host = self.host();
        let gradients = normalize_backward(
            &host.normalization(self.epsilon, self.relu),
            &host_values(&dy),
        );
        let channels = [host.shape.channels];
        let [node_x, node_gamma, node_beta, node_residual] = parents;
        for (node, values, dims) in [
            (node_x, Some(gradients.x), &host.dims()[..]),
            (node_gamma, Some(gradients.gamma), &channels[..]),
            (node_beta, Some(gradients.beta), &channels[..]),
            (node_residual, gradients.residual, &host.dims()[..]),
        ] {
            if let (Some(node), Some(values)) = (node, values) {
                grads.register::<Flex>(node, flex_tensor(values, dims));
            }
        }
    }
}

/// The backward step of [`FlexBatchNorm::normalize`] (`N = 3` parents: `x`, `gamma`, `beta`)
/// and of [`FlexBatchNorm::normalize_add_relu`] (`N = 4`: the residual too).
#[derive(Debug)]
struct NormalizeBackward<const N: usize>;

impl<const N: usize> Backward<Flex, N> for NormalizeBackward<N> {
    type State = FlexNormalization;

    fn backward(self, ops: Ops<FlexNormalization, N>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = grads.consume::<Flex>(&ops.node);
        let mut parents = [None; 4];
        for (id, node) in parents.iter_mut().zip(ops.parents) {
            *id = node.map(|node| node.id);
        }
        ops.state.register_gradients(dy, parents, grads);
    }
}

impl FlexNormalization {
    /// The forward pass as an autodiff operation on `nodes` (those of `x`, `gamma`, `beta`
    /// and, for `N = 4`, the residual), its backward step registered when any is tracked.
    fn tracked<const N: usize, C: CheckpointStrategy>(
        self,
        nodes: [NodeGuard; N],
    ) -> FloatTensor<Autodiff<Flex, C>> {
        let output = self.forward();
        match NormalizeBackward::<N>
            .prepare::<C>(nodes)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(self, output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

impl<C: CheckpointStrategy> FlexBatchNorm for Autodiff<Flex, C> {
    fn batch_statistics(x: FloatTensor<Self>) -> FloatTensor<Self> {
        FloatTensor::<Self>::new(<Flex as FlexBatchNorm>::batch_statistics(
            x.into_primitive(),
        ))
    }

    fn normalize(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        epsilon: f64,
        relu: bool,
    ) -> FloatTensor<Self> {
        let state = FlexNormalization {
            x: x.primitive().clone(),
            gamma: gamma.primitive().clone(),
            beta: beta.primitive().clone(),
            statistics: statistics.into_primitive(),
            residual: None,
            epsilon,
            relu,
        };
        state.tracked::<3, C>([x.node(), gamma.node(), beta.node()])
    }

    fn normalize_add_relu(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        statistics: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let state = FlexNormalization {
            x: x.primitive().clone(),
            gamma: gamma.primitive().clone(),
            beta: beta.primitive().clone(),
            statistics: statistics.into_primitive(),
            residual: Some(residual.primitive().clone()),
            epsilon,
            relu: true,
        };
        state.tracked::<4, C>([x.node(), gamma.node(), beta.node(), residual.node()])
    }
}
