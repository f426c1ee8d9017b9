//! How every parity check compares outputs (tests, `xtask verify-onnx`, `bench_model
//! --check-against-cpu`): one rule, so no check can let a NaN or a missing value through.
//!
//! - [`max_abs_diff`]: the largest absolute difference of two equally long lists; infinite
//!   when either holds a NaN (a NaN can never pass a tolerance), an error when the lengths
//!   differ (a zip would silently compare only the shorter prefix).
//! - [`spread`]: how much outputs vary across inputs, so a check can assert that the compared
//!   values vary by more than its tolerance (a constant output would make it vacuous).

/// Two compared outputs hold different numbers of values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("compared outputs differ in length: {got} values vs {want} expected")]
pub struct LengthMismatch {
    /// Values in the output under test.
    pub got: usize,
    /// Values in the reference.
    pub want: usize,
}

/// The largest `|got[i] - want[i]|`; `f32::INFINITY` when any value of either is NaN (or the
/// difference is infinite); 0 for two empty lists.
pub fn max_abs_diff(got: &[f32], want: &[f32]) -> Result<f32, LengthMismatch> {
    if got.len() != want.len() {
        return Err(LengthMismatch {
            got: got.len(),
            want: want.len(),
        });
    }
    Ok(got.iter().zip(want).fold(0.0f32, |worst, (g, w)| {
        let d = (g - w).abs();
        if d.is_nan() {
            f32::INFINITY
        } else {
            worst.max(d)
        }
    }))
}

/// [`max_abs_diff`] for tests: panics on a length mismatch, naming both lengths.
pub fn max_abs_diff_or_panic(got: &[f32], want: &[f32]) -> f32 {
    max_abs_diff(got, want).unwrap_or_else(|e| panic!("{e}"))
}

/// `tolerance` for outputs of magnitude up to 1, scaled by the largest magnitude of
/// `reference` above that: a relative bound for large outputs (float32 rounding grows with
/// them), an absolute one for small ones.
pub fn scaled_tolerance(tolerance: f32, reference: &[f32]) -> f32 {
    tolerance * reference.iter().fold(1.0f32, |m, v| m.max(v.abs()))
}

/// How much `rows` (e.g. one output row per input image, each `width` values long) vary
/// across rows: the largest, over columns, of `max - min` down the column. 0 for fewer than
/// two rows; NaN when any value is NaN.
///
/// # Panics
/// If `values.len()` is not a multiple of `width`, or `width` is 0.
pub fn spread(values: &[f32], width: usize) -> f32 {
    assert!(
        width > 0 && values.len().is_multiple_of(width),
        "{} values do not form rows of {width}",
        values.len()
    );
    if values.iter().any(|v| v.is_nan()) {
        return f32::NAN;
    }
    let rows = values.len() / width;
    if rows < 2 {
        return 0.0;
    }
    (0..width)
        .map(|c| {
            let column = values.iter().skip(c).step_by(width);
            let (lo, hi) = column.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
            hi - lo
        })
        .fold(0.0f32, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_abs_diff_is_the_largest_difference() {
        assert_eq!(max_abs_diff(&[1.0, 2.0, 3.0], &[1.5, 2.0, 1.0]), Ok(2.0));
        assert_eq!(max_abs_diff(&[], &[]), Ok(0.0));
    }

    #[test]
    fn a_nan_on_either_side_is_an_infinite_difference() {
        assert_eq!(
            max_abs_diff(&[1.0, f32::NAN], &[1.0, 2.0]),
            Ok(f32::INFINITY)
        );
        assert_eq!(
            max_abs_diff(&[1.0, 2.0], &[f32::NAN, 2.0]),
            Ok(f32::INFINITY)
        );
        // A NaN before a finite difference is not forgotten by a later max.
        assert_eq!(
            max_abs_diff(&[f32::NAN, 5.0], &[0.0, 0.0]),
            Ok(f32::INFINITY)
        );
        assert_eq!(
            max_abs_diff(&[f32::INFINITY], &[f32::INFINITY]),
            Ok(f32::INFINITY)
        );
    }

    #[test]
    fn lists_of_different_lengths_are_an_error() {
        assert_eq!(
            max_abs_diff(&[1.0, 2.0], &[1.0]),
            Err(LengthMismatch { got: 2, want: 1 })
        );
    }

    #[test]
    fn the_tests_form_returns_the_difference() {
        // What every parity test compares with: a constant here would pass them all.
        assert_eq!(max_abs_diff_or_panic(&[1.0, -2.0], &[1.25, 1.0]), 3.0);
        assert_eq!(max_abs_diff_or_panic(&[0.5], &[0.5]), 0.0);
        assert_eq!(max_abs_diff_or_panic(&[f32::NAN], &[0.0]), f32::INFINITY);
    }

    #[test]
    #[should_panic(expected = "compared outputs differ in length: 1 values vs 2 expected")]
    fn the_tests_form_panics_on_a_length_mismatch() {
        max_abs_diff_or_panic(&[1.0], &[1.0, 2.0]);
    }

    #[test]
    fn scaled_tolerance_is_absolute_up_to_1_and_relative_above() {
        assert_eq!(scaled_tolerance(1e-5, &[0.5, -0.25]), 1e-5);
        assert_eq!(scaled_tolerance(1e-5, &[0.5, -4.0]), 4e-5);
    }

    #[test]
    fn spread_is_the_widest_column_range() {
        // Column 0 ranges over 1..4, column 1 over 10..10.5.
        assert_eq!(spread(&[1.0, 10.0, 4.0, 10.5, 2.0, 10.0], 2), 3.0);
        assert_eq!(spread(&[1.0, 2.0], 2), 0.0);
        // Two rows are enough to vary.
        assert_eq!(spread(&[1.0, 2.0, 1.5, 2.0], 2), 0.5);
        assert_eq!(spread(&[3.0, 1.0, 2.0], 1), 2.0);
        assert!(spread(&[1.0, f32::NAN, 2.0, 3.0], 2).is_nan());
    }
}
