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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::Parser;

    use super::Args;

    fn options(flags: &[&str]) -> anyhow::Result<deepfake_serve::ServeOptions> {
        let args = Args::try_parse_from(std::iter::once("serve").chain(flags.iter().copied()))
            .expect("flags parse");
        args.options()
    }

    #[test]
    fn flags_become_the_server_options_in_its_units() {
        let given = options(&[
            "--max-batch",
            "8",
            "--max-wait-ms",
            "15",
            "--queue-capacity",
            "3",
            "--max-body-mb",
            "0.5",
            "--max-megapixels",
            "2",
            "--request-timeout-s",
            "9",
        ])
        .expect("valid options");
        assert_eq!(given.max_batch, 8);
        assert_eq!(given.max_wait, Duration::from_millis(15));
        assert_eq!(given.queue_capacity, 3);
        assert_eq!(given.max_body_bytes, 524_288, "0.5 MiB");
        assert_eq!(given.max_pixels, 2_097_152, "2 Mi pixels");
        assert_eq!(given.request_timeout, Duration::from_secs(9));
        // A timeout of 0 would fail every request: it is at least a second.
        let zero = options(&["--request-timeout-s", "0"]).expect("valid options");
        assert_eq!(zero.request_timeout, Duration::from_secs(1));
    }

    #[test]
    fn sizes_and_counts_that_cannot_work_are_refused_by_flag() {
        for (flags, named) in [
            (&["--max-batch", "0"][..], "--max-batch"),
            (&["--queue-capacity", "0"][..], "--queue-capacity"),
            (&["--max-body-mb", "0"][..], "--max-body-mb"),
            (&["--max-body-mb=-1"][..], "--max-body-mb"),
            (&["--max-body-mb", "NaN"][..], "--max-body-mb"),
            (&["--max-megapixels", "0"][..], "--max-megapixels"),
            (&["--max-megapixels", "inf"][..], "--max-megapixels"),
        ] {
            let error = options(flags).expect_err("refused").to_string();
            assert!(error.contains(named), "{flags:?}: {error}");
        }
    }
}
