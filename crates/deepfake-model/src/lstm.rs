//! A multi-layer (bi)directional LSTM with PyTorch's gate order, built only from operations the
//! ONNX exporter lowers with a dynamic batch axis (linear, gather, reshape, concat, sigmoid,
//! tanh): no slices on batched tensors and no transposes.
//!
//! burn-nn's `BiLstm` is single-layer, orders its gates differently and does not export, so
//! this is our own. PyTorch `nn.LSTM(batch_first=True)` weights load by key name:
//! `weight_ih_l{k}[_reverse]` `[4H, In]`, `weight_hh_l{k}[_reverse]` `[4H, H]`,
//! `bias_ih_l{k}[_reverse]` and `bias_hh_l{k}[_reverse]` `[4H]`, gates stacked as i, f, g, o.
//! Each (weight, bias) pair is held in an `nn::Linear` (weight `[In, 4H]`, Burn's layout), so
//! burn-store transposes it on PyTorch import and export like any Linear layer.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Initializer, Linear};
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::pytorch::KeyRemap;

/// Architecture of an [`Lstm`] (PyTorch's `nn.LSTM(input_size, hidden_size, num_layers,
/// batch_first=True, bidirectional=...)`).
#[derive(Config, Debug, PartialEq)]
pub struct LstmConfig {
    /// Features per time step of the input.
    pub input_size: usize,
    /// Hidden units per direction (H).
    pub hidden_size: usize,
    /// Stacked layers.
    #[config(default = 1)]
    pub num_layers: usize,
    /// Whether each layer also runs backwards in time (outputs are then `2H` wide).
    #[config(default = true)]
    pub bidirectional: bool,
}

impl LstmConfig {
    /// Width of each output step: `2H` if bidirectional, else `H`.
    pub fn output_size(&self) -> usize {
        self.hidden_size * if self.bidirectional { 2 } else { 1 }
    }

    /// Builds the LSTM with PyTorch's initialisation: every weight and bias uniform in
    /// `[-1/sqrt(H), 1/sqrt(H)]`.
    pub fn init(&self, device: &Device) -> Result<Lstm> {
        if self.input_size == 0 || self.hidden_size == 0 || self.num_layers == 0 {
            return Err(Error::Architecture(format!(
                "LSTM sizes must be > 0, got input {} hidden {} layers {}",
                self.input_size, self.hidden_size, self.num_layers
            )));
        }
        let bound = 1.0 / (self.hidden_size as f64).sqrt();
        let init = Initializer::Uniform {
            min: -bound,
            max: bound,
        };
        let h = self.hidden_size;
        let linear = |input: usize| Linear {
            weight: init.init([input, 4 * h], device),
            bias: Some(init.init([4 * h], device)),
        };
        let direction = |input: usize| LstmDirection {
            input_to_gates: linear(input),
            hidden_to_gates: linear(h),
        };
        let layers = (0..self.num_layers)
            .map(|layer| {
                let input = if layer == 0 {
                    self.input_size
                } else {
                    self.output_size()
                };
                LstmLayer {
                    forward: direction(input),
                    reverse: self.bidirectional.then(|| direction(input)),
                }
            })
            .collect();
        Ok(Lstm { layers })
    }
}

/// The weights of one direction of one layer.
#[derive(Module, Debug)]
pub struct LstmDirection {
    /// Input-to-gates: weight `[In, 4H]` (PyTorch `weight_ih` transposed), bias `[4H]`
    /// (`bias_ih`); gate blocks i, f, g, o along the output axis.
    pub input_to_gates: Linear,
    /// Hidden-to-gates: weight `[H, 4H]` (`weight_hh` transposed), bias `[4H]` (`bias_hh`).
    pub hidden_to_gates: Linear,
}

/// Integer index tensor `[start, start + 1, ..., start + len - 1]`, built from data so that
/// the ONNX exporter stores it as a constant.
fn index_range(start: usize, len: usize, device: &Device) -> Tensor<1, Int> {
    let indices: Vec<i64> = (start..start + len).map(|i| i as i64).collect();
    Tensor::from_data(TensorData::new(indices, [len]), device)
}

impl LstmDirection {
    /// Runs the recurrence over `x: [B, T, In]` from zero state, in time order or reversed.
    /// Returns one hidden state `[B, H]` per time step, indexed by time (not by visit order).
    ///
    /// Steps and gates are taken with `select` (ONNX Gather) rather than slices or reshapes:
    /// burn-onnx keeps the batch axis dynamic only through operations whose output axes it
    /// can trace back to the input.
    fn run(&self, x: Tensor<3>, reversed: bool) -> Vec<Tensor<2>> {
        let [_, steps, _] = x.dims();
        let [hidden_size, gates_width] = self.hidden_to_gates.weight.dims();
        let device = x.device();
        // Input projections of all steps at once: [B, T, In] -> [B, T, 4H].
        let projected = self.input_to_gates.forward(x);
        let step = |t: usize| {
            projected
                .clone()
                .select(1, index_range(t, 1, &device))
                .reshape([-1, gates_width as i32])
        };
        // Columns of gate k (i, f, g, o) in a [B, 4H] row.
        let gate_columns: Vec<Tensor<1, Int>> = (0..4)
            .map(|k| index_range(k * hidden_size, hidden_size, &device))
            .collect();
        let gate = |gates: &Tensor<2>, k: usize| gates.clone().select(1, gate_columns[k].clone());

        let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
        let order: Vec<usize> = if reversed {
            (0..steps).rev().collect()
        } else {
            (0..steps).collect()
        };
        // Zero initial state shaped like the batch (from the input, so the batch axis stays
        // dynamic). It goes through `hidden_to_gates` like every later state, as in PyTorch:
        // then `weight_hh` gets a (zero) gradient even when T = 1, and weight decay moves it
        // as torch's Adam does.
        let zeros = gate(&step(0), 0).mul_scalar(0.0);
        let (mut h, mut cell) = (zeros.clone(), zeros);
        for t in order {
            let gates = step(t) + self.hidden_to_gates.forward(h);
            let input_gate = sigmoid(gate(&gates, 0));
            let forget_gate = sigmoid(gate(&gates, 1));
            let candidate = tanh(gate(&gates, 2));
            let output_gate = sigmoid(gate(&gates, 3));
            cell = forget_gate * cell + input_gate * candidate;
            h = output_gate * tanh(cell.clone());
            outputs[t] = Some(h.clone());
        }
        outputs.into_iter().flatten().collect()
    }
}

impl Lstm {
    /// Builds an LSTM from `config` and loads a bare `nn.LSTM` state dict (`.pth` or
    /// `.safetensors`) with keys `weight_ih_l0`, `weight_ih_l0_reverse`, ...
    pub fn from_pytorch(
        path: impl AsRef<std::path::Path>,
        config: &LstmConfig,
        device: &Device,
    ) -> Result<Lstm> {
        let mut lstm = config.init(device)?;
        crate::pytorch::load_pytorch_weights(&mut lstm, path.as_ref(), &PYTORCH_LSTM_REMAPS)?;
        Ok(lstm)
    }
}

/// One layer: a forward direction and, if bidirectional, a reverse one.
#[derive(Module, Debug)]
pub struct LstmLayer {
    /// Runs t = 0 .. T-1 (PyTorch `*_l{k}`).
    pub forward: LstmDirection,
    /// Runs t = T-1 .. 0 (PyTorch `*_l{k}_reverse`).
    pub reverse: Option<LstmDirection>,
}

/// Stacked (bi)directional LSTM, batch first, zero initial state, no dropout between layers.
#[derive(Module, Debug)]
pub struct Lstm {
    /// The layers, input first.
    pub layers: Vec<LstmLayer>,
}

impl Lstm {
    /// `[B, T, In]` -> `[B, T, H * directions]`: the last layer's hidden state at every step,
    /// forward and reverse halves concatenated as PyTorch does.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let mut x = x;
        for layer in &self.layers {
            let forward = layer.forward.run(x.clone(), false);
            let reverse = layer.reverse.as_ref().map(|d| d.run(x.clone(), true));
            let steps: Vec<Tensor<3>> = match reverse {
                Some(reverse) => forward
                    .into_iter()
                    .zip(reverse)
                    .map(|(f, r)| Tensor::cat(vec![f, r], 1).unsqueeze_dim(1))
                    .collect(),
                None => forward.into_iter().map(|f| f.unsqueeze_dim(1)).collect(),
            };
            x = Tensor::cat(steps, 1);
        }
        x
    }
}

/// Key rewrites from `nn.LSTM`'s flat names (bare or under some `prefix.`) to this module's paths.
pub(crate) const PYTORCH_LSTM_REMAPS: [KeyRemap; 4] = [
    (
        r"^(.*\.)?(weight|bias)_ih_l(\d+)_reverse$",
        "${1}layers.${3}.reverse.input_to_gates.${2}",
    ),
    (
        r"^(.*\.)?(weight|bias)_hh_l(\d+)_reverse$",
        "${1}layers.${3}.reverse.hidden_to_gates.${2}",
    ),
    (
        r"^(.*\.)?(weight|bias)_ih_l(\d+)$",
        "${1}layers.${3}.forward.input_to_gates.${2}",
    ),
    (
        r"^(.*\.)?(weight|bias)_hh_l(\d+)$",
        "${1}layers.${3}.forward.hidden_to_gates.${2}",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// PyTorch's initialisation: every weight and bias uniform in `[-1/sqrt(H), 1/sqrt(H)]`
    /// (0.25 at H = 16), spread over that whole range.
    #[test]
    fn initial_weights_are_uniform_within_one_over_root_hidden() {
        let device = Device::flex();
        let lstm = LstmConfig::new(5, 16).init(&device).unwrap();
        let mut values = Vec::new();
        for layer in &lstm.layers {
            for direction in std::iter::once(&layer.forward).chain(layer.reverse.as_ref()) {
                for linear in [&direction.input_to_gates, &direction.hidden_to_gates] {
                    values.extend(linear.weight.val().into_data().try_to_vec::<f32>().unwrap());
                    let bias = linear.bias.as_ref().expect("an LSTM gate has a bias");
                    values.extend(bias.val().into_data().try_to_vec::<f32>().unwrap());
                }
            }
        }
        // 2 directions x (5 + 16 + 2) x 64 values.
        assert_eq!(values.len(), 2 * (5 + 16 + 2) * 64);
        let largest = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        assert!(largest <= 0.25, "largest |value| {largest} > 1/sqrt(16)");
        assert!(
            largest > 0.24,
            "largest |value| {largest}: not the whole range"
        );
        let negative = values.iter().filter(|v| **v < 0.0).count();
        assert!(
            (values.len() * 2 / 5..values.len() * 3 / 5).contains(&negative),
            "{negative} of {} negative",
            values.len()
        );
    }
}
