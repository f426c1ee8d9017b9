//! A multi-layer (bi)directional LSTM in PyTorch's layout, built only from operations the ONNX
//! exporter lowers (matmul, slice, reshape, concat, sigmoid, tanh), with a dynamic batch axis.
//!
//! burn-nn's `BiLstm` is single-layer, orders its gates differently and does not export, so
//! this is our own. PyTorch `nn.LSTM(batch_first=True)` weights load by key name:
//! `weight_ih_l{k}[_reverse]` `[4H, In]`, `weight_hh_l{k}[_reverse]` `[4H, H]`,
//! `bias_ih_l{k}[_reverse]` and `bias_hh_l{k}[_reverse]` `[4H]`, gates stacked as i, f, g, o.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::{Device, Tensor};

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
        let direction = |input: usize| LstmDirection {
            weight_ih: init.init([4 * h, input], device),
            weight_hh: init.init([4 * h, h], device),
            bias_ih: init.init([4 * h], device),
            bias_hh: init.init([4 * h], device),
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

/// The weights of one direction of one layer, in PyTorch's layout.
#[derive(Module, Debug)]
pub struct LstmDirection {
    /// Input-to-gates weights `[4H, In]`, gate blocks i, f, g, o.
    pub weight_ih: Param<Tensor<2>>,
    /// Hidden-to-gates weights `[4H, H]`.
    pub weight_hh: Param<Tensor<2>>,
    /// Input-side gate bias `[4H]`.
    pub bias_ih: Param<Tensor<1>>,
    /// Hidden-side gate bias `[4H]`.
    pub bias_hh: Param<Tensor<1>>,
}

impl LstmDirection {
    /// Runs the recurrence over `x: [B, T, In]` from zero state, in time order or reversed.
    /// Returns one hidden state `[B, H]` per time step, indexed by time (not by visit order).
    fn run(&self, x: Tensor<3>, reversed: bool) -> Vec<Tensor<2>> {
        let [_, steps, input] = x.dims();
        let [gates4, hidden] = self.weight_hh.dims();
        let hidden_size = hidden;
        // Input projections for all steps at once: [B*T, In] x [In, 4H] + biases -> [B, T, 4H].
        let projected = x
            .reshape([-1, input as i32])
            .matmul(self.weight_ih.val().transpose())
            .add(self.bias_ih.val().unsqueeze_dim::<2>(0))
            .add(self.bias_hh.val().unsqueeze_dim::<2>(0))
            .reshape([-1, steps as i32, gates4 as i32]);
        let weight_hh_t = self.weight_hh.val().transpose();

        let mut outputs: Vec<Option<Tensor<2>>> = vec![None; steps];
        let order: Vec<usize> = if reversed {
            (0..steps).rev().collect()
        } else {
            (0..steps).collect()
        };
        // Zero initial state shaped like the batch (from the input, so the batch axis stays
        // dynamic). It goes through `weight_hh` like every later state, as in PyTorch: then
        // `weight_hh` gets a (zero) gradient even when T = 1, and weight decay moves it as
        // torch's Adam does.
        let zeros = projected
            .clone()
            .narrow(1, 0, 1)
            .squeeze_dim::<2>(1)
            .narrow(1, 0, hidden_size)
            .mul_scalar(0.0);
        let (mut h, mut cell) = (zeros.clone(), zeros);
        for t in order {
            let step_input: Tensor<2> = projected.clone().narrow(1, t, 1).squeeze_dim(1);
            let gates = step_input + h.matmul(weight_hh_t.clone());
            let gate = |k: usize| gates.clone().narrow(1, k * hidden_size, hidden_size);
            let input_gate = sigmoid(gate(0));
            let forget_gate = sigmoid(gate(1));
            let candidate = tanh(gate(2));
            let output_gate = sigmoid(gate(3));
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
pub(crate) const PYTORCH_LSTM_REMAPS: [KeyRemap; 2] = [
    (
        r"^(.*\.)?(weight|bias)_(ih|hh)_l(\d+)_reverse$",
        "${1}layers.${4}.reverse.${2}_${3}",
    ),
    (
        r"^(.*\.)?(weight|bias)_(ih|hh)_l(\d+)$",
        "${1}layers.${4}.forward.${2}_${3}",
    ),
];
