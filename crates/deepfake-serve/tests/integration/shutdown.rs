//! Graceful shutdown: requests in flight when the stop comes are all answered, then the
//! server stops accepting and `run` returns.

use crate::support;

use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use deepfake_serve::ServeOptions;
use support::{Running, grey_png, saved_deep_model};

#[test]
fn requests_in_flight_at_shutdown_are_all_answered() {
    let dir = tempfile::tempdir().unwrap();
    let model = saved_deep_model(dir.path());
    // The worker waits up to 2 s for a batch to fill once several images are accepted: the
    // requests are accepted and waiting when the stop comes, and answered after it.
    let options = ServeOptions {
        max_batch: 64,
        max_wait: Duration::from_secs(2),
        ..ServeOptions::default()
    };
    let server = Running::start(&model, options);
    let address = server.address;
    let clients = 8;
    let barrier = Arc::new(Barrier::new(clients + 1));
    let url = server.url("/v1/predict");
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let (barrier, url) = (Arc::clone(&barrier), url.clone());
            let png = grey_png(30 * i as u8, 48, 48);
            std::thread::spawn(move || {
                barrier.wait();
                let response = support::agent()
                    .post(url)
                    .header("Content-Type", "image/png")
                    .send(&png[..])
                    .unwrap();
                support::Answer::from(response)
            })
        })
        .collect();
    barrier.wait();
    std::thread::sleep(Duration::from_millis(500));
    server.stop().unwrap();
    let mut waited_past_stop = 0;
    for thread in threads {
        let answer = thread.join().unwrap();
        assert_eq!(answer.status, 200, "{}", answer.json);
        // The first request may find nothing else accepted yet and be scored at once; the
        // rest meet in the batch that is still waiting at the stop (so in practice all but
        // one wait past it; half is the floor, with room for a second early request).
        let queued_ms = answer.json["timing"]["queue_ms"].as_f64().unwrap();
        waited_past_stop += usize::from(queued_ms > 1000.0);
    }
    assert!(
        waited_past_stop >= clients / 2,
        "only {waited_past_stop} of {clients} requests were still waiting at the stop"
    );
    assert!(
        TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_err(),
        "the server still accepts connections after shutdown"
    );
}
