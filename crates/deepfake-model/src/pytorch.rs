//! Loading PyTorch state dicts (`.pth` / `.pt` pickles or `.safetensors`) into our modules.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex};

use burn::module::Module;
use burn::store::{ApplyResult, KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore};

use crate::error::{Error, Result};
use crate::safetensors_import::read_safetensors;

/// A regex rewrite from a PyTorch key to our module path, e.g. `(r"\.downsample\.0\.", ".downsample.conv.")`.
pub type KeyRemap = (&'static str, &'static str);

/// Loads the PyTorch weights at `path` into `module`, renaming keys with `remaps` first.
///
/// Linear weights are transposed and BatchNorm `weight`/`bias` become `gamma`/`beta`
/// (burn-store's `PyTorchToBurnAdapter`). Fails, naming the tensors, when any of the
/// module's tensors is missing from the file, has the wrong shape, or when the file holds
/// tensors the module has no place for (other than BatchNorm's `num_batches_tracked`).
pub fn load_pytorch_weights<M: Module>(
    module: &mut M,
    path: &Path,
    remaps: &[KeyRemap],
) -> Result<()> {
    if !path.is_file() {
        return Err(Error::MissingFile {
            what: "PyTorch weights",
            path: path.to_path_buf(),
            hint: "pass the path of a .pth, .pt or .safetensors state dict",
        });
    }
    let weights_error = |reason: String| Error::Weights {
        path: path.to_path_buf(),
        reason,
    };
    let is_safetensors = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("safetensors"));
    let remapper =
        compiled(remaps).map_err(|e| weights_error(format!("invalid key remapping: {e}")))?;
    let result = if is_safetensors {
        // Not burn-store's SafetensorsStore: it re-parses the header for every tensor
        // (quadratic in the tensor count); the same tensors, remapping and adapter otherwise.
        read_safetensors(path).map(|tensors| {
            let (tensors, _) = remapper.remap(tensors);
            module.apply(tensors, None, Some(Box::new(PyTorchToBurnAdapter)), false)
        })
    } else {
        let mut store = PytorchStore::from_file(path)
            .map_indices_contiguous(false)
            .allow_partial(true)
            .validate(false)
            .remap(remapper);
        module.load_from(&mut store).map_err(|e| e.to_string())
    }
    .map_err(weights_error)?;
    check_complete(&result).map_err(weights_error)
}

/// The remapper of `remaps`, its regexes compiled once per process (compiling them took
/// ~30% of a small model's load).
fn compiled(remaps: &[KeyRemap]) -> Result<KeyRemapper, regex::Error> {
    static COMPILED: LazyLock<Mutex<HashMap<Vec<KeyRemap>, KeyRemapper>>> =
        LazyLock::new(Mutex::default);
    let mut compiled = COMPILED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(remapper) = compiled.get(remaps) {
        return Ok(remapper.clone());
    }
    let remapper = KeyRemapper::from_patterns(remaps.to_vec())?;
    compiled.insert(remaps.to_vec(), remapper.clone());
    Ok(remapper)
}

/// Turns an [`ApplyResult`] with missing, mismatched or unexpected tensors into a message.
fn check_complete(result: &ApplyResult) -> Result<(), String> {
    let unexpected: Vec<&String> = result
        .unused
        .iter()
        .filter(|key| !key.ends_with("num_batches_tracked"))
        .collect();
    if result.errors.is_empty() && result.missing.is_empty() && unexpected.is_empty() {
        return Ok(());
    }
    let mut reason = String::new();
    if !result.errors.is_empty() {
        reason += &format!("{} tensors do not fit: ", result.errors.len());
        let shown: Vec<String> = result
            .errors
            .iter()
            .take(5)
            .map(|e| e.to_string())
            .collect();
        reason += &shown.join("; ");
        reason += ". ";
    }
    if !result.missing.is_empty() {
        let shown: Vec<&str> = result
            .missing
            .iter()
            .take(8)
            .map(|(k, _)| k.as_str())
            .collect();
        reason += &format!(
            "{} tensors missing from the file (e.g. {}). ",
            result.missing.len(),
            shown.join(", ")
        );
    }
    if !unexpected.is_empty() {
        let shown: Vec<&str> = unexpected.iter().take(8).map(|k| k.as_str()).collect();
        reason += &format!(
            "{} tensors in the file have no place in the model (e.g. {}). ",
            unexpected.len(),
            shown.join(", ")
        );
    }
    reason += "Is the file for this architecture and config?";
    Err(reason)
}
