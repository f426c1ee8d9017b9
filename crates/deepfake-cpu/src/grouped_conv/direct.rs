//! The portable direct 3x3 kernel: up to two output channels at a time in register blocks
//! of 32 outputs, which the compiler vectorises (compiled for AVX2 + FMA where the CPU has
//! them). Runs the groups the packed product does not (output channels per group not a
//! multiple of 4, or no AVX2).

use crate::has_avx2_fma;

/// Output channels computed together: each input value loaded feeds this many multiply-adds
/// (2 measured 18% faster than 1 on the seed preset; 4 was no faster than 2).
pub(super) const PAIR: usize = 2;

/// Outputs per output channel in a register-resident accumulator block (`PAIR` blocks of
/// this many make 8 AVX registers).
pub(super) const CHUNK: usize = 32;

/// Up to [`PAIR`] output planes of a 3x3 convolution (`bias.len()` of them, each
/// `acc.len() / bias.len()` values in rows of the input layout's width): `acc[o][i] =
/// bias[o] + sum over input channels c and taps t of k[o][c][t] * data[c * channel_len +
/// offsets[t] + i]`. Works in blocks of [`CHUNK`] outputs per channel held in registers. (The
/// three functions repeat one signature on purpose: the run-time AVX2 dispatch needs a
/// `target_feature` copy, and bundling the arguments in a struct measured ~25% slower on the
/// grouped layers.)
pub(super) fn planes_conv(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx2_fma() {
            // SAFETY: the CPU supports the features the function is compiled for.
            unsafe { planes_conv_avx2(acc, data, channel_len, offsets, k, bias) };
            return;
        }
    }
    planes_conv_portable(acc, data, channel_len, offsets, k, bias);
}

#[inline(always)]
fn planes_conv_portable(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    match bias.len() {
        2 => planes_conv_block::<2>(acc, data, channel_len, offsets, k, bias),
        _ => planes_conv_block::<1>(acc, data, channel_len, offsets, k, bias),
    }
}

/// [`planes_conv`] for exactly `OC` output channels.
#[inline(always)]
fn planes_conv_block<const OC: usize>(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    let plane_len = acc.len() / OC;
    let channels = k.len() / (9 * OC);
    let mut start = 0;
    while start < plane_len {
        let mut block: [[f32; CHUNK]; OC] = std::array::from_fn(|o| [bias[o]; CHUNK]);
        for c in 0..channels {
            let channel = &data[c * channel_len + start..];
            for (t, &offset) in offsets.iter().enumerate() {
                let src = &channel[offset..][..CHUNK];
                for (o, block) in block.iter_mut().enumerate() {
                    let w = k[(o * channels + c) * 9 + t];
                    for (b, x) in block.iter_mut().zip(src) {
                        *b += w * x;
                    }
                }
            }
        }
        let len = CHUNK.min(plane_len - start);
        for (o, block) in block.iter().enumerate() {
            acc[o * plane_len + start..][..len].copy_from_slice(&block[..len]);
        }
        start += CHUNK;
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn planes_conv_avx2(
    acc: &mut [f32],
    data: &[f32],
    channel_len: usize,
    offsets: &[usize; 9],
    k: &[f32],
    bias: &[f32],
) {
    planes_conv_portable(acc, data, channel_len, offsets, k, bias)
}
