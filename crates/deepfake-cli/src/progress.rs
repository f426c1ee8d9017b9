//! Progress bars with rate and ETA on standard error, shown only on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` steps headed by `prefix` (`{prefix} [=====>   ] 40/100 12/s ETA 5s {msg}`),
/// or `None` when standard error is not a terminal (logs get no bar-drawing noise).
pub fn bar(len: usize, prefix: impl Into<String>) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(prefix.into());
    Some(bar)
}
