//! Timing hooks of the forward passes: every forward runs its layers through a
//! [`LayerTimer`], so a profiler sees the exact pass the product runs (no copy of it).
//! The plain `forward` methods pass [`Untimed`], which compiles to the bare calls.

use burn::tensor::Tensor;

/// Receives each layer of a forward pass as it runs.
///
/// Burn's CPU backend (flex) runs an operation when it is called, so wall-clock time around
/// `layer()` is its cost there; GPU backends queue work, so times around a call measure only
/// its launch.
pub trait LayerTimer {
    /// Runs `layer`, one layer of kind `kind` (e.g. `"conv 1x1 reduce"`, `"lstm"`), and returns
    /// its output.
    fn time<const D: usize>(&mut self, kind: &str, layer: impl FnOnce() -> Tensor<D>) -> Tensor<D>;

    /// Adds `seconds` to `kind` for layers timed elsewhere (the host CPU engine times its own).
    fn add(&mut self, kind: &str, seconds: f64);

    /// Whether this timer records anything (layers timed elsewhere are only timed if so).
    fn records(&self) -> bool {
        true
    }
}

/// The timer of the plain forward passes: runs each layer, records nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Untimed;

impl LayerTimer for Untimed {
    #[inline(always)]
    fn time<const D: usize>(
        &mut self,
        _kind: &str,
        layer: impl FnOnce() -> Tensor<D>,
    ) -> Tensor<D> {
        layer()
    }

    #[inline(always)]
    fn add(&mut self, _kind: &str, _seconds: f64) {}

    fn records(&self) -> bool {
        false
    }
}
