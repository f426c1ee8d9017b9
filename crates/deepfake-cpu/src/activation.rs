//! What follows a layer's bias, channel by channel: nothing, ReLU (the backbone) or PReLU
//! with one slope per output channel (MTCNN's networks).

/// The activation applied to a layer's output, per output channel.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Activation<'a> {
    /// `v`.
    Identity,
    /// `max(v, 0)`.
    Relu,
    /// `v` if `v >= 0`, else `slopes[channel] * v` (PyTorch's `PReLU` with one parameter per
    /// channel; `slopes` has one value per output channel).
    Prelu(&'a [f32]),
}

impl Activation<'_> {
    /// [`Self::Relu`] when `relu`, else [`Self::Identity`].
    pub fn relu_if(relu: bool) -> Self {
        if relu { Self::Relu } else { Self::Identity }
    }

    /// Whether this changes any value.
    pub fn is_identity(self) -> bool {
        matches!(self, Self::Identity)
    }

    /// `values[i] = f(src[i])` for output channel `channel`.
    #[inline]
    pub fn write(self, channel: usize, src: &[f32], values: &mut [f32]) {
        match self {
            Self::Identity => values.copy_from_slice(&src[..values.len()]),
            Self::Relu => values
                .iter_mut()
                .zip(src)
                .for_each(|(d, &v)| *d = v.max(0.0)),
            Self::Prelu(slopes) => {
                let slope = slopes[channel];
                values
                    .iter_mut()
                    .zip(src)
                    .for_each(|(d, &v)| *d = if v >= 0.0 { v } else { slope * v });
            }
        }
    }

    /// `values[i] = f(values[i] + bias)` for output channel `channel`.
    #[inline]
    pub fn apply(self, channel: usize, bias: f32, values: &mut [f32]) {
        match self {
            Self::Identity => values.iter_mut().for_each(|v| *v += bias),
            Self::Relu => values.iter_mut().for_each(|v| *v = (*v + bias).max(0.0)),
            Self::Prelu(slopes) => {
                let slope = slopes[channel];
                values.iter_mut().for_each(|v| {
                    let x = *v + bias;
                    *v = if x >= 0.0 { x } else { slope * x };
                });
            }
        }
    }
}
