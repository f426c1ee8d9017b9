//! Starting, running and stopping the server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use deepfake::data::DecodeLimits;
use deepfake::predict::Detector;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{AppState, router};
use crate::batcher::{Queue, spawn_worker};
use crate::error::ServeError;
use crate::metrics::Metrics;
use crate::model_identity::ModelIdentity;
use crate::options::ServeOptions;

/// A server bound to its address, with its batching worker started (warming the model up).
pub struct Server {
    listener: TcpListener,
    state: Arc<AppState>,
    worker: JoinHandle<()>,
}

impl Server {
    /// Binds `address` (port 0 picks a free port) and starts the batching worker. Must run
    /// inside a Tokio runtime.
    pub async fn bind(
        address: &str,
        detector: Detector,
        identity: ModelIdentity,
        options: ServeOptions,
    ) -> Result<Self, ServeError> {
        if options.max_batch == 0 || options.queue_capacity == 0 || options.max_body_bytes == 0 {
            return Err(ServeError::Setting(
                "max batch, queue capacity and body limit must be at least 1".into(),
            ));
        }
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| ServeError::Listen {
                address: address.to_string(),
                source,
            })?;
        let detector = Arc::new(
            detector
                .with_batch_size(options.max_batch)
                .with_decode_limits(DecodeLimits {
                    max_pixels: options.max_pixels,
                }),
        );
        let metrics = Arc::new(Metrics::new(options.max_batch));
        let ready = Arc::new(AtomicBool::new(false));
        let (queue, receiver) = Queue::new(options.queue_capacity);
        let worker = spawn_worker(
            receiver,
            Arc::clone(&detector),
            options.max_batch,
            options.max_wait,
            Arc::clone(&metrics),
            Arc::clone(&ready),
        );
        let state = Arc::new(AppState {
            detector,
            identity,
            queue,
            metrics,
            ready,
            explain_turn: tokio::sync::Semaphore::new(1),
            options,
        });
        Ok(Self {
            listener,
            state,
            worker,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> Result<SocketAddr, ServeError> {
        self.listener
            .local_addr()
            .map_err(|source| ServeError::Listen {
                address: "the bound socket".into(),
                source,
            })
    }

    /// Serves until `shutdown` completes, then stops accepting, lets every request in flight
    /// finish (up to `shutdown_grace`), and returns once the queue is empty.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        let Self {
            listener,
            state,
            worker,
        } = self;
        let options = state.options.clone();
        let app = router(state);
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(options.header_timeout);
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => {
                    let (stream, _peer) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            // Out of file descriptors and the like: wait, then go on.
                            tracing::warn!("accepting a connection failed: {e}");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            continue;
                        }
                    };
                    let service = TowerToHyperService::new(app.clone());
                    let connection = builder.serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!("connection ended with an error: {e}");
                        }
                    });
                }
            }
        }
        drop(listener);
        tracing::info!("shutting down: finishing the requests in flight");
        if tokio::time::timeout(options.shutdown_grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                "some connections were still open after {:?}; closing them",
                options.shutdown_grace
            );
        }
        // The router holds the last queue sender: dropping it lets the worker finish.
        drop(app);
        if let Err(e) = worker.await {
            tracing::error!("the batching worker failed: {e}");
        }
        Ok(())
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
