//! Grad-CAM (Selvaraju et al. 2017) at the last backbone stage of the inference detector.
//!
//! Burn 0.22 gives no gradient for a non-leaf tensor, so the backbone runs without autodiff to
//! its feature map `A` (`[N, C, h, w]`, on any device and on the host engine alike); `A` then
//! becomes an autodiff leaf and the pool, LSTM and classifier run on it. With `g = dy_c/dA`
//! for the chosen class logit `y_c`, the map of each frame is
//! `relu(sum_k mean_hw(g_k) * A_k)`, divided by its maximum (all zeros when the maximum is 0).

use burn::tensor::activation::relu;
use burn::tensor::{Tensor, TensorData};

use crate::detector::score_frames;
use crate::fused::InferenceDetector;
use crate::layer_timer::Untimed;

/// Grad-CAM maps with the logits they explain.
#[derive(Debug, Clone, PartialEq)]
pub struct GradCam {
    /// Logits `[B, num_classes]`, row-major (the same as `forward_sequence` gives).
    pub logits: Vec<f32>,
    /// One map per frame, `[B * T, h, w]` row-major (frames of a sequence together), each
    /// in `[0, 1]`.
    pub maps: Vec<f32>,
    /// `[h, w]`: the feature map's size (`[H / 32, W / 32]`).
    pub map_size: [usize; 2],
}

impl InferenceDetector {
    /// Grad-CAM of logit `class` (0 = Real, 1 = Fake) for frame sequences `[B, T, 3, H, W]`
    /// (images are `T = 1`).
    ///
    /// # Panics
    /// If `class` is not below the number of classes.
    pub fn grad_cam(&self, frames: Tensor<5>, class: usize) -> GradCam {
        // The head is the one `forward_sequence` runs (`score_frames`), fed from the leaf.
        let mut leaf = None;
        let logits = score_frames(
            frames,
            |flat, _| {
                let map = self
                    .backbone
                    .forward_feature_map(flat)
                    .detach()
                    .autodiff()
                    .require_grad();
                leaf = Some(map.clone());
                spatial_mean(map)
            },
            &self.lstm,
            &self.classifier,
            &mut Untimed,
        );
        let map = leaf.expect("score_frames runs the backbone once");
        let [frames_total, feature_dim, h, w] = map.dims();
        let classes = logits.dims()[1];
        assert!(class < classes, "class {class} of {classes}");
        let gradients = logits.clone().narrow(1, class, 1).sum().backward();
        let grad = map
            .grad(&gradients)
            .expect("the feature map is a leaf that requires its gradient");
        // Channel weights: the gradient's spatial mean, `[N, C, 1, 1]`.
        let weights = spatial_mean(grad).reshape([frames_total as i32, feature_dim as i32, 1, 1]);
        let cam = relu((map.without_autodiff() * weights).sum_dim(1));
        let mut maps = values(cam.into_data());
        for map in maps.chunks_exact_mut(h * w) {
            let max = map.iter().copied().fold(0.0f32, f32::max);
            if max > 0.0 {
                map.iter_mut().for_each(|v| *v /= max);
            }
        }
        GradCam {
            logits: values(logits.without_autodiff().into_data()),
            maps,
            map_size: [h, w],
        }
    }
}

/// `[N, C, h, w]` -> `[N, C]`: the mean over each plane (the global average pool).
fn spatial_mean(x: Tensor<4>) -> Tensor<2> {
    let [n, c, h, w] = x.dims();
    x.reshape([n as i32, c as i32, (h * w) as i32])
        .mean_dim(2)
        .reshape([n as i32, c as i32])
}

fn values(data: TensorData) -> Vec<f32> {
    data.convert::<f32>()
        .try_to_vec::<f32>()
        .expect("float tensor data converts to f32")
}

/// Bilinear resize of one map `[h, w]` to `[out_h, out_w]` with PyTorch's
/// `F.interpolate(mode="bilinear", align_corners=False)` semantics (half-pixel centres,
/// source coordinates below 0 clamped to 0). Values of a map in `[0, 1]` stay in `[0, 1]`.
///
/// # Panics
/// If `map.len() != h * w`.
pub fn upsample_bilinear(map: &[f32], [h, w]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    assert_eq!(map.len(), h * w, "map length");
    let axis = |out: usize, input: usize| -> Vec<(usize, usize, f32)> {
        let scale = input as f32 / out as f32;
        (0..out)
            .map(|o| {
                let source = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
                // At most (out - 1/2) * scale - 1/2 = input - 1/2 - scale / 2: below input.
                let i0 = source.floor() as usize;
                let i1 = (i0 + 1).min(input - 1);
                (i0, i1, source - i0 as f32)
            })
            .collect()
    };
    let rows = axis(out_h, h);
    let cols = axis(out_w, w);
    let mut out = Vec::with_capacity(out_h * out_w);
    for &(y0, y1, ly) in &rows {
        for &(x0, x1, lx) in &cols {
            let top = map[y0 * w + x0] * (1.0 - lx) + map[y0 * w + x1] * lx;
            let bottom = map[y1 * w + x0] * (1.0 - lx) + map[y1 * w + x1] * lx;
            out.push(top * (1.0 - ly) + bottom * ly);
        }
    }
    out
}
