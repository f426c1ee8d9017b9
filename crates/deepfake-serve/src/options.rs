//! The server's settings: batching, queue, limits and timeouts.

use std::time::Duration;

/// How the server batches, queues and limits requests. [`Default`] gives the CLI's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeOptions {
    /// Most images in one forward pass.
    pub max_batch: usize,
    /// Longest time the worker waits for a batch to fill after its first image arrives; it
    /// waits only while other images are already accepted (a lone image starts at once).
    pub max_wait: Duration,
    /// Images that may wait for the model at once (queued or being decoded); a request that
    /// does not fit gets 503 with `Retry-After` at once.
    pub queue_capacity: usize,
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest image accepted, in pixels (422 beyond; checked before any pixel is decoded).
    pub max_pixels: u64,
    /// Longest time one request may take from its first byte to its answer (408 beyond): a
    /// slow or stalled upload ends here.
    pub request_timeout: Duration,
    /// Longest time a client may take to send a request's headers (the connection is closed
    /// beyond).
    pub header_timeout: Duration,
    /// Longest time graceful shutdown waits for the requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            max_batch: 16,
            max_wait: Duration::from_millis(2),
            queue_capacity: 128,
            max_body_bytes: 32 * 1024 * 1024,
            max_pixels: deepfake::data::decode::DEFAULT_MAX_PIXELS,
            request_timeout: Duration::from_secs(60),
            header_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(60),
        }
    }
}
