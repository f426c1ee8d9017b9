//! `POST /v1/predict` answers what `predict` would for the same files, one image or several,
//! batches concurrent requests together, and the probes and metrics say what happened.

use crate::support;

use std::sync::{Arc, Barrier};
use std::time::Duration;

use burn::tensor::Device;
use deepfake::predict::Detector;
use deepfake_compare::{max_abs_diff_or_panic, spread};
use deepfake_serve::ServeOptions;
use sha2::{Digest, Sha256};
use support::{Running, grey_png, saved_deep_model};

/// P(fake) tolerance between the server and `predict` on the same file.
const TOLERANCE: f32 = 1e-6;

/// P(fake) of each file through the library path `predict` uses (batches of one).
fn predict_p_fakes(model: &std::path::Path, files: &[std::path::PathBuf]) -> Vec<f32> {
    let detector = Detector::load(model, &Device::flex())
        .unwrap()
        .with_batch_size(1);
    detector
        .predict_paths(files)
        .into_iter()
        .map(|r| r.unwrap().p_fake)
        .collect()
}

/// Images of six grey levels, written as PNG files; their bytes.
fn images(dir: &std::path::Path) -> (Vec<std::path::PathBuf>, Vec<Vec<u8>>) {
    let mut files = Vec::new();
    let mut bytes = Vec::new();
    for (i, level) in [20u8, 60, 100, 140, 180, 230].into_iter().enumerate() {
        let png = grey_png(level, 50 + 7 * i as u32, 70 - 3 * i as u32);
        let path = dir.join(format!("grey_{level}.png"));
        std::fs::write(&path, &png).unwrap();
        files.push(path);
        bytes.push(png);
    }
    (files, bytes)
}

#[test]
fn one_image_and_several_get_what_predict_gives_with_the_model_identity() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let (files, bytes) = images(dir.path());
    let expected = predict_p_fakes(&model, &files);
    assert!(
        spread(&expected, 1) > 100.0 * TOLERANCE,
        "the test images must give different P(fake): {expected:?}"
    );
    let server = Running::start(&model, ServeOptions::default());

    // One image as the raw body, each in turn.
    let mut one_by_one = Vec::new();
    for png in &bytes {
        let answer = server.post_image(png, "image/png");
        assert_eq!(answer.status, 200, "{}", answer.json);
        one_by_one.extend(answer.p_fakes());
        let record = &answer.json["results"][0];
        assert_eq!(record["path"], "body");
        let p = record["p_fake"].as_f64().unwrap();
        assert_eq!(record["label"], if p >= 0.5 { "fake" } else { "real" });
        assert_eq!(record["threshold"], 0.5);
        assert_eq!(record["temperature"], 1.0);
    }
    let diff = max_abs_diff_or_panic(&one_by_one, &expected);
    assert!(diff <= TOLERANCE, "server vs predict, one by one: {diff}");

    // All six in one multipart request: in order, named by their file names.
    let named: Vec<(String, &[u8])> = files
        .iter()
        .zip(&bytes)
        .map(|(f, b)| {
            (
                f.file_name().unwrap().to_string_lossy().into_owned(),
                &b[..],
            )
        })
        .collect();
    let parts: Vec<(&str, &[u8])> = named.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let answer = server.post_files(&parts);
    assert_eq!(answer.status, 200, "{}", answer.json);
    let diff = max_abs_diff_or_panic(&answer.p_fakes(), &expected);
    assert!(
        diff <= TOLERANCE,
        "server vs predict, one multipart request: {diff}"
    );
    for (record, (name, _)) in answer.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&named)
    {
        assert_eq!(record["path"], name.as_str());
    }
    assert_eq!(
        answer.json["timing"]["batch_sizes"]
            .as_array()
            .unwrap()
            .len(),
        6
    );

    // The identity: the weights file's SHA-256.
    let weights = std::fs::read(model.join("model.bpk")).unwrap();
    let sha: String = Sha256::digest(&weights)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(answer.json["model"]["sha256"], sha.as_str());

    // The probes and the counters.
    assert_eq!(server.get("/healthz").0, 200);
    let (status, ready) = server.get("/readyz");
    assert_eq!(status, 200);
    assert!(ready.contains(&sha), "{ready}");
    let (status, page) = server.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("/v1/predict") && page.contains("<form"));
    assert_eq!(server.metric("deepfake_images_scored_total"), 12.0);
    assert_eq!(
        server.metric("deepfake_http_requests_total{route=\"/v1/predict\",status=\"200\"}"),
        7.0
    );
    server.stop().unwrap();
}

/// `clients` threads released together, client `i` posting `images[i % len]`; their answers
/// in client order.
fn post_together(
    server: &Arc<Running>,
    images: &[Vec<u8>],
    clients: usize,
) -> Vec<support::Answer> {
    let barrier = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let (server, barrier) = (Arc::clone(server), Arc::clone(&barrier));
            let png = images[i % images.len()].clone();
            std::thread::spawn(move || {
                barrier.wait();
                server.post_image(&png, "image/png")
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn concurrent_requests_share_forward_passes() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let (files, bytes) = images(dir.path());
    let expected = predict_p_fakes(&model, &files);
    let options = ServeOptions {
        max_batch: 32,
        // Long enough that requests sent together always meet in one batch.
        max_wait: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    let server = Arc::new(Running::start(&model, options));
    let clients = 12;
    let mut largest_batch = 0;
    for (i, answer) in post_together(&server, &bytes, clients)
        .into_iter()
        .enumerate()
    {
        assert_eq!(answer.status, 200, "{}", answer.json);
        let got = answer.p_fakes();
        let diff = max_abs_diff_or_panic(&got, &expected[i % expected.len()..][..1]);
        assert!(diff <= TOLERANCE, "client {i}: {diff}");
        largest_batch =
            largest_batch.max(answer.json["timing"]["batch_sizes"][0].as_u64().unwrap());
    }
    assert!(largest_batch > 1, "no two requests shared a forward pass");
    // /metrics saw it too: more images than forward passes.
    let passes = server.metric("deepfake_batch_size_count");
    let images = server.metric("deepfake_batch_size_sum");
    assert_eq!(images, clients as f64);
    assert!(
        passes < images,
        "{passes} forward passes for {images} images"
    );
    let server =
        Arc::try_unwrap(server).unwrap_or_else(|_| panic!("a client still holds the server"));
    server.stop().unwrap();
}

#[test]
fn no_forward_pass_takes_more_than_max_batch_images() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let (_, bytes) = images(dir.path());
    let max_batch = 3;
    let options = ServeOptions {
        max_batch,
        max_wait: Duration::from_millis(300),
        ..ServeOptions::default()
    };
    let server = Arc::new(Running::start(&model, options));
    let mut batches = Vec::new();
    for answer in post_together(&server, &bytes, 9) {
        assert_eq!(answer.status, 200, "{}", answer.json);
        batches.push(answer.json["timing"]["batch_sizes"][0].as_u64().unwrap());
    }
    assert!(
        batches.iter().all(|&b| (1..=max_batch as u64).contains(&b)),
        "{batches:?}"
    );
    assert!(
        batches.contains(&(max_batch as u64)),
        "no batch filled up: {batches:?}"
    );
    let server =
        Arc::try_unwrap(server).unwrap_or_else(|_| panic!("a client still holds the server"));
    server.stop().unwrap();
}

#[test]
fn a_lone_request_does_not_wait_for_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let (_, bytes) = images(dir.path());
    let max_wait = Duration::from_secs(3);
    let options = ServeOptions {
        max_batch: 32,
        max_wait,
        ..ServeOptions::default()
    };
    let server = Running::start(&model, options);
    for png in &bytes[..3] {
        let answer = server.post_image(png, "image/png");
        assert_eq!(answer.status, 200, "{}", answer.json);
        assert_eq!(answer.json["timing"]["batch_sizes"][0], 1);
        // Nothing else was accepted, so the worker started at once instead of waiting
        // `max_wait` for company that was not on its way.
        let queued_ms = answer.json["timing"]["queue_ms"].as_f64().unwrap();
        assert!(
            queued_ms < max_wait.as_secs_f64() * 1e3 / 3.0,
            "a lone image waited {queued_ms} ms"
        );
    }
    server.stop().unwrap();
}

#[test]
fn explain_returns_predicts_verdict_with_a_map_and_a_png_per_image() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let (files, bytes) = images(dir.path());
    let expected = predict_p_fakes(&model, &files[..3]);
    let server = Running::start(&model, ServeOptions::default());
    let parts: Vec<(&str, &[u8])> = vec![
        ("a.png", &bytes[0]),
        ("b.png", &bytes[1]),
        ("c.png", &bytes[2]),
    ];
    let (content_type, body) = support::multipart(&parts);
    let sent = std::time::Instant::now();
    let answer = server.post("/v1/explain", &body, &content_type);
    let round_trip_ms = sent.elapsed().as_secs_f64() * 1e3;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let diff = max_abs_diff_or_panic(&answer.p_fakes(), &expected);
    assert!(diff <= 1e-5, "explain vs predict: {diff}");
    // The server's own time, in milliseconds: inside the client's round trip, and more than
    // the 0.1 ms that three forward and backward passes cannot beat.
    let total_ms = answer.json["total_ms"].as_f64().unwrap();
    assert!(
        0.1 < total_ms && total_ms <= round_trip_ms,
        "total_ms {total_ms}, round trip {round_trip_ms} ms"
    );
    let mut maps = Vec::new();
    for (i, result) in answer.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let explanation = &result["explanation"];
        assert_eq!(explanation["class"], "fake");
        let map: Vec<f32> = explanation["map"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let size = explanation["map_size"].as_array().unwrap();
        assert_eq!(
            map.len() as u64,
            size[0].as_u64().unwrap() * size[1].as_u64().unwrap()
        );
        assert!(map.iter().all(|v| (0.0..=1.0).contains(v)));
        maps.extend(map);
        let png = base64::engine::general_purpose::STANDARD
            .decode(explanation["heatmap_png_base64"].as_str().unwrap())
            .unwrap();
        let overlay = image::load_from_memory(&png).unwrap();
        let original = image::load_from_memory(&bytes[i]).unwrap();
        assert_eq!(overlay.height(), original.height());
    }
    assert!(
        spread(&maps, maps.len() / 3) > 0.01,
        "the maps do not depend on the image"
    );
    // A corrupt upload gets predict's status.
    let (content_type, body) = support::multipart(&[("cut.png", &bytes[0][..40])]);
    let answer = server.post("/v1/explain", &body, &content_type);
    assert_eq!((answer.status, answer.code()), (422, "corrupt_image"));
}

#[test]
fn multipart_fields_are_chosen_by_file_name_or_image_type() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let server = Running::start(&model, ServeOptions::default());
    let png = grey_png(90, 40, 40);
    // (Content-Disposition parameters, Content-Type, bytes)
    let fields: [(&str, Option<&str>, &[u8]); 5] = [
        ("name=\"note\"", Some("text/plain"), b"not an image"),
        ("name=\"\"", Some("image/png"), &png),
        ("name=\"caption\"", None, b"no type, no file name"),
        ("name=\"scan\"", Some("application/octet-stream"), &png),
        ("name=\"f\"; filename=\"shot.png\"", None, &png),
    ];
    let (content_type, body) = support::multipart_fields(&fields);
    let answer = server.post("/v1/predict", &body, &content_type);
    assert_eq!(answer.status, 200, "{}", answer.json);
    // Text fields are skipped; an unnamed image field is named by its position (1-based,
    // counting every field).
    let paths: Vec<&str> = answer.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["part-2", "scan", "shot.png"]);
    server.stop().unwrap();
}
