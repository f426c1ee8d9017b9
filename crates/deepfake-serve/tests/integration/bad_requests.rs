//! Every kind of bad request gets its own status and a JSON error naming the problem, a full
//! queue answers 503 with Retry-After at once, stalled clients time out, and the server
//! stays healthy throughout.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use deepfake_serve::ServeOptions;
use support::{Running, grey_png, multipart, saved_deep_model};

#[test]
fn bad_inputs_get_their_status_and_a_json_error_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let options = ServeOptions {
        max_body_bytes: 1024 * 1024,
        max_pixels: 300 * 300,
        ..ServeOptions::default()
    };
    let server = Running::start(&model, options);
    let good = grey_png(120, 64, 64);

    // Over the body limit: raw and multipart.
    let big = vec![7u8; 1024 * 1024 + 1];
    let answer = server.post_image(&big, "image/jpeg");
    assert_eq!((answer.status, answer.code()), (413, "body_too_large"));
    let answer = server.post_files(&[("big.jpg", &big)]);
    assert_eq!((answer.status, answer.code()), (413, "body_too_large"));
    // A body of exactly the limit is read: these bytes are no image (415), not too large.
    let answer = server.post_image(&big[1..], "image/jpeg");
    assert_eq!((answer.status, answer.code()), (415, "not_an_image"));

    // Not an image: 415 naming the upload.
    let answer = server.post_files(&[("ok.png", &good), ("notes.txt", b"hello, world")]);
    assert_eq!((answer.status, answer.code()), (415, "not_an_image"));
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("notes.txt")
    );

    // Corrupt: a PNG cut in half, a JPEG without its end marker.
    let answer = server.post_files(&[("cut.png", &good[..good.len() / 2])]);
    assert_eq!(
        (answer.status, answer.code()),
        (422, "corrupt_image"),
        "{}",
        answer.json
    );
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cut.png")
    );
    let mut jpeg = Vec::new();
    image::RgbImage::from_pixel(32, 32, image::Rgb([90, 10, 200]))
        .write_to(
            &mut std::io::Cursor::new(&mut jpeg),
            image::ImageFormat::Jpeg,
        )
        .unwrap();
    let answer = server.post_image(&jpeg[..jpeg.len() - 2], "image/jpeg");
    assert_eq!(
        (answer.status, answer.code()),
        (422, "corrupt_image"),
        "{}",
        answer.json
    );

    // Over the pixel limit (301 x 300 > 300 x 300), refused before decoding.
    let wide = grey_png(100, 301, 300);
    let answer = server.post_image(&wide, "image/png");
    assert_eq!((answer.status, answer.code()), (422, "image_too_large"));
    assert!(
        answer.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("301x300")
    );

    // Malformed multipart: no boundary, and a body that never closes its part.
    let answer = server.post_image(&good, "multipart/form-data");
    assert_eq!((answer.status, answer.code()), (400, "bad_multipart"));
    let (content_type, body) = multipart(&[("a.png", &good)]);
    let cut = &body[..body.len() - 40];
    let answer = server.post_image(cut, &content_type);
    assert_eq!(
        (answer.status, answer.code()),
        (400, "bad_multipart"),
        "{}",
        answer.json
    );

    // No image at all.
    let answer = server.post_image(b"", "image/png");
    assert_eq!((answer.status, answer.code()), (400, "no_image"));

    // Still healthy, still right.
    assert_eq!(server.get("/healthz").0, 200);
    let answer = server.post_image(&good, "image/png");
    assert_eq!(answer.status, 200);
    for (status, count) in [(413, 2.0), (415, 2.0), (422, 3.0), (400, 3.0), (200, 1.0)] {
        let name =
            format!("deepfake_http_requests_total{{route=\"/v1/predict\",status=\"{status}\"}}");
        assert_eq!(server.metric(&name), count, "{name}");
    }
    server.stop().unwrap();
}

#[test]
fn a_full_queue_answers_503_with_retry_after_and_every_request_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    // One slot: any two requests that overlap between upload and forward pass collide.
    let options = ServeOptions {
        max_batch: 1,
        max_wait: Duration::ZERO,
        queue_capacity: 1,
        ..ServeOptions::default()
    };
    let server = Arc::new(Running::start(&model, options));
    let png = grey_png(150, 400, 400);
    let clients = 24;
    let barrier = Arc::new(Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (server, barrier, png) = (Arc::clone(&server), Arc::clone(&barrier), png.clone());
            std::thread::spawn(move || {
                barrier.wait();
                server.post_image(&png, "image/png")
            })
        })
        .collect();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    let busy: Vec<_> = answers.iter().filter(|a| a.status == 503).collect();
    assert_eq!(ok.len() + busy.len(), clients, "{answers:?}");
    assert!(
        !ok.is_empty() && !busy.is_empty(),
        "{} ok, {} busy",
        ok.len(),
        busy.len()
    );
    for answer in &busy {
        assert_eq!(answer.code(), "queue_full");
        assert_eq!(answer.retry_after.as_deref(), Some("1"));
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(message.contains("(1 of 1 images waiting)"), "{message}");
    }
    let p = ok[0].p_fakes()[0];
    assert!(ok.iter().all(|a| a.p_fakes() == [p]));
    // The server counted exactly one answer per request, and scored one image per 200.
    let counted = |status: u16| {
        server.metric(&format!(
            "deepfake_http_requests_total{{route=\"/v1/predict\",status=\"{status}\"}}"
        ))
    };
    assert_eq!(counted(200), ok.len() as f64);
    assert_eq!(counted(503), busy.len() as f64);
    assert_eq!(
        server.metric("deepfake_images_scored_total"),
        ok.len() as f64
    );
    assert_eq!(server.metric("deepfake_queue_depth"), 0.0);
}

/// Sends `head` on a raw connection, then nothing; returns what the server sent back and
/// how long it took to end the exchange.
fn stall(server: &Running, head: &[u8]) -> (String, Duration) {
    let mut stream = TcpStream::connect(server.address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(head).unwrap();
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn stalled_clients_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let options = ServeOptions {
        request_timeout: Duration::from_secs(1),
        header_timeout: Duration::from_secs(1),
        ..ServeOptions::default()
    };
    let server = Running::start(&model, options);
    // A body that stops after 10 of its 1000 bytes: 408.
    let (answer, took) = stall(
        &server,
        b"POST /v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n0123456789",
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    // Headers that never end: the connection is closed.
    let (_, took) = stall(&server, b"POST /v1/predict HTTP/1.1\r\nHost: x\r\n");
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(server.get("/healthz").0, 200);
}

#[test]
fn a_zero_setting_is_refused_before_binding() {
    use burn::tensor::Device;
    use deepfake::predict::WeightsCheck;
    use deepfake_serve::{ServeError, Server, load_model};

    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let zero_one_at_a_time = [
        ServeOptions {
            max_batch: 0,
            ..ServeOptions::default()
        },
        ServeOptions {
            queue_capacity: 0,
            ..ServeOptions::default()
        },
        ServeOptions {
            max_body_bytes: 0,
            ..ServeOptions::default()
        },
    ];
    for options in zero_one_at_a_time {
        let (detector, identity) =
            load_model(&model, &Device::flex(), WeightsCheck::Verify).unwrap();
        let bound = runtime.block_on(Server::bind("127.0.0.1:0", detector, identity, options));
        assert!(
            matches!(bound, Err(ServeError::Setting(_))),
            "{:?}",
            bound.err()
        );
    }
}
