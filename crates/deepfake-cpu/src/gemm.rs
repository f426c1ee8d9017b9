//! Matrix products of the host backbone, on the `gemm` crate (the kernels burn-flex's own
//! matmul and 1x1 convolutions use; AVX2/AVX-512/NEON picked at run time).

use crate::activation::Activation;

/// What is applied to each block of the product right after it is computed, while it is
/// still in cache: `v = v + bias[row]`, then the activation of row (output channel) `row`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epilogue<'a> {
    /// One value per row of the product (per output channel).
    pub bias: Option<&'a [f32]>,
    pub activation: Activation<'a>,
}

impl Epilogue<'_> {
    /// Whether the epilogue changes any value.
    fn is_some(&self) -> bool {
        self.bias.is_some() || !self.activation.is_identity()
    }
}

/// `dst[i * dst_stride + j] (=, or += when `accumulate`) sum_p lhs[i * k + p] *
/// rhs[p * rhs_stride + j]` for `i < m`, `j < n`: a row-major `[m, k] x [k, n]` product whose
/// right operand and destination may be column windows of wider row-major matrices.
/// `threads > 1` cuts the product into that many blocks of rows (or of columns, whichever
/// side is longer) computed on the current rayon pool, each by a single-threaded kernel: no
/// synchronisation inside the kernel (as fast as gemm's own threading on the seed preset's
/// shapes), and each block applies `epilogue` right after it is computed.
///
/// # Panics
/// If a slice is too short for the shape or strides, or the bias for the rows (a bug in the
/// caller, not bad input).
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul(
    dst: &mut [f32],
    dst_stride: usize,
    lhs: &[f32],
    rhs: &[f32],
    rhs_stride: usize,
    [m, k, n]: [usize; 3],
    accumulate: bool,
    epilogue: Epilogue<'_>,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(
        dst_stride >= n && dst.len() >= (m - 1) * dst_stride + n,
        "matmul: dst"
    );
    assert!(epilogue.bias.is_none_or(|b| b.len() >= m), "matmul: bias");
    if k == 0 {
        for (i, row) in dst.chunks_mut(dst_stride).take(m).enumerate() {
            if !accumulate {
                row[..n].fill(0.0);
            }
            apply(&mut row[..n], i, epilogue);
        }
        return;
    }
    assert!(lhs.len() >= m * k, "matmul: lhs");
    assert!(
        rhs_stride >= n && rhs.len() >= (k - 1) * rhs_stride + n,
        "matmul: rhs"
    );
    let product = Product {
        dst: dst.as_mut_ptr(),
        dst_stride,
        lhs: lhs.as_ptr(),
        rhs: rhs.as_ptr(),
        rhs_stride,
        k,
        accumulate,
        epilogue,
    };
    // Blocks: split the longer side, at most one block per `MIN_BLOCK` rows or columns.
    let blocks = threads.min(m.max(n).div_ceil(MIN_BLOCK)).max(1);
    if blocks == 1 {
        // SAFETY: the asserts above cover the whole product.
        unsafe { product.block(0..m, 0..n) };
        return;
    }
    let split = |len: usize, b: usize| len * b / blocks..len * (b + 1) / blocks;
    let product = &product;
    rayon::scope(|scope| {
        for b in 0..blocks {
            let (rows, cols) = if m >= n {
                (split(m, b), 0..n)
            } else {
                (0..m, split(n, b))
            };
            // SAFETY: the blocks are disjoint parts of the product the asserts cover, so no
            // two threads write the same element.
            scope.spawn(move |_| unsafe { product.block(rows, cols) });
        }
    });
}

/// Rows or columns below which a block is not split further.
const MIN_BLOCK: usize = 16;

/// Output values (64K = 256 KB, half this CPU generation's L2) above which a block with an
/// epilogue is computed in strips of columns, if its rows of the left operand (re-packed by
/// the kernel for every strip) are no more than this either: the early layers' small weights
/// and large planes. A large block of weights (layers 3 and 4) would be re-packed ~10-25
/// times per product, costing more than the epilogue's second pass saves.
const STRIP_VALUES: usize = 64 * 1024;

/// A checked product in raw form, shared by the threads computing its blocks.
struct Product<'a> {
    dst: *mut f32,
    dst_stride: usize,
    lhs: *const f32,
    rhs: *const f32,
    rhs_stride: usize,
    k: usize,
    accumulate: bool,
    epilogue: Epilogue<'a>,
}

// SAFETY: the pointers come from slices borrowed for the whole `matmul` call; threads only
// write disjoint blocks of `dst` and read `lhs`/`rhs`.
unsafe impl Sync for Product<'_> {}

impl Product<'_> {
    /// Computes the block `rows x cols` on this thread, in strips of columns small enough
    /// for the epilogue to find each strip still in cache.
    ///
    /// # Safety
    /// The block must lie inside the product `matmul` checked, and no other thread may write
    /// it at the same time.
    unsafe fn block(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
        let has_epilogue = self.epilogue.is_some();
        // The kernel re-packs the block's rows of `lhs` on every call: strips only pay
        // where those are small.
        let lhs_values = rows.len() * self.k;
        if !has_epilogue || rows.len() * cols.len() <= STRIP_VALUES || lhs_values > STRIP_VALUES {
            // SAFETY: (caller).
            unsafe { self.strip(rows, cols) };
            return;
        }
        let width = (STRIP_VALUES / rows.len()).next_multiple_of(16).max(64);
        let mut start = cols.start;
        while start < cols.end {
            let end = (start + width).min(cols.end);
            // SAFETY: (caller) a part of the caller's block.
            unsafe { self.strip(rows.clone(), start..end) };
            start = end;
        }
    }

    /// [`Self::block`] in one call of the kernel, then the epilogue.
    ///
    /// # Safety
    /// As [`Self::block`].
    unsafe fn strip(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) {
        let (m, n) = (rows.len(), cols.len());
        if m == 0 || n == 0 {
            return;
        }
        // SAFETY: (caller) every element addressed lies inside the checked slices; strides
        // fit isize because they index allocated slices.
        unsafe {
            gemm::gemm(
                m,
                n,
                self.k,
                self.dst.add(rows.start * self.dst_stride + cols.start),
                1,
                self.dst_stride as isize,
                self.accumulate,
                self.lhs.add(rows.start * self.k),
                1,
                self.k as isize,
                self.rhs.add(cols.start),
                1,
                self.rhs_stride as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        if !self.epilogue.is_some() {
            return;
        }
        for i in rows {
            // SAFETY: (caller) row `i`, columns `cols`, lie inside `dst` and belong to this
            // block only.
            let row = unsafe {
                std::slice::from_raw_parts_mut(self.dst.add(i * self.dst_stride + cols.start), n)
            };
            apply(row, i, self.epilogue);
        }
    }
}

/// `epilogue` on `values`, part of row `row` of the product.
fn apply(values: &mut [f32], row: usize, epilogue: Epilogue<'_>) {
    let bias = epilogue.bias.map_or(0.0, |b| b[row]);
    epilogue.activation.apply(row, bias, values);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: &[f32], rhs: &[f32], rhs_stride: usize, [m, k, n]: [usize; 3]) -> Vec<f32> {
        let mut out = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = (0..k)
                    .map(|p| lhs[i * k + p] * rhs[p * rhs_stride + j])
                    .sum();
            }
        }
        out
    }

    const NONE: Epilogue<'static> = Epilogue {
        bias: None,
        activation: Activation::Identity,
    };

    fn values(len: usize, seed: u32) -> Vec<f32> {
        (0..len)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 1000) as f32 / 500.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn products_match_the_definition_with_windows_and_accumulation() {
        for (shape, rhs_stride, dst_stride, threads) in [
            ([5, 7, 3], 3, 3, 1),
            ([64, 147, 40], 50, 45, 2),
            ([3, 1, 9], 9, 12, 1),
            ([100, 20, 40], 40, 40, 3),
            ([20, 30, 100], 100, 110, 2),
            // Blocks above STRIP_VALUES: the epilogue runs strip by strip.
            ([48, 9, 1500], 1510, 1505, 1),
            ([96, 5, 1500], 1500, 1500, 2),
        ] {
            let [m, k, n] = shape;
            let lhs = values(m * k, 1);
            let rhs = values(k * rhs_stride, 2);
            let expected = naive(&lhs, &rhs, rhs_stride, shape);
            let mut dst = vec![0.5f32; m * dst_stride];
            matmul(
                &mut dst, dst_stride, &lhs, &rhs, rhs_stride, shape, false, NONE, threads,
            );
            for i in 0..m {
                for j in 0..n {
                    let got = dst[i * dst_stride + j];
                    assert!(
                        (got - expected[i * n + j]).abs() < 1e-4,
                        "{shape:?} ({i},{j})"
                    );
                }
                // Columns past the window are untouched.
                assert!(
                    dst[i * dst_stride + n..(i + 1) * dst_stride]
                        .iter()
                        .all(|&v| v == 0.5)
                );
            }
            let bias = values(m, 3);
            let mut with_epilogue = dst.clone();
            let epilogue = Epilogue {
                bias: Some(&bias),
                activation: Activation::Relu,
            };
            matmul(
                &mut with_epilogue,
                dst_stride,
                &lhs,
                &rhs,
                rhs_stride,
                shape,
                false,
                epilogue,
                threads,
            );
            for i in 0..m {
                for j in 0..n {
                    let expected = (expected[i * n + j] + bias[i]).max(0.0);
                    let got = with_epilogue[i * dst_stride + j];
                    assert!(
                        (got - expected).abs() < 1e-4,
                        "epilogue {shape:?} ({i},{j})"
                    );
                }
            }
            matmul(
                &mut dst, dst_stride, &lhs, &rhs, rhs_stride, shape, true, NONE, threads,
            );
            for i in 0..m {
                for j in 0..n {
                    let got = dst[i * dst_stride + j];
                    assert!(
                        (got - 2.0 * expected[i * n + j]).abs() < 1e-4,
                        "accumulate {shape:?}"
                    );
                }
            }
        }
    }

    /// Empty products touch nothing (`m = 0`, `n = 0`, each alone); over `k = 0` a product
    /// is 0, or what `dst` held when accumulating, then the epilogue.
    #[test]
    fn empty_shapes_write_nothing_and_k_zero_writes_the_epilogue() {
        let mut dst = vec![0.5f32; 6];
        matmul(&mut dst, 3, &[], &[], 3, [0, 4, 3], false, NONE, 1);
        matmul(&mut dst, 3, &[], &[], 0, [2, 4, 0], false, NONE, 1);
        assert_eq!(dst, [0.5; 6]);
        let bias = [1.0, -2.0];
        let epilogue = Epilogue {
            bias: Some(&bias),
            activation: Activation::Relu,
        };
        matmul(&mut dst, 3, &[], &[], 3, [2, 0, 3], false, epilogue, 1);
        assert_eq!(dst, [1.0, 1.0, 1.0, 0.0, 0.0, 0.0]);
        let mut kept = vec![0.5f32; 6];
        matmul(&mut kept, 3, &[], &[], 3, [2, 0, 3], true, epilogue, 1);
        assert_eq!(kept, [1.5, 1.5, 1.5, 0.0, 0.0, 0.0]);
    }
}
