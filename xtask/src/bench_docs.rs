//! `cargo xtask bench docs`: writes the latest results of every benchmark
//! (`target/bench/<name>.md`) into docs/benchmarks.md, between its results markers, with the
//! machine, the versions and the date. Text outside the markers is kept.

use std::process::Command;

use anyhow::{Context, Result};

use crate::bench_output::results_dir;
use crate::python::repo_root;

const START: &str = "<!-- results:start (cargo xtask bench docs) -->";
const END: &str = "<!-- results:end -->";

/// Benchmarks in page order, with their headings.
const SECTIONS: [(&str, &str); 8] = [
    (
        "model",
        "Forward pass: Burn vs PyTorch vs ONNX Runtime (`cargo xtask bench model`)",
    ),
    (
        "train",
        "Training step and loop: Burn vs PyTorch (`cargo xtask bench train`)",
    ),
    (
        "predict",
        "End-to-end predict (`cargo xtask bench predict`)",
    ),
    (
        "serve",
        "HTTP server under load: Rust vs a PyTorch server (`cargo xtask bench serve`)",
    ),
    ("data", "Data pipeline (`cargo xtask bench data`)"),
    (
        "faces",
        "Face detection: MTCNN vs facenet-pytorch (`cargo xtask bench faces`)",
    ),
    ("metrics", "Metrics report (`cargo xtask bench metrics`)"),
    ("gpu", "GPU (device machine; see the section's own notes)"),
];

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

pub fn write() -> Result<()> {
    let page = repo_root().join("docs/benchmarks.md");
    let old = std::fs::read_to_string(&page).unwrap_or_default();
    // The benchmarks with results on this machine, each with the day its results were written.
    let fresh: Vec<String> = SECTIONS
        .iter()
        .map(|(name, _)| results_dir().join(format!("{name}.md")))
        .filter(|path| path.is_file())
        .map(|path| {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            let day = command_output("date", &["-u", "+%Y-%m-%d", "-r", &path.to_string_lossy()]);
            format!("{name} ({day})")
        })
        .collect();
    let mut results = String::new();
    results.push_str(&format!(
        "Updated {} on {} ({} threads), {}; Burn 0.22.1 (flex). Measured on this machine: {}; \
         the other sections are as measured in earlier runs (`git log -p docs/benchmarks.md` \
         dates them).\n\n",
        command_output("date", &["-u", "+%Y-%m-%d"]),
        cpu_model(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        command_output("rustc", &["-V"]),
        fresh.join(", "),
    ));
    for (name, heading) in SECTIONS {
        let path = results_dir().join(format!("{name}.md"));
        let body = match std::fs::read_to_string(&path) {
            Ok(text) if ["model", "train", "gpu"].contains(&name) => text,
            Ok(text) => format!("```text\n{text}```\n"),
            // Not run on this machine this time: keep what the page says.
            Err(_) => previous_section(&old, heading)
                .unwrap_or_else(|| format!("not measured (run `cargo xtask bench {name}`)\n")),
        };
        results.push_str(&format!("### {heading}\n\n{}\n", body.trim_end()));
        results.push('\n');
    }
    let new = match (old.find(START), old.find(END)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{START}\n{results}{}", &old[..a], &old[b..])
        }
        _ => format!("# Benchmarks\n\n{START}\n{results}{END}\n\n{old}"),
    };
    std::fs::create_dir_all(page.parent().context("docs folder")?)?;
    std::fs::write(&page, new)?;
    println!("wrote {}", page.display());
    Ok(())
}

/// The body of the section `### heading` in `page` (up to the next section or the results
/// end marker), when the page has it.
fn previous_section(page: &str, heading: &str) -> Option<String> {
    let title = format!("### {heading}\n");
    let start = page.find(&title)? + title.len();
    let rest = &page[start..];
    let end = [rest.find("\n### "), rest.find(END)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(rest.len());
    Some(rest[..end].trim().to_string() + "\n")
}
