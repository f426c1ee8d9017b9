//! A matrix product whose left operand (a layer's weights) is packed once, when the model is
//! loaded, for an AVX2 + FMA register-tile kernel; the right operand is read where it lies,
//! one row per weight column at an offset the caller gives (a row of a matrix, or a tap of a
//! padded image plane). This is the grouped 3x3 convolution's product: every tap of the
//! padded planes is a contiguous run, so no im2col copy is needed.
//!
//! Tile: [`MR`] rows (weights broadcast) x up to 16 columns (two 8-wide vectors of the
//! right operand), 8 accumulators in registers. Upstream route: a pre-packed weight path in
//! burn-flex's convolution (its `gemm` crate re-packs the weights on every call).

use std::ops::Range;

/// Rows of the left operand one tile computes.
pub(crate) const MR: usize = 4;

/// Columns of the widest tile (two AVX vectors; with three, LLVM spilled registers).
pub(crate) const NR: usize = 16;

/// A `[m, k]` weight matrix packed into panels of [`MR`] rows, each `[k][MR]` (column `p` of
/// the panel's rows side by side), the last panel padded with zero rows.
#[derive(Debug, Clone)]
pub(crate) struct PackedWeights {
    data: Vec<f32>,
    m: usize,
    k: usize,
}

impl PackedWeights {
    /// Packs the row-major `[m, k]` matrix `weights`.
    ///
    /// # Panics
    /// If `weights` is not `m * k` long.
    pub fn new(weights: &[f32], m: usize, k: usize) -> Self {
        assert_eq!(weights.len(), m * k, "packed weights: shape");
        let panels = m.div_ceil(MR);
        let mut data = vec![0.0; panels * k * MR];
        for (row, values) in weights.chunks_exact(k.max(1)).enumerate().take(m) {
            let panel = &mut data[row / MR * k * MR..][..k * MR];
            for (p, &v) in values.iter().enumerate() {
                panel[p * MR + row % MR] = v;
            }
        }
        Self { data, m, k }
    }

    /// Panels of [`MR`] rows.
    pub fn panels(&self) -> usize {
        self.m.div_ceil(MR)
    }
}

/// `dst[i * dst_stride + j] = bias[i] + sum_p w[i, p] * x[rows[p] + j]` (then `max(0, .)`
/// when `relu`) for the rows of panels `panels` and `j < n`, where `n` is rounded up to a
/// multiple of 8: `dst` rows and `x` must have room for the rounded-up columns (the extra
/// columns get values the caller ignores).
///
/// # Panics
/// If the CPU lacks AVX2 or FMA ([`super::has_avx2_fma`]), `w` has a partial last panel, or a slice is too short for the
/// shape (bugs in the caller, not bad input).
#[allow(clippy::too_many_arguments)]
pub(crate) fn product_rounded(
    dst: &mut [f32],
    dst_stride: usize,
    w: &PackedWeights,
    panels: Range<usize>,
    bias: &[f32],
    relu: bool,
    x: &[f32],
    rows: &[usize],
    n: usize,
) {
    assert!(super::has_avx2_fma(), "packed kernel needs AVX2 and FMA");
    assert_eq!(w.m % MR, 0, "packed product: partial panel");
    assert_eq!(
        rows.len(),
        w.k,
        "packed product: one offset per weight column"
    );
    let n = n.next_multiple_of(8);
    if panels.is_empty() || n == 0 {
        return;
    }
    let first_row = panels.start * MR;
    let row_count = panels.len() * MR;
    assert!(
        panels.end <= w.panels() && bias.len() >= panels.end * MR,
        "packed product: panels"
    );
    assert!(
        dst_stride >= n && dst.len() >= (row_count - 1) * dst_stride + n,
        "packed product: dst"
    );
    let reach = rows.iter().max().map_or(0, |&r| r + n);
    assert!(x.len() >= reach, "packed product: x");
    let mut col = 0;
    while col < n {
        let width = NR.min(n - col);
        for panel in panels.clone() {
            let row = panel * MR;
            // SAFETY: the asserts above cover rows `row..row + MR` of `dst` (relative to
            // `first_row`) and columns `col..col + width` of `dst` and of every `x` row; the
            // CPU has AVX2 and FMA.
            unsafe {
                let args = Tile {
                    k: w.k,
                    w: w.data.as_ptr().add(panel * w.k * MR),
                    x: x.as_ptr().add(col),
                    rows: rows.as_ptr(),
                    dst: dst.as_mut_ptr().add((row - first_row) * dst_stride + col),
                    dst_stride,
                    bias: bias.as_ptr().add(row),
                    relu,
                };
                match width {
                    16 => tile::<2>(&args),
                    _ => tile::<1>(&args),
                }
            }
        }
        col += width;
    }
}

/// One tile's operands, as raw pointers the caller has checked.
struct Tile {
    k: usize,
    /// `[k][MR]` packed weights of the tile's rows.
    w: *const f32,
    /// Column `j` of the right operand's row `p` is at `x + rows[p] + j`.
    x: *const f32,
    rows: *const usize,
    dst: *mut f32,
    dst_stride: usize,
    /// `[MR]`.
    bias: *const f32,
    relu: bool,
}

/// `MR x 8 NV` outputs in registers.
///
/// # Safety
/// The CPU has AVX2 and FMA; every address the tile reads or writes lies inside the
/// operands' slices.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // see the comment in the loop
unsafe fn tile<const NV: usize>(t: &Tile) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); NV]; MR];
    for p in 0..t.k {
        // SAFETY: (caller) row `p` of the right operand and of the packed weights exist.
        // (Index loops: with iterator adapters here LLVM spilled an accumulator per step.)
        unsafe {
            let src = t.x.add(*t.rows.add(p));
            let mut xv = [_mm256_setzero_ps(); NV];
            for v in 0..NV {
                xv[v] = _mm256_loadu_ps(src.add(8 * v));
            }
            let w = t.w.add(p * MR);
            for i in 0..MR {
                let wv = _mm256_broadcast_ss(&*w.add(i));
                for v in 0..NV {
                    acc[i][v] = _mm256_fmadd_ps(wv, xv[v], acc[i][v]);
                }
            }
        }
    }
    for (i, acc) in acc.iter().enumerate() {
        // SAFETY: (caller) the tile's rows and columns lie inside `dst`, its bias inside
        // `bias`.
        unsafe {
            let bias = _mm256_set1_ps(*t.bias.add(i));
            let row = t.dst.add(i * t.dst_stride);
            for (v, &a) in acc.iter().enumerate() {
                let mut value = _mm256_add_ps(a, bias);
                if t.relu {
                    value = _mm256_max_ps(value, _mm256_setzero_ps());
                }
                _mm256_storeu_ps(row.add(8 * v), value);
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn tile<const NV: usize>(_: &Tile) {
    unreachable!("has_avx2_fma() is false off x86_64")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::panic_message;

    /// `bias + w x` by the definition, on row offsets `rows`.
    fn naive(
        w: &[f32],
        [m, k]: [usize; 2],
        bias: &[f32],
        x: &[f32],
        rows: &[usize],
        n: usize,
    ) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                let mut s = bias[i] as f64;
                for p in 0..k {
                    s += w[i * k + p] as f64 * x[rows[p] + j] as f64;
                }
                out[i * n + j] = s as f32;
            }
        }
        out
    }

    #[test]
    fn packed_product_equals_the_definition() {
        if !crate::has_avx2_fma() {
            return;
        }
        let value = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 250.0;
        // (m, k, n, stride of the x rows)
        for (m, k, n, x_stride) in [
            (4usize, 36usize, 3136usize, 3200usize),
            (8, 72, 61, 70),
            (32, 288, 63, 81),
        ] {
            let w: Vec<f32> = (0..m * k).map(value).collect();
            let bias: Vec<f32> = (0..m).map(|i| value(i + 3)).collect();
            let rows: Vec<usize> = (0..k)
                .map(|p| (p * x_stride) % (k * x_stride / 2 + 1))
                .collect();
            let x: Vec<f32> = (0..k * x_stride + 32).map(|i| value(i + 11)).collect();
            let packed = PackedWeights::new(&w, m, k);
            let stride = n.next_multiple_of(8);
            for relu in [false, true] {
                let mut got = vec![f32::NAN; m * stride];
                product_rounded(
                    &mut got,
                    stride,
                    &packed,
                    0..m / MR,
                    &bias,
                    relu,
                    &x,
                    &rows,
                    n,
                );
                let want = naive(&w, [m, k], &bias, &x, &rows, n);
                for i in 0..m {
                    for j in 0..n {
                        let want = if relu {
                            want[i * n + j].max(0.0)
                        } else {
                            want[i * n + j]
                        };
                        let got = got[i * stride + j];
                        assert!(
                            (got - want).abs() <= 1e-4,
                            "{m}x{k}x{n} [{i},{j}]: {got} vs {want}"
                        );
                    }
                }
            }
            // A window of panels writes only its rows.
            if m > MR {
                let mut got = vec![f32::NAN; MR * stride];
                product_rounded(&mut got, stride, &packed, 1..2, &bias, false, &x, &rows, n);
                let want = naive(&w, [m, k], &bias, &x, &rows, n);
                let got_rows: Vec<f32> = (0..MR * n).map(|e| got[e / n * stride + e % n]).collect();
                let diff =
                    deepfake_compare::max_abs_diff_or_panic(&got_rows, &want[MR * n..2 * MR * n]);
                assert!(diff <= 1e-4, "panel window: {diff}");
            }
        }
    }

    /// One panel of ones over `k = 2` weight columns and its zero bias: the operands of the
    /// edge-case tests below (rows of `x` at offsets 0 and 8).
    fn one_panel() -> (PackedWeights, Vec<f32>) {
        let k = 2;
        (PackedWeights::new(&vec![1.0; MR * k], MR, k), vec![0.0; MR])
    }

    /// No panels or no columns: nothing is written.
    #[test]
    fn empty_products_write_nothing() {
        if !crate::has_avx2_fma() {
            return;
        }
        let (packed, bias) = one_panel();
        let x = vec![1.0; 64];
        let mut dst = vec![0.5f32; MR * 16];
        product_rounded(&mut dst, 16, &packed, 0..0, &bias, false, &x, &[0, 8], 16);
        product_rounded(&mut dst, 16, &packed, 0..1, &bias, false, &x, &[0, 8], 0);
        assert!(dst.iter().all(|&v| v == 0.5));
    }

    /// `x` must reach `n` values past the largest row offset: one short is refused before the
    /// kernel reads it.
    #[test]
    fn an_x_one_value_short_is_refused() {
        if !crate::has_avx2_fma() {
            return;
        }
        let (packed, bias) = one_panel();
        let mut dst = vec![0.0f32; MR * 16];
        let mut run =
            |x: &[f32]| product_rounded(&mut dst, 16, &packed, 0..1, &bias, false, x, &[0, 8], 16);
        run(&[1.0; 24]);
        let message = panic_message("x one value short", || run(&[1.0; 23]));
        assert!(message.contains("packed product: x"), "{message}");
    }
}
