//! `deepfake serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use crate::tiny_model;

/// `deepfake serve` on a free port answers a prediction (at the threshold given), then stops
/// with status 0 on SIGTERM after answering the request in flight.
#[test]
fn serve_answers_then_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = tiny_model(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepfake"))
        .args([
            "serve",
            "--port",
            "0",
            "--max-wait-ms",
            "1500",
            "--threshold",
            "0.25",
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
    assert!(answer.contains("\"threshold\":0.25"), "{answer}");
    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status}: {rest}");
    assert!(
        rest.contains("every accepted request was answered"),
        "{rest}"
    );
}
