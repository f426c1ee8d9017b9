//! `cargo xtask bench serve`: the serve example (seed preset, random weights) under load on
//! 127.0.0.1 at several concurrencies, side by side with a minimal PyTorch server
//! (`scripts/serve_torch.py`) in the same run, against the `predict` example's throughput on
//! the same images; then one overload run (a queue smaller than the concurrency) that must
//! answer every request exactly once, with 503 + Retry-After for those that do not fit.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::bench::{benchmark_jpegs, build_release_examples, predict_rate};
use crate::bench_output::BenchOutput;
use crate::python::{find_python, repo_root};

/// Options of `cargo xtask bench serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Requests per concurrency level (each one 256x256 JPEG).
    #[arg(long, default_value_t = 64)]
    requests: usize,
    /// Most seconds per concurrency level; the level stops early when reached.
    #[arg(long, default_value_t = 90)]
    seconds: u64,
    /// Concurrency levels (clients sending at once).
    #[arg(long, value_delimiter = ',', default_value = "1,8,32")]
    concurrency: Vec<usize>,
    /// The server's --max-batch (also the predict example's batch size it is compared with).
    #[arg(long, default_value_t = 16)]
    max_batch: usize,
    /// The server's --max-wait-ms.
    #[arg(long, default_value_t = 2)]
    max_wait_ms: u64,
    /// Create target/venv with torch and torchvision if no Python has them.
    #[arg(long)]
    install: bool,
}

/// The answers of one load run.
struct Load {
    /// Answers by HTTP status.
    statuses: BTreeMap<u16, usize>,
    /// 503 answers that carried Retry-After.
    retry_after: usize,
    /// Requests that got no HTTP answer (connection errors).
    lost: usize,
    /// Latency of every answered request.
    latencies: Vec<Duration>,
    /// The forward pass of every answered request, as the server timed it (`timing.model_ms`).
    forwards: Vec<Duration>,
    /// Wall time of the run.
    seconds: f64,
}

impl Load {
    fn ok(&self) -> usize {
        self.statuses.get(&200).copied().unwrap_or(0)
    }

    fn throughput(&self) -> f64 {
        self.ok() as f64 / self.seconds
    }

    /// Nearest-rank percentile of the latencies, in milliseconds.
    fn percentile_ms(&self, q: f64) -> f64 {
        percentile_ms(&self.latencies, q)
    }

    /// Per request, its latency less its forward pass: what the server and the client add.
    fn overheads(&self) -> Vec<Duration> {
        self.latencies
            .iter()
            .zip(&self.forwards)
            .map(|(latency, forward)| latency.saturating_sub(*forward))
            .collect()
    }
}

/// Nearest-rank percentile of `durations`, in milliseconds (NaN when empty).
fn percentile_ms(durations: &[Duration], q: f64) -> f64 {
    let mut sorted = durations.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1e3
}

/// `timing.model_ms` of a predict answer's body (zero when absent: the Python server).
fn forward_of(body: &[u8]) -> Duration {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["timing"]["model_ms"].as_f64())
        .map_or(Duration::ZERO, |ms| Duration::from_secs_f64(ms / 1e3))
}

/// Sends `requests` POSTs of `bodies` (round robin) to `url` from `concurrency` clients
/// (each with its own keep-alive connection), stopping early after `limit`.
fn load(
    url: &str,
    bodies: &[Vec<u8>],
    concurrency: usize,
    requests: usize,
    limit: Duration,
) -> Load {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let clients: Vec<_> = (0..concurrency)
        .map(|_| {
            let (next, url, bodies) = (Arc::clone(&next), url.to_string(), bodies.to_vec());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .timeout_global(Some(Duration::from_secs(300)))
                    .build()
                    .into();
                let mut answers = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= requests || started.elapsed() > limit {
                        break;
                    }
                    let sent = Instant::now();
                    let answer = agent
                        .post(&url)
                        .header("Content-Type", "image/jpeg")
                        .send(&bodies[i % bodies.len()][..])
                        .ok()
                        .map(|mut response| {
                            let retry = response.headers().contains_key("retry-after");
                            let body = response.body_mut().read_to_vec().unwrap_or_default();
                            (response.status().as_u16(), retry, body)
                        });
                    answers.push((answer, sent.elapsed()));
                }
                answers
            })
        })
        .collect();
    let mut result = Load {
        statuses: BTreeMap::new(),
        retry_after: 0,
        lost: 0,
        latencies: Vec::new(),
        forwards: Vec::new(),
        seconds: 0.0,
    };
    for client in clients {
        for (answer, latency) in client.join().expect("a load client panicked") {
            match answer {
                Some((status, retry, body)) => {
                    *result.statuses.entry(status).or_default() += 1;
                    result.retry_after += usize::from(status == 503 && retry);
                    if status == 200 {
                        result.latencies.push(latency);
                        // Read here, outside the timed request.
                        result.forwards.push(forward_of(&body));
                    }
                }
                None => result.lost += 1,
            }
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    result
}

/// A server process; SIGTERM on [`ServerProcess::stop`], killed if dropped running.
struct ServerProcess {
    child: Child,
    address: String,
}

impl ServerProcess {
    /// The release serve example on a free port, once `/readyz` answers 200.
    fn rust(model: &Path, args: &[String]) -> Result<Self> {
        let mut child = Command::new(repo_root().join("target/release/examples/serve"))
            .args(["--port", "0", "--checkpoint"])
            .arg(model)
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the serve example")?;
        let mut stderr = BufReader::new(child.stderr.take().context("no stderr")?);
        let mut line = String::new();
        let address = loop {
            line.clear();
            if stderr.read_line(&mut line)? == 0 {
                bail!("the serve example exited before listening");
            }
            if let Some(rest) = line.split("on http://").nth(1) {
                break rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
        };
        // Keep reading its log so it never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        let server = Self { child, address };
        server.wait_ready("/readyz")?;
        Ok(server)
    }

    /// `scripts/serve_torch.py` on a free port (it prints the port once warmed up).
    fn python(python: &Path, threads: usize) -> Result<Self> {
        let mut child = Command::new(python)
            .arg(repo_root().join("scripts/serve_torch.py"))
            .args(["--threads", &threads.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .context("starting scripts/serve_torch.py")?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
        let port = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .with_context(|| format!("serve_torch.py printed {line:?}, not its port"))?;
        Ok(Self {
            child,
            address: format!("127.0.0.1:{port}"),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn wait_ready(&self, path: &str) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if ureq::get(&self.url(path)).call().is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("{} did not become ready in 120 s", self.url(path))
    }

    /// `GET /metrics` as text.
    fn metrics(&self) -> Result<String> {
        Ok(ureq::get(&self.url("/metrics"))
            .call()?
            .body_mut()
            .read_to_string()?)
    }

    /// SIGTERM, then its exit status (must be success: graceful shutdown).
    fn stop(mut self) -> Result<std::process::ExitStatus> {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .context("running kill")?;
        Ok(self.child.wait()?)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value of the metric line that starts with `name ` (0 when absent).
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

fn jpeg_bodies(dir: &Path) -> Result<Vec<Vec<u8>>> {
    let mut files: Vec<PathBuf> = walk_jpegs(dir)?;
    files.sort();
    files.iter().map(|f| Ok(std::fs::read(f)?)).collect()
}

fn walk_jpegs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk_jpegs(&path)?);
        } else if path.extension().is_some_and(|e| e == "jpg") {
            out.push(path);
        }
    }
    Ok(out)
}

fn row(load: &Load) -> String {
    format!(
        "{:>7.2} req/s  p50 {:>7.1}  p95 {:>7.1}  p99 {:>7.1} ms",
        load.throughput(),
        load.percentile_ms(0.50),
        load.percentile_ms(0.95),
        load.percentile_ms(0.99)
    )
}

/// Runs the benchmark and writes target/bench/serve.md.
pub fn run(args: ServeArgs) -> Result<()> {
    let images = benchmark_jpegs(64)?;
    let bodies = jpeg_bodies(&images)?;
    let model = crate::bench_model::seed_model()?;
    build_release_examples(&["serve", "predict"])?;
    let python = find_python(
        &["torch", "torchvision", "PIL"],
        &["torch", "torchvision", "pillow"],
        args.install,
    )?;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let limit = Duration::from_secs(args.seconds);
    let batched = predict_rate(&model, &images, args.max_batch)?;
    let single = predict_rate(&model, &images, 1)?;
    eprintln!(
        "predict: batch {} {batched:.2} images/s, batch 1 {single:.2} images/s",
        args.max_batch
    );

    let server_args = vec![
        "--max-batch".to_string(),
        args.max_batch.to_string(),
        "--max-wait-ms".to_string(),
        args.max_wait_ms.to_string(),
    ];
    let mut rust = Vec::new();
    let mut torch = Vec::new();
    for &concurrency in &args.concurrency {
        let server = ServerProcess::rust(&model, &server_args)?;
        let url = server.url("/v1/predict");
        load(&url, &bodies, concurrency, concurrency, limit); // warm-up
        let measured = load(&url, &bodies, concurrency, args.requests, limit);
        eprintln!("rust   c={concurrency:<3} {}", row(&measured));
        let status = server.stop()?;
        if !status.success() {
            bail!("the serve example exited with {status} on SIGTERM");
        }
        rust.push(measured);

        let server = ServerProcess::python(&python, threads)?;
        let url = server.url("/v1/predict");
        load(&url, &bodies, concurrency, concurrency, limit);
        let measured = load(&url, &bodies, concurrency, args.requests, limit);
        eprintln!("python c={concurrency:<3} {}", row(&measured));
        drop(server);
        torch.push(measured);
    }

    // Overload: 32 clients, a queue of 4 images.
    let queue = 4;
    let overload_clients = 32;
    let overload_requests = 4 * overload_clients;
    let mut overload_args = server_args.clone();
    overload_args.extend(["--queue-capacity".to_string(), queue.to_string()]);
    let server = ServerProcess::rust(&model, &overload_args)?;
    let overload = load(
        &server.url("/v1/predict"),
        &bodies,
        overload_clients,
        overload_requests,
        limit,
    );
    let text = server.metrics()?;
    let counted = |status: u16| {
        metric(
            &text,
            &format!("deepfake_http_requests_total{{route=\"/v1/predict\",status=\"{status}\"}}"),
        ) as usize
    };
    let scored = metric(&text, "deepfake_images_scored_total") as usize;
    let overload_exit = server.stop()?;

    let mut out = BenchOutput::new("serve");
    out.line(format!(
        "serve, seed preset (random weights), one 256x256 JPEG per request, loopback, {threads} threads; \
         server --max-batch {} --max-wait-ms {}; {} requests per level after a warm-up:",
        args.max_batch, args.max_wait_ms, args.requests
    ));
    out.line(format!(
        "  predict example on the same 64 JPEGs: batch {} {batched:.2} images/s; batch 1 {single:.2} images/s \
         ({:.1} ms per image: decode + forward)",
        args.max_batch,
        1e3 / single
    ));
    for ((concurrency, r), p) in args.concurrency.iter().zip(&rust).zip(&torch) {
        out.line(format!("  concurrency {concurrency:>2}: Rust   {}", row(r)));
        out.line(format!(
            "                 Python {}  (Rust / Python {:.2}x)",
            row(p),
            r.throughput() / p.throughput()
        ));
    }
    if let (Some(r), Some(p)) = (rust.last(), torch.last()) {
        out.line(format!(
            "  concurrency {}: Rust / predict batch {} = {:.2}x (target >= 0.95); Rust / Python = {:.2}x (target >= 1)",
            args.concurrency.last().copied().unwrap_or(0),
            args.max_batch,
            r.throughput() / batched,
            r.throughput() / p.throughput()
        ));
    }
    if let Some(r) = rust.first() {
        out.line(format!(
            "  concurrency {}: p99 / (decode + forward at batch 1) = {:.2}x (target <= 1.2)",
            args.concurrency.first().copied().unwrap_or(0),
            r.percentile_ms(0.99) / (1e3 / single)
        ));
        let overheads = r.overheads();
        out.line(format!(
            "  concurrency {}, where the time goes: the server's forward pass p50 {:.1} p99 {:.1} ms; \
             the rest (decode, queue, HTTP, client) p50 {:.1} p99 {:.1} ms",
            args.concurrency.first().copied().unwrap_or(0),
            percentile_ms(&r.forwards, 0.50),
            percentile_ms(&r.forwards, 0.99),
            percentile_ms(&overheads, 0.50),
            percentile_ms(&overheads, 0.99)
        ));
    }
    let answered: usize = overload.statuses.values().sum();
    out.line(format!(
        "  overload (--queue-capacity {queue}, {overload_clients} clients, {overload_requests} requests): \
         answers {:?}, {} of the 503s with Retry-After, {} without an answer; the server counted \
         200: {}, 503: {}, images scored {}; {answered} answers for {overload_requests} requests; \
         exit on SIGTERM: {}",
        overload.statuses,
        overload.retry_after,
        overload.lost,
        counted(200),
        counted(503),
        scored,
        overload_exit
    ));
    let busy = overload.statuses.get(&503).copied().unwrap_or(0);
    let consistent = overload.lost == 0
        && answered == overload_requests
        && counted(200) == overload.ok()
        && counted(503) == busy
        && scored == overload.ok()
        && overload.retry_after == busy
        && overload_exit.success();
    out.save()?;
    if !consistent {
        bail!("the overload run lost, duplicated or miscounted answers (see above)");
    }
    Ok(())
}
