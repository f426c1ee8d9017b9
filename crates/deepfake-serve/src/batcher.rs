//! Dynamic batching: a bounded queue of prepared images and the one worker that owns the model.
//!
//! Handlers reserve queue slots for all images of a request at once (or answer 503 at once),
//! decode into them and wait for their replies. The worker takes the first waiting image;
//! if other images are already accepted (queued, or reserved by a handler still decoding
//! them) it takes more until it has `max_batch` or `max_wait` has passed, else it starts at
//! once. It runs one forward pass on a blocking thread and replies to each image. One batch
//! runs at a time; images that arrive meanwhile form the next batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use deepfake::predict::{Detector, Prediction, Preprocessed};
use image::DynamicImage;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// One image waiting for the model, and where its answer goes.
pub struct Job {
    image: Preprocessed,
    reply: oneshot::Sender<Scored>,
    queued_at: Instant,
}

/// The model's answer for one image, with how it was batched.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The prediction, or why the device failed.
    pub result: Result<Prediction, String>,
    /// Images in the forward pass that scored it.
    pub batch_size: usize,
    /// Time from entering the queue to the start of its forward pass.
    pub queued: Duration,
    /// Time of its forward pass.
    pub forward: Duration,
}

/// The sending side of the queue, shared by all handlers.
#[derive(Debug, Clone)]
pub struct Queue {
    sender: mpsc::Sender<Job>,
    capacity: usize,
}

/// Queue slots reserved for the images of one request; unused slots free when dropped.
pub struct Reservation<'a> {
    permits: mpsc::PermitIterator<'a, Job>,
}

impl Queue {
    /// A queue of `capacity` slots (at least 1) and its receiving side for the worker.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<Job>) {
        let capacity = capacity.max(1);
        let (sender, receiver) = mpsc::channel(capacity);
        (Self { sender, capacity }, receiver)
    }

    /// Reserves `images` slots at once, or answers 503 (`queue_full`, or `shutting_down` when
    /// the worker has stopped).
    pub fn reserve(&self, images: usize) -> Result<Reservation<'_>, ApiError> {
        match self.sender.try_reserve_many(images) {
            Ok(permits) => Ok(Reservation { permits }),
            Err(mpsc::error::TrySendError::Full(())) => Err(ApiError::unavailable(
                "queue_full",
                format!(
                    "the queue is full ({} of {} images waiting); retry shortly",
                    self.depth(),
                    self.capacity
                ),
            )),
            Err(mpsc::error::TrySendError::Closed(())) => Err(ApiError::unavailable(
                "shutting_down",
                "the server is shutting down",
            )),
        }
    }

    /// Images accepted and not yet taken by the worker.
    pub fn depth(&self) -> usize {
        self.capacity - self.sender.capacity()
    }

    /// Most images the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}

impl Reservation<'_> {
    /// Queues `image` in the next reserved slot; the answer arrives on the returned receiver
    /// (closed without an answer only if the forward pass panicked). `None` when every slot
    /// is used.
    pub fn send(&mut self, image: Preprocessed) -> Option<oneshot::Receiver<Scored>> {
        let permit = self.permits.next()?;
        let (reply, answer) = oneshot::channel();
        permit.send(Job {
            image,
            reply,
            queued_at: Instant::now(),
        });
        Some(answer)
    }
}

/// Starts the worker: warms the model up with one forward pass, sets `ready`, then batches
/// and scores until every [`Queue`] is dropped.
pub fn spawn_worker(
    receiver: mpsc::Receiver<Job>,
    detector: Arc<Detector>,
    max_batch: usize,
    max_wait: Duration,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let warm = Arc::clone(&detector);
        let size = warm.image_size();
        let warm_up = tokio::task::spawn_blocking(move || {
            warm.predict(&[DynamicImage::new_rgb8(size, size)])
        });
        match warm_up.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!("warm-up forward pass failed: {e}"),
            Err(e) => tracing::error!("warm-up forward pass panicked: {e}"),
        }
        ready.store(true, Ordering::SeqCst);
        run_batches(receiver, detector, max_batch.max(1), max_wait, metrics).await;
    })
}

/// The worker's loop: one batch at a time until the queue closes.
async fn run_batches(
    mut receiver: mpsc::Receiver<Job>,
    detector: Arc<Detector>,
    max_batch: usize,
    max_wait: Duration,
    metrics: Arc<Metrics>,
) {
    while let Some(first) = receiver.recv().await {
        let mut jobs = vec![first];
        // A lone image does not wait: nothing else is on its way to join it.
        let wait = if accepted(&receiver) > 0 {
            max_wait
        } else {
            Duration::ZERO
        };
        let deadline = tokio::time::Instant::now() + wait;
        while jobs.len() < max_batch {
            match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(job)) => jobs.push(job),
                Ok(None) | Err(_) => break,
            }
        }
        score_batch(jobs, &detector, &metrics).await;
    }
}

/// Images accepted and not yet taken by the worker: queued, or in slots reserved by a handler
/// that is still decoding them ([`Queue::depth`], read from the worker's end).
fn accepted(receiver: &mpsc::Receiver<Job>) -> usize {
    receiver.max_capacity() - receiver.capacity()
}

/// One forward pass over `jobs` on a blocking thread; replies to each. A panic in the model
/// drops the replies (each handler then answers 500) and the worker goes on.
async fn score_batch(jobs: Vec<Job>, detector: &Arc<Detector>, metrics: &Metrics) {
    let started = Instant::now();
    let batch_size = jobs.len();
    let mut images = Vec::with_capacity(batch_size);
    let mut replies = Vec::with_capacity(batch_size);
    for job in jobs {
        images.push(job.image);
        replies.push((job.reply, started.duration_since(job.queued_at)));
    }
    let model = Arc::clone(detector);
    let forward = tokio::task::spawn_blocking(move || model.score_prepared(&images)).await;
    let elapsed = started.elapsed();
    match forward {
        Ok(results) => {
            let scored = results.iter().filter(|r| r.is_ok()).count();
            metrics.record_batch(batch_size, scored, elapsed);
            for ((reply, queued), result) in replies.into_iter().zip(results) {
                // A receiver gone (the client left, or the request timed out) is not an error.
                let _ = reply.send(Scored {
                    result: result.map_err(|e| e.to_string()),
                    batch_size,
                    queued,
                    forward: elapsed,
                });
            }
        }
        Err(e) => tracing::error!("a forward pass of {batch_size} images panicked: {e}"),
    }
}
