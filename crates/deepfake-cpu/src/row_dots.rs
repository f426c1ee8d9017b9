//! Many dot products of long rows at once: `c[i][q] += sum_j a[i][j] * x[rows[q] + j]`, the
//! rows of `x` read where they lie (taps of a padded image plane). This is the weight gradient
//! of the grouped convolution: output gradients (`a`, one row per output channel) against every
//! tap of the padded input (`x`), summed over the output positions.
//!
//! Tile: [`MR`] rows of `a` x [`QR`] rows of `x`, one 8-wide AVX register per pair (12 of the
//! 16), moved along `j` eight values at a time; the 12 sums are reduced across the register's
//! lanes once, at the end of the rows.

use crate::packed::MR;

/// Rows of `x` one tile reads (with [`MR`] rows of `a`: 12 accumulators, the registers' loads
/// in the other four).
const QR: usize = 3;

/// `c[i * c_stride + q] += sum over j < n of a[i * a_stride + j] * x[rows[q] + j]` for
/// `i < m` and `q < rows.len()`, `n` a multiple of 8.
///
/// # Panics
/// If the CPU lacks AVX2 or FMA ([`super::has_avx2_fma`]), `m` is not a multiple of [`MR`],
/// `n` not a multiple of 8, or a slice is too short for the shape (bugs in the caller).
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_row_dots(
    c: &mut [f32],
    c_stride: usize,
    a: &[f32],
    a_stride: usize,
    m: usize,
    x: &[f32],
    rows: &[usize],
    n: usize,
) {
    assert!(super::has_avx2_fma(), "row dots need AVX2 and FMA");
    assert!(
        m.is_multiple_of(MR) && n.is_multiple_of(8),
        "row dots: shape"
    );
    if m == 0 || rows.is_empty() || n == 0 {
        return;
    }
    assert!(
        a_stride >= n && a.len() >= (m - 1) * a_stride + n,
        "row dots: a"
    );
    assert!(
        c_stride >= rows.len() && c.len() >= (m - 1) * c_stride + rows.len(),
        "row dots: c"
    );
    let reach = rows.iter().max().map_or(0, |&r| r + n);
    assert!(x.len() >= reach, "row dots: x");
    for i in (0..m).step_by(MR) {
        let mut q = 0;
        while q < rows.len() {
            let width = QR.min(rows.len() - q);
            // SAFETY: the asserts above cover rows `i..i + MR` of `a` and `c`, columns
            // `q..q + width` of `c`, and `n` values of `x` from each of `rows`; the CPU has
            // AVX2 and FMA.
            unsafe {
                let tile = Tile {
                    a: a.as_ptr().add(i * a_stride),
                    a_stride,
                    x: x.as_ptr(),
                    rows: rows.as_ptr().add(q),
                    n,
                    c: c.as_mut_ptr().add(i * c_stride + q),
                    c_stride,
                };
                match width {
                    3 => dots::<3>(&tile),
                    2 => dots::<2>(&tile),
                    _ => dots::<1>(&tile),
                }
            }
            q += width;
        }
    }
}

/// One tile's operands, as raw pointers the caller has checked.
struct Tile {
    /// Row `i < MR` of the tile's `a` starts at `a + i * a_stride`.
    a: *const f32,
    a_stride: usize,
    x: *const f32,
    /// The tile's `Q` row offsets into `x`.
    rows: *const usize,
    n: usize,
    /// `c + i * c_stride + q` receives the sum of row `i` and row `q`.
    c: *mut f32,
    c_stride: usize,
}

/// `MR x Q` sums in registers.
///
/// # Safety
/// The CPU has AVX2 and FMA; every address the tile reads or writes lies inside the
/// operands' slices.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // index loops keep the accumulators in registers
unsafe fn dots<const Q: usize>(t: &Tile) {
    use std::arch::x86_64::*;
    let mut acc = [[_mm256_setzero_ps(); Q]; MR];
    // SAFETY: (caller) the tile's rows of `a` and `x` hold `n` values, its sums lie in `c`.
    unsafe {
        let mut xs = [t.x; Q];
        for q in 0..Q {
            xs[q] = t.x.add(*t.rows.add(q));
        }
        let mut j = 0;
        while j < t.n {
            let mut xv = [_mm256_setzero_ps(); Q];
            for q in 0..Q {
                xv[q] = _mm256_loadu_ps(xs[q].add(j));
            }
            for i in 0..MR {
                let av = _mm256_loadu_ps(t.a.add(i * t.a_stride + j));
                for q in 0..Q {
                    acc[i][q] = _mm256_fmadd_ps(av, xv[q], acc[i][q]);
                }
            }
            j += 8;
        }
        for i in 0..MR {
            for q in 0..Q {
                *t.c.add(i * t.c_stride + q) += lane_sum(acc[i][q]);
            }
        }
    }
}

/// The sum of a register's eight lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn lane_sum(v: std::arch::x86_64::__m256) -> f32 {
    use std::arch::x86_64::*;
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)))
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn dots<const Q: usize>(_: &Tile) {
    unreachable!("has_avx2_fma() is false off x86_64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_dots_equal_the_definition() {
        if !crate::has_avx2_fma() {
            return;
        }
        let value = |i: usize| ((i * 7919 % 1000) as f32 - 500.0) / 250.0;
        // (m, n, a's stride, x rows): every tile width (3, 2, 1) and overlapping rows.
        for (m, n, a_stride, rows) in [
            (
                4usize,
                3248usize,
                3256usize,
                vec![0usize, 1, 2, 58, 59, 60, 116, 117, 118],
            ),
            (8, 64, 64, vec![5, 6, 7, 100, 101]),
            (12, 8, 16, vec![3]),
        ] {
            let a: Vec<f32> = (0..m * a_stride).map(value).collect();
            let x: Vec<f32> = (0..rows.iter().max().unwrap() + n)
                .map(|i| value(i + 17))
                .collect();
            let c_stride = rows.len() + 2;
            let start = |i: usize| 0.25 * i as f32;
            let mut got: Vec<f32> = (0..m * c_stride).map(start).collect();
            add_row_dots(&mut got, c_stride, &a, a_stride, m, &x, &rows, n);
            for i in 0..m {
                for (q, &row) in rows.iter().enumerate() {
                    let dot: f64 = (0..n)
                        .map(|j| f64::from(a[i * a_stride + j]) * f64::from(x[row + j]))
                        .sum();
                    let want = dot + f64::from(start(i * c_stride + q));
                    let got = f64::from(got[i * c_stride + q]);
                    assert!(
                        (got - want).abs() <= 1e-5 * want.abs().max(n as f64),
                        "m {m} n {n} [{i},{q}]: {got} vs {want}"
                    );
                }
                // The columns past the rows are not touched.
                for q in rows.len()..c_stride {
                    assert_eq!(got[i * c_stride + q], start(i * c_stride + q));
                }
            }
        }
    }

    /// No rows of `a`, no row offsets or no columns: nothing is written.
    #[test]
    fn empty_shapes_write_nothing() {
        if !crate::has_avx2_fma() {
            return;
        }
        let (a, x) = (vec![1.0; MR * 8], vec![1.0; 32]);
        let mut c = vec![0.5f32; MR * 2];
        add_row_dots(&mut c, 2, &[], 8, 0, &x, &[0, 8], 8);
        add_row_dots(&mut c, 2, &a, 8, MR, &x, &[], 8);
        add_row_dots(&mut c, 2, &a, 8, MR, &x, &[0, 8], 0);
        assert!(c.iter().all(|&v| v == 0.5));
    }
}
