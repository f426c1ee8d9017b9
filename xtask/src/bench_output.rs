//! What a benchmark prints, also kept under `target/bench/<name>.md` so that
//! `cargo xtask bench docs` can gather the latest results into docs/benchmarks.md.

use std::path::PathBuf;

use anyhow::Result;

use crate::python::repo_root;

/// Lines printed to stdout and kept for the benchmark page.
pub struct BenchOutput {
    name: &'static str,
    text: String,
}

impl BenchOutput {
    /// Output of the benchmark `name` (`data`, `predict`, `metrics`, `model`, ...).
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            text: String::new(),
        }
    }

    /// Prints `line` and keeps it.
    pub fn line(&mut self, line: impl AsRef<str>) {
        println!("{}", line.as_ref());
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    /// Writes the kept lines to `target/bench/<name>.md`.
    pub fn save(self) -> Result<()> {
        let dir = results_dir();
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{}.md", self.name)), self.text)?;
        Ok(())
    }
}

/// `target/bench`.
pub fn results_dir() -> PathBuf {
    repo_root().join("target/bench")
}
