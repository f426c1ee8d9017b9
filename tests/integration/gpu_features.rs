//! The GPU backend features must build Burn's cubecl backends with `autotune` and `fusion`:
//! without them every convolution runs the direct kernel, nothing fuses, and the detector ran
//! at 0.008x-0.14x PyTorch on an H200. This asks Cargo for the features `burn-cubecl` is
//! built with under each GPU feature of this package, so the regression cannot come back
//! silently (a `default-features = false` somewhere, a feature list edited by hand).

use std::process::{Command, Output};

/// `cargo tree --locked --package deepfake-detection ARGS` in this repository.
fn cargo_tree(args: &[&str]) -> Output {
    Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "--package", "deepfake-detection"])
        .args(args)
        .output()
        .expect("cargo runs")
}

/// The features `burn-cubecl` is compiled with when this package is built with `feature`.
fn burn_cubecl_features(feature: &str) -> Vec<String> {
    let output = cargo_tree(&[
        "--features",
        feature,
        "--edges",
        "features",
        "--invert",
        "burn-cubecl",
        "--prefix",
        "none",
        "--format",
        "{p} {f}",
        "--depth",
        "0",
    ]);
    assert!(
        output.status.success(),
        "cargo tree --features {feature} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|line| line.starts_with("burn-cubecl "))
        .unwrap_or_else(|| {
            panic!("burn-cubecl is not built under --features {feature}:\n{stdout}")
        });
    // "burn-cubecl v0.22.1 autotune,fusion,std,wgpu"
    line.split_whitespace()
        .nth(2)
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect()
}

#[test]
fn every_gpu_feature_builds_burn_cubecl_with_autotune_and_fusion() {
    for (feature, backend) in [("wgpu", "wgpu"), ("vulkan", "vulkan"), ("cuda", "cuda")] {
        let features = burn_cubecl_features(feature);
        for needed in ["autotune", "fusion", backend] {
            assert!(
                features.iter().any(|f| f == needed),
                "--features {feature}: burn-cubecl lacks '{needed}' (has {features:?})"
            );
        }
    }
}

#[test]
fn the_cpu_build_has_no_cubecl_backend() {
    let output = cargo_tree(&["--edges", "normal", "--invert", "burn-cubecl"]);
    // `cargo tree -i` fails ("did not match any packages") when the package is not built.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success() || stdout.trim().is_empty(),
        "the default (flex) build pulls in burn-cubecl:\n{stdout}"
    );
}
