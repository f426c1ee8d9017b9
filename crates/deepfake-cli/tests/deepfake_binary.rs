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
        "serve",
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

/// `deepfake serve` on a free port answers a prediction, then stops with status 0 on
/// SIGTERM after answering the request in flight.
#[cfg(unix)]
#[test]
fn serve_answers_then_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::process::Stdio;

    use burn::tensor::Device;
    use deepfake::model::DetectorConfig;

    let dir = tempfile::tempdir().unwrap();
    let config = DetectorConfig::tiny();
    let model = config.init(&Device::flex()).unwrap();
    let model_dir = dir.path().join("model");
    model.save(&config, &model_dir).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepfake"))
        .args([
            "serve",
            "--port",
            "0",
            "--max-wait-ms",
            "1500",
            "--checkpoint",
        ])
        .arg(&model_dir)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let address = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited early"
        );
        if let Some(rest) = line.split("on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let mut png = Vec::new();
    image::RgbImage::from_pixel(40, 30, image::Rgb([200, 120, 40]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        png.len()
    )
    .unwrap();
    stream.write_all(&png).unwrap();
    // The worker holds the image up to 1.5 s for a batch to fill: SIGTERM arrives while the
    // request is in flight.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"p_fake\""), "{answer}");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(
        rest.contains("every accepted request was answered"),
        "{rest}"
    );
}
