//! Frame sequences: which frames of a clip (a video, or a folder of frames) make its sequence.

/// `t` frame indices spread evenly over `n` frames: the centre of each of `t` equal segments
/// (`(2i + 1) n / 2t`); frames repeat when `n < t`.
pub fn sample_frame_indices(n: usize, t: usize) -> Vec<usize> {
    (0..t)
        .map(|i| ((2 * i + 1) * n / (2 * t)).min(n.saturating_sub(1)))
        .collect()
}
