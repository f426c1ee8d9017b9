//! A server on a free loopback port with the deep test detector, and a small HTTP client.

#![allow(dead_code)] // Each test file uses part of this.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::Duration;

use burn::tensor::Device;
use deepfake::model::{Detector as Model, DetectorConfig};
use deepfake::predict::WeightsCheck;
use deepfake_serve::{ServeOptions, Server, load_model};
use image::{Rgb, RgbImage};
use tokio::sync::oneshot;

/// A saved copy of the deep torch fixture (identity blocks; trained so P(fake) follows the
/// brightness of its input) with its model_info.json.
pub fn saved_deep_model(dir: &Path) -> PathBuf {
    let mut config = DetectorConfig::tiny();
    config.backbone.layers = [2, 2, 2, 2];
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deepfake-model/tests/fixtures/deep_detector.pth");
    let model = Model::from_pytorch(weights, &config, &Device::flex()).unwrap();
    let out = dir.join("deep");
    model.save(&config, &out).unwrap();
    model
        .model_info(&config)
        .write(&out.join("model_info.json"))
        .unwrap();
    out
}

/// A textured grey image: the deep detector's P(fake) varies with `level`.
pub fn grey_png(level: u8, width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        let v = level.saturating_add(((x * 7 + y * 3) % 9) as u8);
        Rgb([v, v, v])
    });
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// A running server: its address, and how to stop it.
pub struct Running {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<Result<(), String>>>,
}

impl Running {
    /// Starts a server for `model` with `options` on 127.0.0.1, port 0, and waits until
    /// `/readyz` says ready.
    pub fn start(model: &Path, options: ServeOptions) -> Self {
        let (detector, identity) =
            load_model(model, &Device::flex(), WeightsCheck::Verify).unwrap();
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = Server::bind("127.0.0.1:0", detector, identity, options)
                    .await
                    .map_err(|e| e.to_string())?;
                address_tx.send(server.local_addr().unwrap()).unwrap();
                server
                    .run(async {
                        let _ = stopped.await;
                    })
                    .await
                    .map_err(|e| e.to_string())
            })
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server did not start");
        let running = Self {
            address,
            stop: Some(stop),
            thread: Some(thread),
        };
        for _ in 0..600 {
            if running.get("/readyz").0 == 200 {
                return running;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not become ready in 30 s");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// GET: status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut response = agent().get(self.url(path)).call().unwrap();
        let body = response.body_mut().read_to_string().unwrap();
        (response.status().as_u16(), body)
    }

    /// POST one image as the raw body to `/v1/predict`: status, `Retry-After` and body.
    pub fn post_image(&self, bytes: &[u8], content_type: &str) -> Answer {
        self.post("/v1/predict", bytes, content_type)
    }

    /// POST `body` to `path`.
    pub fn post(&self, path: &str, body: &[u8], content_type: &str) -> Answer {
        let response = agent()
            .post(self.url(path))
            .header("Content-Type", content_type)
            .send(body)
            .unwrap();
        Answer::from(response)
    }

    /// POST files as multipart/form-data (name, bytes).
    pub fn post_files(&self, files: &[(&str, &[u8])]) -> Answer {
        let (content_type, body) = multipart(files);
        self.post_image(&body, &content_type)
    }

    /// Asks the server to stop and waits until `run` returns.
    pub fn stop(mut self) -> Result<(), String> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), String> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().expect("the server thread panicked"),
            None => Ok(()),
        }
    }

    /// A metric's value from `/metrics` (the first line that starts with `name`).
    pub fn metric(&self, name: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop_and_join();
    }
}

/// An answer: status, `Retry-After` and the body as JSON.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: serde_json::Value,
}

impl From<ureq::http::Response<ureq::Body>> for Answer {
    fn from(mut response: ureq::http::Response<ureq::Body>) -> Self {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let mut text = String::new();
        response
            .body_mut()
            .as_reader()
            .read_to_string(&mut text)
            .unwrap();
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("status {status}: not JSON ({e}): {text}"));
        Self {
            status,
            retry_after,
            json,
        }
    }
}

impl Answer {
    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    /// `p_fake` of every result.
    pub fn p_fakes(&self) -> Vec<f32> {
        self.json["results"]
            .as_array()
            .unwrap_or_else(|| panic!("no results in {}", self.json))
            .iter()
            .map(|r| r["p_fake"].as_f64().unwrap() as f32)
            .collect()
    }
}

/// A client that returns 4xx/5xx answers instead of failing, with a long timeout.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_response_header_size(64 * 1024)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// A multipart/form-data body with one file field per entry: (content type, body).
pub fn multipart(files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let dispositions: Vec<String> = files
        .iter()
        .map(|(name, _)| format!("name=\"file\"; filename=\"{name}\""))
        .collect();
    let fields: Vec<(&str, Option<&str>, &[u8])> = dispositions
        .iter()
        .zip(files)
        .map(|(d, (_, bytes))| (d.as_str(), Some("application/octet-stream"), *bytes))
        .collect();
    multipart_fields(&fields)
}

/// A multipart/form-data body of any fields: (Content-Disposition parameters after
/// `form-data; `, Content-Type if any, bytes). Returns (content type, body).
pub fn multipart_fields(fields: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "deepfake-test-boundary-7d9a";
    let mut body = Vec::new();
    for (disposition, content_type, bytes) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n").as_bytes(),
        );
        if let Some(content_type) = content_type {
            body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
