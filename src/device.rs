//! Turning a `--device cpu|cuda[:N]|wgpu` flag into a Burn [`Device`].

use burn::tensor::Device;
use deepfake_model::{Detector, InferenceDetector};

/// Why a device flag could not be honoured.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The flag names no known device.
    #[error("unknown device '{0}': use cpu, cuda, cuda:N or wgpu")]
    Unknown(String),
    /// The backend was not compiled in.
    #[error("device '{device}' needs the '{feature}' feature: rebuild with --features {feature}")]
    NotCompiled {
        /// The device asked for.
        device: String,
        /// The Cargo feature that enables it.
        feature: &'static str,
    },
    /// The backend is compiled in but the machine cannot run it.
    #[error("device '{device}' is not usable here: {reason}")]
    Unavailable {
        /// The device asked for.
        device: String,
        /// What is missing.
        reason: String,
    },
}

/// Parses `cpu` (alias `flex`), `cuda`, `cuda:N` or `wgpu` into a device, checking that its
/// backend was compiled in and, for CUDA, that the driver library is present (Burn panics
/// without it).
pub fn parse_device(flag: &str) -> Result<Device, DeviceError> {
    let flag = flag.trim().to_ascii_lowercase();
    match flag.as_str() {
        "cpu" | "flex" => cpu(&flag),
        "wgpu" => wgpu(&flag),
        _ if flag == "cuda" || flag.starts_with("cuda:") => {
            let index = match flag.strip_prefix("cuda:") {
                Some(n) => n
                    .parse::<usize>()
                    .map_err(|_| DeviceError::Unknown(flag.clone()))?,
                None => 0,
            };
            cuda(&flag, index)
        }
        _ => Err(DeviceError::Unknown(flag)),
    }
}

#[cfg(feature = "flex")]
fn cpu(_flag: &str) -> Result<Device, DeviceError> {
    Ok(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn cpu(flag: &str) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: flag.to_string(),
        feature: "flex",
    })
}

#[cfg(feature = "wgpu")]
fn wgpu(_flag: &str) -> Result<Device, DeviceError> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu(flag: &str) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: flag.to_string(),
        feature: "wgpu",
    })
}

#[cfg(feature = "cuda")]
fn cuda(flag: &str, index: usize) -> Result<Device, DeviceError> {
    let driver_present = ["libcuda.so.1", "libcuda.so"].iter().any(|name| {
        // Look for the driver in the usual library directories.
        [
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib64",
            "/usr/local/nvidia/lib64",
            "/usr/lib/wsl/lib",
            "/usr/local/cuda/lib64",
        ]
        .iter()
        .any(|dir| std::path::Path::new(dir).join(name).exists())
    }) || std::env::var_os("LD_LIBRARY_PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("libcuda.so.1").exists())
    });
    if !driver_present {
        return Err(DeviceError::Unavailable {
            device: flag.to_string(),
            reason: "the NVIDIA driver (libcuda.so.1) was not found".into(),
        });
    }
    Ok(Device::cuda(index))
}

#[cfg(not(feature = "cuda"))]
fn cuda(flag: &str, _index: usize) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: flag.to_string(),
        feature: "cuda",
    })
}

/// The inference form of `model` (on `device`) for `device`: the backbone on the host CPU
/// kernels on Burn's CPU backend (flex), where they are faster, and on Burn's own operations
/// everywhere else. Consumes the model; the weights are never held twice.
pub fn inference_form_for(model: Detector, device: &Device) -> InferenceDetector {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        return model.into_cpu_inference();
    }
    let _ = device;
    model.into_inference()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_malformed_flags_are_rejected() {
        assert!(matches!(parse_device("tpu"), Err(DeviceError::Unknown(_))));
        assert!(matches!(
            parse_device("cuda:x"),
            Err(DeviceError::Unknown(_))
        ));
    }

    #[cfg(feature = "flex")]
    #[test]
    fn cpu_is_flex() {
        assert!(parse_device("CPU").is_ok());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_feature_names_the_feature() {
        let err = parse_device("cuda:1").unwrap_err().to_string();
        assert!(err.contains("--features cuda"), "{err}");
    }
}
