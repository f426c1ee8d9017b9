//! The installed `deepfake` binary: its subcommands are the library's commands.

use std::path::Path;
use std::process::{Command, Output};

fn deepfake(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepfake"))
        .args(args)
        .output()
        .expect("the deepfake binary runs")
}

fn stdout_of(output: &Output) -> String {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn help_lists_every_command() {
    let help = stdout_of(&deepfake(&["--help"]));
    for command in [
        "train",
        "eval",
        "predict",
        "export",
        "data-info",
        "synth",
        "model-info",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(&format!("{command} "))),
            "`deepfake --help` lacks {command}:\n{help}"
        );
    }
}

/// `synth` writes a data set whose counts and sizes follow from its options (valid and test
/// get a fifth of the training count, rounded up); `data-info` finds exactly those.
#[test]
fn synth_then_data_info_count_what_was_asked_for() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    stdout_of(&deepfake(&[
        "synth",
        "--out",
        data,
        "--per-class",
        "6",
        "--size",
        "24",
    ]));
    let info_path = dir.path().join("info.json");
    let json = stdout_of(&deepfake(&[
        "data-info",
        data,
        "--json",
        "--out",
        info_path.to_str().expect("utf-8 path"),
    ]));
    let info: serde_json::Value = serde_json::from_str(&json).expect("JSON on stdout");
    for (split, per_class) in [("train", 6), ("valid", 2), ("test", 2)] {
        for class in ["real", "fake"] {
            assert_eq!(
                info["splits"][split][class], per_class,
                "{split}/{class} in {json}"
            );
        }
    }
    assert_eq!(info["image_sizes"]["24x24"], 20, "{json}");
    assert_eq!(info["skipped"].as_array().map(Vec::len), Some(0), "{json}");
    let written = std::fs::read_to_string(Path::new(&info_path)).expect("dataset info file");
    assert_eq!(written.trim(), json.trim());
}
