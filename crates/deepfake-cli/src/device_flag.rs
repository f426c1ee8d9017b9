//! The `--device` flag of every command that runs the model.

use burn::tensor::Device;

/// `--device cpu|cuda|cuda:N|wgpu|vulkan`, flattened into a command's options.
#[derive(clap::Args, Clone, Debug)]
pub struct DeviceFlag {
    /// Device: cpu, cuda, cuda:N, wgpu or vulkan (GPU ones need the Cargo feature of the same name).
    #[arg(id = "device", long = "device", default_value = "cpu")]
    pub name: String,
}

impl DeviceFlag {
    /// The device, checked to be compiled in and usable on this machine; otherwise prints why
    /// (naming the Cargo feature or driver to install) and exits with status 2.
    pub fn device(&self) -> Device {
        deepfake::parse_device_or_exit(&self.name)
    }
}
