//! P-Net, R-Net and O-Net with facenet-pytorch's weights, in every form (Burn flex and the
//! host CPU engine, through [`deepfake_faces::Networks`]), against facenet-pytorch's networks'
//! outputs for the same deterministic input.

use deepfake_compare::{max_abs_diff_or_panic, spread};

use crate::common::{expected, floats, mtcnn_forms, pattern};

const TOLERANCE: f32 = 1e-5;

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

/// One row per output cell: channel-major maps `[channels, cells]` transposed to
/// `[cells, channels]`.
fn by_cell(v: &[f32], channels: usize) -> Vec<f32> {
    let cells = v.len() / channels;
    (0..cells)
        .flat_map(|i| (0..channels).map(move |c| (i, c)))
        .map(|(i, c)| v[c * cells + i])
        .collect()
}

#[test]
fn pnet_matches_facenet_pytorch() {
    let want = &expected()["nets"]["pnet"];
    for (form, mtcnn) in mtcnn_forms() {
        let maps = mtcnn
            .networks()
            .propose(pattern([1, 3, 31, 27]), [31, 27])
            .unwrap();
        // ceil-mode pooling: 29x25 -> 15x13, then two 3x3 convolutions: 11x9.
        assert_eq!(maps.size, [11, 9], "{form}");
        assert_close(
            &format!("P-Net regression ({form})"),
            &by_cell(&maps.regression, 4),
            &by_cell(&floats(&want["reg"]), 4),
            4,
        );
        assert_close(
            &format!("P-Net probability ({form})"),
            &by_cell(&maps.probability, 2),
            &by_cell(&floats(&want["prob"]), 2),
            2,
        );
    }
}

#[test]
fn rnet_matches_facenet_pytorch() {
    let want = &expected()["nets"]["rnet"];
    for (form, mtcnn) in mtcnn_forms() {
        let scores = mtcnn
            .networks()
            .refine(&pattern([3, 3, 24, 24]), 3)
            .unwrap();
        assert_close(
            &format!("R-Net regression ({form})"),
            &scores.regression,
            &floats(&want["reg"]),
            4,
        );
        assert_close(
            &format!("R-Net probability ({form})"),
            &scores.probability,
            &floats(&want["prob"]),
            2,
        );
    }
}

#[test]
fn onet_matches_facenet_pytorch() {
    let want = &expected()["nets"]["onet"];
    for (form, mtcnn) in mtcnn_forms() {
        let scores = mtcnn
            .networks()
            .output(&pattern([2, 3, 48, 48]), 2)
            .unwrap();
        assert_close(
            &format!("O-Net regression ({form})"),
            &scores.regression,
            &floats(&want["reg"]),
            4,
        );
        assert_close(
            &format!("O-Net landmarks ({form})"),
            &scores.landmarks,
            &floats(&want["landmarks"]),
            10,
        );
        // Both crops look like faces to O-Net (1 - 1e-4 and 1 - 7e-5): compare, but their
        // spread is below the bar, so the probability's sensitivity is covered by the photos'
        // test.
        let diff = max_abs_diff_or_panic(&scores.probability, &floats(&want["prob"]));
        assert!(
            diff <= TOLERANCE,
            "O-Net probability ({form}): max |diff| {diff}"
        );
    }
}

#[test]
fn both_forms_are_tested() {
    // The CI machines (x86-64 with AVX2 + FMA) run the host engine: it must not drop out.
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        assert_eq!(mtcnn_forms().len(), 2);
    }
}
