//! Time per layer kind of a forward pass (`examples/profile_forward.rs`'s table).

use std::collections::BTreeMap;
use std::time::Instant;

/// Thread-seconds spent per layer kind over a batch: the sum over the threads of a pass,
/// whether they ran images side by side or shared each layer.
#[derive(Debug, Default, Clone)]
pub struct LayerTimes {
    /// Thread-seconds per layer kind.
    pub seconds: BTreeMap<String, f64>,
    /// Threads each timed layer keeps busy (0 counts as 1).
    threads: usize,
}

impl LayerTimes {
    /// Times for layers that each keep `threads` threads busy.
    pub(crate) fn on_threads(threads: usize) -> Self {
        Self {
            threads,
            ..Self::default()
        }
    }

    /// Adds the time since `start` to `kind` (when timing) and returns the time now.
    pub(crate) fn lap(timer: &mut Option<&mut LayerTimes>, kind: &str, start: Instant) -> Instant {
        let now = Instant::now();
        if let Some(times) = timer {
            let thread_seconds = (now - start).as_secs_f64() * times.threads.max(1) as f64;
            *times.seconds.entry(kind.to_string()).or_default() += thread_seconds;
        }
        now
    }

    pub(crate) fn add_all(&mut self, other: &LayerTimes) {
        for (kind, seconds) in &other.seconds {
            *self.seconds.entry(kind.clone()).or_default() += seconds;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A lap counts its wall time once per busy thread, and laps and merged times add up.
    #[test]
    fn laps_count_thread_seconds_and_add_up() {
        let mut times = LayerTimes::on_threads(4);
        let start = Instant::now() - Duration::from_millis(10);
        LayerTimes::lap(&mut Some(&mut times), "conv", start);
        let elapsed = start.elapsed().as_secs_f64();
        let conv = times.seconds["conv"];
        assert!(
            (0.04..=4.0 * elapsed).contains(&conv),
            "{conv} s for 4 threads"
        );
        LayerTimes::lap(
            &mut Some(&mut times),
            "conv",
            Instant::now() - Duration::from_millis(10),
        );
        assert!(times.seconds["conv"] >= conv + 0.04, "{:?}", times.seconds);

        let mut total = LayerTimes::default();
        total.seconds.insert("conv".into(), 1.0);
        let mut other = LayerTimes::default();
        other.seconds.insert("conv".into(), 2.0);
        other.seconds.insert("relu".into(), 0.5);
        total.add_all(&other);
        assert_eq!(
            total.seconds,
            BTreeMap::from([("conv".into(), 3.0), ("relu".into(), 0.5)])
        );
    }
}
