//! The host backbone's other layers on one image in host memory (`[C, H, W]`, row-major):
//! 1x1 convolutions as one matrix product, the stem's dense convolution, max pooling and
//! global average pooling.

mod dense;
mod pointwise;
mod pooling;

pub(crate) use dense::DenseConv;
pub(crate) use pointwise::PointwiseConv;
pub(crate) use pooling::{max_pool, mean_pool};

/// `[A, B, P]` -> `[B, A, P]`, row-major, into `out` (`P` = the rest of the dimensions):
/// images `[B, C, ...]` to channel-major `[C, B, ...]` and back.
pub(crate) fn transpose_outer(x: &[f32], a: usize, b: usize, out: &mut Vec<f32>) {
    let plane = x.len() / (a * b).max(1);
    out.clear();
    out.resize(x.len(), 0.0);
    for (i, block) in x.chunks_exact(plane.max(1)).enumerate() {
        let (ia, ib) = (i / b, i % b);
        out[(ib * a + ia) * plane..][..plane].copy_from_slice(block);
    }
}
