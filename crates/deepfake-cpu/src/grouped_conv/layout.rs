//! Where a grouped convolution's operands lie in memory: a batch's planes, one image's
//! shape within a group, and the group's zero-padded input split into stride phases.

use super::direct::CHUNK;

/// How a batch of images lies in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BatchLayout {
    /// `[C, B, H, W]`: the host engine's (a 1x1 convolution is one matrix product).
    ChannelMajor,
    /// `[B, C, H, W]`: Burn's.
    ImageMajor,
}

/// The planes of a batch: where image `b`'s channel `c` starts.
pub(crate) struct Planes {
    pub layout: BatchLayout,
    pub channels: usize,
    pub batch: usize,
    /// Values per plane.
    pub len: usize,
}

impl Planes {
    /// Offset of image `image`'s channel `channel`.
    pub fn start(&self, channel: usize, image: usize) -> usize {
        let index = match self.layout {
            BatchLayout::ChannelMajor => channel * self.batch + image,
            BatchLayout::ImageMajor => image * self.channels + channel,
        };
        index * self.len
    }
}

/// One image's convolution within a group.
pub(crate) struct Shape {
    pub h: usize,
    pub w: usize,
    pub c_in_group: usize,
    pub c_out_group: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub out_h: usize,
    pub out_w: usize,
}

/// Where things are in a group's zero-padded input (`[H + 2p, W + 2p]` per channel) split
/// into its stride x stride phases (padded row % stride, padded column % stride), each
/// `[ceil((H + 2p) / stride), ceil((W + 2p) / stride)]`: tap (ky, kx) of every output then
/// reads one contiguous run of phase (ky % stride, kx % stride) starting at (ky / stride,
/// kx / stride). At stride 1 there is one phase, the padded channel itself.
pub(crate) struct PaddedLayout {
    /// Width of a phase (and of the output rows, junk columns included).
    pub row_width: usize,
    pub(super) phase_len: usize,
    pub(super) channel_len: usize,
    /// Offset of tap `ky * k + kx` in a channel.
    pub(super) taps: Vec<usize>,
    /// Offset of every weight column (`c * k * k + t`: channel `c`, tap `t`) in the buffer:
    /// the rows the packed product reads.
    pub rows: Vec<usize>,
    /// Length of the buffer: the channels and slack for reads past the last one (an output
    /// plane's rows rounded up to a multiple of 8 from any of `rows`).
    pub len: usize,
}

impl PaddedLayout {
    pub fn new(s: &Shape) -> Self {
        let st = s.stride;
        let (ph, pw) = (
            (s.h + 2 * s.padding).div_ceil(st),
            (s.w + 2 * s.padding).div_ceil(st),
        );
        let phase_len = ph * pw;
        let channel_len = st * st * phase_len;
        let taps: Vec<usize> = (0..s.kernel * s.kernel)
            .map(|t| {
                let (ky, kx) = (t / s.kernel, t % s.kernel);
                ((ky % st) * st + kx % st) * phase_len + (ky / st) * pw + kx / st
            })
            .collect();
        let rows = (0..s.c_in_group)
            .flat_map(|c| taps.iter().map(move |t| c * channel_len + t))
            .collect();
        Self {
            row_width: pw,
            phase_len,
            channel_len,
            taps,
            rows,
            // The last block of a plane may read up to a kernel's rows and a register
            // block past it.
            len: s.c_in_group * channel_len + s.kernel * pw + CHUNK,
        }
    }
}

/// Image `image` of group `g`'s input channels (planes `input` of `x`) into `data`, padded
/// and split into phases (see [`PaddedLayout`]); what `data` holds besides stays as it is.
pub(crate) fn pad_group(
    s: &Shape,
    layout: &PaddedLayout,
    x: &[f32],
    input: &Planes,
    g: usize,
    image: usize,
    data: &mut [f32],
) {
    let (st, p, pw) = (s.stride, s.padding, layout.row_width);
    for ci in 0..s.c_in_group {
        let channel = g * s.c_in_group + ci;
        let plane = &x[input.start(channel, image)..][..input.len];
        let phases = &mut data[ci * layout.channel_len..(ci + 1) * layout.channel_len];
        for (y, row) in plane.chunks_exact(s.w).enumerate() {
            let py = y + p;
            let phase_row = (py % st) * st * layout.phase_len + (py / st) * pw;
            // Input column x sits at padded column x + p: phase (x + p) % st, index
            // (x + p) / st. At stride 1 that is one copy of the row.
            if st == 1 {
                phases[phase_row + p..][..s.w].copy_from_slice(row);
                continue;
            }
            for phase_x in 0..st {
                let first_x = (phase_x + st - p % st) % st;
                let dst =
                    &mut phases[phase_row + phase_x * layout.phase_len + (first_x + p) / st..];
                for (d, &value) in dst
                    .iter_mut()
                    .zip(row[first_x.min(s.w)..].iter().step_by(st))
                {
                    *d = value;
                }
            }
        }
    }
}
