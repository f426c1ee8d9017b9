//! `deepfake serve`: the HTTP inference server (dynamic batching, Prometheus metrics, graceful
//! shutdown on Ctrl-C or SIGTERM).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;
use deepfake::eval::Checkpoint;
use deepfake_serve::{ServeOptions, Server, load_model, shutdown_signal};

use crate::{DeviceFlag, VerifyFlag};

/// Serve the detector over HTTP: POST /v1/predict (raw image body or multipart files),
/// GET /healthz, /readyz, /metrics, /v1/model, and an upload page at /.
#[derive(Parser)]
#[command(name = "serve")]
pub struct Args {
    /// Saved model or training run [default: the newest run in runs/].
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceFlag,
    /// Address to listen on (0.0.0.0 for every interface).
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Most images in one forward pass.
    #[arg(long, default_value_t = 16)]
    max_batch: usize,
    /// Longest wait for a batch to fill after its first image, in milliseconds (only while
    /// other images are already accepted; a lone image starts at once).
    #[arg(long, default_value_t = 2)]
    max_wait_ms: u64,
    /// Images that may wait for the model; a request that does not fit gets 503 +
    /// Retry-After at once.
    #[arg(long, default_value_t = 128)]
    queue_capacity: usize,
    /// Largest request body in MiB (413 beyond).
    #[arg(long, default_value_t = 32.0)]
    max_body_mb: f64,
    /// Largest image in megapixels (422 beyond; checked before decoding).
    #[arg(long, default_value_t = 64.0)]
    max_megapixels: f64,
    /// Longest time one request may take, in seconds (408 beyond).
    #[arg(long, default_value_t = 60)]
    request_timeout_s: u64,
    /// Decision threshold on P(fake) [default: the model's, 0.5 unless set].
    #[arg(long)]
    threshold: Option<f64>,
    #[command(flatten)]
    verify: VerifyFlag,
}

impl Args {
    fn options(&self) -> Result<ServeOptions> {
        let positive = |value: f64, flag: &str| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                bail!("{flag} must be a positive number, got {value}")
            }
        };
        if self.max_batch == 0 || self.queue_capacity == 0 {
            bail!("--max-batch and --queue-capacity must be at least 1");
        }
        Ok(ServeOptions {
            max_batch: self.max_batch,
            max_wait: Duration::from_millis(self.max_wait_ms),
            queue_capacity: self.queue_capacity,
            max_body_bytes: (positive(self.max_body_mb, "--max-body-mb")? * 1024.0 * 1024.0)
                as usize,
            max_pixels: (positive(self.max_megapixels, "--max-megapixels")? * 1024.0 * 1024.0)
                as u64,
            request_timeout: Duration::from_secs(self.request_timeout_s.max(1)),
            ..ServeOptions::default()
        })
    }
}

/// Loads the model, serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub fn run(args: Args) -> Result<()> {
    let options = args.options()?;
    let device = args.device.device();
    let checkpoint = match &args.checkpoint {
        Some(path) => path.clone(),
        None => Checkpoint::newest_run(Path::new("runs"))?.model_dir,
    };
    let check = args.verify.check();
    let (mut detector, identity) = load_model(&checkpoint, &device, check)
        .with_context(|| format!("loading the model from {}", checkpoint.display()))?;
    if let Some(threshold) = args.threshold {
        detector = detector.with_threshold(threshold);
    }
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let address = format!("{}:{}", args.host, args.port);
        let server = Server::bind(&address, detector, identity.clone(), options).await?;
        let bound = server.local_addr()?;
        eprintln!(
            "serving {} ({}, sha256 {}) on http://{bound}  (Ctrl-C to stop)",
            identity.path,
            identity.architecture,
            &identity.sha256[..12]
        );
        server.run(shutdown_signal()).await?;
        eprintln!("stopped: every accepted request was answered");
        Ok(())
    })
}
