//! Every command-line tool answers a `--device` its build or machine cannot honour with exit
//! status 2 and a message naming the Cargo feature to build with: no panic, no backtrace.
//! (This is the default build, flex only; `cargo test --workspace` builds the examples.)

#![cfg(not(any(feature = "wgpu", feature = "cuda")))]

use crate::common;

use std::process::Command;

use common::example;

#[test]
fn a_gpu_device_without_its_feature_exits_2_naming_the_feature() {
    let tools: [(&str, &[&str]); 5] = [
        ("predict", &["some.jpg"]),
        ("train", &["--data", "nowhere"]),
        ("eval", &[]),
        ("bench_model", &["--preset", "tiny"]),
        ("model_info", &["--preset", "tiny"]),
    ];
    for (tool, rest) in tools {
        for (device, feature) in [("vulkan", "vulkan"), ("wgpu", "wgpu"), ("cuda:1", "cuda")] {
            let output = Command::new(example(tool))
                .args(["--device", device])
                .args(rest)
                .env("RUST_BACKTRACE", "1")
                .output()
                .expect("the example runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{tool} --device {device}: {stderr}"
            );
            assert!(
                stderr.contains(&format!("--features {feature}")),
                "{tool} --device {device} does not name the feature: {stderr}"
            );
            assert!(
                !stderr.contains("panicked") && !stderr.contains("backtrace"),
                "{tool} --device {device} panicked: {stderr}"
            );
        }
    }
}

#[test]
fn an_unknown_device_exits_2_listing_the_choices() {
    let output = Command::new(example("predict"))
        .args(["--device", "tpu", "some.jpg"])
        .output()
        .expect("the example runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cpu, cuda, cuda:N, wgpu or vulkan"),
        "{stderr}"
    );
}
