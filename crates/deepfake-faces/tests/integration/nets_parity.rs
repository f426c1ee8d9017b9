//! P-Net, R-Net and O-Net with facenet-pytorch's weights against its networks' outputs for
//! the same deterministic input.

use burn::tensor::{Device, Tensor, TensorData};
use deepfake_compare::{max_abs_diff_or_panic, spread};
use deepfake_faces::MtcnnNets;

use crate::common::{expected, floats, pattern};

const TOLERANCE: f32 = 1e-5;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32")
}

fn input(shape: [usize; 4], device: &Device) -> Tensor<4> {
    Tensor::from_data(TensorData::new(pattern(shape), shape), device)
}

/// Asserts `got` matches `want` and that `want` varies across its `width`-long rows by more
/// than the tolerance (so the comparison would notice an input-insensitive network).
fn assert_close(what: &str, got: &[f32], want: &[f32], width: usize) {
    let diff = max_abs_diff_or_panic(got, want);
    assert!(diff <= TOLERANCE, "{what}: max |diff| {diff} > {TOLERANCE}");
    let spread = spread(want, width);
    assert!(
        spread > 100.0 * TOLERANCE,
        "{what}: reference spread {spread} too small to test"
    );
}

#[test]
fn pnet_matches_facenet_pytorch() {
    let device = Device::flex();
    let nets = MtcnnNets::bundled(&device).unwrap();
    let want = &expected()["nets"]["pnet"];
    let (regression, probability) = nets.pnet.forward(input([1, 3, 31, 27], &device));
    // ceil-mode pooling: 29x25 -> 15x13, then two 3x3 convolutions: 11x9.
    assert_eq!(regression.dims(), [1, 4, 11, 9]);
    // One row per output cell: channel-major maps transposed to [cells, channels].
    let by_cell = |v: Vec<f32>, channels: usize| -> Vec<f32> {
        let cells = v.len() / channels;
        (0..cells)
            .flat_map(|i| (0..channels).map(move |c| (i, c)))
            .map(|(i, c)| v[c * cells + i])
            .collect()
    };
    assert_close(
        "P-Net regression",
        &by_cell(values(regression), 4),
        &by_cell(floats(&want["reg"]), 4),
        4,
    );
    assert_close(
        "P-Net probability",
        &by_cell(values(probability), 2),
        &by_cell(floats(&want["prob"]), 2),
        2,
    );
}

#[test]
fn rnet_matches_facenet_pytorch() {
    let device = Device::flex();
    let nets = MtcnnNets::bundled(&device).unwrap();
    let want = &expected()["nets"]["rnet"];
    let (regression, probability) = nets.rnet.forward(input([3, 3, 24, 24], &device));
    assert_close(
        "R-Net regression",
        &values(regression),
        &floats(&want["reg"]),
        4,
    );
    assert_close(
        "R-Net probability",
        &values(probability),
        &floats(&want["prob"]),
        2,
    );
}

#[test]
fn onet_matches_facenet_pytorch() {
    let device = Device::flex();
    let nets = MtcnnNets::bundled(&device).unwrap();
    let want = &expected()["nets"]["onet"];
    let out = nets.onet.forward(input([2, 3, 48, 48], &device));
    assert_close(
        "O-Net regression",
        &values(out.regression),
        &floats(&want["reg"]),
        4,
    );
    assert_close(
        "O-Net landmarks",
        &values(out.landmarks),
        &floats(&want["landmarks"]),
        10,
    );
    // Both crops look like faces to O-Net (1 - 1e-4 and 1 - 7e-5): compare, but their spread
    // is below the bar, so the probability's sensitivity is covered by the photos' test.
    let diff = max_abs_diff_or_panic(&values(out.probability), &floats(&want["prob"]));
    assert!(diff <= TOLERANCE, "O-Net probability: max |diff| {diff}");
}
