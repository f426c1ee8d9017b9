//! Features and logits of every form the detector runs in, against PyTorch, on two fixtures:
//! the tiny detector (layers `[1,1,1,1]`: every block has a projection) and the deep one
//! (layers `[2,2,2,2]`: identity-skip blocks and `layerN.1.*` keys, trained briefly so its
//! P(fake) spreads over the inputs). Fixtures: `tests/fixtures/gen_feature_fixtures.py`.
//!
//! Forms: the detector as loaded; BatchNorm folded into the convolutions on Burn's operations;
//! the folded backbone on the host CPU engine with its blocks run image by image, on the whole
//! batch, or the first ones one way and the rest the other, on 1, 2 and 16 threads.

use crate::common;

use burn::tensor::{Device, Tensor};
use common::{fixture, max_diff_values, read_tensor, values};
use deepfake_compare::{scaled_tolerance, spread};
use deepfake_model::{Detector, DetectorConfig, InferenceBackbone, InferenceDetector};

/// Features and logits, per element: absolute for outputs of magnitude up to 1, relative to the
/// largest reference value above that (the trained deep fixture's features reach 6.4, where
/// folding BatchNorm into the convolutions changes float32 rounding by ~2e-6 relative).
const TOLERANCE: f32 = 1e-5;

/// A torch reference: weights, architecture, and the file of its inputs and outputs.
struct Fixture {
    name: &'static str,
    weights: &'static str,
    config: DetectorConfig,
    /// Holds `images`, `sequences`, `image_logits`, `sequence_logits`.
    io: &'static str,
    /// Holds `image_features` (`[N, F]`) and `sequence_features` (`[B * T, F]`).
    features: &'static str,
}

fn fixtures() -> [Fixture; 2] {
    let mut deep = DetectorConfig::tiny();
    deep.backbone.layers = [2, 2, 2, 2];
    [
        Fixture {
            name: "tiny [1,1,1,1]",
            weights: "tiny_detector.pth",
            config: DetectorConfig::tiny(),
            io: "tiny_detector_io.safetensors",
            features: "tiny_detector_features.safetensors",
        },
        Fixture {
            name: "deep [2,2,2,2]",
            weights: "deep_detector.pth",
            config: deep,
            io: "deep_detector_io.safetensors",
            features: "deep_detector_io.safetensors",
        },
    ]
}

/// The fixture's inputs and torch's outputs.
struct Reference {
    images: Tensor<4>,
    sequences: Tensor<5>,
    image_features: Tensor<2>,
    sequence_features: Tensor<2>,
    image_logits: Tensor<2>,
    sequence_logits: Tensor<2>,
}

impl Fixture {
    fn reference(&self, device: &Device) -> Reference {
        Reference {
            images: read_tensor(self.io, "images", device),
            sequences: read_tensor(self.io, "sequences", device),
            image_features: read_tensor(self.features, "image_features", device),
            sequence_features: read_tensor(self.features, "sequence_features", device),
            image_logits: read_tensor(self.io, "image_logits", device),
            sequence_logits: read_tensor(self.io, "sequence_logits", device),
        }
    }

    fn detector(&self, device: &Device) -> Detector {
        Detector::from_pytorch(fixture(self.weights), &self.config, device)
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
    }
}

/// All frames of `[B, T, 3, H, W]` as one batch `[B * T, 3, H, W]`.
fn frames(sequences: Tensor<5>) -> Tensor<4> {
    let [b, t, c, h, w] = sequences.dims();
    sequences.reshape([b * t, c, h, w])
}

/// One form's outputs for the reference inputs.
struct Outputs {
    image_features: Tensor<2>,
    sequence_features: Tensor<2>,
    image_logits: Tensor<2>,
    sequence_logits: Tensor<2>,
}

fn check(what: &str, got: Outputs, want: &Reference) {
    let pairs = [
        ("image features", got.image_features, &want.image_features),
        (
            "frame features",
            got.sequence_features,
            &want.sequence_features,
        ),
        ("image logits", got.image_logits, &want.image_logits),
        (
            "sequence logits",
            got.sequence_logits,
            &want.sequence_logits,
        ),
    ];
    for (output, got, want) in pairs {
        assert_eq!(got.dims(), want.dims(), "{what}: {output} shapes");
        let want = values(want.clone());
        let diff = max_diff_values(&values(got), &want);
        let tolerance = scaled_tolerance(TOLERANCE, &want);
        assert!(
            diff <= tolerance,
            "{what}: {output} differ by {diff} > {tolerance}"
        );
    }
}

fn plain_outputs(detector: &Detector, r: &Reference) -> Outputs {
    Outputs {
        image_features: detector.backbone.forward_features(r.images.clone()),
        sequence_features: detector
            .backbone
            .forward_features(frames(r.sequences.clone())),
        image_logits: detector.forward(r.images.clone()),
        sequence_logits: detector.forward_sequence(r.sequences.clone()),
    }
}

fn inference_outputs(form: &InferenceDetector, r: &Reference) -> Outputs {
    Outputs {
        image_features: form.backbone.forward_features(r.images.clone()),
        sequence_features: form.backbone.forward_features(frames(r.sequences.clone())),
        image_logits: form.forward(r.images.clone()),
        sequence_logits: form.forward_sequence(r.sequences.clone()),
    }
}

/// The references vary with the input by far more than the tolerance, so a form that ignored
/// its input (or a block) could not pass; the deep fixture's P(fake) spreads by >= 0.3.
#[test]
fn the_references_depend_on_the_input() {
    let device = Device::flex();
    for f in fixtures() {
        let r = f.reference(&device);
        let width = f.config.backbone.feature_dim();
        let features = spread(&values(r.image_features), width);
        assert!(
            features > 1e3 * TOLERANCE,
            "{}: features spread {features}",
            f.name
        );
        let frames = spread(&values(r.sequence_features), width);
        assert!(
            frames > 1e3 * TOLERANCE,
            "{}: frame features spread {frames}",
            f.name
        );
    }
    let deep = &fixtures()[1];
    let r = deep.reference(&device);
    for (what, logits) in [("images", r.image_logits), ("sequences", r.sequence_logits)] {
        let p_fake = values(burn::tensor::activation::softmax(logits, 1));
        let p_fake: Vec<f32> = p_fake.chunks_exact(2).map(|p| p[1]).collect();
        let p_spread = spread(&p_fake, 1);
        assert!(
            p_spread >= 0.3,
            "deep {what}: P(fake) spreads only {p_spread}"
        );
    }
}

#[test]
fn the_detector_as_loaded_matches_torch() {
    let device = Device::flex();
    for f in fixtures() {
        let r = f.reference(&device);
        check(f.name, plain_outputs(&f.detector(&device), &r), &r);
    }
}

#[test]
fn batchnorm_folded_on_burn_operations_matches_torch() {
    let device = Device::flex();
    for f in fixtures() {
        let r = f.reference(&device);
        let form = f.detector(&device).fuse_for_inference();
        assert!(matches!(form.backbone, InferenceBackbone::Burn(_)));
        check(
            &format!("{}, folded", f.name),
            inference_outputs(&form, &r),
            &r,
        );
    }
}

#[test]
fn host_cpu_engine_matches_torch_in_every_schedule() {
    let device = Device::flex();
    for f in fixtures() {
        let r = f.reference(&device);
        let mut form = f.detector(&device).into_cpu_inference();
        let InferenceBackbone::Cpu(engine) = &form.backbone else {
            panic!("into_cpu_inference builds the host backbone");
        };
        let blocks = f.config.backbone.layers.iter().sum::<usize>();
        let default_split = engine.batched_from();
        // Image by image, whole batch, mixed at two places, and the engine's own choice.
        for batched_from in [blocks, 0, 1, blocks / 2, default_split] {
            if let InferenceBackbone::Cpu(engine) = &mut form.backbone {
                engine.set_batched_from(batched_from);
            }
            for threads in [1, 2, 16] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("a thread pool");
                let what = format!(
                    "{}, host engine, batched from block {batched_from}, {threads} threads",
                    f.name
                );
                pool.install(|| check(&what, inference_outputs(&form, &r), &r));
            }
        }
    }
}
