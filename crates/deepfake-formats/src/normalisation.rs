//! What the model's input must look like. Data loading, inference, the ONNX export and the
//! browser extension all read these, so training, evaluation and prediction cannot drift apart.

/// ImageNet per-channel mean (R, G, B) of pixel values scaled to [0, 1].
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet per-channel standard deviation (R, G, B) of pixel values scaled to [0, 1].
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Input side length of the seed preset, in pixels.
pub const SEED_IMAGE_SIZE: usize = 224;
/// Input side length of the tiny preset, in pixels.
pub const TINY_IMAGE_SIZE: usize = 64;
