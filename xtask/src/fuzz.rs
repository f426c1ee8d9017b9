//! `cargo xtask fuzz`: builds the fuzz targets of `fuzz/` (libFuzzer through cargo-fuzz, on
//! the nightly toolchain, both installed here when missing) and runs each for `--runs`
//! executions or `--max-seconds`, whichever comes first; a crash, a hang over 1 s or an
//! allocation over 2 GB is a finding. The results go to `target/fuzz/results.json` and into
//! the table of docs/reliability.md between its `fuzz-results` markers.
//!
//! Corpora grow in `target/fuzz/corpus/<target>/` (kept between runs, seeded from
//! `fuzz/seeds/<target>/`); findings land in `target/fuzz/artifacts/<target>/`. A finding, once
//! fixed, goes to `fuzz/regressions/<target>/`, which `cargo test` replays.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::python::{output_checked, repo_root, run_checked};

/// Options of `cargo xtask fuzz`.
#[derive(clap::Args)]
pub struct Args {
    /// Executions per target (libFuzzer's -runs).
    #[arg(long, default_value_t = 1_000_000)]
    runs: u64,
    /// Wall-clock cap per target, seconds (libFuzzer's -max_total_time).
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// Run only these targets (comma-separated; default: every target `cargo fuzz list` shows).
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// Targets fuzzed at once, each on one core (libFuzzer runs single-threaded).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    parallel: u32,
    /// Do not write the results table into docs/reliability.md.
    #[arg(long)]
    no_docs: bool,
    /// The build: `address` (AddressSanitizer: also catches memory errors in the unsafe code of
    /// dependencies) or `none` (5-7x the executions per second on the slowest targets;
    /// the targets cap single allocations at 2 GB themselves, as libFuzzer's
    /// -malloc_limit_mb works only with a sanitizer). Each has its own build directory.
    #[arg(long, value_enum, default_value_t = Sanitizer::Address)]
    sanitizer: Sanitizer,
}

/// The sanitizer the fuzz targets are built with (`cargo fuzz -s`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Sanitizer {
    Address,
    None,
}

impl Sanitizer {
    /// cargo-fuzz's name for it.
    fn name(self) -> &'static str {
        match self {
            Self::Address => "address",
            Self::None => "none",
        }
    }

    /// cargo-fuzz's arguments selecting this build: the sanitizer and, for `none`, a build
    /// directory of its own under `fuzz/target/` (so that the ASan build is kept).
    fn cargo_fuzz_args(self, root: &Path) -> Vec<String> {
        let mut args = vec!["-s".to_string(), self.name().to_string()];
        if self == Self::None {
            let dir = root.join("fuzz/target/sanitizer-none");
            args.extend(["--target-dir".to_string(), dir.display().to_string()]);
        }
        args
    }
}

/// A hang: one input running longer than this, seconds.
const TIMEOUT_SECONDS: u32 = 1;
/// An allocation (or the process's resident memory) over this, MB.
const MEMORY_LIMIT_MB: u32 = 2048;
const DOCS_START: &str = "<!-- fuzz-results:start -->";
const DOCS_END: &str = "<!-- fuzz-results:end -->";

/// What one target's run did.
struct Outcome {
    target: String,
    executions: u64,
    seconds: f64,
    corpus_files: usize,
    peak_rss_mb: u64,
    sanitizer: Sanitizer,
    /// `None`, or what libFuzzer reported and the input it saved.
    finding: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let root = repo_root();
    ensure_tools()?;
    eprintln!(
        "== building the fuzz targets (cargo +nightly fuzz build -s {})",
        args.sanitizer.name()
    );
    run_checked(
        Command::new("cargo")
            .current_dir(&root)
            .args(["+nightly", "fuzz", "build"])
            .args(args.sanitizer.cargo_fuzz_args(&root)),
    )
    .context("building the fuzz targets")?;
    let listed = output_checked(
        Command::new("cargo")
            .current_dir(&root)
            .args(["+nightly", "fuzz", "list"]),
        "cargo fuzz list",
    )?;
    let all: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| line.trim().to_string())
        .filter(|line| !line.is_empty())
        .collect();
    let targets = if args.targets.is_empty() {
        all.clone()
    } else {
        for target in &args.targets {
            if !all.contains(target) {
                bail!(
                    "no fuzz target {target}; the targets are {}",
                    all.join(", ")
                );
            }
        }
        args.targets.clone()
    };
    let fuzz_dir = root.join("target/fuzz");
    let outcomes = run_targets(&root, &fuzz_dir, &targets, &args)?;
    let _ = std::fs::remove_dir_all(scratch_root(&fuzz_dir));
    write_results(&fuzz_dir.join("results.json"), &outcomes, &args)?;
    if !args.no_docs {
        write_docs(&root.join("docs/reliability.md"), &outcomes, &args)?;
    }
    let findings = outcomes.iter().filter(|o| o.finding.is_some()).count();
    if findings > 0 {
        bail!(
            "{findings} of {} targets found a crash, hang or memory blow-up (target/fuzz/artifacts/)",
            outcomes.len()
        );
    }
    Ok(())
}

/// Runs `targets`, `args.parallel` at a time (each worker takes the next target not yet
/// started), and returns their outcomes in the order of `targets`.
fn run_targets(
    root: &Path,
    fuzz_dir: &Path,
    targets: &[String],
    args: &Args,
) -> Result<Vec<Outcome>> {
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut done = Vec::new();
        while let Some(target) = targets.get(next.fetch_add(1, Ordering::SeqCst)) {
            eprintln!(
                "== {target}: up to {} runs or {} s",
                args.runs, args.max_seconds
            );
            let outcome = run_target(root, fuzz_dir, target, args);
            if let Ok(o) = &outcome {
                eprintln!(
                    "   {target}: {} executions in {:.0} s ({:.0}/s), corpus {} files, peak RSS {} MB: {}",
                    o.executions,
                    o.seconds,
                    o.executions as f64 / o.seconds.max(1e-9),
                    o.corpus_files,
                    o.peak_rss_mb,
                    o.finding.as_deref().unwrap_or("no finding")
                );
            }
            done.push(outcome);
        }
        done
    };
    let workers = args.parallel.min(targets.len() as u32);
    let mut outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("a fuzz worker panicked"))
            })
            .collect::<Result<Vec<_>>>()
    })?
    .into_iter()
    .flatten()
    .collect::<Result<_>>()?;
    outcomes.sort_by_key(|o| targets.iter().position(|t| *t == o.target));
    Ok(outcomes)
}

/// Installs the nightly toolchain (minimal profile) and cargo-fuzz (crates.io) when missing.
fn ensure_tools() -> Result<()> {
    if !cargo_answers(&["+nightly", "--version"]) {
        eprintln!("== installing the nightly toolchain (rustup)");
        run_checked(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))
        .context("installing the nightly toolchain (cargo-fuzz needs it)")?;
    }
    if !cargo_answers(&["fuzz", "--version"]) {
        eprintln!("== installing cargo-fuzz (crates.io)");
        run_checked(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
            .context("installing cargo-fuzz")?;
    }
    Ok(())
}

/// Whether `cargo ARGS` runs and succeeds (output discarded).
fn cargo_answers(args: &[&str]) -> bool {
    Command::new("cargo")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_target(root: &Path, fuzz_dir: &Path, target: &str, args: &Args) -> Result<Outcome> {
    let corpus = fuzz_dir.join("corpus").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let scratch = scratch_root(fuzz_dir).join(target);
    for dir in [&corpus, &artifacts, &scratch] {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let seeds = root.join("fuzz/seeds").join(target);
    let log_path = fuzz_dir.join(format!("{target}.log"));
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("creating {}", log_path.display()))?;
    let started = Instant::now();
    let status = Command::new("cargo")
        .current_dir(root)
        .env("TMPDIR", &scratch)
        .args(["+nightly", "fuzz", "run", target])
        .args(args.sanitizer.cargo_fuzz_args(root))
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-runs={}", args.runs))
        .arg(format!("-max_total_time={}", args.max_seconds))
        .arg(format!("-timeout={TIMEOUT_SECONDS}"))
        .arg(format!("-rss_limit_mb={MEMORY_LIMIT_MB}"))
        .arg(format!("-malloc_limit_mb={MEMORY_LIMIT_MB}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-print_final_stats=1")
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("running cargo fuzz run {target}"))?;
    let seconds = started.elapsed().as_secs_f64();
    // The scratch folders only hold the last input's files.
    let _ = std::fs::remove_dir_all(&scratch);
    let text = std::fs::read_to_string(&log_path)
        .with_context(|| format!("reading {}", log_path.display()))?;
    let executions = final_stat(&text, "stat::number_of_executed_units").unwrap_or(0);
    let finding = if status.success() {
        None
    } else {
        Some(describe_finding(&text, &log_path))
    };
    Ok(Outcome {
        target: target.to_string(),
        executions,
        seconds,
        corpus_files: std::fs::read_dir(&corpus).map(|d| d.count()).unwrap_or(0),
        peak_rss_mb: final_stat(&text, "stat::peak_rss_mb").unwrap_or(0),
        sanitizer: args.sanitizer,
        finding,
    })
}

/// Where the targets write each input as a file (their temp dir): on a RAM disk where there
/// is one, so that a disk stall (a build beside the fuzzer) is not taken for a hang of the
/// parser; removed after the run.
fn scratch_root(fuzz_dir: &Path) -> std::path::PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.join(format!("deepfake-fuzz-{}", std::process::id()))
    } else {
        fuzz_dir.join("scratch")
    }
}

/// A docs table row's target and sanitizer: its first two cells, `"target | sanitizer"`.
fn row_key(row: &str) -> String {
    row.trim_start_matches("| ")
        .splitn(3, " | ")
        .take(2)
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The value of libFuzzer's final statistic `name` (`name: value` at a line's start).
fn final_stat(log: &str, name: &str) -> Option<u64> {
    log.lines().rev().find_map(|line| {
        line.strip_prefix(name)?
            .trim_start_matches(':')
            .trim()
            .parse()
            .ok()
    })
}

/// libFuzzer's one-line summary of what it found, and where the input and log are.
fn describe_finding(log: &str, log_path: &Path) -> String {
    let summary = log
        .lines()
        .find(|line| {
            line.contains("==ERROR: libFuzzer")
                || line.contains("ERROR: AddressSanitizer")
                || line.contains("panicked at")
                || line.contains("out-of-memory")
                || line.contains("timeout after")
        })
        .unwrap_or("the fuzzer exited with an error")
        .trim()
        .to_string();
    let input = log
        .lines()
        .find_map(|line| line.split("Test unit written to ").nth(1))
        .unwrap_or("(no input saved)");
    format!("{summary}; input {input}; log {}", log_path.display())
}

fn write_results(path: &Path, outcomes: &[Outcome], args: &Args) -> Result<()> {
    let rows: Vec<serde_json::Value> = outcomes
        .iter()
        .map(|o| {
            serde_json::json!({
                "target": o.target,
                "executions": o.executions,
                "seconds": o.seconds,
                "corpus_files": o.corpus_files,
                "peak_rss_mb": o.peak_rss_mb,
                "sanitizer": o.sanitizer.name(),
                "finding": o.finding,
            })
        })
        .collect();
    let value = serde_json::json!({
        "runs": args.runs,
        "max_seconds": args.max_seconds,
        "parallel": args.parallel,
        "timeout_seconds": TIMEOUT_SECONDS,
        "memory_limit_mb": MEMORY_LIMIT_MB,
        "targets": rows,
    });
    std::fs::write(path, serde_json::to_string_pretty(&value)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

/// Replaces the rows of each target run now (with this sanitizer) in the table between the
/// markers; other targets and sanitizers keep their earlier rows.
fn write_docs(path: &Path, outcomes: &[Outcome], args: &Args) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let (Some(start), Some(end)) = (text.find(DOCS_START), text.find(DOCS_END)) else {
        bail!(
            "{} has no {DOCS_START} ... {DOCS_END} markers for the fuzz table",
            path.display()
        );
    };
    let header = "| target | sanitizer | executions | seconds | executions/s | corpus files | peak RSS (MB) | crashes, hangs > 1 s, allocations > 2 GB |\n|---|---|---:|---:|---:|---:|---:|---|\n";
    let inner = &text[start + DOCS_START.len()..end];
    // A row is keyed by its target and sanitizer (the first two cells).
    let mut rows: Vec<(String, String)> = inner
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| target"))
        .map(|line| (row_key(line), line.to_string()))
        .collect();
    for o in outcomes {
        let row = format!(
            "| {} | {} | {} | {:.0} | {:.0} | {} | {} | {} |",
            o.target,
            o.sanitizer.name(),
            o.executions,
            o.seconds,
            o.executions as f64 / o.seconds.max(1e-9),
            o.corpus_files,
            o.peak_rss_mb,
            o.finding
                .as_deref()
                .map_or("0".to_string(), |f| f.replace('|', "/"))
        );
        let key = row_key(&row);
        match rows.iter_mut().find(|(existing, _)| *existing == key) {
            Some(existing) => existing.1 = row,
            None => rows.push((key, row)),
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let table: String = rows.iter().map(|(_, row)| format!("{row}\n")).collect();
    let updated = format!(
        "{}{DOCS_START}\n<!-- rows written by `cargo xtask fuzz` (a run replaces the rows of its targets); the last: `--runs {} --max-seconds {} --parallel {} --sanitizer {}` -->\n{header}{table}{}",
        &text[..start],
        args.runs,
        args.max_seconds,
        args.parallel,
        args.sanitizer.name(),
        &text[end..]
    );
    std::fs::write(path, updated).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote the fuzz table of {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_stats_are_read_from_the_log() {
        let log = "#1000000\tDONE   cov: 10\nDone 1000000 runs in 12 second(s)\n\
                   stat::number_of_executed_units: 1000000\nstat::peak_rss_mb: 123\n";
        assert_eq!(
            final_stat(log, "stat::number_of_executed_units"),
            Some(1_000_000)
        );
        assert_eq!(final_stat(log, "stat::peak_rss_mb"), Some(123));
        assert_eq!(final_stat(log, "stat::missing"), None);
    }

    #[test]
    fn an_allocation_over_the_cap_is_reported_with_its_input() {
        // What a build without a sanitizer prints when fuzz/src/allocation_limit.rs aborts.
        let log = "#52\tNEW    cov: 10\n\
                   ==deepfake-fuzz== out-of-memory: an allocation of 4294967296 bytes, over the limit of 2147483648 bytes\n\
                   ==7== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='a/'; Test unit written to a/crash-1234\n";
        let finding = describe_finding(log, Path::new("t.log"));
        assert!(
            finding.starts_with("==deepfake-fuzz== out-of-memory: an allocation of 4294967296"),
            "{finding}"
        );
        assert!(finding.contains("input a/crash-1234"), "{finding}");
    }

    #[test]
    fn docs_rows_are_keyed_by_target_and_sanitizer() {
        assert_eq!(
            row_key("| saved_model | address | 139991 | 905 | 155 | 779 | 590 | 0 |"),
            "saved_model | address"
        );
        assert_ne!(
            row_key("| saved_model | address | 1 | 1 | 1 | 1 | 1 | 0 |"),
            row_key("| saved_model | none | 1 | 1 | 1 | 1 | 1 | 0 |")
        );
    }
}
