//! Turning a `--device cpu|cuda[:N]|wgpu|vulkan` flag into a Burn [`Device`].

use burn::tensor::Device;
use deepfake_faces::Mtcnn;
use deepfake_model::{Detector, InferenceDetector};

/// Why a device flag could not be honoured.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The flag names no known device.
    #[error("unknown device '{0}': use cpu, cuda, cuda:N, wgpu or vulkan")]
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

/// Parses `cpu` (alias `flex`), `cuda`, `cuda:N`, `wgpu` or `vulkan` into a device, checking
/// that its backend was compiled in and that the machine can run it: the NVIDIA driver library
/// for CUDA, a graphics adapter for wgpu and vulkan (Burn panics without them; here a missing
/// one is an error naming what to install).
pub fn parse_device(flag: &str) -> Result<Device, DeviceError> {
    let flag = flag.trim().to_ascii_lowercase();
    match flag.as_str() {
        "cpu" | "flex" => cpu(&flag),
        "wgpu" => wgpu(&flag),
        "vulkan" => vulkan(&flag),
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

/// [`parse_device`] for command-line tools: on an error, prints it and ends the process with
/// exit status 2 (a usage or set-up error: the missing feature or driver is named), never a
/// panic. Every example's `--device` goes through here.
pub fn parse_device_or_exit(flag: &str) -> Device {
    parse_device(flag).unwrap_or_else(|error| {
        eprintln!("error: {error}");
        std::process::exit(2)
    })
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
fn wgpu(flag: &str) -> Result<Device, DeviceError> {
    probe(
        flag,
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice),
        "no graphics adapter found: install a GPU driver with Vulkan, Metal or DX12 \
         support, or Mesa's software Vulkan (apt-get install mesa-vulkan-drivers)",
    )
}

#[cfg(feature = "vulkan")]
fn vulkan(flag: &str) -> Result<Device, DeviceError> {
    probe(
        flag,
        Device::vulkan(burn::tensor::DeviceKind::DefaultDevice),
        "no Vulkan driver found: install the GPU vendor's Vulkan driver (NVIDIA: the \
         driver's Vulkan ICD; apt-get install libvulkan1) or Mesa's \
         (apt-get install libvulkan1 mesa-vulkan-drivers)",
    )
}

#[cfg(not(feature = "vulkan"))]
fn vulkan(flag: &str) -> Result<Device, DeviceError> {
    Err(DeviceError::NotCompiled {
        device: flag.to_string(),
        feature: "vulkan",
    })
}

/// Runs one tiny computation on `device` and reads it back. The wgpu and CUDA runtimes panic
/// when they find no adapter or device; the panic is caught (its message kept out of the user's terminal) and
/// returned as [`DeviceError::Unavailable`] with `advice`.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn probe(flag: &str, device: Device, advice: &str) -> Result<Device, DeviceError> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(|| {
        burn::tensor::Tensor::<1>::from_floats([1.0, 2.0], &device)
            .sum()
            .into_scalar::<f32>()
    });
    std::panic::set_hook(previous_hook);
    match outcome {
        Ok(3.0) => Ok(device),
        Ok(sum) => Err(DeviceError::Unavailable {
            device: flag.to_string(),
            reason: format!("a test computation returned {sum} instead of 3"),
        }),
        Err(panic) => {
            let detail = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("the backend failed to start");
            Err(DeviceError::Unavailable {
                device: flag.to_string(),
                reason: format!("{advice} ({})", first_line(detail)),
            })
        }
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
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
    probe(
        flag,
        Device::cuda(index),
        "the NVIDIA driver is present but CUDA device could not start: check `nvidia-smi` \
         and the device index",
    )
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

/// The face detector for `device`: MTCNN on the host CPU kernels on Burn's CPU backend (flex),
/// where they are faster (and this CPU has them), and on Burn's operations everywhere else.
pub fn face_detector_for(device: &Device) -> deepfake_faces::Result<Mtcnn> {
    #[cfg(feature = "flex")]
    if *device == Device::flex() {
        match Mtcnn::new_host(device) {
            Err(deepfake_faces::FacesError::Host(_)) => {}
            result => return result,
        }
    }
    Mtcnn::new(device)
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

    #[cfg(not(feature = "vulkan"))]
    #[test]
    fn vulkan_without_feature_names_the_feature() {
        let err = parse_device("Vulkan").unwrap_err().to_string();
        assert!(err.contains("--features vulkan"), "{err}");
    }
}
