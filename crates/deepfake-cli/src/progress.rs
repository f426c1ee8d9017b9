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

/// A rate (e.g. images per second) with three significant digits at most and at least one:
/// `1714`, `42.5`, `0.213` (a slow device's rate does not print as `0`).
pub fn rate(value: f64) -> String {
    if !value.is_finite() || value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else if value >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_keep_their_significant_digits() {
        assert_eq!(rate(1714.4), "1714");
        assert_eq!(rate(42.54), "42.5");
        assert_eq!(rate(3.456), "3.46");
        assert_eq!(rate(0.2131), "0.213");
        assert_eq!(rate(0.0), "0.000");
    }
}
