//! Counting trainable parameters the way PyTorch does.

use burn::module::Module;
use burn::store::ModuleSnapshot;

/// Counts the elements of every float parameter except BatchNorm running statistics.
///
/// Burn's `Module::num_params` also counts `running_mean` / `running_var`; PyTorch's
/// `sum(p.numel() for p in model.parameters())` does not. This returns PyTorch's number.
/// Tensors are not read: only their paths and shapes.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    module
        .collect(None, None, false)
        .iter()
        .filter(|t| !t.name.ends_with(".running_mean") && !t.name.ends_with(".running_var"))
        .map(|t| t.shape.iter().product::<usize>())
        .sum()
}
