//! Temperature scaling (Guo et al., 2017): one scalar T that divides the logits, fitted on
//! validation data by minimising the negative log-likelihood.

use crate::error::{MetricsError, Result};

/// `ln(1 + e^x)` without overflow.
fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// Mean NLL of the labels under `softmax(logits / T)` for two-class logits `[real, fake]`.
pub fn nll_at_temperature(logits: &[[f32; 2]], labels: &[bool], temperature: f64) -> f64 {
    let sum: f64 = logits
        .iter()
        .zip(labels)
        .map(|(l, &fake)| {
            let margin = (f64::from(l[1]) - f64::from(l[0])) / temperature;
            // -log softmax of the true class = softplus(-margin) for Fake, softplus(margin) for Real.
            softplus(if fake { -margin } else { margin })
        })
        .sum();
    sum / logits.len() as f64
}

/// P(Fake) of two-class logits `[real, fake]` at calibration temperature `temperature`:
/// `softmax(logits / T)[1] = sigmoid((logit_fake - logit_real) / T)`. The one definition every
/// scoring path uses (`predict`, `eval`, `serve`; the ONNX graph computes the same in-graph).
pub fn p_fake(logits: [f32; 2], temperature: f64) -> f64 {
    let margin = (f64::from(logits[1]) - f64::from(logits[0])) / temperature;
    1.0 / (1.0 + (-margin).exp())
}

/// [`p_fake`] per sample.
pub fn apply_temperature(logits: &[[f32; 2]], temperature: f64) -> Vec<f64> {
    logits.iter().map(|&l| p_fake(l, temperature)).collect()
}

/// The temperature in [0.01, 100] that minimises [`nll_at_temperature`], found by
/// golden-section search on `ln T` to 1e-10.
pub fn fit_temperature(logits: &[[f32; 2]], labels: &[bool]) -> Result<f64> {
    if logits.len() != labels.len() {
        return Err(MetricsError::LengthMismatch {
            labels: labels.len(),
            scores: logits.len(),
        });
    }
    if logits.is_empty() {
        return Err(MetricsError::Empty);
    }
    let non_finite = logits
        .iter()
        .enumerate()
        .flat_map(|(index, pair)| pair.iter().map(move |&value| (index, value)))
        .find(|(_, value)| !value.is_finite());
    if let Some((index, value)) = non_finite {
        return Err(MetricsError::NonFinite {
            index,
            value: f64::from(value),
        });
    }
    let loss = |log_t: f64| nll_at_temperature(logits, labels, log_t.exp());
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (0.01f64.ln(), 100f64.ln());
    let mut c = b - ratio * (b - a);
    let mut d = a + ratio * (b - a);
    let (mut fc, mut fd) = (loss(c), loss(d));
    while b - a > 1e-10 {
        if fc <= fd {
            b = d;
            d = c;
            fd = fc;
            c = b - ratio * (b - a);
            fc = loss(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + ratio * (b - a);
            fd = loss(d);
        }
    }
    Ok(((a + b) / 2.0).exp())
}
