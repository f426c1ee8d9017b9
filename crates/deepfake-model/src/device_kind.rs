//! Which kind of backend a device belongs to, for the layers that run another formulation on
//! the cubecl backends (grouped convolutions) or only on flex (grouped and 1x1 convolutions,
//! BatchNorm in training).

use burn::tensor::Device;

/// Whether `device` (autodiff or not) belongs to a cubecl backend (wgpu, vulkan, cuda).
///
/// Burn 0.22.1 names no backend in its public device API without the backend's feature, and
/// asking the allocator (`memory_pool_usage`) drains fusion's queue; burn-dispatch's
/// hand-written `Debug` of a device names the variant (`Cube(..)`, `Flex`,
/// `Autodiff { device: Cube(..) .. }`), which is what this reads (Burn is pinned to one
/// version). The unit test below covers flex; `tests/backends.rs` covers wgpu, whose grouped
/// convolutions are measured only when this holds.
pub(crate) fn is_cubecl(device: &Device) -> bool {
    format!("{:?}", device.as_dispatch()).contains("Cube(")
}

/// Whether `device` (autodiff or not) is a flex device, read the same way as [`is_cubecl`]
/// (`Flex(..)` or `Autodiff { device: Flex(..) .. }`; not, for example, the capture device
/// the ONNX export traces on).
pub(crate) fn is_flex(device: &Device) -> bool {
    let name = format!("{:?}", device.as_dispatch());
    name.starts_with("Flex(") || name.starts_with("Autodiff { device: Flex(")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flex_is_flex_and_not_cubecl() {
        for device in [Device::flex(), Device::flex().autodiff()] {
            assert!(!is_cubecl(&device));
            assert!(is_flex(&device), "{:?}", device.as_dispatch());
        }
    }
}
