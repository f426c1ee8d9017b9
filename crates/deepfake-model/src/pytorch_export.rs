//! Writing a detector's weights as a PyTorch state dict in safetensors format, in the key
//! layout of the reference `DeepfakeDetector` module (`scripts/reference_model.py`), so that
//! `model.load_state_dict(safetensors.torch.load_file(path))` works with `strict=True`.

use std::path::Path;

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot};
use regex::Regex;
use safetensors::tensor::{Dtype, TensorView};

use crate::detector::Detector;
use crate::error::{Error, Result};

/// Our module paths -> the reference module's state-dict keys (the inverse of the import
/// remaps).
const TO_PYTORCH: [(&str, &str); 8] = [
    (r"\.downsample\.conv\.", ".downsample.0."),
    (r"\.downsample\.bn\.", ".downsample.1."),
    (r"^classifier\.fc1\.", "classifier.0."),
    (r"^classifier\.fc2\.", "classifier.3."),
    (
        r"^(.*\.)?layers\.(\d+)\.forward\.input_to_gates\.(weight|bias)$",
        "${1}${3}_ih_l${2}",
    ),
    (
        r"^(.*\.)?layers\.(\d+)\.forward\.hidden_to_gates\.(weight|bias)$",
        "${1}${3}_hh_l${2}",
    ),
    (
        r"^(.*\.)?layers\.(\d+)\.reverse\.input_to_gates\.(weight|bias)$",
        "${1}${3}_ih_l${2}_reverse",
    ),
    (
        r"^(.*\.)?layers\.(\d+)\.reverse\.hidden_to_gates\.(weight|bias)$",
        "${1}${3}_hh_l${2}_reverse",
    ),
];

/// The PyTorch state-dict key of one of our parameter paths.
pub fn pytorch_key(path: &str) -> String {
    let mut key = path.to_string();
    for (pattern, replacement) in TO_PYTORCH {
        // The patterns are constants: compiling them cannot fail.
        if let Ok(re) = Regex::new(pattern) {
            key = re.replace_all(&key, replacement).into_owned();
        }
    }
    key
}

impl Detector {
    /// Writes the weights to `path` as a PyTorch state dict (safetensors): Linear weights
    /// transposed to `[out, in]`, BatchNorm as `weight`/`bias`/`running_mean`/`running_var`
    /// plus a `num_batches_tracked` of 0, LSTM as `weight_ih_l{k}[_reverse]`. Written
    /// atomically.
    pub fn save_pytorch_safetensors(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let error = |reason: String| Error::Save {
            path: path.to_path_buf(),
            reason,
        };
        // An inference copy: the running statistics are plain tensors there.
        let model = self.clone().valid();
        let tensors = model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false);
        let mut entries: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        for tensor in tensors {
            let key = pytorch_key(&tensor.name);
            let bytes = tensor
                .to_bytes()
                .map_err(|e| error(format!("{key}: {e}")))?;
            if let Some(prefix) = key.strip_suffix(".running_var") {
                entries.push((
                    format!("{prefix}.num_batches_tracked"),
                    Dtype::I64,
                    Vec::new(),
                    0i64.to_le_bytes().to_vec(),
                ));
            }
            let dtype = match tensor.dtype {
                burn::tensor::DType::F32 => Dtype::F32,
                other => return Err(error(format!("{key}: unsupported dtype {other:?}"))),
            };
            entries.push((key, dtype, tensor.shape.to_vec(), bytes.to_vec()));
        }
        let views = entries
            .iter()
            .map(|(key, dtype, shape, bytes)| {
                TensorView::new(*dtype, shape.clone(), bytes)
                    .map(|view| (key.clone(), view))
                    .map_err(|e| error(format!("{key}: {e}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let file = safetensors::serialize(views, None).map_err(|e| error(e.to_string()))?;
        Ok(deepfake_formats::write_atomic(path, &file)?)
    }
}
