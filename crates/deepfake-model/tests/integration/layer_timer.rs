//! A timed pass is the plain pass (the same logits, bit for bit) and reports every layer: each
//! of Burn's layers through `LayerTimer::time`, the host CPU engine's layers through
//! `LayerTimer::add` (the engine times its own).

use std::collections::BTreeSet;
use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use deepfake_model::{DetectorConfig, InferenceDetector, LayerTimer};

/// Every layer kind a pass reported and the seconds they add up to.
#[derive(Default)]
struct Recorder {
    kinds: BTreeSet<String>,
    seconds: f64,
}

impl LayerTimer for Recorder {
    fn time<const D: usize>(&mut self, kind: &str, layer: impl FnOnce() -> Tensor<D>) -> Tensor<D> {
        let start = Instant::now();
        let out = layer();
        self.add(kind, start.elapsed().as_secs_f64());
        out
    }

    fn add(&mut self, kind: &str, seconds: f64) {
        assert!(seconds.is_finite() && seconds >= 0.0, "{kind}: {seconds} s");
        self.kinds.insert(kind.to_string());
        self.seconds += seconds;
    }
}

/// The timed pass of `detector` on two sequences of two frames: its kinds after checking that
/// its logits are the untimed pass's and its seconds fit in the pass's own time.
fn timed_kinds(detector: &InferenceDetector, device: &Device) -> BTreeSet<String> {
    let size = DetectorConfig::tiny().image_size;
    let frames = Tensor::<5>::random([2, 2, 3, size, size], Distribution::Default, device);
    let plain = detector.forward_sequence(frames.clone()).into_data();
    let mut recorder = Recorder::default();
    let start = Instant::now();
    let timed = detector.forward_sequence_timed(frames, &mut recorder);
    let wall = start.elapsed().as_secs_f64();
    assert_eq!(timed.into_data(), plain);
    assert!(
        recorder.seconds > 0.0 && recorder.seconds <= wall,
        "layers {} s in a pass of {wall} s",
        recorder.seconds
    );
    recorder.kinds
}

#[test]
fn timed_passes_report_every_layer_kind() {
    let device = Device::flex();
    let config = DetectorConfig::tiny();
    device.seed(5);
    let burn = timed_kinds(&config.init(&device).unwrap().into_inference(), &device);
    let kinds = |names: &[&str]| -> BTreeSet<String> {
        names.iter().map(|name| name.to_string()).collect()
    };
    assert_eq!(
        burn,
        kinds(&[
            "avgpool",
            "classifier",
            "conv 1x1 downsample",
            "conv 1x1 expand",
            "conv 1x1 reduce",
            "conv 3x3 grouped",
            "conv 7x7 stem",
            "lstm",
            "maxpool",
            "relu",
            "residual add",
        ])
    );
    // The host engine's kinds name the layers it fuses; the head runs on Burn's operations.
    let host = timed_kinds(&config.init(&device).unwrap().into_cpu_inference(), &device);
    for kind in ["conv 7x7 stem + relu", "maxpool", "lstm", "classifier"] {
        assert!(host.contains(kind), "{kind} missing from {host:?}");
    }
    assert!(
        host.iter().any(|kind| kind.starts_with("conv 3x3 grouped")),
        "{host:?}"
    );
}
