//! The three passes against the convolution's definition, summed in `f64`.

use super::*;
use crate::test_support::{max_diff, panic_message};

/// Deterministic values in about [-2, 2].
fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| (((i + seed) * 7919 % 1009) as f32 - 504.0) / 252.0)
        .collect()
}

/// Calls `visit(input index, output index, weight index)` for every multiply of the
/// convolution.
fn each_multiply(g: &GroupedConvGeometry, mut visit: impl FnMut(usize, usize, usize)) {
    let [out_h, out_w] = g.out_size();
    let (cig, cog, k) = (g.c_in_group(), g.c_out_group(), g.kernel);
    for b in 0..g.batch {
        for o in 0..g.c_out {
            let group = o / cog;
            for oh in 0..out_h {
                for ow in 0..out_w {
                    let out = ((b * g.c_out + o) * out_h + oh) * out_w + ow;
                    for c in 0..cig {
                        for kh in 0..k {
                            for kw in 0..k {
                                let ih = (oh * g.stride + kh) as isize - g.padding as isize;
                                let iw = (ow * g.stride + kw) as isize - g.padding as isize;
                                if ih < 0
                                    || iw < 0
                                    || ih >= g.height as isize
                                    || iw >= g.width as isize
                                {
                                    continue;
                                }
                                let channel = group * cig + c;
                                let input = ((b * g.c_in + channel) * g.height + ih as usize)
                                    * g.width
                                    + iw as usize;
                                let weight = ((o * cig + c) * k + kh) * k + kw;
                                visit(input, out, weight);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Asserts `got` equals `want` (f64 sums) within `1e-5` of `want`'s largest magnitude, and
/// that `want` is far from constant (so the comparison can fail).
fn assert_close(got: &[f32], want: &[f64], what: &str, g: &GroupedConvGeometry) {
    let want: Vec<f32> = want.iter().map(|&v| v as f32).collect();
    let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let spread =
        want.iter().fold(f32::MIN, |m, &v| m.max(v)) - want.iter().fold(f32::MAX, |m, &v| m.min(v));
    assert!(spread > 1.0, "{what} of {g:?}: reference nearly constant");
    let diff = max_diff(got, &want);
    assert!(
        diff <= 1e-5 * scale,
        "{what} of {g:?}: {diff} (scale {scale})"
    );
}

#[test]
fn training_passes_equal_the_definition() {
    if !crate::has_avx2_fma() {
        return;
    }
    let geometry = |batch,
                    [c_in, c_out, groups]: [usize; 3],
                    [height, width]: [usize; 2],
                    [kernel, stride, padding]: [usize; 3]| {
        GroupedConvGeometry {
            batch,
            c_in,
            c_out,
            groups,
            height,
            width,
            kernel,
            stride,
            padding,
        }
    };
    for g in [
        // ResNeXt's grouped 3x3s (fewer groups, smaller planes), stride 1 and 2.
        geometry(2, [16, 16, 4], [14, 14], [3, 1, 1]),
        geometry(2, [32, 32, 4], [14, 14], [3, 2, 1]),
        // Odd sizes, unequal sides, in and out channels per group unequal.
        geometry(3, [16, 8, 2], [15, 11], [3, 2, 1]),
        geometry(1, [8, 16, 1], [10, 9], [3, 1, 1]),
        // Other kernels, strides and paddings.
        geometry(2, [8, 8, 2], [9, 8], [5, 2, 2]),
        geometry(2, [8, 8, 1], [7, 7], [3, 2, 0]),
        geometry(1, [8, 8, 2], [10, 11], [3, 3, 1]),
        geometry(2, [4, 4, 1], [3, 4], [3, 1, 2]),
        // A stem: 3 input channels (no input gradient here), 7x7, stride 2; and 2 input
        // channels per group.
        geometry(2, [3, 8, 1], [19, 17], [7, 2, 3]),
        geometry(1, [4, 8, 2], [9, 9], [3, 1, 1]),
    ] {
        assert!(g.is_supported(), "{g:?}");
        let x = values(g.input_len(), 1);
        let weight = values(g.weight_len(), 2);
        let dy = values(g.output_len(), 3);
        let mut y = vec![0.0f64; g.output_len()];
        let mut dx = vec![0.0f64; g.input_len()];
        let mut dw = vec![0.0f64; g.weight_len()];
        each_multiply(&g, |i, o, w| {
            y[o] += f64::from(x[i]) * f64::from(weight[w]);
            dx[i] += f64::from(dy[o]) * f64::from(weight[w]);
            dw[w] += f64::from(dy[o]) * f64::from(x[i]);
        });
        assert_close(&forward(&x, &weight, &g), &y, "output", &g);
        if g.input_gradient_is_supported() {
            assert_close(&input_gradient(&dy, &weight, &g), &dx, "input gradient", &g);
        }
        assert_close(&weight_gradient(&x, &dy, &g), &dw, "weight gradient", &g);
    }
}

/// `batch` images of 8 channels in 2 groups of 4, 5 x 5, a 3x3 kernel with stride 1 and
/// padding 1: a geometry every pass here runs (on AVX2 + FMA).
fn two_groups_of_4(batch: usize) -> GroupedConvGeometry {
    GroupedConvGeometry {
        batch,
        c_in: 8,
        c_out: 8,
        groups: 2,
        height: 5,
        width: 5,
        kernel: 3,
        stride: 1,
        padding: 1,
    }
}

#[test]
fn unsupported_geometries_are_reported() {
    let base = two_groups_of_4(1);
    assert_eq!(base.is_supported(), crate::has_avx2_fma());
    assert_eq!(base.input_gradient_is_supported(), crate::has_avx2_fma());
    // 3 input channels per group: forward and weight gradient only.
    let three_in = GroupedConvGeometry { c_in: 6, ..base };
    assert_eq!(three_in.is_supported(), crate::has_avx2_fma());
    assert!(!three_in.input_gradient_is_supported());
    // Exactly a kernel wide and high once padded; unpadded, exactly the kernel.
    for g in [
        GroupedConvGeometry {
            height: 1,
            width: 1,
            ..base
        },
        GroupedConvGeometry {
            height: 3,
            width: 3,
            padding: 0,
            ..base
        },
    ] {
        assert_eq!(g.is_supported(), crate::has_avx2_fma(), "{g:?}");
    }
    for g in [
        // 6 output channels per group.
        GroupedConvGeometry { c_out: 12, ..base },
        // Groups that do not divide the channels; no groups.
        GroupedConvGeometry { groups: 3, ..base },
        GroupedConvGeometry { groups: 0, ..base },
        // Input channels the groups do not divide (alone); no channels in or out.
        GroupedConvGeometry { c_in: 7, ..base },
        GroupedConvGeometry { c_in: 0, ..base },
        GroupedConvGeometry { c_out: 0, ..base },
        // An empty batch; a stride of 0; a kernel of 0.
        GroupedConvGeometry { batch: 0, ..base },
        GroupedConvGeometry { stride: 0, ..base },
        GroupedConvGeometry {
            kernel: 0,
            padding: 0,
            ..base
        },
        // Padding as large as the kernel; an image smaller than the kernel, each side alone.
        GroupedConvGeometry { padding: 3, ..base },
        GroupedConvGeometry {
            height: 1,
            padding: 0,
            ..base
        },
        GroupedConvGeometry {
            width: 2,
            padding: 0,
            ..base
        },
    ] {
        assert!(!g.is_supported(), "{g:?}");
        assert!(!g.input_gradient_is_supported(), "{g:?}");
    }
}

#[test]
fn slices_of_the_wrong_length_are_refused_by_name() {
    if !crate::has_avx2_fma() {
        return;
    }
    let g = two_groups_of_4(2);
    let (x, weight, dy) = (
        values(g.input_len(), 1),
        values(g.weight_len(), 2),
        values(g.output_len(), 3),
    );
    let refused = |pass: &dyn Fn() -> Vec<f32>, name: &str| {
        let message = panic_message(name, pass);
        assert!(message.contains(&format!("{name} length")), "{message}");
    };
    refused(&|| forward(&x[1..], &weight, &g), "input");
    refused(&|| forward(&x, &weight[1..], &g), "weight");
    refused(&|| input_gradient(&dy[1..], &weight, &g), "output gradient");
    refused(&|| input_gradient(&dy, &weight[1..], &g), "weight");
    refused(&|| weight_gradient(&x[1..], &dy, &g), "input");
    refused(&|| weight_gradient(&x, &dy[1..], &g), "output gradient");
}
