//! Sample planes and libjpeg's chroma resampling for 4:2:0: edge replication to whole
//! blocks (`jcsample.c`'s `expand_right_edge`, `jcprepct.c`'s `expand_bottom_edge`), 2x2
//! averaging with the alternating 1, 2 bias (`h2v2_downsample`), and the decoder's "fancy"
//! triangle-filter upsampling (`jdsample.c`'s `h2v2_fancy_upsample`).

/// One component: `width` x `height` samples, row-major.
#[derive(Debug, Clone)]
pub struct Plane {
    /// Samples per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height` samples.
    pub samples: Vec<u8>,
}

impl Plane {
    /// Row `y`.
    #[inline(always)]
    pub fn row(&self, y: usize) -> &[u8] {
        &self.samples[y * self.width..][..self.width]
    }

    /// The top-left `used_width` x `used_height` samples extended to `width` x `height` by
    /// repeating the last used column and row.
    #[inline(always)]
    pub fn replicate_edges(
        &self,
        used_width: usize,
        used_height: usize,
        width: usize,
        height: usize,
    ) -> Plane {
        let mut samples = Vec::with_capacity(width * height);
        for y in 0..height {
            let row = &self.row(y.min(used_height - 1))[..used_width];
            samples.extend_from_slice(row);
            samples.resize(samples.len() + width - used_width, row[used_width - 1]);
        }
        Plane {
            width,
            height,
            samples,
        }
    }

    /// Each 2x2 square averaged to one sample, rounding by 1 and 2 alternately along a row
    /// (libjpeg's ordered dither); `self` has even sides.
    #[inline(always)]
    pub fn downsample_2x2(&self) -> Plane {
        let (width, height) = (self.width / 2, self.height / 2);
        // A loop over a slice rather than `Vec::extend`, whose body is a separate function
        // compiled without the caller's AVX2 (it took ~14% of the round trip).
        let mut samples = vec![0u8; width * height];
        for (y, out) in samples.chunks_exact_mut(width.max(1)).enumerate() {
            let (upper, lower) = (self.row(2 * y), self.row(2 * y + 1));
            let squares = upper.chunks_exact(2).zip(lower.chunks_exact(2));
            for (x, (out, (a, b))) in out.iter_mut().zip(squares).enumerate() {
                let sum = u16::from(a[0]) + u16::from(a[1]) + u16::from(b[0]) + u16::from(b[1]);
                *out = ((sum + 1 + (x as u16 & 1)) >> 2) as u8;
            }
        }
        Plane {
            width,
            height,
            samples,
        }
    }

    /// The decoder's upsampling of the top-left `used_width` x `used_height` samples to
    /// `width` x `height` (at most twice each): each output sample weighs its nearest input
    /// 9/16, the two next 3/16 and the diagonal 1/16, edges repeated; planes 2 samples wide
    /// or less are repeated instead, as libjpeg does.
    #[inline(always)]
    pub fn upsample_2x2_fancy(
        &self,
        used_width: usize,
        used_height: usize,
        width: usize,
        height: usize,
    ) -> Plane {
        let mut samples = Vec::with_capacity(width * height);
        let mut sums = vec![0u16; used_width];
        for y in 0..height {
            let near = &self.row(y / 2)[..used_width];
            if used_width <= 2 {
                samples.extend((0..width).map(|x| near[x / 2]));
                continue;
            }
            let far = if y % 2 == 0 {
                (y / 2).saturating_sub(1)
            } else {
                (y / 2 + 1).min(used_height - 1)
            };
            let far = &self.row(far)[..used_width];
            for ((sum, &n), &f) in sums.iter_mut().zip(near).zip(far) {
                *sum = 3 * u16::from(n) + u16::from(f);
            }
            // The sums with each edge repeated once, then two outputs per input sample.
            let padded: Vec<u16> = std::iter::once(sums[0])
                .chain(sums.iter().copied())
                .chain(std::iter::once(sums[used_width - 1]))
                .collect();
            let start = samples.len();
            samples.resize(start + 2 * used_width, 0);
            for (pair, window) in samples[start..].chunks_exact_mut(2).zip(padded.windows(3)) {
                let this = 3 * window[1];
                pair[0] = ((this + window[0] + 8) >> 4) as u8;
                pair[1] = ((this + window[2] + 7) >> 4) as u8;
            }
            samples.truncate(start + width);
        }
        Plane {
            width,
            height,
            samples,
        }
    }
}
